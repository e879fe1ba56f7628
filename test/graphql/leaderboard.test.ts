// The leaderboard queries against a brute-force ranking computed straight from the points ledger,
// with ties, periods and opt-outs. Each test runs in a REPEATABLE READ transaction, so that the
// GraphQL answers and the brute force see the same data while other test files commit theirs.
import { HISTOGRAM_MISMATCHES_SQL } from "../helpers/cleanup";
import { type Actor, anonymous, asUser, newUserId, type TestTransaction, withRepeatableRead } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const PERIODS = ["ALL_TIME", "MONTH", "WEEK", "DAY"] as const;
type Period = (typeof PERIODS)[number];

interface Expected {
  user_id: string;
  points: number;
  rank: number;
  visible: boolean;
}

/** The ranking recomputed from points_ledger and profiles, without the engine's tables. */
async function bruteForce(tx: TestTransaction, period: Period): Promise<Expected[]> {
  return tx.root<Expected>(
    `with bounds as (
       select case $1
         when 'ALL_TIME' then '-infinity'::timestamp
         when 'MONTH' then date_trunc('month', now() at time zone 'UTC')
         when 'WEEK' then date_trunc('week', now() at time zone 'UTC')
         else date_trunc('day', now() at time zone 'UTC') end as since
     ), totals as (
       select ledger.user_id, sum(ledger.points)::int as points, max(ledger.created_at) as reached_at
       from status_public.points_ledger as ledger, bounds
       where ledger.created_at at time zone 'UTC' >= bounds.since
       group by ledger.user_id
     )
     select totals.user_id, totals.points, not coalesce(profile.leaderboard_opt_out, false) as visible,
            (1 + (select count(*) from totals as other
                  left join status_public.user_profiles as other_profile on other_profile.user_id = other.user_id
                  where other.points > totals.points and not coalesce(other_profile.leaderboard_opt_out, false)))::int as rank
     from totals
     left join status_public.user_profiles as profile on profile.user_id = totals.user_id
     where totals.points > 0
     order by totals.points desc, totals.reached_at, totals.user_id`,
    [period],
  );
}

/**
 * Ledger entries (as the engine writes them on unlocks) at explicit times: seconds after the start of the
 * current UTC day (so in the current day, week and month whenever the test runs, even a second after
 * midnight), and one before the current week and month began (all-time only).
 */
async function scenario(tx: TestTransaction) {
  const [alice, bob, carol, dave, erin, frank] = Array.from({ length: 6 }, newUserId);
  const [{ today, before }] = await tx.root<{ today: Date; before: Date }>(`
    select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' as today,
           least(date_trunc('week', now() at time zone 'UTC'), date_trunc('month', now() at time zone 'UTC')) at time zone 'UTC' - interval '1 day' as before`);
  const award = (user: string, points: number, at: Date) =>
    tx.root("insert into status_public.points_ledger (user_id, points, created_at) values ($1, $2, $3)", [user, points, at]);
  const second = (n: number) => new Date(today.getTime() + n * 1000);
  await award(alice, 400, before); // before this week and month: all-time only
  await award(alice, 30, second(3));
  await award(bob, 150, second(1)); // bob reaches 150 first, then erin, then carol: listed in that order in the tie
  await award(erin, 150, second(2));
  await award(carol, 100, second(2));
  await award(carol, 50, second(3));
  await award(dave, 900, second(3)); // opts out below
  await award(frank, 5, second(3));
  await tx.as(asUser(dave), "select status_public.set_my_profile(leaderboard_opt_out => true)");
  await tx.as(asUser(bob), "select status_public.set_my_profile(display_name => 'Bob')");
  return { alice, bob, carol, dave, erin, frank };
}

async function run(tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) {
  const result = await graphql.run(tx, actor, query, variables);
  expect(result.errors).toBeUndefined();
  return result.data as Record<string, any>;
}


describe("leaderboards", () => {
  it.each(PERIODS)("list %s as the brute force ranks it: ties share a rank, earliest first, opt-outs left out", (period) =>
    withRepeatableRead(async (tx) => {
      const users = await scenario(tx);
      const expected = (await bruteForce(tx, period)).filter((row) => row.visible).slice(0, 100);
      const data = await run(tx, anonymous, `query ($period: LeaderboardPeriod!) { leaderboard(period: $period, first: 100) { rank userId points medal } }`, { period });
      expect(data.leaderboard).toEqual(
        expected.map((row) => ({ rank: row.rank, userId: row.user_id, points: row.points, medal: ["🥇", "🥈", "🥉"][row.rank - 1] ?? null })),
      );
      // The scenario's users in the listing (other files' users may stand between them), by name: bob, erin and
      // carol tie at 150 in every period and are listed in the order they got there; dave opted out; alice's
      // 400 count all time only.
      const names = Object.fromEntries(Object.entries(users).map(([name, id]) => [id, name]));
      const listed = data.leaderboard.map((entry: { userId: string; points: number }) => [names[entry.userId], entry.points]).filter(([name]: [string]) => name);
      expect(listed).toEqual(
        period === "ALL_TIME"
          ? [["alice", 430], ["bob", 150], ["erin", 150], ["carol", 150], ["frank", 5]]
          : [["bob", 150], ["erin", 150], ["carol", 150], ["alice", 30], ["frank", 5]],
      );
    }));

  it("pages with first and offset, keeping exact ranks", () =>
    withRepeatableRead(async (tx) => {
      await scenario(tx);
      const expected = (await bruteForce(tx, "WEEK")).filter((row) => row.visible);
      const data = await run(tx, anonymous, `{ leaderboard(period: WEEK, first: 2, offset: 1) { rank userId } }`);
      expect(data.leaderboard).toEqual(expected.slice(1, 3).map((row) => ({ rank: row.rank, userId: row.user_id })));
    }));

  it.each(PERIODS)("give each user their %s rank, total and percentile; an opted-out user still sees theirs", (period) =>
    withRepeatableRead(async (tx) => {
      const users = await scenario(tx);
      const board = await bruteForce(tx, period);
      const visible = board.filter((row) => row.visible);
      for (const user of Object.values(users)) {
        const mine = board.find((row) => row.user_id === user);
        const points = mine?.points ?? 0;
        const rank = 1 + visible.filter((row) => row.points > points).length;
        const totalUsers = visible.length + (mine?.visible ? 0 : 1);
        const data = await run(tx, asUser(user), `query ($period: LeaderboardPeriod!) { myRank(period: $period) { rank points totalUsers percentile } }`, { period });
        expect({ user, ...data.myRank }).toEqual({ user, rank, points, totalUsers, percentile: Math.round((1000 * (totalUsers - rank)) / totalUsers) / 10 });
      }
    }));

  it("shows the entries around the signed-in user", () =>
    withRepeatableRead(async (tx) => {
      const users = await scenario(tx);
      const visible = (await bruteForce(tx, "DAY")).filter((row) => row.visible);
      const at = visible.findIndex((row) => row.user_id === users.carol);
      const data = await run(tx, asUser(users.carol), `{ leaderboardAroundMe(period: DAY, radius: 2) { rank userId points } }`);
      expect(data.leaderboardAroundMe).toEqual(
        visible.slice(Math.max(0, at - 2), at + 3).map((row) => ({ rank: row.rank, userId: row.user_id, points: row.points })),
      );
    }));

  it("adds the rank to the dashboard, and refuses anonymous and out-of-range requests with coded errors", () =>
    withRepeatableRead(async (tx) => {
      const users = await scenario(tx);
      const rank = (await run(tx, asUser(users.bob), `{ myRank { rank totalUsers } }`)).myRank;
      expect((await run(tx, asUser(users.bob), `{ myDashboard { rank { rank totalUsers } } }`)).myDashboard.rank).toEqual(rank);
      const codes = async (actor: Actor, query: string) => (await graphql.run(tx, actor, query)).errors?.map((error) => error.extensions.code);
      expect(await codes(anonymous, `{ myRank { rank } }`)).toEqual(["UNAUTHENTICATED"]);
      expect(await codes(anonymous, `{ leaderboard(first: 1000) { rank } }`)).toEqual(["BAD_USER_INPUT"]);
      expect(await codes(asUser(users.bob), `{ leaderboardAroundMe(radius: 0) { rank } }`)).toEqual(["BAD_USER_INPUT"]);
    }));

  it("keeps both levels of the histogram equal to the visible scores", () =>
    withRepeatableRead(async (tx) => {
      await scenario(tx);
      const mismatches = await tx.root(HISTOGRAM_MISMATCHES_SQL);
      expect(mismatches).toEqual([]);
    }));
});

// Tally boards (issue 11): a ranked action's leaderboards rank users by their tally of it in each period, with
// the points boards' reads (status_public.leaderboard, leaderboard_around_me, my_rank and their `action`), ranks,
// ties, opt-out and histogram. Each test makes actions of its own (fresh names) in a rolled-back REPEATABLE READ
// transaction, so their boards hold this test's users only and every rank is known. Steps are dated from the
// start of the current UTC day (in the current day, week and month whenever the test runs) and one from before
// the current week and month began (all time only).
import { randomUUID } from "node:crypto";
import { HISTOGRAM_MISMATCHES_SQL } from "../../helpers/cleanup";
import { anonymous, asService, asUser, newUserId, type TestTransaction, withRepeatableRead } from "../../helpers/db";

const PERIODS = ["ALL_TIME", "MONTH", "WEEK", "DAY"] as const;

interface Entry {
  rank: number;
  user_id: string;
  points: number;
}

const newAction = (tx: TestTransaction, ranked: boolean) => {
  const name = `t_tally_${randomUUID().slice(0, 8)}`;
  return tx.root("insert into status_public.actions (name, ranked) values ($1, $2)", [name, ranked]).then(() => name);
};

async function instants(tx: TestTransaction) {
  const [{ today, before }] = await tx.root<{ today: Date; before: Date }>(`
    select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' as today,
           least(date_trunc('week', now() at time zone 'UTC'), date_trunc('month', now() at time zone 'UTC')) at time zone 'UTC' - interval '1 day' as before`);
  return { before, second: (n: number) => new Date(today.getTime() + n * 1000) };
}

/** Records `amount` of `action` for the user at `at`, through the service's recordActionFor (the event path). */
const record = (tx: TestTransaction, user: string, action: string, amount: number, at: Date) =>
  tx.as(asService(), "select status_public.record_action_for($1, $2, $3, null, $4)", [user, action, amount, at]);

const board = (tx: TestTransaction, action: string, period: string) =>
  tx.as<Entry>(anonymous, "select rank, user_id, points from status_public.leaderboard($1, 100, 0, $2)", [period, action]);

/**
 * alice: 3 today; bob: 5 (2 then 3), reaching it at second 4; carol: 5, reaching it at second 5 (after bob:
 * listed after him in the tie); dave: 9, opted out; erin: 2 before this week and month, 1 today (all time 3,
 * reached at second 6, after alice).
 */
async function scenario(tx: TestTransaction, action: string) {
  const [alice, bob, carol, dave, erin] = Array.from({ length: 5 }, newUserId);
  const { before, second } = await instants(tx);
  await record(tx, alice, action, 3, second(3));
  await record(tx, bob, action, 2, second(1));
  await record(tx, bob, action, 3, second(4));
  await record(tx, carol, action, 5, second(5));
  await record(tx, dave, action, 9, second(2));
  await record(tx, erin, action, 2, before);
  await record(tx, erin, action, 1, second(6));
  await tx.as(asUser(dave), "select status_public.set_my_profile(leaderboard_opt_out => true)");
  return { alice, bob, carol, dave, erin };
}

describe("tally boards", () => {
  it("rank each period's tallies exactly: ties share a rank (1, 1, 3), earliest first, opt-outs left out; the points boards do not see them", () =>
    withRepeatableRead(async (tx) => {
      const action = await newAction(tx, true);
      const { alice, bob, carol, erin } = await scenario(tx, action);
      for (const period of PERIODS) {
        expect({ period, board: await board(tx, action, period) }).toEqual({
          period,
          board:
            period === "ALL_TIME"
              ? [
                  { rank: 1, user_id: bob, points: 5 },
                  { rank: 1, user_id: carol, points: 5 },
                  { rank: 3, user_id: alice, points: 3 },
                  { rank: 3, user_id: erin, points: 3 },
                ]
              : [
                  { rank: 1, user_id: bob, points: 5 },
                  { rank: 1, user_id: carol, points: 5 },
                  { rank: 3, user_id: alice, points: 3 },
                  { rank: 4, user_id: erin, points: 1 },
                ],
        });
      }
      // A user who opted out before any step is never listed, and counts in nobody's rank.
      const shy = newUserId();
      await tx.as(asUser(shy), "select status_public.set_my_profile(leaderboard_opt_out => true)");
      await record(tx, shy, action, 50, (await instants(tx)).second(9));
      expect((await board(tx, action, "WEEK")).map((entry) => entry.rank)).toEqual([1, 1, 3, 4]);
      expect(await tx.as(asUser(shy), "select rank, points, total_users from status_public.my_rank('WEEK', $1)", [action])).toEqual([{ rank: 1, points: 50, total_users: 5 }]);
      // Medals follow ranks; pages keep exact ranks.
      expect(await tx.as(anonymous, "select rank, medal from status_public.leaderboard('WEEK', 2, 1, $1)", [action])).toEqual([
        { rank: 1, medal: "🥇" },
        { rank: 3, medal: "🥉" },
      ]);
      // The points boards hold no row of the action's users from these steps (the action awards no points).
      expect(await tx.root("select count(*)::int as n from status_public.leaderboard_scores where action = '' and user_id = any($1)", [[alice, bob, carol, erin]])).toEqual([{ n: 0 }]);
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
    }));

  it("give each user their rank, total and percentile, an opted-out user theirs as if listed, one without steps the last; and the entries around them", () =>
    withRepeatableRead(async (tx) => {
      const action = await newAction(tx, true);
      const users = await scenario(tx, action);
      const nobody = newUserId();
      const rankOf = async (user: string, period: string) =>
        (await tx.as<{ rank: number; points: number; total_users: number; percentile: number }>(asUser(user), "select * from status_public.my_rank($1, $2)", [period, action]))[0];
      expect(await rankOf(users.carol, "WEEK")).toEqual({ rank: 1, points: 5, total_users: 4, percentile: 75 });
      expect(await rankOf(users.erin, "DAY")).toEqual({ rank: 4, points: 1, total_users: 4, percentile: 0 });
      expect(await rankOf(users.erin, "ALL_TIME")).toEqual({ rank: 3, points: 3, total_users: 4, percentile: 25 });
      expect(await rankOf(users.dave, "WEEK")).toEqual({ rank: 1, points: 9, total_users: 5, percentile: 80 });
      expect(await rankOf(nobody, "WEEK")).toEqual({ rank: 5, points: 0, total_users: 5, percentile: 0 });

      const around = (user: string, radius: number) =>
        tx.as<Entry>(asUser(user), "select rank, user_id, points from status_public.leaderboard_around_me('WEEK', $1, $2)", [radius, action]);
      expect(await around(users.alice, 1)).toEqual([
        { rank: 1, user_id: users.carol, points: 5 },
        { rank: 3, user_id: users.alice, points: 3 },
        { rank: 4, user_id: users.erin, points: 1 },
      ]);
      // dave opted out: his own row, ranked as if on the board, among the visible users nearest his place.
      expect(await around(users.dave, 1)).toEqual([
        { rank: 1, user_id: users.dave, points: 9 },
        { rank: 1, user_id: users.bob, points: 5 },
      ]);
    }));

  it("moves a user down when a step is taken back, and off the board at zero", () =>
    withRepeatableRead(async (tx) => {
      const action = await newAction(tx, true);
      const { alice, erin } = await scenario(tx, action);
      const { second } = await instants(tx);
      // A take-back is a negative step (what user_incompleted_step and the toggle triggers write).
      const takeBack = (user: string, count: number) =>
        tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $2, $3, $4)", [user, action, count, second(7)]);
      await takeBack(alice, -2);
      await takeBack(erin, -1);
      expect((await board(tx, action, "DAY")).slice(2)).toEqual([{ rank: 3, user_id: alice, points: 1 }]);
      expect((await board(tx, action, "ALL_TIME")).slice(2)).toEqual([
        { rank: 3, user_id: erin, points: 2 },
        { rank: 4, user_id: alice, points: 1 },
      ]);
      expect(await tx.root("select tally.count from status_public.user_achievements as tally where tally.user_id = $1 and tally.name = $2", [erin, action])).toEqual([{ count: 2 }]);
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
      await tx.root("select status_private.fold_leaderboard_deltas()");
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
      expect((await board(tx, action, "DAY")).slice(2)).toEqual([{ rank: 3, user_id: alice, points: 1 }]);
    }));

  it("counts every step of one statement, round by round (several steps of one user, and of several users)", () =>
    withRepeatableRead(async (tx) => {
      const action = await newAction(tx, true);
      const [one, two] = [newUserId(), newUserId()];
      const { second } = await instants(tx);
      await tx.root(
        `insert into status_public.user_steps (user_id, name, count, occurred_at)
         select step.user_id, $3, step.count, step.at
         from unnest(array[$1, $1, $2, $1]::uuid[], array[2, 3, 4, -1], array[$4, $5, $7, $6]::timestamptz[]) as step (user_id, count, at)`,
        [one, two, action, second(1), second(2), second(3), second(4)],
      );
      // one: 2 + 3 - 1, its last step at second 3; two: 4 at second 4. A tie: one got there first.
      expect(await board(tx, action, "DAY")).toEqual([
        { rank: 1, user_id: one, points: 4 },
        { rank: 1, user_id: two, points: 4 },
      ]);
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
    }));

  it("fills a newly ranked action's boards from the step history as the event path would have kept them; unranking removes them", () =>
    withRepeatableRead(async (tx) => {
      // The same steps for two actions: one ranked from the start (the event path keeps its boards), one
      // ranked afterwards (its boards come from the history). Their boards must be the same, row for row.
      const live = await newAction(tx, true);
      const later = await newAction(tx, false);
      const users = { ...(await scenario(tx, live)) };
      const { before, second } = await instants(tx);
      const steps: [string, number, Date][] = [
        [users.alice, 3, second(3)],
        [users.bob, 2, second(1)],
        [users.bob, 3, second(4)],
        [users.carol, 5, second(5)],
        [users.dave, 9, second(2)],
        [users.erin, 2, before],
        [users.erin, 1, second(6)],
      ];
      for (const [user, amount, at] of steps) await record(tx, user, later, amount, at);
      // A take-back on both, and a user whose week was taken back to zero (not on the week's boards); and gus,
      // whose first step takes back from nothing (the live path ignores it: never below zero), then gains 3.
      const gus = newUserId();
      for (const action of [live, later]) {
        await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $3, -1, $4), ($2, $3, -1, $4)", [
          users.alice,
          users.erin,
          action,
          second(8),
        ]);
        await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $2, -2, $3)", [gus, action, second(1)]);
        await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $2, 3, $3)", [gus, action, second(2)]);
      }
      const rows = (action: string) =>
        tx.root(
          `select score.period::text, score.period_start::text, score.user_id, score.points, score.reached_at, score.visible
           from status_public.leaderboard_scores as score
           where score.action = $1 and score.period_start = status_private.period_start(score.period, now())
           order by score.period, score.user_id`,
          [action],
        );
      expect(await rows(later)).toEqual([]);
      expect(await tx.root("select count(*)::int as n from status_private.leaderboard_count_deltas where action = $1", [later])).toEqual([{ n: 0 }]);

      await tx.as({ role: "admin" }, "update status_public.actions set ranked = true where name = $1", [later]);
      const filled = await rows(later);
      expect(filled).toEqual(await rows(live));
      expect(filled.filter((row) => row.period === "WEEK").map((row) => row.user_id).sort()).toEqual([users.alice, users.bob, users.carol, users.dave, gus].sort());
      expect(filled.filter((row) => row.user_id === gus).map((row) => row.points)).toEqual([3, 3, 3, 3]);
      for (const period of PERIODS) expect(await board(tx, later, period)).toEqual(await board(tx, live, period));
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);

      // Unranked: its boards and their histogram go; reads refuse it.
      await tx.as({ role: "admin" }, "update status_public.actions set ranked = false where name = $1", [later]);
      expect(await rows(later)).toEqual([]);
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
      const refused = await tx.expectError(anonymous, "select * from status_public.leaderboard('WEEK', 10, 0, $1)", [later]);
      expect({ code: refused.code, message: refused.message }).toEqual({ code: "AC404", message: `Action "${later}" has no leaderboard` });
      // Deleting a ranked action takes its boards too.
      await tx.root("delete from status_public.user_steps where name = $1", [live]);
      await tx.root("delete from status_public.user_achievements where name = $1", [live]);
      await tx.root("delete from status_public.actions where name = $1", [live]);
      expect(await rows(live)).toEqual([]);
      expect(await tx.root(HISTOGRAM_MISMATCHES_SQL)).toEqual([]);
    }));

  it("answers an unknown action, one without a board, and a missing sign-in with coded errors; an unranked action's steps write no board row", () =>
    withRepeatableRead(async (tx) => {
      const plain = await newAction(tx, false);
      const user = newUserId();
      await record(tx, user, plain, 2, (await instants(tx)).second(1));
      expect(await tx.root("select count(*)::int as n from status_public.leaderboard_scores where user_id = $1", [user])).toEqual([{ n: 0 }]);
      const failure = async (sql: string, params: unknown[], actor = asUser(user)) => {
        const error = await tx.expectError(actor, sql, params);
        return { code: error.code, message: error.message };
      };
      expect(await failure("select * from status_public.leaderboard('WEEK', 10, 0, 'no_such_action')", [])).toEqual({ code: "AC404", message: 'Unknown action "no_such_action"' });
      expect(await failure("select * from status_public.my_rank('WEEK', $1)", [plain])).toEqual({ code: "AC404", message: `Action "${plain}" has no leaderboard` });
      expect(await failure("select * from status_public.leaderboard_around_me('WEEK', 5, $1)", [plain])).toEqual({ code: "AC404", message: `Action "${plain}" has no leaderboard` });
      expect(await failure("select * from status_public.my_rank('WEEK', $1)", [plain], anonymous)).toEqual({ code: "AC401", message: "Sign in to see your rank" });
      expect(await failure("select * from status_public.leaderboard('WEEK', 0, 0, $1)", [plain])).toMatchObject({ code: "AC400" });
      // Only admins rank an action.
      expect(await failure("update status_public.actions set ranked = true where name = $1", [plain], asService())).toMatchObject({ code: "42501" });
    }));
});

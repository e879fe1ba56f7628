// Branches of the engine's GraphQL surface that the main tests do not reach: the sign-in errors of the
// personal fields (with the rest of the query still answered), a broken streak read as 0, the top tier's
// 100 %, and a step that keeps deadlocking reaching the client as TRANSACTION_CONFLICT. Times are explicit.
import { anonymous, asAdmin, asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { failStepsWithDeadlocks } from "../helpers/faults";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const RECORD_ACTION_FOR = `mutation ($userId: UUID!, $action: String!, $at: Datetime, $key: String) {
  recordActionFor(input: { userId: $userId, action: $action, occurredAt: $at, idempotencyKey: $key }) { result { tally currentStreak } }
}`;

describe("personal fields without a signed-in user", () => {
  it.each([
    ["myDashboard", `{ myDashboard { userId } }`, "Sign in to see your dashboard"],
    ["leaderboardAroundMe", `{ leaderboardAroundMe(period: ALL_TIME, radius: 2) { rank } }`, null],
  ])("%s is UNAUTHENTICATED, and the rest of the query is still answered", (field, query, message) =>
    withTransaction(async (tx) => {
      const result = await graphql.run(tx, anonymous, query.replace(/^\{/, `{ tierByName(name: "Legend") { minPoints } `));
      expect(result.errors?.map((error) => [error.extensions.code, error.path?.join(".")])).toEqual([["UNAUTHENTICATED", field]]);
      if (message) expect(result.errors?.[0].message).toBe(message);
      expect(result.data?.tierByName).toEqual({ minPoints: 5000 });
    }));
});

describe("the dashboard", () => {
  it("reads a streak whose last day is before yesterday as 0, keeping its best", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      // Noon UTC ten and nine days before the transaction's day: the dashboard reads streaks as of that day
      // (my_dashboard takes no "now"), so the days are placed from it, whatever the clock says.
      const [{ first, second, lastDay }] = await tx.root<{ first: string; second: string; lastDay: string }>(`
        select (day - 10)::text || 'T12:00:00Z' as first, (day - 9)::text || 'T12:00:00Z' as second, (day - 9)::text as "lastDay"
        from (select (now() at time zone 'UTC')::date as day) as today`);
      for (const at of [first, second]) {
        const recorded = await graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "logins", at });
        expect(recorded.errors).toBeUndefined();
      }
      const result = await graphql.run(
        tx,
        asUser(user),
        `{ myDashboard { currentStreak longestStreak streaks { action current longest lastDay } }
           myAchievements { nodes { achievementId criteria { current remaining } } } }`,
      );
      expect(result.errors).toBeUndefined();
      expect(result.data?.myDashboard).toEqual({
        currentStreak: 0,
        longestStreak: 2,
        streaks: [
          { action: null, current: 0, longest: 2, lastDay },
          { action: "logins", current: 0, longest: 2, lastDay },
        ],
      });
      const streak3 = result.data?.myAchievements.nodes.find((node: { achievementId: string }) => node.achievementId === "streak_3");
      expect(streak3).toEqual({ achievementId: "streak_3", criteria: [{ current: 0, remaining: 3 }] });
    }));

  it("shows the top tier at 100 %, with no next tier", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.actions (name) values ('t_jackpot');
        insert into status_public.achievements (id, name, points) values ('t_jackpot', 'Jackpot', 6000);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('t_jackpot', 'count', 't_jackpot', 1)`);
      const user = newUserId();
      await graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "t_jackpot", at: "2026-01-05T12:00:00Z" });
      const result = await graphql.run(tx, asUser(user), `{ myDashboard { tier { points tier badge nextTier nextBadge nextTierMinPoints percent } } }`);
      expect(result.errors).toBeUndefined();
      expect(result.data?.myDashboard.tier).toEqual({ points: 6000, tier: "Legend", badge: "👑", nextTier: null, nextBadge: null, nextTierMinPoints: null, percent: 100 });
    }));
});

describe("a step that keeps deadlocking", () => {
  it("reaches the client as TRANSACTION_CONFLICT after three tries, with nothing written", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const calls = await failStepsWithDeadlocks(tx, user, 3);
      const result = await graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "tasks_completed", at: "2026-01-05T12:00:00Z", key: "k-9" });
      expect(result.errors?.map((error) => error.extensions.code)).toEqual(["TRANSACTION_CONFLICT"]);
      expect(await calls()).toBe(3);
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [user])).toEqual([{ n: 0 }]);
      // The retry the error asks for, with the same key, goes through (the fault let the fourth try pass).
      const retry = await graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "tasks_completed", at: "2026-01-05T12:00:00Z", key: "k-9" });
      expect(retry.errors).toBeUndefined();
      expect(retry.data?.recordActionFor.result).toEqual({ tally: 1, currentStreak: 1 });
    }));
});

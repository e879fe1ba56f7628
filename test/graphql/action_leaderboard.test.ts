// Tally boards over GraphQL (issue 11): an admin ranks an action through the catalog mutations
// (createAction / updateActionByName's `ranked`), then actionLeaderboard, myActionRank and
// actionLeaderboardAroundMe rank users by their tally of it in the period, with the points boards' ties, opt-out,
// limits and coded errors; the points fields are unchanged. Rolled-back REPEATABLE READ transactions; the
// action's name is the test's own, so its boards hold this test's users only. Steps are dated from the start of
// the current UTC day (in every current period whenever the test runs).
import { randomUUID } from "node:crypto";
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withRepeatableRead } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

async function run(tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) {
  const result = await graphql.run(tx, actor, query, variables);
  expect(result.errors).toBeUndefined();
  return result.data as Record<string, any>;
}
const codesOf = async (tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) =>
  (await graphql.run(tx, actor, query, variables)).errors?.map((error) => [error.extensions.code, error.message]);

const RECORD = `mutation ($u: UUID!, $a: String!, $n: Int!, $at: Datetime!) { recordActionFor(input: { userId: $u, action: $a, amount: $n, occurredAt: $at }) { result { tally } } }`;

/** A fresh action (created by an admin, not ranked), and three users' steps of it: ann 4, ben 4 (after ann), cid 1 (opts out). */
async function scenario(tx: TestTransaction) {
  const action = `t_tally_${randomUUID().slice(0, 8)}`;
  await run(tx, asAdmin(), `mutation ($a: String!) { createAction(input: { action: { name: $a } }) { action { name ranked } } }`, { a: action });
  const [{ today }] = await tx.root<{ today: Date }>("select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' as today");
  const at = (second: number) => new Date(today.getTime() + second * 1000).toISOString();
  const [ann, ben, cid] = [newUserId(), newUserId(), newUserId()];
  for (const [user, amount, second] of [[ann, 4, 1], [ben, 1, 1], [ben, 3, 2], [cid, 9, 1]] as const) {
    await run(tx, asService(), RECORD, { u: user, a: action, n: amount, at: at(second) });
  }
  await tx.as(asUser(cid), "select status_public.set_my_profile(leaderboard_opt_out => true)");
  return { action, ann, ben, cid };
}

describe("action leaderboards", () => {
  it("are ranked by an admin's updateAction, filled from the history, and list, rank and surround users by tally", () =>
    withRepeatableRead(async (tx) => {
      const { action, ann, ben, cid } = await scenario(tx);
      const ranked = await run(tx, asAdmin(), `mutation ($a: String!) { updateActionByName(input: { name: $a, actionPatch: { ranked: true } }) { action { name ranked } } }`, { a: action });
      expect(ranked.updateActionByName.action).toEqual({ name: action, ranked: true });

      const data = await run(
        tx,
        asUser(ann),
        `query ($a: String!) {
          week: actionLeaderboard(action: $a, period: WEEK) { rank userId tally medal }
          top: actionLeaderboard(action: $a, first: 1, offset: 1) { rank userId tally }
          mine: myActionRank(action: $a, period: DAY) { rank tally totalUsers percentile }
          around: actionLeaderboardAroundMe(action: $a, period: MONTH, radius: 1) { rank userId tally }
        }`,
        { a: action },
      );
      expect(data).toEqual({
        week: [
          { rank: 1, userId: ann, tally: 4, medal: "🥇" },
          { rank: 1, userId: ben, tally: 4, medal: "🥇" },
        ],
        top: [{ rank: 1, userId: ben, tally: 4 }],
        mine: { rank: 1, tally: 4, totalUsers: 2, percentile: 50 },
        around: [
          { rank: 1, userId: ann, tally: 4 },
          { rank: 1, userId: ben, tally: 4 },
        ],
      });
      // The opted-out user still sees their own rank (as if listed), and is counted only for themselves.
      expect((await run(tx, asUser(cid), `query ($a: String!) { myActionRank(action: $a) { rank tally totalUsers } }`, { a: action })).myActionRank).toEqual({
        rank: 1,
        tally: 9,
        totalUsers: 3,
      });
      // A step recorded now moves the board at once.
      await run(tx, asService(), RECORD, { u: ben, a: action, n: 1, at: new Date((await tx.root<{ now: Date }>("select now()"))[0].now).toISOString() });
      expect((await run(tx, anonymous, `query ($a: String!) { actionLeaderboard(action: $a, period: WEEK) { rank userId tally } }`, { a: action })).actionLeaderboard).toEqual([
        { rank: 1, userId: ben, tally: 5 },
        { rank: 2, userId: ann, tally: 4 },
      ]);
      // The points fields still rank points: none of these users has any.
      const points = await run(tx, asUser(ann), `{ leaderboard(first: 100) { userId } myRank { points } }`);
      expect(points.leaderboard.map((entry: { userId: string }) => entry.userId)).not.toContain(ann);
      expect(points.myRank.points).toBe(0);
    }));

  it("answer an unknown action, one without a leaderboard, no sign-in and limits with coded errors; only admins rank", () =>
    withRepeatableRead(async (tx) => {
      const { action, ann } = await scenario(tx);
      expect(await codesOf(tx, anonymous, `{ actionLeaderboard(action: "no_such_action") { rank } }`)).toEqual([["NOT_FOUND", 'Unknown action "no_such_action"']]);
      expect(await codesOf(tx, asUser(ann), `query ($a: String!) { myActionRank(action: $a) { rank } }`, { a: action })).toEqual([
        ["NOT_FOUND", `Action "${action}" has no leaderboard`],
      ]);
      for (const actor of [asUser(ann), asService()]) {
        expect(
          await codesOf(tx, actor, `mutation ($a: String!) { updateActionByName(input: { name: $a, actionPatch: { ranked: true } }) { action { ranked } } }`, { a: action }),
        ).toEqual([["FORBIDDEN", expect.any(String)]]);
      }
      await run(tx, asAdmin(), `mutation ($a: String!) { updateActionByName(input: { name: $a, actionPatch: { ranked: true } }) { action { ranked } } }`, { a: action });
      expect(await codesOf(tx, anonymous, `query ($a: String!) { myActionRank(action: $a) { rank } }`, { a: action })).toEqual([["UNAUTHENTICATED", "Sign in to see your rank"]]);
      expect(await codesOf(tx, anonymous, `query ($a: String!) { actionLeaderboardAroundMe(action: $a) { rank } }`, { a: action })).toEqual([
        ["UNAUTHENTICATED", "Sign in to see the leaderboard around you"],
      ]);
      expect((await codesOf(tx, anonymous, `query ($a: String!) { actionLeaderboard(action: $a, first: 101) { rank } }`, { a: action }))?.map(([code]) => code)).toEqual(["BAD_USER_INPUT"]);
      expect((await codesOf(tx, asUser(ann), `query ($a: String!) { actionLeaderboardAroundMe(action: $a, radius: 51) { rank } }`, { a: action }))?.map(([code]) => code)).toEqual([
        "BAD_USER_INPUT",
      ]);
    }));
});

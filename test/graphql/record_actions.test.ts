// The recordActions mutation: a batch of events, one result per event in the order given, for the service
// role (any users, occurredAt) and for a signed-in user (their own events), as real roles in rolled-back
// transactions.
import { anonymous, asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { errorsOf, type GraphQLRunner, makeGraphQLRunner, ok } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const RECORD_ACTIONS = `mutation ($events: [ActionEventInput]!) {
  recordActions(input: { events: $events }) { result { userId action tally unlocked { achievementId } } }
}`;



describe("recordActions", () => {
  it("records events for many users for the service role, with a result per event in order", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      const data = await ok(
        graphql.run(tx, asService(), RECORD_ACTIONS, {
          events: [
            { userId: ada, action: "tasks_completed", amount: 9 },
            { userId: bob, action: "logins", occurredAt: "2026-01-05T04:00:00Z" },
            { userId: ada, action: "tasks_completed", idempotencyKey: "ada-10" },
          ],
        }),
      );
      expect(data).toEqual({
        recordActions: {
          result: [
            { userId: ada, action: "tasks_completed", tally: 9, unlocked: [{ achievementId: "tasks_completed_1" }, { achievementId: "launch_sprint" }] },
            { userId: bob, action: "logins", tally: 1, unlocked: [{ achievementId: "early_bird" }] },
            { userId: ada, action: "tasks_completed", tally: 10, unlocked: [{ achievementId: "tasks_completed_10" }] },
          ],
        },
      });
      // A retry of the keyed event: the original result, nothing counted again.
      const retry = await ok(graphql.run(tx, asService(), RECORD_ACTIONS, { events: [{ userId: ada, action: "tasks_completed", idempotencyKey: "ada-10" }] }));
      expect(retry.recordActions.result).toEqual([data.recordActions.result[2]]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [ada])).toEqual([{ count: 10 }]);
    }));

  it("records a signed-in user's own events", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      const data = await ok(
        graphql.run(tx, asUser(me), RECORD_ACTIONS, { events: [{ action: "tasks_completed" }, { userId: me, action: "logins" }] }),
      );
      expect(data.recordActions.result).toEqual([
        { userId: me, action: "tasks_completed", tally: 1, unlocked: [{ achievementId: "tasks_completed_1" }] },
        { userId: me, action: "logins", tally: 1, unlocked: expect.any(Array) },
      ]);
    }));

  it.each([
    ["another user's event", (other: string) => [{ userId: other, action: "tasks_completed" }], ["FORBIDDEN", "Event 1: you can record only your own actions"]],
    ["an action not reportable by a client", () => [{ action: "tasks_completed" }, { action: "lessons_finished" }], ["FORBIDDEN", 'Event 2: the action "lessons_finished" cannot be reported by a client']],
    ["an unknown action", () => [{ action: "teleport" }], ["NOT_FOUND", 'Event 1: unknown action "teleport"']],
  ])("refuses a user %s with a coded error, and writes nothing", (_, events, expected) =>
    withTransaction(async (tx) => {
      const [me, other] = [newUserId(), newUserId()];
      expect(errorsOf(await graphql.run(tx, asUser(me), RECORD_ACTIONS, { events: events(other) }))).toEqual([expected]);
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = any($1)", [[me, other]])).toEqual([{ n: 0 }]);
    }));

  it("needs a signed-in user", () =>
    withTransaction(async (tx) => {
      expect(errorsOf(await graphql.run(tx, anonymous, RECORD_ACTIONS, { events: [{ action: "tasks_completed" }] }))).toEqual([
        ["UNAUTHENTICATED", "Sign in to record actions"],
      ]);
    }));
});

// The importActions mutation (migration 000014, 5-import.sql): historical events for many users in one call, a
// summary back; the service role and admins only; recordActions's coded errors; as real roles in rolled-back
// transactions.
import { anonymous, asAdmin, asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { errorsOf, type GraphQLRunner, makeGraphQLRunner, ok } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const IMPORT_ACTIONS = `mutation ($events: [ActionEventInput]!, $notify: Boolean) {
  importActions(input: { events: $events, notify: $notify }) { result { events imported skipped users unlocks points levelsAchieved } }
}`;



describe("importActions", () => {
  it("imports events for many users for the service role and admins, and sums up what they did", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      const events = [
        { userId: bob, action: "logins", occurredAt: "2026-01-07T12:00:00Z", idempotencyKey: "bob-3" },
        { userId: ada, action: "tasks_completed", amount: 10, occurredAt: "2026-01-05T10:00:00Z", idempotencyKey: "ada-1" },
        { userId: bob, action: "logins", occurredAt: "2026-01-05T12:00:00Z" },
        { userId: bob, action: "logins", occurredAt: "2026-01-06T12:00:00Z" },
      ];
      const data = await ok(graphql.run(tx, asService(), IMPORT_ACTIONS, { events }));
      // ada: 1 and 10 tasks (10 + 100 points); bob: a 3-day login streak (30 points).
      expect(data).toEqual({ importActions: { result: { events: 4, imported: 4, skipped: 0, users: 2, unlocks: 3, points: 140, levelsAchieved: 0 } } });
      expect(await tx.root("select current_length, last_day::text from status_public.user_streaks where user_id = $1 and action is null", [bob])).toEqual([
        { current_length: 3, last_day: "2026-01-07" },
      ]);
      // Again, as an admin: the keyed events are skipped.
      const again = await ok(graphql.run(tx, asAdmin(), IMPORT_ACTIONS, { events: events.filter((event) => event.idempotencyKey), notify: true }));
      expect(again.importActions.result).toMatchObject({ events: 2, imported: 0, skipped: 2, users: 0 });
    }));

  it("is FORBIDDEN to users and anonymous callers", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      for (const actor of [asUser(user), anonymous]) {
        const result = await graphql.run(tx, actor, IMPORT_ACTIONS, { events: [{ userId: user, action: "logins" }] });
        expect(result.errors?.map((error) => error.extensions.code)).toEqual(["FORBIDDEN"]);
      }
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [user])).toEqual([{ n: 0 }]);
    }));

  it("answers a batch it cannot import with recordActions's codes, importing nothing", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const run = (events: unknown[]) => graphql.run(tx, asService(), IMPORT_ACTIONS, { events });
      expect(errorsOf(await run([{ userId: user, action: "logins" }, { userId: user, action: "nope" }]))).toEqual([["NOT_FOUND", 'Event 2: unknown action "nope"']]);
      expect(errorsOf(await run([{ action: "logins" }]))).toEqual([["BAD_USER_INPUT", "Event 1: name the user (userId)"]]);
      expect(
        errorsOf(await run([{ userId: user, action: "logins", idempotencyKey: "k" }, { userId: user, action: "logins", idempotencyKey: "k" }])),
      ).toEqual([["CONFLICT", 'Event 2: the idempotency key "k" is used twice in the batch']]);
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [user])).toEqual([{ n: 0 }]);
    }));
});

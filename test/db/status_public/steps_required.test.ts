// steps_required and user_achieved: remaining requirements, achievement, unknown levels, who may ask.
import { anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

/** Two levels sharing the step `post`, with distinct names so the demo catalog does not interfere. */
async function levels(tx: TestTransaction): Promise<void> {
  await tx.as(asAdmin(), `
    insert into status_public.levels (name) values ('t-bronze'), ('t-silver'), ('t-empty');
    insert into status_public.level_requirements (name, level, required_count, priority) values
      ('post', 't-bronze', 2, 1),
      ('profile', 't-bronze', 1, 2),
      ('post', 't-silver', 5, 1),
      ('like', 't-silver', 3, 1),
      ('comment', 't-silver', 1, 0)`);
}

async function record(tx: TestTransaction, userId: string, step: string, count: number): Promise<void> {
  await tx.as(asService(), "insert into status_public.user_steps (user_id, name, count) values ($1, $2, $3)", [userId, step, count]);
}

type Remaining = { name: string; level: string; required_count: number };
const stepsRequired = (tx: TestTransaction, userId: string, level: string) =>
  tx.as<Remaining>(asUser(userId), "select name, level, required_count from status_public.steps_required($1)", [level]);
const achieved = async (tx: TestTransaction, userId: string, level: string) =>
  (await tx.as<{ achieved: boolean }>(asUser(userId), "select status_public.user_achieved($1) as achieved", [level]))[0].achieved;

describe("status_public.steps_required / user_achieved", () => {
  it("list every requirement for a user with no progress, by priority, then in the order they were created", () =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      expect(await stepsRequired(tx, user, "t-silver")).toEqual([
        { name: "comment", level: "t-silver", required_count: 1 },
        { name: "post", level: "t-silver", required_count: 5 }, // created before `like`, same priority
        { name: "like", level: "t-silver", required_count: 3 },
      ]);
      expect(await achieved(tx, user, "t-silver")).toBe(false);
    }));

  it("count progress on a shared step toward every level that needs it, with the remaining count", () =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      await record(tx, user, "post", 3);
      await record(tx, user, "like", 1);
      expect(await stepsRequired(tx, user, "t-bronze")).toEqual([{ name: "profile", level: "t-bronze", required_count: 1 }]);
      expect(await stepsRequired(tx, user, "t-silver")).toEqual([
        { name: "comment", level: "t-silver", required_count: 1 },
        { name: "post", level: "t-silver", required_count: 2 },
        { name: "like", level: "t-silver", required_count: 2 },
      ]);
    }));

  it("are empty / true once everything is done, and stay so past the requirement", () =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      await record(tx, user, "post", 2);
      await record(tx, user, "profile", 1);
      expect(await stepsRequired(tx, user, "t-bronze")).toEqual([]);
      expect(await achieved(tx, user, "t-bronze")).toBe(true);
      await record(tx, user, "post", 10);
      expect(await achieved(tx, user, "t-bronze")).toBe(true);
      expect(await achieved(tx, user, "t-silver")).toBe(false);
      // Another user's progress is not ours.
      expect(await achieved(tx, newUserId(), "t-bronze")).toBe(false);
    }));

  it("follow progress taken back", () =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      await record(tx, user, "post", 2);
      await record(tx, user, "profile", 1);
      await record(tx, user, "profile", -1);
      expect(await stepsRequired(tx, user, "t-bronze")).toEqual([{ name: "profile", level: "t-bronze", required_count: 1 }]);
    }));

  it("treat a level without requirements as achieved", () =>
    withTransaction(async (tx) => {
      await levels(tx);
      expect(await achieved(tx, newUserId(), "t-empty")).toBe(true);
    }));

  it.each(["steps_required", "user_achieved"])("%s: an unknown level is a NOT_FOUND error naming it, not 'achieved'", (fn) =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(asUser(newUserId()), `select * from status_public.${fn}('no-such-level')`);
      expect(error.code).toBe("AC404");
      expect(error.message).toBe('Unknown level "no-such-level"');
    }));

  it.each(["steps_required", "user_achieved"])("%s: a user may ask only about themselves", (fn) =>
    withTransaction(async (tx) => {
      const [me, other] = [newUserId(), newUserId()];
      const error = await tx.expectError(asUser(me), `select * from status_public.${fn}('newbie', $1)`, [other]);
      expect(error.code).toBe("AC403");
      // Naming oneself explicitly is fine.
      await tx.as(asUser(me), `select * from status_public.${fn}('newbie', $1)`, [me]);
    }));

  it.each([
    ["service", asService()],
    ["admin", asAdmin()],
  ])("the %s role may ask about anyone", (_, actor) =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      await record(tx, user, "post", 2);
      await record(tx, user, "profile", 1);
      const rows = await tx.as<{ achieved: boolean }>(actor, "select status_public.user_achieved('t-bronze', $1) as achieved", [user]);
      expect(rows).toEqual([{ achieved: true }]);
      const remaining = await tx.as(actor, "select name, required_count from status_public.steps_required('t-silver', $1)", [user]);
      expect(remaining).toEqual([
        { name: "comment", required_count: 1 },
        { name: "post", required_count: 3 },
        { name: "like", required_count: 3 },
      ]);
    }));

  it.each(["steps_required", "user_achieved"])("%s: takes the reference package's parameter names in named notation (vlevel, vrole_id)", (fn) =>
    withTransaction(async (tx) => {
      await levels(tx);
      const user = newUserId();
      await record(tx, user, "post", 2);
      const mine = await tx.as(asUser(user), `select * from status_public.${fn}(vlevel => 't-bronze')`);
      const theirs = await tx.as(asService(), `select * from status_public.${fn}(vrole_id => $1, vlevel => 't-bronze')`, [user]);
      expect(theirs).toEqual(mine);
      expect(mine).toEqual(fn === "user_achieved" ? [{ user_achieved: false }] : [expect.objectContaining({ name: "profile", required_count: 1 })]);
    }));

  it("anonymous callers must sign in or name a user", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(anonymous, "select * from status_public.steps_required('newbie')");
      expect(error.code).toBe("AC401");
      const forbidden = await tx.expectError(anonymous, "select * from status_public.steps_required('newbie', $1)", [newUserId()]);
      expect(forbidden.code).toBe("AC403");
    }));
});

// The count criterion kind (migration 000008, 3-criteria.sql): the user's tally of the action against the
// threshold, read by status_private.criterion_progress directly and through the engine's unlock stage.
import { asAdmin, asService, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

async function catalog(tx: TestTransaction) {
  await tx.as(asAdmin(), `
    insert into status_public.actions (name, client_reportable, max_amount) values ('c_read', true, 10), ('c_other', true, 10);
    insert into status_public.achievements (id, name, points) values ('c_read_3', 'Read 3', 10);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('c_read_3', 'count', 'c_read', 3)`);
}

/** criterion_progress for the achievement's criterion, as root (the function is private). */
const progress = (tx: TestTransaction, userId: string, action: string | null, localTime = "2026-03-01 12:00") =>
  tx.root<{ current: number; target: number }>(
    `select progress.current, progress.target
     from status_public.achievement_criteria as criterion
     cross join lateral status_private.criterion_progress(criterion, $1, $2, $3::timestamp) as progress
     where criterion.achievement_id = 'c_read_3'`,
    [userId, action, localTime],
  );

const record = (tx: TestTransaction, userId: string, action: string, amount = 1) =>
  tx
    .as<{ unlocked: string[] }>(
      asService(),
      "select array(select u.achievement_id from unnest(unlocked) as u) as unlocked from status_public.record_action_for($1, $2, $3)",
      [userId, action, amount],
    )
    .then((rows) => rows[0].unlocked);

describe("count criteria: criterion_progress", () => {
  it("is the user's tally of the action against the threshold", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const [user, other] = [newUserId(), newUserId()];
      expect(await progress(tx, user, null)).toEqual([{ current: 0, target: 3 }]);
      await record(tx, user, "c_read", 2);
      await record(tx, user, "c_other", 5); // another action's tally does not count
      await record(tx, other, "c_read", 9); // nor another user's
      expect(await progress(tx, user, null)).toEqual([{ current: 2, target: 3 }]);
      // The step at hand and the time do not matter to a count.
      expect(await progress(tx, user, "c_read", "2030-01-01 03:00")).toEqual([{ current: 2, target: 3 }]);
      expect(await progress(tx, user, "c_other")).toEqual([{ current: 2, target: 3 }]);
      await record(tx, user, "c_read", 4);
      expect(await progress(tx, user, null)).toEqual([{ current: 6, target: 3 }]);
    }));

  it("follows a tally taken back (a table trigger's step with a negative count)", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await record(tx, user, "c_read", 2);
      await tx.root("insert into status_public.user_steps (user_id, name, count) values ($1, 'c_read', -1)", [user]);
      expect(await progress(tx, user, null)).toEqual([{ current: 1, target: 3 }]);
      await tx.root("insert into status_public.user_steps (user_id, name, count) values ($1, 'c_read', -5)", [user]);
      expect(await progress(tx, user, null)).toEqual([{ current: 0, target: 3 }]);
    }));
});

describe("count criteria: the engine", () => {
  it("unlocks exactly at the threshold, once", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      expect(await record(tx, user, "c_read")).toEqual([]);
      expect(await record(tx, user, "c_read")).toEqual([]);
      expect(await record(tx, user, "c_other", 10)).toEqual([]);
      expect(await record(tx, user, "c_read")).toEqual(["c_read_3"]);
      expect(await record(tx, user, "c_read")).toEqual([]);
      expect(await tx.root("select count(*)::int as n from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([{ n: 1 }]);
    }));

  it("unlocks when one step's amount crosses the threshold", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      expect(await record(tx, user, "c_read", 2)).toEqual([]);
      expect(await record(tx, user, "c_read", 7)).toEqual(["c_read_3"]);
    }));
});

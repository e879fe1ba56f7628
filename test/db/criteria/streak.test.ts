// The streak criterion kind (migration 000008, 3-criteria.sql): the user's current streak of the action
// (NULL: any activity) in days, as of the local day at hand, against the threshold; read by
// status_private.criterion_progress directly and through the engine's unlock stage.
import { criterionProgress, recordAt } from "../../helpers/criteria";
import { asAdmin, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

async function catalog(tx: TestTransaction) {
  await tx.as(asAdmin(), `
    insert into status_public.actions (name, client_reportable) values ('s_read', true), ('s_other', true);
    insert into status_public.achievements (id, name, points) values ('s_read_3', 'Read 3 days', 10), ('s_any_4', 'Active 4 days', 10);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
      ('s_read_3', 'streak', 's_read', 3), ('s_any_4', 'streak', null, 4)`);
}


describe("streak criteria: criterion_progress", () => {
  it("is the current streak as of the day at hand: kept through the next day, 0 once a day is missed", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-01 12:00")).toEqual([{ current: 0, target: 3 }]);
      await recordAt(tx, user, "s_read", "2026-03-01T10:00:00Z");
      await recordAt(tx, user, "s_read", "2026-03-02T10:00:00Z");
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-02 23:59")).toEqual([{ current: 2, target: 3 }]);
      // The next day the streak still stands (it can be extended today) ...
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-03 23:59")).toEqual([{ current: 2, target: 3 }]);
      // ... the day after, it is broken.
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-04 00:00")).toEqual([{ current: 0, target: 3 }]);
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-04-01 12:00")).toEqual([{ current: 0, target: 3 }]);
      // The step at hand does not matter to a streak; another user's streak is theirs.
      expect(await criterionProgress(tx, "s_read_3", user, "s_other", "2026-03-02 12:00")).toEqual([{ current: 2, target: 3 }]);
      expect(await criterionProgress(tx, "s_read_3", newUserId(), null, "2026-03-02 12:00")).toEqual([{ current: 0, target: 3 }]);
    }));

  it("counts any activity for a criterion with no action", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await recordAt(tx, user, "s_read", "2026-03-01T10:00:00Z");
      await recordAt(tx, user, "s_other", "2026-03-02T10:00:00Z");
      await recordAt(tx, user, "s_other", "2026-03-03T10:00:00Z");
      expect(await criterionProgress(tx, "s_any_4", user, null, "2026-03-03 12:00")).toEqual([{ current: 3, target: 4 }]);
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-03 12:00")).toEqual([{ current: 0, target: 3 }]);
      expect(await criterionProgress(tx, "s_read_3", user, null, "2026-03-02 12:00")).toEqual([{ current: 1, target: 3 }]);
    }));
});

describe("streak criteria: the engine", () => {
  it("unlocks on the step of the threshold's day, not before, and not on a broken streak", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const [steady, gap] = [newUserId(), newUserId()];
      expect(await recordAt(tx, steady, "s_read", "2026-03-01T10:00:00Z")).toEqual([]);
      expect(await recordAt(tx, steady, "s_read", "2026-03-02T10:00:00Z")).toEqual([]);
      expect(await recordAt(tx, steady, "s_read", "2026-03-02T20:00:00Z")).toEqual([]); // the same day twice: still 2
      expect(await recordAt(tx, steady, "s_read", "2026-03-03T09:00:00Z")).toEqual(["s_read_3"]);
      expect(await recordAt(tx, steady, "s_read", "2026-03-04T09:00:00Z")).toEqual(["s_any_4"]);
      expect(await recordAt(tx, steady, "s_read", "2026-03-05T09:00:00Z")).toEqual([]);

      expect(await recordAt(tx, gap, "s_read", "2026-03-01T10:00:00Z")).toEqual([]);
      expect(await recordAt(tx, gap, "s_read", "2026-03-02T10:00:00Z")).toEqual([]);
      expect(await recordAt(tx, gap, "s_read", "2026-03-04T10:00:00Z")).toEqual([]); // the 3rd missed: 1 again
      expect(await recordAt(tx, gap, "s_read", "2026-03-05T10:00:00Z")).toEqual([]);
      expect(await recordAt(tx, gap, "s_read", "2026-03-06T10:00:00Z")).toEqual(["s_read_3"]);
    }));

  it("counts days in the user's time zone", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await tx.as(asUser(user), "select status_public.set_my_profile(time_zone => 'Asia/Tokyo')"); // UTC+9
      // Three UTC instants on two UTC days, but three local days in Tokyo (the 1st, 2nd and 3rd).
      expect(await recordAt(tx, user, "s_read", "2026-03-01T10:00:00Z")).toEqual([]); // 19:00 on the 1st
      expect(await recordAt(tx, user, "s_read", "2026-03-01T16:00:00Z")).toEqual([]); // 01:00 on the 2nd
      expect(await recordAt(tx, user, "s_read", "2026-03-02T16:00:00Z")).toEqual(["s_read_3"]); // 01:00 on the 3rd
    }));
});

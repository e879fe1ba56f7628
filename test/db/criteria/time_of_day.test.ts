// The time_of_day criterion kind (migration 000008, 3-criteria.sql): the step at hand is the action at a
// local hour in [hour_from, hour_until), a window that may wrap past midnight; with no step at hand it is
// met once the achievement is unlocked. Read by status_private.criterion_progress directly and through the
// engine's unlock stage.
import { criterionProgress, recordAt } from "../../helpers/criteria";
import { asAdmin, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

async function catalog(tx: TestTransaction) {
  await tx.as(asAdmin(), `
    insert into status_public.actions (name, client_reportable) values ('t_watch', true), ('t_other', true);
    insert into status_public.achievements (id, name, points) values
      ('t_late', 'Late show', 10), ('t_morning', 'Morning show', 10), ('t_last_hour', 'Last hour', 10);
    insert into status_public.achievement_criteria (achievement_id, kind, action, hour_from, hour_until) values
      ('t_late', 'time_of_day', 't_watch', 22, 2), ('t_morning', 'time_of_day', 't_watch', 6, 9), ('t_last_hour', 'time_of_day', 't_watch', 23, 24)`);
}


describe("time_of_day criteria: criterion_progress", () => {
  it.each([
    ["t_late", "21:59", 0],
    ["t_late", "22:00", 1],
    ["t_late", "23:59", 1],
    ["t_late", "00:00", 1],
    ["t_late", "01:59", 1],
    ["t_late", "02:00", 0],
    ["t_late", "12:00", 0],
    ["t_morning", "05:59", 0],
    ["t_morning", "06:00", 1],
    ["t_morning", "08:59", 1],
    ["t_morning", "09:00", 0],
    ["t_last_hour", "22:59", 0],
    ["t_last_hour", "23:00", 1],
    ["t_last_hour", "23:59", 1],
    ["t_last_hour", "00:00", 0],
  ])("%s: the action at local %s is %i of 1", (achievementId, time, current) =>
    withTransaction(async (tx) => {
      await catalog(tx);
      expect(await criterionProgress(tx, achievementId, newUserId(), "t_watch", `2026-03-03 ${time}`)).toEqual([{ current, target: 1 }]);
    }));

  it("is not met by another action in the window", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      expect(await criterionProgress(tx, "t_late", newUserId(), "t_other", "2026-03-03 23:00")).toEqual([{ current: 0, target: 1 }]);
    }));

  it("with no step at hand (progress), is met exactly when the achievement is unlocked", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      expect(await criterionProgress(tx, "t_late", user, null, "2026-03-03 23:00")).toEqual([{ current: 0, target: 1 }]);
      await recordAt(tx, user, "t_watch", "2026-03-03T12:00:00Z"); // outside the window
      expect(await criterionProgress(tx, "t_late", user, null, "2026-03-03 23:00")).toEqual([{ current: 0, target: 1 }]);
      await recordAt(tx, user, "t_watch", "2026-03-03T23:00:00Z");
      expect(await criterionProgress(tx, "t_late", user, null, "2026-03-03 12:00")).toEqual([{ current: 1, target: 1 }]);
      // Another achievement's window is not met by it.
      expect(await criterionProgress(tx, "t_morning", user, null, "2026-03-03 07:00")).toEqual([{ current: 0, target: 1 }]);
    }));
});

describe("time_of_day criteria: the engine", () => {
  it("unlocks in the window, in the user's time zone, and not outside", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const [user, other] = [newUserId(), newUserId()];
      await tx.as(asUser(user), "select status_public.set_my_profile(time_zone => 'America/New_York')"); // UTC-5 in March before the 8th
      expect(await recordAt(tx, user, "t_watch", "2026-03-04T02:59:00Z")).toEqual([]); // 21:59 local
      expect(await recordAt(tx, user, "t_other", "2026-03-04T03:30:00Z")).toEqual([]); // 22:30 local, another action
      expect(await recordAt(tx, user, "t_watch", "2026-03-04T03:00:00Z")).toEqual(["t_late"]); // 22:00 local
      expect(await recordAt(tx, user, "t_watch", "2026-03-04T04:00:00Z")).toEqual(["t_last_hour"]); // 23:00 local; t_late only once
      // 02:00 UTC is 21:00 in New York but inside the window in UTC: the user's zone decides.
      expect(await recordAt(tx, other, "t_watch", "2026-03-04T02:00:00Z")).toEqual([]);
      expect(await recordAt(tx, other, "t_watch", "2026-03-04T01:59:00Z")).toEqual(["t_late"]);
    }));
});

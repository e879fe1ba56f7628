// What the event path writes for one event (migration 000009, 4-event-path-cost.sql): a row that does not
// change is not rewritten. A rewritten row has a new version, so a new ctid; a row left alone keeps its ctid.
// The unlock stage takes its unlocks' cursors and writes their provenance itself (3-stages.sql), and the row
// triggers do it for any other insert: both give the same numbering and the same provenance.
import { asAdmin, asService, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

const record = (tx: TestTransaction, userId: string, action: string, at: string) =>
  tx.as(asService(), "select 1 from status_public.record_action_for($1, $2, 1, null, $3)", [userId, action, at]);

const streakRows = (tx: TestTransaction, userId: string) =>
  tx.root<{ action: string | null; ctid: string; current_length: number; longest_length: number; last_day: string }>(
    `select action, ctid::text, current_length, longest_length, last_day::text
     from status_public.user_streaks where user_id = $1 order by action nulls first`,
    [userId],
  );

const scoreRow = (tx: TestTransaction, userId: string) =>
  tx.root<{ ctid: string; points: number }>("select ctid::text, points from status_public.user_scores where user_id = $1", [userId]);

describe("the event path's writes", () => {
  it("leaves a streak alone when the step's day is already counted, and moves it on the next day", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await record(tx, user, "logins", "2026-03-01T08:00:00Z");
      const first = await streakRows(tx, user);
      expect(first.map(({ action, current_length, last_day }) => ({ action, current_length, last_day }))).toEqual([
        { action: null, current_length: 1, last_day: "2026-03-01" },
        { action: "logins", current_length: 1, last_day: "2026-03-01" },
      ]);
      // The same day again, and a backdated step: counted, but both streaks stay the row versions they were.
      await record(tx, user, "logins", "2026-03-01T20:00:00Z");
      await record(tx, user, "logins", "2026-02-27T20:00:00Z");
      expect(await streakRows(tx, user)).toEqual(first);
      expect((await tx.root("select count from status_public.user_achievements where user_id = $1", [user]))[0]).toEqual({ count: 3 });
      // The next day extends both.
      await record(tx, user, "logins", "2026-03-02T08:00:00Z");
      const next = await streakRows(tx, user);
      expect(next.map(({ action, current_length, longest_length, last_day }) => ({ action, current_length, longest_length, last_day }))).toEqual([
        { action: null, current_length: 2, longest_length: 2, last_day: "2026-03-02" },
        { action: "logins", current_length: 2, longest_length: 2, last_day: "2026-03-02" },
      ]);
      expect(next.map((row) => row.ctid)).not.toEqual(first.map((row) => row.ctid));
      // A missed day restarts it at 1 and keeps the best.
      await record(tx, user, "logins", "2026-03-05T08:00:00Z");
      expect((await streakRows(tx, user)).map(({ current_length, longest_length, last_day }) => ({ current_length, longest_length, last_day }))).toEqual([
        { current_length: 1, longest_length: 2, last_day: "2026-03-05" },
        { current_length: 1, longest_length: 2, last_day: "2026-03-05" },
      ]);
    }));

  it("writes no score row version for a step that awards nothing, and the new points for one that does", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      // The first task unlocks tasks_completed_1 (10 points); the next eight unlock nothing.
      await record(tx, user, "tasks_completed", "2026-03-01T08:00:00Z");
      const awarded = await scoreRow(tx, user);
      expect(awarded).toEqual([{ ctid: expect.any(String), points: 10 }]);
      for (let task = 2; task <= 9; task += 1) await record(tx, user, "tasks_completed", "2026-03-01T09:00:00Z");
      expect(await scoreRow(tx, user)).toEqual(awarded);
      expect(await tx.root("select count(*)::int as n from status_public.points_ledger where user_id = $1", [user])).toEqual([{ n: 1 }]);
      // The tenth unlocks tasks_completed_10 (100 points).
      await record(tx, user, "tasks_completed", "2026-03-01T10:00:00Z");
      expect((await scoreRow(tx, user))[0].points).toBe(110);
    }));

  it("numbers and records unlocks alike whether the unlock stage or the row triggers write them", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asAdmin(), `insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at)
        values ('Double', 2, '2026-03-01T00:00Z', '2026-03-02T00:00Z')`);
      // The stage: the first task unlocks tasks_completed_1 (10 points, doubled).
      await record(tx, user, "tasks_completed", "2026-03-01T08:00:00Z");
      // Another insert (as a backfill makes one), of an unlock of the same kind for the same step: the triggers
      // take the next cursor and write the provenance.
      await tx.root(
        `insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
         select user_id, 'launch_sprint', 75, id from status_public.user_steps where user_id = $1`,
        [user],
      );
      // The stage again: tasks 2 to 10 unlock tasks_completed_10 with the tenth, at the next cursor.
      for (let task = 2; task <= 10; task += 1) await record(tx, user, "tasks_completed", "2026-03-01T09:00:00Z");
      const unlocks = await tx.root<{ achievement_id: string; cursor: number; points: number; points_multiplier: string | null; current_version: boolean; criteria_values: unknown }>(
        `select unlock.achievement_id, unlock.cursor, unlock.points, unlock.points_multiplier::text,
                unlock.rule_version = (select max(version.version) from status_public.achievement_rule_versions as version
                                       where version.achievement_id = unlock.achievement_id) as current_version,
                unlock.criteria_values
         from status_public.achievement_unlocks as unlock where unlock.user_id = $1 order by unlock.cursor`,
        [user],
      );
      const count = (threshold: number, current: number) => [
        { kind: "count", action: "tasks_completed", threshold, hourFrom: null, hourUntil: null, current, target: threshold },
      ];
      expect(unlocks).toEqual([
        { achievement_id: "tasks_completed_1", cursor: 1, points: 20, points_multiplier: "2.00", current_version: true, criteria_values: count(1, 1) },
        { achievement_id: "launch_sprint", cursor: 2, points: 150, points_multiplier: "2.00", current_version: true, criteria_values: count(5, 1) },
        { achievement_id: "tasks_completed_10", cursor: 3, points: 200, points_multiplier: "2.00", current_version: true, criteria_values: count(10, 10) },
      ]);
      expect(await tx.root("select last_cursor from status_private.user_event_cursors where user_id = $1", [user])).toEqual([{ last_cursor: 3 }]);
    }));
});


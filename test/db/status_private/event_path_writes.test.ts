// What the event path writes for one event (migration 000009, 4-event-path-cost.sql): a row that does not
// change is not rewritten. A rewritten row has a new version, so a new ctid; a row left alone keeps its ctid.
import { asService, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

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
});

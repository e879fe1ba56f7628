// Streak freezes (issue 11, migration 000010: the streaks stage spends them): a day missed in a user's streaks
// spends one freeze instead of breaking them, all or nothing, once for all their streaks; progress and the
// dashboard show the streak alive while freezes cover the days missed; granting is for the service and admins.
import { anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

const step = (tx: TestTransaction, userId: string, action: string, occurredAt: string) =>
  tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $2, 1, $3)", [userId, action, occurredAt]);

const streaks = (tx: TestTransaction, userId: string) =>
  tx.root<{ action: string | null; current_length: number; longest_length: number; last_day: string }>(
    "select action, current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 order by action nulls first",
    [userId],
  );

const freezesOf = async (tx: TestTransaction, userId: string) =>
  (await tx.root<{ n: number }>("select coalesce((select freezes from status_public.user_streak_freezes where user_id = $1), 0) as n", [userId]))[0].n;

const grant = (tx: TestTransaction, userId: string, freezes: number) =>
  tx.as<{ held: number }>(asService(), "select status_public.grant_streak_freezes($1, $2) as held", [userId, freezes]);

describe("streak freezes", () => {
  it("spend one per missed day instead of breaking the streaks, once for all of them; a frozen day does not count", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await step(tx, user, "logins", "2026-03-01 10:00Z");
      await step(tx, user, "logins", "2026-03-02 10:00Z");
      expect(await grant(tx, user, 2)).toEqual([{ held: 2 }]);
      await step(tx, user, "logins", "2026-03-04 10:00Z"); // missed the 3rd: one freeze
      expect(await streaks(tx, user)).toEqual([
        { action: null, current_length: 3, longest_length: 3, last_day: "2026-03-04" },
        { action: "logins", current_length: 3, longest_length: 3, last_day: "2026-03-04" },
      ]);
      expect(await freezesOf(tx, user)).toBe(1);
      expect(await tx.root("select day::text from status_public.user_frozen_days where user_id = $1", [user])).toEqual([{ day: "2026-03-03" }]);
    }));

  it("are all or nothing: a gap longer than the freezes held breaks the streaks and spends none", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await step(tx, user, "logins", "2026-03-01 10:00Z");
      await grant(tx, user, 1);
      await step(tx, user, "logins", "2026-03-04 10:00Z"); // missed two days, one freeze
      expect((await streaks(tx, user)).map((s) => s.current_length)).toEqual([1, 1]);
      expect(await freezesOf(tx, user)).toBe(1);
      // With none at all, as before: the streak restarts.
      const other = newUserId();
      await step(tx, other, "logins", "2026-03-01 10:00Z");
      await step(tx, other, "logins", "2026-03-03 10:00Z");
      expect((await streaks(tx, other)).map((s) => s.current_length)).toEqual([1, 1]);
    }));

  it("keep a day frozen for the user's other streaks without spending again", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await step(tx, user, "logins", "2026-03-01 10:00Z");
      await step(tx, user, "lessons_finished", "2026-03-01 11:00Z");
      await grant(tx, user, 1);
      await step(tx, user, "logins", "2026-03-03 10:00Z"); // the 2nd frozen: logins and any activity go on
      expect(await freezesOf(tx, user)).toBe(0);
      await step(tx, user, "lessons_finished", "2026-03-03 11:00Z"); // its gap is the 2nd too: kept, nothing spent
      expect((await streaks(tx, user)).map((s) => [s.action, s.current_length])).toEqual([[null, 2], ["lessons_finished", 2], ["logins", 2]]);
    }));

  it("unlock a streak achievement through a frozen day, and show the streak alive while freezes cover the days missed", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.root("insert into status_public.user_profiles (user_id, time_zone) values ($1, 'UTC')", [user]);
      await grant(tx, user, 3);
      // Days before today (the transaction's): 5 and 4, 3 missed (frozen), 2; then 1 missed, not frozen yet.
      for (const daysAgo of [5, 4, 2]) {
        await tx.root(
          "insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 'logins', 1, ((now() at time zone 'UTC')::date - $2::integer + time '10:00') at time zone 'UTC')",
          [user, daysAgo],
        );
      }
      expect(await tx.root("select achievement_id from status_public.achievement_unlocks where user_id = $1 and achievement_id = 'streak_3'", [user]))
        .toEqual([{ achievement_id: "streak_3" }]);
      const dashboard = async () =>
        (await tx.as<{ current_streak: number; streak_freezes: number }>(asUser(user), "select current_streak, streak_freezes from status_public.my_dashboard()"))[0];
      const streak7 = async () =>
        (await tx.as<{ current: number }>(asUser(user),
          "select criterion.current from status_public.my_achievements() as progress cross join unnest(progress.criteria) as criterion where progress.achievement_id = 'streak_7'"))[0].current;
      expect(await dashboard()).toEqual({ current_streak: 3, streak_freezes: 2 });
      expect(await streak7()).toBe(3);
      // No freeze left for yesterday: broken, as without freezes.
      await tx.root("update status_public.user_streak_freezes set freezes = 0 where user_id = $1", [user]);
      expect(await dashboard()).toEqual({ current_streak: 0, streak_freezes: 0 });
      expect(await streak7()).toBe(0);
    }));

  it("are granted by the service and admins only, 1 to 1000 at a time, at most 1000 held", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      expect(await tx.as(asAdmin(), "select status_public.grant_streak_freezes($1, 1000) as held", [user])).toEqual([{ held: 1000 }]);
      expect((await tx.expectError(asService(), "select status_public.grant_streak_freezes($1, 1)", [user])).code).toBe("AC400");
      expect((await tx.expectError(asService(), "select status_public.grant_streak_freezes($1, 0)", [user])).code).toBe("AC400");
      expect((await tx.expectError(asService(), "select status_public.grant_streak_freezes(null, 1)")).code).toBe("AC400");
      for (const actor of [anonymous, asUser(user)]) {
        expect((await tx.expectError(actor, "select status_public.grant_streak_freezes($1, 1)", [user])).code).toBe("42501");
      }
      expect(await tx.as(asUser(user), "select freezes from status_public.user_streak_freezes")).toEqual([{ freezes: 1000 }]);
      expect(await tx.as(asUser(newUserId()), "select freezes from status_public.user_streak_freezes")).toEqual([]);
    }));
});

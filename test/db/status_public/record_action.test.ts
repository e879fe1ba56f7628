// record_action / record_action_for: the event path through criteria, unlocks, points, tiers, streaks
// and levels, with the tutorial's demo catalog (migrations/seeds/demo-catalog.sql) and catalogs made here.
import { asAdmin, asService, asUser, newUserId, roles, type TestTransaction, withTransaction } from "../../helpers/db";

interface Unlocked {
  achievement_id: string;
  points: number;
}
interface RecordActionResult {
  step_id: string;
  tally: number;
  unlocked: Unlocked[];
  points_awarded: number;
  total_points: number;
  tier_before: string | null;
  tier_after: string | null;
  current_streak: number;
  levels_achieved: string[];
}

const RESULT = `step_id, tally, points_awarded, total_points, tier_before, tier_after, current_streak, levels_achieved,
  (select coalesce(json_agg(json_build_object('achievement_id', u.achievement_id, 'points', u.points)), '[]') from unnest(unlocked) u) as unlocked`;

function recordAs(tx: TestTransaction, userId: string, action: string, amount = 1, key: string | null = null) {
  return tx
    .as<RecordActionResult>(asUser(userId), `select ${RESULT} from status_public.record_action($1, $2, $3)`, [action, amount, key])
    .then((rows) => rows[0]);
}

function recordFor(tx: TestTransaction, userId: string, action: string, options: { amount?: number; key?: string; at?: string } = {}) {
  return tx
    .as<RecordActionResult>(asService(), `select ${RESULT} from status_public.record_action_for($1, $2, $3, $4, $5)`, [
      userId,
      action,
      options.amount ?? 1,
      options.key ?? null,
      options.at ?? null,
    ])
    .then((rows) => rows[0]);
}

const unlockedIds = (result: RecordActionResult) => result.unlocked.map((unlock) => unlock.achievement_id);

async function setTimeZone(tx: TestTransaction, userId: string, timeZone: string) {
  await tx.as(asUser(userId), "select status_public.set_my_profile(time_zone => $1)", [timeZone]);
}

/** An achievement made here, with its criteria, as an admin. */
async function achievement(tx: TestTransaction, id: string, criteria: string[], extra: { points?: number; from?: string; until?: string; hidden?: boolean } = {}) {
  await tx.as(
    asAdmin(),
    "insert into status_public.achievements (id, name, points, hidden, available_from, available_until) values ($1, $1, $2, $3, $4, $5)",
    [id, extra.points ?? 10, extra.hidden ?? false, extra.from ?? null, extra.until ?? null],
  );
  for (const criterion of criteria) {
    await tx.as(asAdmin(), `insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values ($1, ${criterion})`, [id]);
  }
}

async function actions(tx: TestTransaction, ...names: string[]) {
  for (const name of names) {
    await tx.as(asAdmin(), "insert into status_public.actions (name, client_reportable) values ($1, true)", [name]);
  }
}

describe("record_action: milestones, points and tiers (the tutorial's catalog)", () => {
  it("unlocks each task milestone once, with its points, and moves through the tiers", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const first = await recordAs(tx, user, "tasks_completed");
      expect(first).toMatchObject({ tally: 1, points_awarded: 10, total_points: 10, tier_before: "Beginner", tier_after: "Beginner", levels_achieved: [] });
      expect(unlockedIds(first)).toEqual(["tasks_completed_1"]);

      const toTen = await recordAs(tx, user, "tasks_completed", 9);
      // 10 tasks (100) and the launch sprint's 5 tasks (75): Beginner -> Student.
      expect(unlockedIds(toTen).sort()).toEqual(["launch_sprint", "tasks_completed_10"]);
      expect(toTen).toMatchObject({ tally: 10, points_awarded: 175, total_points: 185, tier_before: "Beginner", tier_after: "Student" });

      // Past a threshold nothing unlocks again.
      const eleventh = await recordAs(tx, user, "tasks_completed");
      expect(eleventh).toMatchObject({ tally: 11, unlocked: [], points_awarded: 0, total_points: 185, tier_before: "Student", tier_after: "Student" });

      for (let i = 0; i < 3; i++) await recordAs(tx, user, "tasks_completed", 10);
      const toFifty = await recordAs(tx, user, "tasks_completed", 9);
      expect(unlockedIds(toFifty)).toEqual(["tasks_completed_50"]);
      expect(toFifty).toMatchObject({ tally: 50, points_awarded: 500, total_points: 685, tier_before: "Student", tier_after: "Expert" });

      const ledger = await tx.root("select sum(points)::int as points, count(*)::int as entries from status_public.points_ledger where user_id = $1", [user]);
      expect(ledger).toEqual([{ points: 685, entries: 4 }]);
      expect(await tx.root("select points, tier from status_public.user_scores where user_id = $1", [user])).toEqual([{ points: 685, tier: "Expert" }]);
    }));

  it("counts a table trigger's steps through the same path as recordAction", () =>
    withTransaction(async (tx) => {
      await tx.root(`
        create schema app;
        create table app.tasks (id serial primary key, done_by uuid not null, done boolean not null default false);
        create trigger track_done after insert or update on app.tasks
          for each row execute function status_private.tg_achievement_toggle_boolean('done', 'tasks_completed', 'done_by');`);
      const user = newUserId();
      await tx.root("insert into app.tasks (done_by, done) values ($1, true)", [user]);
      expect(await tx.root("select achievement_id, points from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([
        { achievement_id: "tasks_completed_1", points: 10 },
      ]);
      // A step taken back changes the tally (back at zero: no row), never an unlock.
      await tx.root("update app.tasks set done = false where done_by = $1", [user]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [user])).toEqual([]);
      expect(await tx.root("select count(*)::int as n from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([{ n: 1 }]);
    }));

  it("records a level once, when first achieved, and says so in the result", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.levels (name) values ('t-worker');
        insert into status_public.level_requirements (name, level, required_count) values ('tasks_completed', 't-worker', 3), ('logins', 't-worker', 1)`);
      const user = newUserId();
      expect((await recordAs(tx, user, "tasks_completed", 3)).levels_achieved).toEqual([]);
      expect((await recordAs(tx, user, "logins")).levels_achieved).toEqual(["t-worker"]);
      expect((await recordAs(tx, user, "tasks_completed")).levels_achieved).toEqual([]);
      expect(await tx.root("select level from status_public.user_levels where user_id = $1", [user])).toEqual([{ level: "t-worker" }]);
    }));
});

describe("record_action: streaks in the user's time zone", () => {
  it("counts consecutive local days, across local midnight, once per day, and restarts after a missed day", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await setTimeZone(tx, user, "America/New_York"); // UTC-5 in January
      const login = (at: string) => recordFor(tx, user, "logins", { at });
      expect((await login("2026-01-10T23:30:00-05:00")).current_streak).toBe(1);
      // One hour later, but the next local day (the same UTC day):
      expect((await login("2026-01-11T00:30:00-05:00")).current_streak).toBe(2);
      // Twice the same day counts one day:
      expect((await login("2026-01-11T18:00:00-05:00")).current_streak).toBe(2);
      const third = await login("2026-01-12T08:00:00-05:00");
      expect(third.current_streak).toBe(3);
      expect(unlockedIds(third)).toContain("streak_3");
      // A missed day (the 13th) breaks it:
      expect((await login("2026-01-14T08:00:00-05:00")).current_streak).toBe(1);
      expect(await tx.root("select current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 and action = 'logins'", [user])).toEqual([
        { current_length: 1, longest_length: 3, last_day: "2026-01-14" },
      ]);
    }));

  it("counts the same instants as one UTC day for a user in UTC", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordFor(tx, user, "logins", { at: "2026-01-11T04:30:00Z" });
      expect((await recordFor(tx, user, "logins", { at: "2026-01-11T05:30:00Z" })).current_streak).toBe(1);
    }));

  it("keeps a streak per action and one for any activity", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await actions(tx, "t_read");
      await achievement(tx, "t_active_2", ["'streak', null, 2, null, null"]);
      await recordFor(tx, user, "t_read", { at: "2026-02-01T12:00:00Z" });
      const secondDay = await recordFor(tx, user, "logins", { at: "2026-02-02T12:00:00Z" });
      expect(secondDay.current_streak).toBe(2);
      expect(unlockedIds(secondDay)).toEqual(["t_active_2"]);
      expect(await tx.root("select action, current_length from status_public.user_streaks where user_id = $1 order by action nulls first", [user])).toEqual([
        { action: null, current_length: 2 },
        { action: "logins", current_length: 1 },
        { action: "t_read", current_length: 1 },
      ]);
    }));
});

describe("record_action: time of day and time-limited achievements", () => {
  it.each([
    ["05:59", "America/New_York", ["early_bird"]],
    ["06:00", "America/New_York", []],
    ["00:00", "America/New_York", ["early_bird"]],
    ["22:59", "America/New_York", []],
    ["23:00", "America/New_York", ["night_owl"]],
    ["23:59", "Asia/Tokyo", ["night_owl"]],
  ])("a login at local %s (%s) unlocks %j", (localTime, timeZone, expected) =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await setTimeZone(tx, user, timeZone);
      const [{ at }] = await tx.root<{ at: string }>("select (($1::timestamp) at time zone $2)::text as at", [`2026-03-03 ${localTime}`, timeZone]);
      const result = await recordFor(tx, user, "logins", { at });
      expect(unlockedIds(result).filter((id) => id === "early_bird" || id === "night_owl")).toEqual(expected);
    }));

  it("wraps a window across midnight", () =>
    withTransaction(async (tx) => {
      await actions(tx, "t_watch");
      await achievement(tx, "t_late_show", ["'time_of_day', 't_watch', null, 22, 2"]);
      const [early, late, outside] = [newUserId(), newUserId(), newUserId()];
      expect(unlockedIds(await recordFor(tx, early, "t_watch", { at: "2026-03-03T01:59:00Z" }))).toEqual(["t_late_show"]);
      expect(unlockedIds(await recordFor(tx, late, "t_watch", { at: "2026-03-03T22:00:00Z" }))).toEqual(["t_late_show"]);
      expect(unlockedIds(await recordFor(tx, outside, "t_watch", { at: "2026-03-03T02:00:00Z" }))).toEqual([]);
    }));

  it("unlocks a time-limited achievement only for actions inside [from, until)", () =>
    withTransaction(async (tx) => {
      await actions(tx, "t_vote");
      await achievement(tx, "t_election", ["'count', 't_vote', 1, null, null"], { from: "2026-05-01T00:00:00Z", until: "2026-05-02T00:00:00Z" });
      const at = async (instant: string) => unlockedIds(await recordFor(tx, newUserId(), "t_vote", { at: instant }));
      expect(await at("2026-04-30T23:59:59Z")).toEqual([]);
      expect(await at("2026-05-01T00:00:00Z")).toEqual(["t_election"]);
      expect(await at("2026-05-01T23:59:59Z")).toEqual(["t_election"]);
      expect(await at("2026-05-02T00:00:00Z")).toEqual([]);
    }));

  it("unlocks an achievement with several criteria only when all hold (the hidden Insomniac)", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const login = (at: string) => recordFor(tx, user, "logins", { at });
      expect(unlockedIds(await login("2026-06-01T03:10:00Z"))).toContain("early_bird"); // 3 AM, streak 1
      expect(unlockedIds(await login("2026-06-02T12:00:00Z"))).toEqual([]); // streak 2
      expect(unlockedIds(await login("2026-06-03T12:00:00Z"))).toEqual(["streak_3"]); // streak 3, noon
      expect(unlockedIds(await login("2026-06-03T03:30:00Z"))).toEqual(["insomniac"]); // same day, 3 AM
    }));
});

describe("record_action: exactly once", () => {
  it("returns the original result for a retried idempotency key and counts nothing again", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const first = await recordAs(tx, user, "tasks_completed", 1, "click-1");
      const retry = await recordAs(tx, user, "tasks_completed", 1, "click-1");
      expect(retry).toEqual(first);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [user])).toEqual([{ count: 1 }]);
      expect(await tx.root("select points from status_public.user_scores where user_id = $1", [user])).toEqual([{ points: 10 }]);
    }));

  it.each([
    ["another action", "logins", 1],
    ["another amount", "tasks_completed", 2],
  ])("refuses the same key with %s (CONFLICT), writing nothing", (_, action, amount) =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordAs(tx, user, "tasks_completed", 1, "click-1");
      const error = await tx.expectError(asUser(user), "select status_public.record_action($1, $2, 'click-1')", [action, amount]);
      expect(error.code).toBe("AC409");
      expect(error.message).toBe('The idempotency key "click-1" was already used for 1 x "tasks_completed"');
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [user])).toEqual([{ n: 1 }]);
    }));
});

describe("record_action: bad input is a coded error and writes nothing", () => {
  it.each([
    ["an unknown action", "asUser", "select status_public.record_action('teleport')", "AC404", 'Unknown action "teleport"'],
    ["an action a client may not report", "asUser", "select status_public.record_action('lessons_finished')", "AC403", 'The action "lessons_finished" cannot be reported by a client'],
    ["a zero amount", "asUser", "select status_public.record_action('tasks_completed', 0)", "AC400", 'The amount must be a whole number from 1 to 10 for "tasks_completed", got 0'],
    ["a negative amount", "asUser", "select status_public.record_action('tasks_completed', -3)", "AC400", 'The amount must be a whole number from 1 to 10 for "tasks_completed", got -3'],
    ["an amount over the action's maximum", "asUser", "select status_public.record_action('tasks_completed', 11)", "AC400", 'The amount must be a whole number from 1 to 10 for "tasks_completed", got 11'],
    ["a NULL amount", "asUser", "select status_public.record_action('tasks_completed', null)", "AC400", 'The amount must be a whole number from 1 to 10 for "tasks_completed", got null'],
    ["an empty idempotency key", "asUser", "select status_public.record_action('tasks_completed', 1, '')", "AC400", "The idempotency key must be 1 to 200 characters"],
    ["recording for someone else as a user", "asUser", "select status_public.record_action_for(gen_random_uuid(), 'tasks_completed')", "42501", "permission denied for function record_action_for"],
  ])("%s", (_, __, sql, code, message) =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const error = await tx.expectError(asUser(user), sql);
      expect([error.code, error.message]).toEqual([code, message]);
      expect(await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [user])).toEqual([{ n: 0 }]);
    }));

  it("needs a signed-in user", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError({ role: "anonymous" }, "select status_public.record_action('tasks_completed')");
      expect([error.code, error.message]).toEqual(["AC401", "Sign in to record an action"]);
    }));

  it("refuses an unknown time zone", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const error = await tx.expectError(asUser(user), "select status_public.set_my_profile(time_zone => 'Mars/Olympus_Mons')");
      expect([error.code, error.message]).toEqual(["AC400", 'Unknown time zone "Mars/Olympus_Mons"']);
      expect(await tx.root("select * from status_public.user_profiles where user_id = $1", [user])).toEqual([]);
    }));
});

describe("derived tables", () => {
  it("cannot be written by any API role", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordAs(tx, user, "tasks_completed");
      for (const actor of [asUser(user), asService(), asAdmin()]) {
        for (const sql of [
          "insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id) select user_id, 'tasks_completed_100', 1000, id from status_public.user_steps limit 1",
          "insert into status_public.points_ledger (user_id, points) values (gen_random_uuid(), 1000)",
          "update status_public.user_scores set points = 100000",
          "insert into status_public.user_levels (user_id, level) values (gen_random_uuid(), 'pro')",
          "update status_public.user_streaks set current_length = 100",
        ]) {
          expect({ role: actor.role, sql, code: (await tx.expectError(actor, sql)).code }).toEqual({ role: actor.role, sql, code: "42501" });
        }
      }
    }));

  it("show users only their own rows", () =>
    withTransaction(async (tx) => {
      const [alice, bob] = [newUserId(), newUserId()];
      await recordAs(tx, alice, "tasks_completed");
      await recordAs(tx, bob, "tasks_completed");
      for (const table of ["achievement_unlocks", "points_ledger", "user_scores", "user_streaks"]) {
        const rows = await tx.as<{ user_id: string }>(asUser(alice), `select distinct user_id from status_public.${table}`);
        expect({ table, users: rows.map((row) => row.user_id) }).toEqual({ table, users: [alice] });
      }
      // The service role sees everyone's.
      const all = await tx.as(asService(), "select count(distinct user_id)::int as n from status_public.achievement_unlocks where user_id in ($1, $2)", [alice, bob]);
      expect(all).toEqual([{ n: 2 }]);
    }));

  it("grant record_action_for to the service role only", () =>
    withTransaction(async (tx) => {
      const allowed = await tx.root<{ role: string; allowed: boolean }>(
        "select r as role, has_function_privilege(r, 'status_public.record_action_for(uuid, text, integer, text, timestamptz)', 'execute') as allowed from unnest($1::text[]) r",
        [[roles.anonymous, roles.user, roles.service, roles.admin]],
      );
      expect(allowed).toEqual([
        { role: roles.anonymous, allowed: false },
        { role: roles.user, allowed: false },
        { role: roles.service, allowed: true },
        { role: roles.admin, allowed: false },
      ]);
    }));
});

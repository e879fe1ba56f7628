// Backfill (issue 11, migration 000009, 9-backfill.sql): users whose past steps meet a new or changed rule
// get it as if earned at the step that made it true (step, time, dated points, boards of that period), in
// batches, resumable, exactly once, quietly unless asked. The first part runs in rolled-back transactions; the
// part that needs commits (concurrent runs, a live event meanwhile, the procedure) uses a database of its own.
import pg from "pg";
import { asAdmin, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";
import { createPrivateDatabase, type PrivateDatabase } from "../../helpers/private-database";

/** An action of the file's own, steps of it at given times, and achievements added afterwards. */
async function history(tx: TestTransaction, userId: string, times: string[], action = "b_read") {
  for (const at of times) {
    await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, $2, 1, $3)", [userId, action, at]);
  }
}

const catalogSql = `
  insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10), ('b_write', true, 10);
  insert into status_public.achievements (id, name, points) values ('b_reader_3', 'Reader', 40);
  insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_reader_3', 'count', 'b_read', 3)`;

const backfill = async (tx: TestTransaction, ids: string[] | null, batchSize = 500, notify = false) => {
  const [{ id }] = await tx.root<{ id: string }>("select status_private.start_backfill($1, $2) as id", [ids, notify]);
  while ((await tx.root<{ more: boolean }>("select status_private.backfill_batch($1, $2) as more", [id, batchSize]))[0].more);
  return (await tx.root<{ users_checked: string; unlocks: string; points: string; finished: boolean }>(
    "select users_checked, unlocks, points, finished_at is not null as finished from status_private.backfill_runs where id = $1", [id]))[0];
};

const unlocksOf = (tx: TestTransaction, userId: string) =>
  tx.root<{ achievement_id: string; step_at: string; unlocked_at: string; rule_version: number }>(
    `select unlock.achievement_id, step.occurred_at::text as step_at, unlock.unlocked_at::text, unlock.rule_version
     from status_public.achievement_unlocks as unlock join status_public.user_steps as step on step.id = unlock.step_id
     where unlock.user_id = $1 and unlock.achievement_id like 'b\\_%' order by 1`, [userId]);

describe("backfill in one transaction", () => {
  it("awards a new achievement at the step that made it true, with points dated then, to those who qualify only", () =>
    withTransaction(async (tx) => {
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10)");
      const [done, short] = [newUserId(), newUserId()];
      await history(tx, done, ["2026-01-05 10:00Z", "2026-01-20 10:00Z", "2026-02-03 10:00Z", "2026-03-01 10:00Z"]);
      await history(tx, short, ["2026-01-05 10:00Z", "2026-01-06 10:00Z"]);
      await tx.as(asAdmin(), `insert into status_public.achievements (id, name, points) values ('b_reader_3', 'Reader', 40);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_reader_3', 'count', 'b_read', 3)`);
      expect(await unlocksOf(tx, done)).toEqual([]); // a catalog change alone awards nothing

      expect(await backfill(tx, ["b_reader_3"])).toEqual({ users_checked: "2", unlocks: "1", points: "40", finished: true });
      expect(await unlocksOf(tx, done)).toEqual([
        { achievement_id: "b_reader_3", step_at: "2026-02-03 10:00:00+00", unlocked_at: "2026-02-03 10:00:00+00", rule_version: 2 },
      ]);
      expect(await unlocksOf(tx, short)).toEqual([]);
      // The points: once, dated at the step, so on February's board and not March's.
      expect(await tx.root("select points, created_at::text from status_public.points_ledger where user_id = $1", [done]))
        .toEqual([{ points: 40, created_at: "2026-02-03 10:00:00+00" }]);
      expect(await tx.root("select points from status_public.user_scores where user_id = $1", [done])).toEqual([{ points: 40 }]);
      expect(await tx.root("select period::text, period_start::text, points from status_public.leaderboard_scores where user_id = $1 and period = 'MONTH'", [done]))
        .toEqual([{ period: "MONTH", period_start: "2026-02-01", points: 40 }]);

      // Again: nothing more.
      expect(await backfill(tx, ["b_reader_3"])).toEqual({ users_checked: "2", unlocks: "0", points: "0", finished: true });
      expect(await tx.root("select count(*)::int as n from status_public.points_ledger where user_id = $1", [done])).toEqual([{ n: 1 }]);
    }));

  it("reaches users below an old threshold once it is lowered, and leaves past unlocks as they were", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), catalogSql);
      const [early, later] = [newUserId(), newUserId()];
      await history(tx, early, ["2026-01-01 10:00Z", "2026-01-02 10:00Z", "2026-01-03 10:00Z"]); // unlocked live at the 3rd
      await history(tx, later, ["2026-01-01 10:00Z", "2026-01-02 10:00Z"]);
      const before = await unlocksOf(tx, early);
      expect(before.map((unlock) => unlock.achievement_id)).toEqual(["b_reader_3"]);
      await tx.as(asAdmin(), "update status_public.achievement_criteria set threshold = 2 where achievement_id = 'b_reader_3'");
      expect(await backfill(tx, ["b_reader_3"])).toMatchObject({ unlocks: "1", points: "40" });
      expect(await unlocksOf(tx, later)).toEqual([
        { achievement_id: "b_reader_3", step_at: "2026-01-02 10:00:00+00", unlocked_at: "2026-01-02 10:00:00+00", rule_version: 3 },
      ]);
      expect(await unlocksOf(tx, early)).toEqual(before);
    }));

  it("replays streaks and times of day in the user's time zone, and respects the availability window", () =>
    withTransaction(async (tx) => {
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10)");
      const user = newUserId();
      await tx.root("insert into status_public.user_profiles (user_id, time_zone) values ($1, 'Asia/Tokyo')", [user]);
      // Tokyo days: Jan 10, Jan 11 (15:30Z is 00:30 on the 11th), a gap, Jan 13, 14, 15 (the 3-day run ends on the 15th).
      await history(tx, user, ["2026-01-10 01:00Z", "2026-01-10 15:30Z", "2026-01-13 01:00Z", "2026-01-14 01:00Z", "2026-01-15 02:00Z", "2026-01-15 03:00Z"]);
      await tx.as(asAdmin(), `
        insert into status_public.achievements (id, name) values ('b_streak_3', 'Three days'), ('b_night', 'Night owl'), ('b_late', 'Too late');
        update status_public.achievements set available_from = '2026-01-14 12:00Z' where id = 'b_late';
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values
          ('b_streak_3', 'streak', null, 3, null, null),
          ('b_night', 'time_of_day', 'b_read', null, 0, 5),
          ('b_late', 'count', 'b_read', 1, null, null)`);
      await backfill(tx, ["b_streak_3", "b_night", "b_late"], 1);
      expect((await unlocksOf(tx, user)).map(({ achievement_id, step_at }) => [achievement_id, step_at])).toEqual([
        ["b_late", "2026-01-15 02:00:00+00"], // first held on Jan 10, but the window opened on the 14th, 12:00Z
        ["b_night", "2026-01-10 15:30:00+00"], // 00:30 in Tokyo
        ["b_streak_3", "2026-01-15 02:00:00+00"],
      ]);
    }));

  it("resumes after the last batch done, and refuses an unknown achievement or run", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), "insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10)");
      const users = [newUserId(), newUserId(), newUserId()].sort();
      for (const user of users) await history(tx, user, ["2026-01-01 10:00Z"]);
      await tx.as(asAdmin(), `insert into status_public.achievements (id, name, points) values ('b_first', 'First', 5);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_first', 'count', 'b_read', 1)`);
      const [{ id }] = await tx.root<{ id: string }>("select status_private.start_backfill(array['b_first']) as id");
      expect(await tx.root("select status_private.backfill_batch($1, 2) as more", [id])).toEqual([{ more: true }]);
      // "A crash" here: the run's row says where it got to, and the next batch goes on from there.
      expect(await tx.root("select after_user_id, users_checked::int from status_private.backfill_runs where id = $1", [id]))
        .toEqual([{ after_user_id: users[1], users_checked: 2 }]);
      // The last user: the users phase is over; the tiers phase remains.
      expect(await tx.root("select status_private.backfill_batch($1, 2) as more", [id])).toEqual([{ more: true }]);
      expect(await tx.root("select state::text, users_checked::int, unlocks::int from status_public.backfill_runs where id = $1", [id]))
        .toEqual([{ state: "retiering", users_checked: 3, unlocks: 3 }]);
      while ((await tx.root<{ more: boolean }>("select status_private.backfill_batch($1, 1000) as more", [id]))[0].more);
      expect(await tx.root("select status_private.backfill_batch($1, 2) as more", [id])).toEqual([{ more: false }]);
      expect(await tx.root("select state::text, users_checked::int, unlocks::int from status_public.backfill_runs where id = $1", [id]))
        .toEqual([{ state: "finished", users_checked: 3, unlocks: 3 }]);
      await tx.root("savepoint unknown");
      await expect(tx.root("select status_private.start_backfill(array['b_first', 'b_nope'])")).rejects.toMatchObject({ code: "AC404", message: 'No achievement "b_nope"' });
      await tx.root("rollback to savepoint unknown");
      await expect(tx.root("select status_private.backfill_batch(-1)")).rejects.toMatchObject({ code: "AC404" });
    }));
});

describe("levels, streak freezes and the plan's counts", () => {
  const runOf = (tx: TestTransaction, id: string) =>
    tx.root<{ unlocks: number; levels_achieved: number }>("select unlocks::int, levels_achieved::int from status_public.backfill_runs where id = $1", [id]);
  const runBackfill = async (tx: TestTransaction, ids: string[] | null, levels: string[] | null) => {
    const [{ id }] = await tx.root<{ id: string }>("select status_private.start_backfill($1, false, $2) as id", [ids, levels]);
    while ((await tx.root<{ more: boolean }>("select status_private.backfill_batch($1) as more", [id]))[0].more);
    return id;
  };

  it("achieves the levels whose requirements past steps meet, dated at the step that met the last one", () =>
    withTransaction(async (tx) => {
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10), ('b_write', true, 10)");
      const [done, short] = [newUserId(), newUserId()];
      await history(tx, done, ["2026-01-05 10:00Z", "2026-01-06 10:00Z"]);
      await history(tx, done, ["2026-01-07 10:00Z"], "b_write");
      await history(tx, done, ["2026-01-08 10:00Z"]);
      await history(tx, short, ["2026-01-05 10:00Z", "2026-01-06 10:00Z"]);
      await tx.as(asAdmin(), `insert into status_public.levels (name) values ('b_level');
        insert into status_public.level_requirements (name, level, required_count) values ('b_read', 'b_level', 2), ('b_write', 'b_level', 1)`);
      expect(await tx.root("select count(*)::int as n from status_public.user_levels where level = 'b_level'")).toEqual([{ n: 0 }]);
      const [{ qualifying }] = await tx.as<{ qualifying: number }>(asAdmin(), "select qualifying from status_public.catalog_level_impact(array['b_level'])");
      const id = await runBackfill(tx, [], ["b_level"]);
      expect(await runOf(tx, id)).toEqual([{ unlocks: 0, levels_achieved: 1 }]);
      expect(qualifying).toBe(1); // the plan counted what the backfill awarded
      expect(await tx.root(
        `select achieved.user_id, achieved.achieved_at::text, step.name, step.occurred_at::text as step_at
         from status_public.user_levels as achieved join status_public.user_steps as step on step.id = achieved.step_id where achieved.level = 'b_level'`))
        .toEqual([{ user_id: done, achieved_at: "2026-01-07 10:00:00+00", name: "b_write", step_at: "2026-01-07 10:00:00+00" }]);
      // Again: nothing more.
      expect(await runOf(tx, await runBackfill(tx, [], ["b_level"]))).toEqual([{ unlocks: 0, levels_achieved: 0 }]);
      await tx.root("savepoint unknown");
      await expect(tx.root("select status_private.start_backfill(null, false, array['b_nope'])")).rejects.toMatchObject({ code: "AC404", message: 'No level "b_nope"' });
      await tx.root("rollback to savepoint unknown");
    }));

  it("replays a streak that a streak freeze kept, and not one that broke", () =>
    withTransaction(async (tx) => {
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10)");
      const [frozen, broken] = [newUserId(), newUserId()];
      await tx.root("select status_public.grant_streak_freezes($1, 1)", [frozen]);
      // Jan 1, Jan 2, (Jan 3 missed), Jan 4: the freeze is spent on Jan 3 and the streak goes on to 3 days.
      for (const user of [frozen, broken]) await history(tx, user, ["2026-01-01 10:00Z", "2026-01-02 10:00Z", "2026-01-04 10:00Z"]);
      expect(await tx.root("select user_id, day::text from status_public.user_frozen_days where user_id = any($1)", [[frozen, broken]]))
        .toEqual([{ user_id: frozen, day: "2026-01-03" }]);
      expect(await tx.root("select current_length from status_public.user_streaks where user_id = $1 and action = 'b_read'", [frozen])).toEqual([{ current_length: 3 }]);
      await tx.as(asAdmin(), `insert into status_public.achievements (id, name) values ('b_streak_3', 'Three days');
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_streak_3', 'streak', 'b_read', 3)`);
      await runBackfill(tx, ["b_streak_3"], []);
      expect(await unlocksOf(tx, frozen)).toEqual([
        { achievement_id: "b_streak_3", step_at: "2026-01-04 10:00:00+00", unlocked_at: "2026-01-04 10:00:00+00", rule_version: 2 },
      ]);
      expect(await unlocksOf(tx, broken)).toEqual([]);
    }));

  it("plans exactly what the backfill then awards: streaks since broken, closed windows and retired achievements included", () =>
    withTransaction(async (tx) => {
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('b_read', true, 10)");
      const users = [newUserId(), newUserId(), newUserId()];
      await history(tx, users[0], ["2026-01-01 10:00Z", "2026-01-02 10:00Z"]); // a 2-day streak, long broken
      await history(tx, users[1], ["2026-01-10 10:00Z"]);
      await history(tx, users[2], ["2026-03-10 10:00Z", "2026-03-11 10:00Z"]);
      await tx.as(asAdmin(), `
        insert into status_public.achievements (id, name, points, available_until, retired_at) values
          ('b_past_streak', 'Two days', 10, null, null), ('b_january', 'January', 5, '2026-02-01', null), ('b_retired', 'Gone', 1, null, now());
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
          ('b_past_streak', 'streak', 'b_read', 2), ('b_january', 'count', 'b_read', 1), ('b_retired', 'count', 'b_read', 1)`);
      const ids = ["b_january", "b_past_streak", "b_retired"];
      const planned = await tx.as(asAdmin(), "select achievement_id, qualifying from status_public.catalog_unlock_impact($1)", [ids]);
      await runBackfill(tx, ids, []);
      const awarded = await tx.root(
        `select achievement.id as achievement_id, count(unlock.id)::int as qualifying from status_public.achievements as achievement
         left join status_public.achievement_unlocks as unlock on unlock.achievement_id = achievement.id and unlock.user_id = any($2)
         where achievement.id = any($1) group by 1 order by 1`, [ids, users]);
      expect(awarded).toEqual([
        { achievement_id: "b_january", qualifying: 2 },
        { achievement_id: "b_past_streak", qualifying: 2 },
        { achievement_id: "b_retired", qualifying: 0 },
      ]);
      expect(planned).toEqual(awarded);
    }));
});

describe("backfill with commits", () => {
  let db: PrivateDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createPrivateDatabase("backfill");
    pool = new pg.Pool({ connectionString: db.rootUrl, max: 6 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  /** Users with a step each of an action of the test's own, and `b_first` (7 points) for that action. */
  async function setUp(userCount: number, action: string): Promise<string[]> {
    await pool.query("delete from status_public.achievements where id like 'b\\_%'");
    await pool.query("insert into status_public.actions (name, client_reportable, max_amount) values ($1, true, 10)", [action]);
    const users = Array.from({ length: userCount }, newUserId);
    await pool.query(
      "insert into status_public.user_steps (user_id, name, count, occurred_at) select u, $2, 1, '2026-01-01' from unnest($1::uuid[]) as u",
      [users, action]);
    await pool.query("insert into status_public.achievements (id, name, points) values ('b_first', 'First', 7)");
    await pool.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_first', 'count', $1, 1)", [action]);
    return users;
  }

  const ledgerOf = async (users: string[]) =>
    (await pool.query("select count(*)::int as rows, coalesce(sum(points), 0)::int as points from status_public.points_ledger where user_id = any($1)", [users])).rows[0];

  it("counts each unlock once with two runs at the same time and a live event meanwhile", async () => {
    const users = await setUp(40, "b_concurrent");
    const [{ a }] = (await pool.query("select status_private.start_backfill(array['b_first']) as a")).rows;
    const [{ b }] = (await pool.query("select status_private.start_backfill(array['b_first']) as b")).rows;
    // A live event for one user, open while both runs go: the unlock's unique key makes them wait for it.
    const live = await pool.connect();
    await live.query("begin");
    await live.query("insert into status_public.user_steps (user_id, name, count) values ($1, 'b_concurrent', 1)", [users[20]]);
    const runs = [a, b].map(async (id) => {
      while ((await pool.query("select status_private.backfill_batch($1, 7) as more", [id])).rows[0].more);
    });
    await live.query("commit");
    live.release();
    await Promise.all(runs);
    expect(await ledgerOf(users)).toEqual({ rows: 40, points: 280 });
    expect((await pool.query("select count(*)::int as n from status_public.achievement_unlocks where user_id = any($1) and achievement_id = 'b_first'", [users])).rows)
      .toEqual([{ n: 40 }]);
    // Each unlock was counted by the run that made it, or made by the live event (then dated now, not 2026).
    const [{ byRuns }] = (await pool.query("select sum(unlocks)::int as \"byRuns\" from status_private.backfill_runs where id in ($1, $2)", [a, b])).rows;
    const [{ byLive }] = (await pool.query("select count(*)::int as \"byLive\" from status_public.achievement_unlocks where user_id = any($1) and unlocked_at > '2026-01-02'", [users])).rows;
    expect(byRuns + byLive).toBe(40);
  });

  /** The server's backfill worker's call (src/backfill-worker.ts), as the authenticator: one batch of a claimed run. */
  const work = (client: pg.ClientBase | pg.Pool) =>
    client.query<{ claimed_run: string; more: boolean; error_code: string | null; error_message: string | null }>(
      "select * from status_private.work_on_backfill(null, $1)", [60]).then((result) => result.rows[0]);
  const runRow = async (id: string) =>
    (await pool.query("select state::text, users_total::int, users_checked::int, unlocks::int, last_error from status_public.backfill_runs where id = $1", [id])).rows[0];

  it("lets two workers share runs through work_on_backfill, never running one batch twice", async () => {
    const users = await setUp(40, "b_workers");
    const auth = new pg.Pool({ connectionString: db.authUrl, max: 2 });
    try {
      const ids = await Promise.all([0, 1].map(async () =>
        (await pool.query("select status_private.start_backfill(array['b_first'], false, '{}', 7) as id")).rows[0].id as string));
      const claims: string[][] = [[], []];
      const unfinished = async () => (await pool.query("select count(*)::int as n from status_private.backfill_runs where finished_at is null")).rows[0].n > 0;
      await Promise.all([0, 1].map(async (worker) => {
        while (await unfinished()) {
          const claimed = await work(auth);
          if (claimed) claims[worker].push(claimed.claimed_run);
          else await new Promise((resolve) => setTimeout(resolve, 5)); // the other worker holds the only run left
        }
      }));
      // A batch run twice would count its users twice: each run checked each user once.
      for (const id of ids) expect(await runRow(id)).toMatchObject({ state: "finished", users_total: 40, users_checked: 40 });
      expect((await pool.query("select sum(unlocks)::int as n from status_private.backfill_runs where id = any($1)", [ids])).rows).toEqual([{ n: 40 }]);
      expect(await ledgerOf(users)).toEqual({ rows: 40, points: 280 });
      expect(claims.flat().length).toBeGreaterThanOrEqual(2 * (Math.ceil(40 / 7) + 1));
    } finally {
      await auth.end();
    }
  });

  it("resumes a run whose worker died mid-batch, and records a failing batch on the run", async () => {
    const users = await setUp(10, "b_crash");
    const [{ id }] = (await pool.query("select status_private.start_backfill(array['b_first'], false, '{}', 4) as id")).rows;
    // A worker claims the run and does a batch, then dies before committing.
    const dying = new pg.Client({ connectionString: db.authUrl });
    await dying.connect();
    dying.on("error", () => undefined);
    await dying.query("begin");
    expect(await work(dying)).toMatchObject({ claimed_run: id, more: true });
    const [{ pid }] = (await dying.query("select pg_backend_pid() as pid")).rows;
    expect(await work(pool)).toBeUndefined(); // claimed: another worker skips it
    await pool.query("select pg_terminate_backend($1)", [pid]);
    await dying.end().catch(() => undefined);
    expect(await runRow(id)).toMatchObject({ state: "pending", users_checked: 0 });

    // A batch that fails (a trigger of the test's own) is rolled back, recorded on the run, and retried later.
    await pool.query("create or replace function public.b_crash_fail() returns trigger language plpgsql as $$ begin raise exception 'b_crash refused'; end $$");
    await pool.query("create trigger b_crash_fail before insert on status_public.achievement_unlocks for each row execute function public.b_crash_fail()");
    try {
      expect(await work(pool)).toMatchObject({ claimed_run: id, more: true, error_code: "P0001", error_message: "b_crash refused" });
      expect(await runRow(id)).toMatchObject({ state: "pending", users_checked: 0, last_error: "b_crash refused" });
      expect(await work(pool)).toBeUndefined(); // failed a moment ago: not claimed again before retry_after_seconds
    } finally {
      await pool.query("drop trigger b_crash_fail on status_public.achievement_unlocks; drop function public.b_crash_fail()");
    }
    await pool.query("update status_private.backfill_runs set failed_at = now() - interval '1 minute' where id = $1", [id]);
    while ((await work(pool))?.more);
    expect(await runRow(id)).toMatchObject({ state: "finished", users_total: 10, users_checked: 10, unlocks: 10, last_error: null });
    expect(await ledgerOf(users)).toEqual({ rows: 10, points: 70 });
  });

  it("runs whole from the procedure, committing each batch, quietly unless asked", async () => {
    const users = await setUp(5, "b_quiet");
    const listener = new pg.Client({ connectionString: db.rootUrl });
    await listener.connect();
    try {
    const heard: string[] = [];
    listener.on("notification", (message) => heard.push(message.channel));
    for (const user of users) await listener.query(`listen "achievements:${user}"`);
    const [{ quiet }] = (await pool.query("select status_private.start_backfill(array['b_first']) as quiet")).rows;
    await pool.query("call status_private.run_backfill($1, 2)", [quiet]);
    expect((await pool.query("select users_checked::int, unlocks::int, finished_at is not null as finished from status_private.backfill_runs where id = $1", [quiet])).rows)
      .toEqual([{ users_checked: 5, unlocks: 5, finished: true }]);
    // A notified run, for a new achievement: its unlocks reach the listener (the quiet run's did not).
    await pool.query("insert into status_public.achievements (id, name) values ('b_again', 'Again')");
    await pool.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('b_again', 'count', 'b_quiet', 1)");
    const [{ loud }] = (await pool.query("select status_private.start_backfill(array['b_again'], true) as loud")).rows;
    await pool.query("call status_private.run_backfill($1)", [loud]);
    await listener.query("select 1"); // notifications sent before this round trip have arrived
    expect(heard.sort()).toEqual(users.map((user) => `achievements:${user}`).sort());
    } finally {
      await listener.end();
    }
  });
});

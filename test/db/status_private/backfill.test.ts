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
      expect(await tx.root("select status_private.backfill_batch($1, 2) as more", [id])).toEqual([{ more: false }]);
      expect(await tx.root("select status_private.backfill_batch($1, 2) as more", [id])).toEqual([{ more: false }]);
      expect(await tx.root("select users_checked::int, unlocks::int from status_private.backfill_runs where id = $1", [id]))
        .toEqual([{ users_checked: 3, unlocks: 3 }]);
      await tx.root("savepoint unknown");
      await expect(tx.root("select status_private.start_backfill(array['b_first', 'b_nope'])")).rejects.toMatchObject({ code: "AC404", message: 'No achievement "b_nope"' });
      await tx.root("rollback to savepoint unknown");
      await expect(tx.root("select status_private.backfill_batch(-1)")).rejects.toMatchObject({ code: "AC404" });
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

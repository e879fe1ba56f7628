// status_private.fold_leaderboard_deltas(): the event path appends the leaderboard histogram's changes as
// deltas (status_private.leaderboard_count_deltas), and the fold moves them into the histogram tables (per
// score, and the rank levels of 4-reads.sql; the per-100-point buckets until migration 000020).
// Folding changes how fast a rank is read, never what it says: after random awards, opt-outs and opt-ins,
// and points taken back, every rank (status_private.rank_of) is 1 + the visible users with more points, before
// a fold and after it. A fold drops the rows it brought back to zero; one folder works at a time (a second
// returns 0 at once, nothing is counted twice); and a writer never waits for a folder.
// The file has a database of its own: the checks are exact over every user of the database, and the fold
// takes every delta, which the shared database's other files append all the time.
import pg from "pg";
import { HISTOGRAM_MISMATCHES_SQL } from "../../helpers/cleanup";
import { newUserId, roles } from "../../helpers/db";
import { sleep } from "../../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../../helpers/private-database";

let database: PrivateDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createPrivateDatabase("fold");
  pool = new pg.Pool({ connectionString: database.rootUrl, max: 6 });
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** A small seeded generator (mulberry32): the same operations on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** When the awards happen: now, and a few fixed instants (two weeks of one month, the next month). */
const INSTANTS = [null, "2026-03-02T10:00:00Z", "2026-03-04T23:30:00Z", "2026-03-31T23:59:59Z", "2026-04-01T00:00:00Z"];

async function award(entries: { user: string; points: number; at: string | null }[]): Promise<void> {
  // One statement for all of them: its awards go through the points trigger together.
  await pool.query(
    `insert into status_public.points_ledger (user_id, points, created_at)
     select entry.user_id, entry.points, coalesce(entry.at, now())
     from unnest($1::uuid[], $2::int[], $3::timestamptz[]) as entry (user_id, points, at)`,
    [entries.map((entry) => entry.user), entries.map((entry) => entry.points), entries.map((entry) => entry.at)],
  );
}

/** The user's lowest score on the four boards of `at`, and on how many of them the user is. */
async function lowestScore(user: string, at: string | null): Promise<{ boards: number; lowest: number | null }> {
  const { rows } = await pool.query<{ boards: number; lowest: number | null }>(
    `select count(*)::int as boards, min(score.points) as lowest
     from unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
     join status_public.leaderboard_scores as score
       on score.period = board.period and score.period_start = status_private.period_start(board.period, coalesce($2::timestamptz, now())) and score.user_id = $1`,
    [user, at],
  );
  return rows[0];
}

/** The user opts out of the leaderboards, or back in, as themselves. */
async function setOptOut(user: string, optOut: boolean): Promise<void> {
  const own = await pool.connect();
  try {
    await own.query("begin");
    await own.query("select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)", [roles.user, user]);
    await own.query("select status_public.set_my_profile(leaderboard_opt_out => $1)", [optOut]);
    await own.query("commit");
  } catch (error) {
    await own.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    own.release();
  }
}

/** An event recorded by the service for the user (the real event path: unlocks, then points). */
async function recordFor(client: pg.ClientBase, user: string, action = "tasks_completed"): Promise<void> {
  await client.query("begin");
  await client.query(
    "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
    [roles.service],
  );
  await client.query("select status_public.record_action_for($1, $2, 1)", [user, action]);
  await client.query("commit");
}

interface Rank {
  period: string;
  period_start: string;
  points: number;
  rank: number;
  expected: number;
}

/**
 * In one snapshot: the rank of every score held on every board, of the scores one point around them and of a
 * few bucket edges, from rank_of and from a count of the visible users with more points; and each board's
 * number of visible users, from board_users and counted.
 */
async function ranks(db: pg.Pool | pg.ClientBase = pool): Promise<{ ranks: Rank[]; users: Record<string, unknown>[] }> {
  const { rows } = await db.query<Rank>(
    `with boards as (select distinct period, period_start from status_public.leaderboard_scores),
     probes as (
       select boards.period, boards.period_start, probe.points
       from boards cross join lateral (
         select score.points + around.by as points
           from status_public.leaderboard_scores as score cross join (values (-1), (0), (1)) as around (by)
           where score.period = boards.period and score.period_start = boards.period_start
         union select unnest(array[0, 1, 99, 100, 101, 199, 200, 201, 255, 256, 257, 299, 300, 511, 512, 1000, 65535, 65536, 65537, 100000])
       ) as probe
     )
     select probes.period::text, probes.period_start::text, probes.points,
            status_private.rank_of(probes.period, probes.period_start, probes.points) as rank,
            1 + (select count(*)::int from status_public.leaderboard_scores as score
                 where score.period = probes.period and score.period_start = probes.period_start and score.visible and score.points > probes.points) as expected
     from probes order by probes.period, probes.period_start, probes.points`,
  );
  const users = await db.query(
    `select boards.period::text, boards.period_start::text, status_private.board_users(boards.period, boards.period_start) as users,
            (select count(*)::int from status_public.leaderboard_scores as score where score.period = boards.period and score.period_start = boards.period_start and score.visible) as expected
     from (select distinct period, period_start from status_public.leaderboard_scores) as boards order by 1, 2`,
  );
  return { ranks: rows, users: users.rows };
}

/** Ranks (and board sizes) that rank_of (board_users) gets wrong. */
const wrong = ({ ranks: all, users }: Awaited<ReturnType<typeof ranks>>) => [
  ...all.filter((rank) => rank.rank !== rank.expected),
  ...users.filter((board) => board.users !== board.expected),
];

async function count(sql: string): Promise<number> {
  return (await pool.query<{ n: number }>(sql)).rows[0].n;
}
const deltas = () => count("select count(*)::int as n from status_private.leaderboard_count_deltas");
const zeroRows = () =>
  count(
    `select ((select count(*) from status_private.leaderboard_point_counts where users = 0)
             + (select count(*) from status_private.leaderboard_rank_levels where users_from[1] = 0))::int as n`,
  );
const fold = async (db: pg.Pool | pg.ClientBase = pool) => (await db.query<{ folded: number }>("select status_private.fold_leaderboard_deltas() as folded")).rows[0].folded;

/** The histogram rows, as "period start points=users" strings. */
async function histogram(): Promise<string[]> {
  const { rows } = await pool.query<{ row: string }>(
    `select format('points %s %s %s=%s', period, period_start, points, users) as row from status_private.leaderboard_point_counts
     order by 1`,
  );
  return rows.map((row) => row.row);
}

/**
 * Runs `query` on `client` and fails, instead of hanging, as soon as its backend waits for a lock (naming
 * what it waits for and who holds it); resolves with the query's rows when it completes.
 */
async function withoutWaiting<Row extends pg.QueryResultRow>(client: pg.ClientBase, query: string, params: unknown[] = []): Promise<Row[]> {
  const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;
  let done = false;
  const running = client.query<Row>(query, params).finally(() => (done = true));
  while (!done) {
    const { rows: waits } = await pool.query(
      `select activity.wait_event, pg_blocking_pids(activity.pid) as blocked_by,
              (select string_agg(concat_ws(' ', locks.locktype, locks.mode, 'on ' || locks.relation::regclass::text, 'of transaction ' || locks.transactionid::text), '; ')
               from pg_locks as locks where locks.pid = activity.pid and not locks.granted) as waiting_for
       from pg_stat_activity as activity where activity.pid = $1 and activity.wait_event_type = 'Lock' and activity.wait_event <> 'extend'`,
      [pid],
    );
    if (waits.length > 0) {
      await pool.query("select pg_cancel_backend($1)", [pid]);
      await running.catch(() => undefined);
      throw new Error(`\`${query}\` waited for a lock: ${JSON.stringify(waits)}`);
    }
    await sleep(5);
  }
  return (await running).rows;
}

describe("fold_leaderboard_deltas", () => {
  it("never changes a rank: after random awards (across buckets and periods, several users a statement, unlocks), opt-outs and opt-ins, ranks are exact before and after each fold", async () => {
    const next = random(20261201);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const users = Array.from({ length: 40 }, newUserId);
    const optedOut = new Set<string>();
    // A few users opt out before they have any points (their scores are invisible from the start).
    for (const user of users.slice(0, 4)) {
      await setOptOut(user, true);
      optedOut.add(user);
    }
    const recorder = await pool.connect();
    let folded = 0;
    let rowsDropped = 0;
    try {
      for (let round = 0; round < 8; round++) {
        for (let operation = 0; operation < 25; operation++) {
          const roll = next();
          if (roll < 0.5) {
            // Up: one to three users in one statement, by 1 to 250 points (across buckets of 100).
            const entries = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({ user: pick(users), points: 1 + Math.floor(next() * 250), at: pick(INSTANTS) }));
            await award(entries);
          } else if (roll < 0.75) {
            const user = pick(users);
            const optOut = !optedOut.has(user);
            await setOptOut(user, optOut);
            if (optOut) optedOut.add(user);
            else optedOut.delete(user);
          } else {
            await recordFor(recorder, pick(users), pick(["tasks_completed", "lessons_finished"]));
          }
          // Now and then a fold in the middle of the round, so that the checks meet a histogram part folded.
          if (next() < 0.1) folded += await fold();
        }
        const before = await ranks();
        expect(wrong(before)).toEqual([]);
        expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
        const rowsBefore = (await histogram()).map((row) => row.replace(/=\d+$/, ""));
        folded += await fold();
        expect(await deltas()).toBe(0);
        const after = await ranks();
        expect(after).toEqual(before);
        expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
        // The fold leaves no row at zero users (and this database has no other folder than this test).
        expect(await zeroRows()).toBe(0);
        const rowsAfter = new Set((await histogram()).map((row) => row.replace(/=\d+$/, "")));
        rowsDropped += rowsBefore.filter((row) => !rowsAfter.has(row)).length;
      }
    } finally {
      recorder.release();
    }
    // The run did what it is about: it folded, and users opted out (else the checks prove little).
    expect(folded).toBeGreaterThan(0);
    expect(await count("select count(*)::int as n from status_public.leaderboard_scores where not visible")).toBeGreaterThan(0);
    // Some folds emptied rows (users moved off a score, or opted out): they went.
    expect(rowsDropped).toBeGreaterThan(0);
  });

  it("drops the histogram rows it brings back to zero, and only counts what is left", async () => {
    await fold();
    const alone = newUserId();
    const other = newUserId();
    // 12345 and 12399 points: scores nobody else in this file reaches.
    await award([{ user: alone, points: 12345, at: null }]);
    await award([{ user: other, points: 12399, at: null }]);
    await fold();
    const held = await histogram();
    expect(held.filter((row) => /^points ALL_TIME -infinity 123\d\d=/.test(row))).toEqual([
      "points ALL_TIME -infinity 12345=1",
      "points ALL_TIME -infinity 12399=1",
    ]);

    // `alone` moves from 12345 to 20000: its point row goes.
    await award([{ user: alone, points: 20000 - 12345, at: null }]);
    // `other` opts out: its point row goes too.
    await setOptOut(other, true);
    await fold();
    expect(await zeroRows()).toBe(0);
    const now = await histogram();
    expect(now.filter((row) => /^points ALL_TIME -infinity 123\d\d=/.test(row))).toEqual([]);
    expect(now).toContain("points ALL_TIME -infinity 20000=1");
    expect(wrong(await ranks())).toEqual([]);
    // Opting back in brings `other` back where it was.
    await setOptOut(other, false);
    expect(wrong(await ranks())).toEqual([]);
    await fold();
    expect(await histogram()).toContain("points ALL_TIME -infinity 12399=1");
    expect(wrong(await ranks())).toEqual([]);
  });

  it("moves a user down when points are taken back (a negative award), exactly before and after a fold", async () => {
    await fold();
    const user = newUserId();
    await award([{ user, points: 150, at: null }]);
    await fold();
    // Taken back: 150 -> 110 on every board. (A score stays above zero here: what a board does with a score
    // taken to zero or below is for the engine to decide.)
    await award([{ user, points: -40, at: null }]);
    expect(await lowestScore(user, null)).toEqual({ boards: 4, lowest: 110 });
    expect((await pool.query("select points from status_public.user_scores where user_id = $1", [user])).rows).toEqual([{ points: 110 }]);
    const before = await ranks();
    expect(wrong(before)).toEqual([]);
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    await fold();
    expect(await ranks()).toEqual(before);
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    expect(await zeroRows()).toBe(0);
  });

  it("counts exactly across every level of the rank levels (256-point blocks up to one block of the board), before and after a fold", async () => {
    await fold();
    // Scores on both sides of each level's block edges (2^8, 2^16, 2^24) and near the largest integer.
    const edges = [255, 256, 511, 65535, 65536, 65791, 16777215, 16777216, 16843009, 2147483000];
    const users = edges.map(() => newUserId());
    await award(edges.map((points, i) => ({ user: users[i], points, at: null })));
    const before = await ranks();
    expect(wrong(before)).toEqual([]);
    await fold();
    expect(await ranks()).toEqual(before);
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    // Every level has rows: the highest scores reach levels 2 and 3's later children.
    expect((await pool.query("select distinct level from status_private.leaderboard_rank_levels where period = 'ALL_TIME' order by 1")).rows).toEqual([
      { level: 0 },
      { level: 1 },
      { level: 2 },
      { level: 3 },
    ]);
    // Moving down across the edges (taken back) and opting out: still exact, and emptied blocks leave.
    await award(edges.map((points, i) => ({ user: users[i], points: -Math.floor(points / 2), at: null })));
    await setOptOut(users[users.length - 1], true);
    expect(wrong(await ranks())).toEqual([]);
    await fold();
    expect(wrong(await ranks())).toEqual([]);
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    expect(await zeroRows()).toBe(0);
  });

  it("works one folder at a time: a second one returns 0 at once, and nothing is counted twice", async () => {
    await fold();
    const users = Array.from({ length: 10 }, newUserId);
    await award(users.map((user, i) => ({ user, points: 30 + i * 20, at: null })));
    const pending = await deltas();
    expect(pending).toBeGreaterThan(0);

    const first = await pool.connect();
    const second = await pool.connect();
    try {
      // The first folder holds its transaction open, with the advisory lock and the rows it folded.
      await first.query("begin");
      const foldedByFirst = await fold(first);
      expect(foldedByFirst).toBeGreaterThan(0);
      // The second does not wait for it: it returns 0 at once, and leaves the deltas where they are.
      expect(await withoutWaiting(second, "select status_private.fold_leaderboard_deltas() as folded")).toEqual([{ folded: 0 }]);
      // Until the first commits, the deltas it took still count for everybody else: ranks stay exact.
      expect(await deltas()).toBe(pending);
      expect(wrong(await ranks(second))).toEqual([]);
      await first.query("commit");
      expect(await deltas()).toBe(0);
      expect(await fold(second)).toBe(0);
      expect(wrong(await ranks())).toEqual([]);
      expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);

      // A folder that rolls back leaves the deltas for the next one, which folds them once.
      await award(users.map((user) => ({ user, points: 5, at: null })));
      await first.query("begin");
      expect(await fold(first)).toBeGreaterThan(0);
      await first.query("rollback");
      expect(await fold(second)).toBeGreaterThan(0);
      expect(await deltas()).toBe(0);
      expect(wrong(await ranks())).toEqual([]);
      expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);

      // Two folders at the same moment, many times: one folds, the other returns 0 (at once, or finding
      // nothing left), and the histogram is exact after each pair.
      for (let pair = 0; pair < 20; pair++) {
        await award(users.map((user, i) => ({ user, points: 1 + ((pair * 7 + i) % 40), at: null })));
        const results = await Promise.all([fold(first), fold(second)]);
        expect(results.filter((folded) => folded === 0)).toHaveLength(1);
        expect(await deltas()).toBe(0);
        expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
      }
      expect(wrong(await ranks())).toEqual([]);
      expect(await zeroRows()).toBe(0);
    } finally {
      await first.query("rollback").catch(() => undefined);
      first.release();
      second.release();
    }
  });

  it("never makes a writer wait: while a folder holds its transaction open, awards, opt-outs and rank reads complete", async () => {
    await fold();
    const users = Array.from({ length: 6 }, newUserId);
    // Everyone at 10 (the first unlock's points) and a few at 150, folded: the rows the writers move between.
    const writer = await pool.connect();
    const folder = await pool.connect();
    try {
      for (const user of users) await recordFor(writer, user);
      await award(users.slice(0, 3).map((user) => ({ user, points: 140, at: null })));
      await fold();
      // Deltas for the folder to take: users move off 10 and off 150.
      await award([{ user: users[3], points: 140, at: null }]);
      await award([{ user: users[0], points: 50, at: null }]);

      await folder.query("begin");
      expect(await fold(folder)).toBeGreaterThan(0);
      // The folder now holds the advisory lock, the deltas it deleted and the histogram rows it changed (10
      // and 200, and buckets 0 and 2; 150 nets to nothing): the writers move users between those very scores.
      const newcomer = newUserId();
      users.push(newcomer);
      await withoutWaiting(writer, "begin");
      await withoutWaiting(
        writer,
        "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
        [roles.service],
      );
      await withoutWaiting(writer, "select status_public.record_action_for($1, 'tasks_completed', 1)", [newcomer]); // 0 -> 10
      await withoutWaiting(writer, "reset role");
      await withoutWaiting(writer, "insert into status_public.points_ledger (user_id, points) values ($1, 140), ($2, 60)", [users[4], users[1]]); // 10 -> 150, 150 -> 210
      await withoutWaiting(writer, "select status_private.rank_of('ALL_TIME', '-infinity', 10), status_private.board_users('ALL_TIME', '-infinity')");
      await withoutWaiting(writer, "commit");
      // An opt-out (the visibility trigger's moves) and the reads of my_rank and the leaderboard, meanwhile.
      await withoutWaiting(writer, "begin");
      await withoutWaiting(writer, "select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)", [roles.user, users[2]]);
      await withoutWaiting(writer, "select status_public.set_my_profile(leaderboard_opt_out => true)");
      await withoutWaiting(writer, "select * from status_public.my_rank()");
      await withoutWaiting(writer, "commit");
      // Everything is exact with the folder still open (its taken deltas count until it commits)...
      expect(wrong(await ranks())).toEqual([]);
      await folder.query("commit");
      // ...after it commits, and after the next fold takes what the writers appended meanwhile.
      expect(wrong(await ranks())).toEqual([]);
      expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
      expect(await fold()).toBeGreaterThan(0);
      expect(await deltas()).toBe(0);
      expect(wrong(await ranks())).toEqual([]);
      expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
      expect(await zeroRows()).toBe(0);
    } finally {
      await writer.query("rollback").catch(() => undefined);
      await folder.query("rollback").catch(() => undefined);
      writer.release();
      folder.release();
    }
  });
});

// No hot rows on the event path: 32 writers, each on a connection of its own, record an event for a fresh
// user of their own; every user unlocks the same first achievements, so all of them move from 0 to the same
// points on the same four boards: exactly what used to lock the shared leaderboard histogram rows
// (leaderboard_point_counts, and a per-bucket table until migration 000020) until commit. Each writer keeps its transaction open
// after its award until all 32 have done theirs (a barrier), then they all commit. With a shared row lock
// the second writer would wait for the first, which waits at the barrier: so, instead of hanging, the test
// watches the writers' backends (pg_stat_activity) and fails as soon as one of them waits for a lock, naming
// what it waits for and who holds it. It passes when all 32 have reached the barrier. Then the histogram and
// the ranks must be exact, and every trace of the users goes.
import pg from "pg";
import { HISTOGRAM_MISMATCHES_SQL, removeUsersAndCheck, TrackedUsers } from "../helpers/cleanup";
import { roles, rootPool, testDatabaseUrl } from "../helpers/db";
import { sleep } from "../helpers/graphql-client";

const WRITERS = 32;

/** What a backend waiting for a heavyweight lock waits for, and who holds it. */
interface LockWait {
  pid: number;
  wait_event: string;
  blocked_by: number[];
  query: string;
  /** Its lock requests not granted, and the row locks (tuple: relation, page, item) it holds as a waiter. */
  locks: string;
  /** The transaction it waits for (a row lock: that transaction wrote or locked the row). */
  waits_for_xid: string | null;
}

/**
 * The writers' backends that wait for a lock. A relation extension lock (wait_event `extend`, several
 * inserters growing one table's file) is a short wait for the file, no row lock held to commit, so it is
 * not what this looks for; any other lock wait of a writer is.
 */
const LOCK_WAITS_SQL = `
  select activity.pid, activity.wait_event, pg_blocking_pids(activity.pid) as blocked_by, activity.query,
         coalesce((select string_agg(concat_ws(' ', locks.locktype, locks.mode, 'on ' || locks.relation::regclass::text,
                                               case when locks.locktype = 'tuple' then format('row (%s,%s)', locks.page, locks.tuple) end,
                                               'of transaction ' || locks.transactionid::text,
                                               case when locks.granted then '(held)' else '(waiting)' end), '; ')
                   from pg_locks as locks
                   where locks.pid = activity.pid and (not locks.granted or locks.locktype = 'tuple')), '') as locks,
         (select locks.transactionid::text from pg_locks as locks
          where locks.pid = activity.pid and not locks.granted and locks.locktype = 'transactionid' limit 1) as waits_for_xid
  from pg_stat_activity as activity
  where activity.pid = any($1) and activity.wait_event_type = 'Lock' and activity.wait_event is distinct from 'extend'`;

/**
 * The rows of the project's tables that a transaction has updated, deleted or locked (their xmax): the row a
 * waiter waits for, when it exists before the transaction (a row it inserted is invisible to us until it commits).
 */
async function rowsTouchedBy(client: pg.PoolClient, xid: string): Promise<string[]> {
  const { rows: tables } = await client.query<{ name: string }>(
    "select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname in ('status_public', 'status_private') order by 1",
  );
  const found: string[] = [];
  for (const { name } of tables) {
    const { rows } = await client.query<{ ctid: string; row: unknown }>(`select ctid::text, to_jsonb(t) as row from ${name} as t where t.xmax::text = $1 limit 5`, [xid]);
    for (const row of rows) found.push(`${name} ${row.ctid} ${JSON.stringify(row.row)}`);
  }
  return found;
}

describe("32 writers on the same low scores", () => {
  it("never wait on each other's row locks", async () => {
    const users = new TrackedUsers();
    const pool = rootPool(2);
    const writers: pg.Client[] = [];
    try {
      for (let writer = 0; writer < WRITERS; writer++) {
        const client = new pg.Client({ connectionString: testDatabaseUrl(), application_name: `hot-rows-writer-${writer}` });
        await client.connect();
        writers.push(client);
      }
      const pids = await Promise.all(writers.map(async (client) => (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid));

      // The barrier: each writer, once its award is done, waits until all have done theirs (or the test gave up).
      let arrived = 0;
      let openBarrier!: (outcome: "commit" | "rollback") => void;
      const barrier = new Promise<"commit" | "rollback">((resolve) => (openBarrier = resolve));
      const failures: unknown[] = [];
      const awards: number[] = [];
      const runs = writers.map(async (client, writer) => {
        const user = users.make();
        try {
          await client.query("begin");
          // The rate limits are not what this is about: 0 turns them off.
          await client.query(
            "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
            [roles.service],
          );
          const { rows } = await client.query<{ points_awarded: number }>(
            "select points_awarded from status_public.record_action_for($1, 'tasks_completed', 1, $2)",
            [user, `hot-rows-${writer}`],
          );
          awards.push(rows[0].points_awarded);
        } catch (error) {
          failures.push(error);
          openBarrier("rollback");
        }
        arrived++;
        const outcome = await barrier;
        await client.query(outcome === "commit" && failures.length === 0 ? "commit" : "rollback");
      });

      // Until every writer has reached the barrier (the condition), or one of them waits for a lock.
      const monitor = await pool.connect();
      let waits: LockWait[] = [];
      const described: string[] = [];
      try {
        while (arrived < WRITERS && failures.length === 0) {
          waits = (await monitor.query<LockWait>(LOCK_WAITS_SQL, [pids])).rows;
          if (waits.length > 0) break;
          await sleep(5);
        }
        // Described while the writers still wait (the rows they wait for are still locked).
        for (const wait of waits) {
          const rows = wait.waits_for_xid ? await rowsTouchedBy(monitor, wait.waits_for_xid) : [];
          described.push(
            `  writer backend ${wait.pid} waits (${wait.wait_event}) for backend ${wait.blocked_by.join(", ")}: ${wait.locks}\n` +
              `    in: ${wait.query}\n` +
              `    rows that transaction updated or locked: ${rows.length > 0 ? rows.join("; ") : "none found by xmax (then a row it inserted, whose unique key the waiter inserts too, or one several lock: a multixact)"}`,
          );
        }
      } finally {
        monitor.release();
      }
      // Waiting writers are freed when the writers they wait for (at the barrier) roll back.
      openBarrier(waits.length > 0 ? "rollback" : "commit");
      await Promise.all(runs);
      if (waits.length > 0) throw new Error(`a writer waited for another writer's lock (hot rows on the event path):\n${described.join("\n")}`);
      if (failures.length > 0) throw failures[0];

      // Every user was awarded the same first achievements: the same points, from 0.
      expect(awards).toHaveLength(WRITERS);
      expect(new Set(awards).size).toBe(1);
      const points = awards[0];
      expect(points).toBeGreaterThan(0);

      // One snapshot: the histogram (folded + deltas) equals the visible scores, and each user's rank on each
      // board is 1 + the visible users with more points.
      const check = await pool.connect();
      try {
        await check.query("begin isolation level repeatable read");
        expect((await check.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
        const ranks = await check.query<{ period: string; users: number; min_rank: number; max_rank: number; expected: number }>(
          `select score.period::text, count(*)::int as users,
                  min(status_private.rank_of(score.period, score.period_start, score.points)) as min_rank,
                  max(status_private.rank_of(score.period, score.period_start, score.points)) as max_rank,
                  1 + (select count(*)::int from status_public.leaderboard_scores as higher
                       where higher.period = score.period and higher.period_start = score.period_start and higher.visible and higher.points > score.points) as expected
           from status_public.leaderboard_scores as score
           where score.user_id = any($1) and score.visible
           group by score.period, score.period_start, score.points order by score.period`,
          [users.ids],
        );
        expect(ranks.rows).toEqual(
          ["ALL_TIME", "MONTH", "WEEK", "DAY"].map((period, i) => {
            const expected = ranks.rows[i]?.expected;
            return { period, users: WRITERS, min_rank: expected, max_rank: expected, expected };
          }),
        );
        await check.query("commit");
      } finally {
        check.release();
      }
    } finally {
      await Promise.all(writers.map((client) => client.end().catch(() => undefined)));
      try {
        await removeUsersAndCheck(pool, users.ids);
      } finally {
        await pool.end();
      }
    }
  });
});

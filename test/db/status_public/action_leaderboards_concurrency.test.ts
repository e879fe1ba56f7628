// Tally boards under concurrency (issue 11): writers that each record a step of the same ranked action for a
// user of their own, all at the same low tally (1 -> 2 on the same four boards: the histogram rows of tally 1
// and 2 are the ones they all change), never wait for each other's row locks: the histogram's changes are
// appended as deltas. Each writer keeps its transaction open after its step until all have done theirs (a
// barrier); with a shared row lock the second would wait for the first, which waits at the barrier, so the test
// watches the writers' backends and fails as soon as one waits for a lock, naming it. Then the board is exact.
// A database of its own: the ranked action it commits must not reach the other files' catalog.
import pg from "pg";
import { HISTOGRAM_MISMATCHES_SQL } from "../../helpers/cleanup";
import { newUserId, roles } from "../../helpers/db";
import { sleep } from "../../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../../helpers/private-database";

const WRITERS = 12;
const ACTION = "t_tally_hot";

let database: PrivateDatabase;
let pool: pg.Pool;
beforeAll(async () => {
  database = await createPrivateDatabase("tally");
  pool = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
  await pool.query("insert into status_public.actions (name, ranked) values ($1, true)", [ACTION]);
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** Records one step of the action for the user as the service, in the client's open transaction. */
async function step(client: pg.ClientBase, user: string): Promise<void> {
  await client.query(
    "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
    [roles.service],
  );
  await client.query("select status_public.record_action_for($1, $2, 1)", [user, ACTION]);
}

const LOCK_WAITS_SQL = `
  select activity.pid, activity.wait_event, pg_blocking_pids(activity.pid) as blocked_by, activity.query,
         (select string_agg(concat_ws(' ', locks.locktype, locks.mode, 'on ' || locks.relation::regclass::text,
                                      'of transaction ' || locks.transactionid::text), '; ')
          from pg_locks as locks where locks.pid = activity.pid and not locks.granted) as waiting_for
  from pg_stat_activity as activity
  where activity.pid = any($1) and activity.wait_event_type = 'Lock' and activity.wait_event is distinct from 'extend'`;

describe("tally boards under concurrency", () => {
  it("never make writers at the same low tally wait on each other's row locks, and stay exact", async () => {
    const users = Array.from({ length: WRITERS }, newUserId);
    // Everyone at 1, committed and folded: the histogram rows (tally 1, bucket 0) exist and are shared.
    const setup = await pool.connect();
    try {
      for (const user of users) {
        await setup.query("begin");
        await step(setup, user);
        await setup.query("commit");
      }
    } finally {
      setup.release();
    }
    await pool.query("select status_private.fold_leaderboard_deltas()");
    expect((await pool.query("select users from status_private.leaderboard_point_counts where action = $1 and period = 'WEEK' and points = 1", [ACTION])).rows).toEqual([
      { users: WRITERS },
    ]);

    const writers = await Promise.all(
      users.map(async () => {
        const client = new pg.Client({ connectionString: database.rootUrl });
        await client.connect();
        return client;
      }),
    );
    try {
      const pids = await Promise.all(writers.map(async (client) => (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid));
      let arrived = 0;
      let openBarrier!: (outcome: "commit" | "rollback") => void;
      const barrier = new Promise<"commit" | "rollback">((resolve) => (openBarrier = resolve));
      const failures: unknown[] = [];
      const runs = writers.map(async (client, i) => {
        try {
          await client.query("begin");
          await step(client, users[i]);
        } catch (error) {
          failures.push(error);
          openBarrier("rollback");
        }
        arrived++;
        await client.query((await barrier) === "commit" && failures.length === 0 ? "commit" : "rollback");
      });
      let waits: Record<string, unknown>[] = [];
      while (arrived < WRITERS && failures.length === 0) {
        waits = (await pool.query(LOCK_WAITS_SQL, [pids])).rows;
        if (waits.length > 0) break;
        await sleep(5);
      }
      openBarrier(waits.length > 0 ? "rollback" : "commit");
      await Promise.all(runs);
      if (waits.length > 0) throw new Error(`a writer waited for another writer's lock (a shared row on the tally boards' path): ${JSON.stringify(waits)}`);
      if (failures.length > 0) throw failures[0];
    } finally {
      await Promise.all(writers.map((client) => client.end().catch(() => undefined)));
    }

    // Everyone at 2 on every board, rank 1 together; the histogram equals the scores, before a fold and after.
    for (const period of ["ALL_TIME", "MONTH", "WEEK", "DAY"]) {
      const { rows } = await pool.query("select rank, points from status_public.leaderboard($1, 100, 0, $2)", [period, ACTION]);
      expect({ period, rows }).toEqual({ period, rows: users.map(() => ({ rank: 1, points: 2 })) });
    }
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    await pool.query("select status_private.fold_leaderboard_deltas()");
    expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
    expect((await pool.query("select rank_of from status_private.rank_of('WEEK', status_private.period_start('WEEK', now()), 1, $1)", [ACTION])).rows).toEqual([
      { rank_of: WRITERS + 1 },
    ]);
  });
});

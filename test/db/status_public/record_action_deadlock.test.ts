// record_action survives being the victim of a deadlock: it retries its step in a savepoint, and the
// action is counted exactly once. The deadlock is made on purpose: another transaction holds the user's score
// row that record_action's event path needs, then waits for the step (its idempotency key) that record_action
// holds. (No shared row is locked on the path any more: a deadlock takes two transactions writing the same
// users' rows in different orders, as here.)
import pg from "pg";
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { newUserId, roles, rootPool, testDatabaseUrl } from "../../helpers/db";

describe("record_action and deadlocks", () => {
  it("retries its step when chosen as the deadlock victim, and counts it once", async () => {
    const pool = rootPool(3);
    const user = newUserId();
    const [blocker, recorder] = [new pg.Client({ connectionString: testDatabaseUrl() }), new pg.Client({ connectionString: testDatabaseUrl() })];
    await Promise.all([blocker.connect(), recorder.connect()]);
    const deadlocks = async () =>
      (await pool.query<{ n: number }>("select pg_stat_clear_snapshot(), deadlocks::int as n from pg_stat_database where datname = current_database()")).rows[0].n;
    const deadlocksBefore = await deadlocks();
    try {
      // PostgreSQL aborts the transaction whose deadlock check runs first: make that the recorder's.
      await blocker.query("set deadlock_timeout = '30s'");
      await recorder.query("set deadlock_timeout = '200ms'");
      // The blocker creates the user's score row: it holds it until it ends.
      await blocker.query("begin");
      await blocker.query("insert into status_public.user_scores (user_id) values ($1)", [user]);

      // The user's first task: record_action inserts its step (key held), then waits for the score row.
      const { rows: [{ pid }] } = await recorder.query<{ pid: number }>("select pg_backend_pid() as pid");
      await recorder.query("begin");
      // The rate limits are off (0), so that the only rows this waits for are the blocker's.
      await recorder.query(
        "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
        [roles.service],
      );
      const recorded = recorder.query("select tally, (unlocked[1]).achievement_id from status_public.record_action_for($1, 'tasks_completed', 1, 'deadlock-key')", [user]);
      for (let waited = 0; ; waited += 20) {
        const { rows } = await pool.query("select wait_event_type from pg_stat_activity where pid = $1", [pid]);
        if (rows[0]?.wait_event_type === "Lock") break;
        if (waited > 10_000) throw new Error("record_action never waited for the blocker");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }

      // Now the blocker waits for the recorder's step (the same idempotency key): a deadlock, which the
      // recorder's check finds and ends by aborting the recorder's step.
      await blocker.query("insert into status_public.user_steps (user_id, name, idempotency_key) values ($1, 'tasks_completed', 'deadlock-key') on conflict do nothing", [user]);
      await blocker.query("rollback");

      const { rows } = await recorded;
      await recorder.query("commit");
      expect(rows).toEqual([{ tally: 1, achievement_id: "tasks_completed_1" }]);
      const counts = await pool.query(
        `select (select count(*)::int from status_public.user_steps where user_id = $1) as steps,
                (select count(*)::int from status_public.achievement_unlocks where user_id = $1) as unlocks,
                (select points from status_public.user_scores where user_id = $1) as points`,
        [user],
      );
      expect(counts.rows).toEqual([{ steps: 1, unlocks: 1, points: 10 }]);
      // And the deadlock did happen: a session reports its statistics when it ends.
      await recorder.end();
      for (let waited = 0; (await deadlocks()) === deadlocksBefore && waited < 5_000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await deadlocks()).toBeGreaterThan(deadlocksBefore);
    } finally {
      await Promise.all([blocker.end().catch(() => undefined), recorder.end().catch(() => undefined)]);
      try {
        await removeUsersAndCheck(pool, [user]);
      } finally {
        await pool.end();
      }
    }
  });
});

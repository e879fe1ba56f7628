// Concurrent imports of the same users, each listing them in another order, some events keyed alike: none
// deadlocks (an import takes its users' locks in user order), keyed events count once (the others' are
// skipped), and the tallies, unlocks and points are exact. The users are committed to the shared database: the
// file removes every trace of them at its end (and checks).
import { removeUsersAndCheck, TrackedUsers } from "../../helpers/cleanup";
import { roles, rootPool } from "../../helpers/db";

const WRITERS = 5;
const IMPORTS_EACH = 3;
const USERS = 10;

describe("import_actions under concurrency", () => {
  it("never deadlocks on the users' rows, counts every event once, and skips a key another import took", async () => {
    const users = new TrackedUsers();
    const ids = Array.from({ length: USERS }, () => users.make());
    const pool = rootPool(WRITERS + 1);
    const summaries: { imported: number; skipped: number }[] = [];
    try {
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          const client = await pool.connect();
          try {
            for (let round = 0; round < IMPORTS_EACH; round++) {
              // Every user twice, shuffled, plus one event per user keyed alike in every writer's import.
              const events = ids.flatMap((user) => [user, user]).sort(() => Math.random() - 0.5);
              await client.query("begin");
              await client.query("select set_config('role', $1, true)", [roles.service]);
              const { rows } = await client.query<{ imported: number; skipped: number }>(
                `select imported, skipped from status_public.import_actions(array(
                   select row(event.user_id, 'tasks_completed', 1, null, '2026-06-01T12:00:00Z')::status_public.action_event
                   from unnest($1::uuid[]) with ordinality as event (user_id, position) order by event.position)
                   || array(select row(user_id, 'tasks_completed', 1, 'shared-' || $2, '2026-06-01T12:00:00Z')::status_public.action_event
                            from unnest($3::uuid[]) as user_id))`,
                [events, round, ids],
              );
              // Holding every user a moment: the imports waiting for it then race for them together.
              await client.query("select pg_sleep(0.02)");
              await client.query("commit");
              summaries.push(rows[0]);
            }
          } catch (error) {
            await client.query("rollback").catch(() => undefined);
            throw error;
          } finally {
            client.release();
          }
        }),
      );
      // Each round's shared keys: one writer's import counted them, the others skipped them.
      const imported = summaries.reduce((sum, summary) => sum + summary.imported, 0);
      const skipped = summaries.reduce((sum, summary) => sum + summary.skipped, 0);
      expect([imported, skipped]).toEqual([WRITERS * IMPORTS_EACH * USERS * 2 + IMPORTS_EACH * USERS, (WRITERS - 1) * IMPORTS_EACH * USERS]);
      const total = WRITERS * IMPORTS_EACH * 2 + IMPORTS_EACH;
      const { rows } = await pool.query<{ count: number }>(
        "select count from status_public.user_achievements where name = 'tasks_completed' and user_id = any($1)",
        [ids],
      );
      expect(rows.map((row) => row.count)).toEqual(ids.map(() => total));
      const unlocks = await pool.query<{ achievement_id: string; users: number; unlocks: number }>(
        "select achievement_id, count(distinct user_id)::int as users, count(*)::int as unlocks from status_public.achievement_unlocks where user_id = any($1) group by 1 order by 1",
        [ids],
      );
      expect(unlocks.rows).toEqual([
        { achievement_id: "tasks_completed_1", users: USERS, unlocks: USERS },
        { achievement_id: "tasks_completed_10", users: USERS, unlocks: USERS },
      ]);
      const scores = await pool.query<{ points: number }>("select points from status_public.user_scores where user_id = any($1)", [ids]);
      expect(scores.rows.map((row) => row.points)).toEqual(ids.map(() => 110));
    } finally {
      try {
        await removeUsersAndCheck(pool, users.ids);
      } finally {
        await pool.end();
      }
    }
  });
});

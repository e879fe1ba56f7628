// Concurrent batches on the same users, each listing them in another order, with the rate limits on (so
// every batch locks its users' buckets and the service client's): none deadlocks (a batch takes its users'
// rows in user order, whatever the order given), and the tallies, unlocks and per-event results are exact.
// The users are committed to the shared database: the file removes every trace of them at its end (and checks).
import { removeUsersAndCheck, TrackedUsers } from "../../helpers/cleanup";
import { roles, rootPool } from "../../helpers/db";

const WRITERS = 6;
const BATCHES_EACH = 4;
const USERS = 12;
const EVENTS_PER_USER = 2; // in each batch: two rounds

/** The users, twice each, in a random order. */
function shuffled(users: string[]): string[] {
  const events = users.flatMap((user) => Array.from({ length: EVENTS_PER_USER }, () => user));
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  return events;
}

describe("record_actions under concurrency", () => {
  it("never deadlocks on the users' rows, and counts every event once", async () => {
    const users = new TrackedUsers();
    const ids = Array.from({ length: USERS }, () => users.make());
    const serviceClient = users.make(); // the writers' service client (its bucket's rows go at the end too)
    const pool = rootPool(WRITERS + 1);
    const tallies: number[][] = [];
    try {
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          const client = await pool.connect();
          try {
            for (let batch = 0; batch < BATCHES_EACH; batch++) {
              const events = shuffled(ids);
              await client.query("begin");
              // Limits far above what the test sends, but on: each batch spends (and locks) the buckets.
              await client.query(
                `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
                        set_config('achievements.record_action_rate_limit', '100000', true), set_config('achievements.record_action_service_rate_limit', '100000', true)`,
                [roles.service, serviceClient],
              );
              const { rows } = await client.query<{ user_id: string; tally: number }>(
                `select user_id::text, tally from status_public.record_actions(array(
                   select row(event.user_id, 'tasks_completed', 1, null, null)::status_public.action_event
                   from unnest($1::uuid[]) with ordinality as event (user_id, position) order by event.position))`,
                [events],
              );
              // The transaction goes on a moment holding every user: the batches waiting for it then race for
              // the users together when it commits (where an order that is not the same for all deadlocks).
              await client.query("select pg_sleep(0.02)");
              await client.query("commit");
              expect(rows.map((row) => row.user_id)).toEqual(events);
              // A user's two events in this batch: their tallies one apart, in the order given.
              for (const user of ids) {
                const own = rows.filter((row) => row.user_id === user).map((row) => row.tally);
                expect(own[1] - own[0]).toBe(1);
              }
              tallies.push(rows.map((row) => row.tally));
            }
          } catch (error) {
            await client.query("rollback").catch(() => undefined);
            throw error;
          } finally {
            client.release();
          }
        }),
      );
      const total = WRITERS * BATCHES_EACH * EVENTS_PER_USER;
      expect(tallies).toHaveLength(WRITERS * BATCHES_EACH);
      const { rows } = await pool.query<{ count: number }>("select count from status_public.user_achievements where name = 'tasks_completed' and user_id = any($1)", [ids]);
      expect(rows.map((row) => row.count)).toEqual(ids.map(() => total));
      // Each user's tally crossed several achievements: each unlocked once.
      const unlocks = await pool.query<{ achievement_id: string; users: number; unlocks: number }>(
        "select achievement_id, count(distinct user_id)::int as users, count(*)::int as unlocks from status_public.achievement_unlocks where user_id = any($1) group by 1 order by 1",
        [ids],
      );
      for (const row of unlocks.rows) expect(row).toEqual({ achievement_id: row.achievement_id, users: USERS, unlocks: USERS });
      expect(unlocks.rows.map((row) => row.achievement_id)).toEqual(expect.arrayContaining(["tasks_completed_1", "tasks_completed_10"]));
    } finally {
      try {
        await removeUsersAndCheck(pool, users.ids);
      } finally {
        await pool.end();
      }
    }
  });
});

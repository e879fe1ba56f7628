// 32 writers recording 30 actions each for 20 overlapping users through record_action_for, all at once:
// every tally is exact, each crossed achievement unlocks once per user with its points awarded once, and
// each unlock is notified exactly once on the user's channel `achievements:<uuid>`.
import pg from "pg";
import { removeUsersAndCheck } from "../helpers/cleanup";
import { newUserId, roles, rootPool, testDatabaseUrl } from "../helpers/db";
import { sleep } from "../helpers/graphql-client";

const WRITERS = 32;
const EVENTS_EACH = 30;
const USERS = 20;
/** The demo catalog's achievements for tasks_completed: [achievement, tasks needed, points]. */
const TASK_ACHIEVEMENTS: [string, number, number][] = [
  ["tasks_completed_1", 1, 10],
  ["launch_sprint", 5, 75],
  ["tasks_completed_10", 10, 100],
  ["tasks_completed_50", 50, 500],
  ["tasks_completed_100", 100, 1000],
];
/** What a user with `tally` tasks has unlocked, with the points of each. */
const expectedUnlocks = (tally: number) => Object.fromEntries(TASK_ACHIEVEMENTS.filter(([, needed]) => tally >= needed).map(([id, , points]) => [id, points]));

describe("record_action_for with 32 concurrent writers and overlapping users", () => {
  it("keeps every tally exact and unlocks, awards and notifies each achievement exactly once", async () => {
    const pool = rootPool(WRITERS + 2);
    const users = Array.from({ length: USERS }, newUserId);
    // Writers walk the users from different offsets, so they collide on the same users all the time.
    const userOf = (writer: number, event: number) => users[(writer * 7 + event) % USERS];
    const expectedTallies = Object.fromEntries(users.map((user): [string, number] => [user, 0]));
    for (let writer = 0; writer < WRITERS; writer++) for (let event = 0; event < EVENTS_EACH; event++) expectedTallies[userOf(writer, event)]++;
    const listener = new pg.Client({ connectionString: testDatabaseUrl() });
    const notifications = new Map<string, { event: string; id: string }[]>(users.map((user) => [user, []]));
    await listener.connect();
    listener.on("notification", (message) => notifications.get(message.channel.replace(/^achievements:/, ""))?.push(JSON.parse(message.payload ?? "{}")));
    for (const user of users) await listener.query(`listen "achievements:${user}"`);

    try {
      const started = Date.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, writer) => {
          const client = await pool.connect();
          try {
            for (let event = 0; event < EVENTS_EACH; event++) {
              const user = userOf(writer, event);
              await client.query("begin");
              // The rate limits (per user, and per service client) are not what this measures: 0 turns them off.
              await client.query(
                "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
                [roles.service],
              );
              await client.query("select status_public.record_action_for($1, 'tasks_completed', 1, $2)", [user, `w${writer}-e${event}`]);
              await client.query("commit");
            }
          } catch (error) {
            await client.query("rollback").catch(() => undefined);
            throw error;
          } finally {
            client.release();
          }
        }),
      );
      const elapsed = Date.now() - started;

      const tallies = await pool.query<{ user_id: string; count: number }>(
        "select user_id::text, count from status_public.user_achievements where user_id = any($1) and name = 'tasks_completed'",
        [users],
      );
      const steps = await pool.query<{ count: string }>("select count(*) from status_public.user_steps where user_id = any($1)", [users]);
      expect(Number(steps.rows[0].count)).toBe(WRITERS * EVENTS_EACH);
      expect(Object.fromEntries(tallies.rows.map((row) => [row.user_id, row.count]))).toEqual(expectedTallies);

      const unlocks = (
        await pool.query<{ id: string; user_id: string; achievement_id: string; points: number }>(
          "select id::text, user_id::text, achievement_id, points from status_public.achievement_unlocks where user_id = any($1)",
          [users],
        )
      ).rows;
      // Notifications arrive after commit, asynchronously: wait until they are all in, then a little longer.
      const notifiedUnlocks = () => [...notifications.values()].flat().filter((n) => n.event === "achievement_unlocked").length;
      for (const deadline = Date.now() + 10_000; notifiedUnlocks() < unlocks.length && Date.now() < deadline; ) await sleep(50);
      await sleep(300);

      const ledger = (
        await pool.query<{ unlock_id: string; points: number }>("select unlock_id::text, points from status_public.points_ledger where user_id = any($1)", [users])
      ).rows;
      const scores = (await pool.query<{ user_id: string; points: number }>("select user_id::text, points from status_public.user_scores where user_id = any($1)", [users])).rows;
      for (const user of users) {
        const mine = unlocks.filter((unlock) => unlock.user_id === user);
        const expected = expectedUnlocks(expectedTallies[user]);
        expect(Object.fromEntries(mine.map((unlock) => [unlock.achievement_id, unlock.points]))).toEqual(expected);
        expect(mine).toHaveLength(Object.keys(expected).length);
        const totalPoints = Object.values(expected).reduce((sum, points) => sum + points, 0);
        const unlockNotifications = notifications.get(user)!.filter((n) => n.event === "achievement_unlocked").map((n) => n.id);
        expect(unlockNotifications.sort()).toEqual(mine.map((unlock) => unlock.id).sort());
        expect(scores.find((score) => score.user_id === user)?.points).toBe(totalPoints);
      }
      // One ledger entry per unlock, with its points: nothing awarded twice.
      expect(ledger.map((entry) => `${entry.unlock_id}:${entry.points}`).sort()).toEqual(unlocks.map((unlock) => `${unlock.id}:${unlock.points}`).sort());
      process.stdout.write(`stress/concurrency: ${WRITERS * EVENTS_EACH} actions by ${WRITERS} writers for ${USERS} users in ${elapsed} ms\n`);
    } finally {
      await listener.end();
      // Every trace of the users, leaderboards and histogram included, so that later files find the boards as they were.
      try {
        await removeUsersAndCheck(pool, users);
      } finally {
        await pool.end();
      }
    }
  });
});

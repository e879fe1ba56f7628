// Many connections recording the same action for the same user at once: the tally is exact, each
// crossed achievement unlocks once, its points are awarded once, and one notification goes out per unlock.
// The user is committed to the shared database: the file removes every trace of it at its end (and checks).
import pg from "pg";
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { newUserId, roles, rootPool, testDatabaseUrl } from "../../helpers/db";

describe("record_action under concurrency", () => {
  it("is exact: one unlock, one award and one notification per crossed achievement", async () => {
    const pool = rootPool(20);
    const user = newUserId();
    const listener = new pg.Client({ connectionString: testDatabaseUrl() });
    const notifications: { event: string; id: string }[] = [];
    await listener.connect();
    listener.on("notification", (message) => notifications.push(JSON.parse(message.payload ?? "{}")));
    await listener.query(`listen "achievements:${user}"`);

    const writers = 20;
    const callsEach = 5;
    try {
      await Promise.all(
        Array.from({ length: writers }, async () => {
          const client = await pool.connect();
          try {
            for (let i = 0; i < callsEach; i++) {
              await client.query("begin");
              // The rate limits (per user, and per service client) are not what this measures: 0 turns them off.
              await client.query(
                "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
                [roles.service],
              );
              await client.query("select status_public.record_action_for($1, 'tasks_completed')", [user]);
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
      // Notifications arrive after commit, asynchronously: wait until the count settles.
      const unlocks = (await pool.query("select id::text, achievement_id, points from status_public.achievement_unlocks where user_id = $1 order by points", [user])).rows;
      for (let waited = 0; waited < 5000 && notifications.filter((n) => n.event === "achievement_unlocked").length < unlocks.length; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 200)); // and nothing more arrives

      expect((await pool.query("select count from status_public.user_achievements where user_id = $1", [user])).rows).toEqual([{ count: writers * callsEach }]);
      expect(unlocks.map((unlock) => unlock.achievement_id)).toEqual(["tasks_completed_1", "launch_sprint", "tasks_completed_10", "tasks_completed_50", "tasks_completed_100"]);
      const ledger = (await pool.query("select unlock_id::text, points from status_public.points_ledger where user_id = $1 order by points", [user])).rows;
      expect(ledger).toEqual(unlocks.map((unlock) => ({ unlock_id: unlock.id, points: unlock.points })));
      expect((await pool.query("select points, tier from status_public.user_scores where user_id = $1", [user])).rows).toEqual([{ points: 1685, tier: "Master" }]);

      const unlockNotifications = notifications.filter((n) => n.event === "achievement_unlocked").map((n) => n.id).sort();
      expect(unlockNotifications).toEqual(unlocks.map((unlock) => unlock.id).sort());
      expect(notifications.filter((n) => n.event === "tier_changed").map((n) => n.id)).toEqual(["Student", "Expert", "Master"]);
    } finally {
      await listener.end();
      try {
        await removeUsersAndCheck(pool, [user]);
      } finally {
        await pool.end();
      }
    }
  });
});

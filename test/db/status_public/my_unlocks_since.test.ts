// Catch-up after a disconnect: status_public.my_unlocks_since(cursor) (migration 000005).
// Each unlock and level takes the next number of a per-user counter whose row stays locked until commit, so
// per user, cursor order is commit order. The old query compared unlocked_at, the transaction's start time,
// and missed an unlock whose transaction started before the last one seen but committed after it: shown
// below with two real transactions, then the cursor returns it.
import { randomBytes } from "node:crypto";
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { asService, asUser, newUserId, roles, rootPool, withTransaction } from "../../helpers/db";

interface Unlock {
  achievement_id: string;
  cursor: number;
}

describe("my_unlocks_since(cursor)", () => {
  it("numbers a user's unlocks and levels in order and returns those after the cursor, oldest first, only the user's own", () =>
    withTransaction(async (tx) => {
      const [me, other] = [newUserId(), newUserId()];
      const service = asService();
      // tasks_completed_1 and launch_sprint (5 tasks), then tasks_completed_10; a level on the way (the reference levels need other steps).
      await tx.as(service, "select status_public.record_action_for($1, 'tasks_completed', 5)", [me]);
      await tx.root("insert into status_public.user_levels (user_id, level) values ($1, 'newbie')", [me]);
      await tx.as(service, "select status_public.record_action_for($1, 'tasks_completed', 5)", [me]);
      await tx.as(service, "select status_public.record_action_for($1, 'tasks_completed', 1)", [other]);

      const all = await tx.as<Unlock>(asUser(me), "select achievement_id, cursor from status_public.my_unlocks_since(0)");
      expect(all).toEqual([
        { achievement_id: "tasks_completed_1", cursor: expect.any(Number) },
        { achievement_id: "launch_sprint", cursor: expect.any(Number) },
        { achievement_id: "tasks_completed_10", cursor: expect.any(Number) },
      ]);
      const [level] = await tx.root<{ cursor: number }>("select cursor from status_public.user_levels where user_id = $1", [me]);
      // The first two unlocks came in one transaction (in some order), then the level, then the last unlock.
      expect([...all.slice(0, 2).map((u) => u.cursor).sort(), level.cursor, all[2].cursor]).toEqual([1, 2, 3, 4]);

      // Exclusive: after the cursor of the second unlock, only the last one.
      const after = await tx.as<Unlock>(asUser(me), "select achievement_id, cursor from status_public.my_unlocks_since($1)", [all[1].cursor]);
      expect(after).toEqual([all[2]]);
      expect(await tx.as(asUser(me), "select * from status_public.my_unlocks_since($1)", [all[2].cursor])).toEqual([]);
      // Another user's cursors are their own.
      expect(await tx.as<Unlock>(asUser(other), "select achievement_id, cursor from status_public.my_unlocks_since(0)")).toEqual([
        { achievement_id: "tasks_completed_1", cursor: 1 },
      ]);
    }));

  it("returns an unlock whose transaction started first and committed last, which unlocked_at misses", async () => {
    const pool = rootPool(3);
    const suffix = randomBytes(4).toString("hex");
    const [early, late] = [`cursor_early_${suffix}`, `cursor_late_${suffix}`];
    const [user, client] = [newUserId(), newUserId()];
    const first = await pool.connect();
    const second = await pool.connect();
    try {
      // Two achievements of 0 points (no leaderboard rows), each unlocked by its own action.
      for (const name of [early, late]) {
        await pool.query("insert into status_public.actions (name) values ($1)", [name]);
        await pool.query("insert into status_public.achievements (id, name, points) values ($1, $1, 0)", [name]);
        await pool.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ($1, 'count', $1, 1)", [name]);
      }
      const asServiceIn = (connection: typeof first) =>
        connection.query("select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)", [roles.service, client]);

      // The first transaction starts (its now(), hence its unlocked_at, is fixed here)...
      await first.query("begin");
      await asServiceIn(first);
      await first.query("select now()");
      // ...the second starts later, unlocks and commits: the client sees this unlock (a toast).
      await second.query("begin");
      await asServiceIn(second);
      await second.query("select status_public.record_action_for($1, $2)", [user, late]);
      await second.query("commit");
      const [seen] = (await pool.query("select unlocked_at::text, cursor from status_public.achievement_unlocks where user_id = $1 and achievement_id = $2", [user, late])).rows;
      // ...then the first one unlocks and commits, after what the client saw.
      await first.query("select status_public.record_action_for($1, $2)", [user, early]);
      await first.query("commit");

      const [missed] = (await pool.query("select unlocked_at::text, cursor from status_public.achievement_unlocks where user_id = $1 and achievement_id = $2", [user, early])).rows;
      // (Timestamps as text: a JavaScript Date drops the microseconds.)
      expect(missed.unlocked_at < seen.unlocked_at).toBe(true);
      expect(missed.cursor).toBeGreaterThan(seen.cursor);

      const asTheUser = async <Row>(sql: string, params: unknown[]) => {
        const connection = await pool.connect();
        try {
          await connection.query("begin");
          await connection.query("select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)", [roles.user, user]);
          return (await connection.query(sql, params)).rows as Row[];
        } finally {
          await connection.query("rollback");
          connection.release();
        }
      };
      // The old catch-up (migrations/committed/000004: `unlocked_at > since`) with the last unlock seen: it misses it.
      const byTime = await asTheUser<{ achievement_id: string }>(
        "select achievement_id from status_public.achievement_unlocks where user_id = (select jwt_public.current_user_id()) and unlocked_at > $1::timestamptz order by unlocked_at, id",
        [seen.unlocked_at],
      );
      expect(byTime).toEqual([]);
      // The cursor returns it.
      expect(await asTheUser("select achievement_id, cursor from status_public.my_unlocks_since($1)", [seen.cursor])).toEqual([
        { achievement_id: early, cursor: missed.cursor },
      ]);
    } finally {
      await first.query("rollback").catch(() => undefined);
      await second.query("rollback").catch(() => undefined);
      first.release();
      second.release();
      try {
        await removeUsersAndCheck(pool, [user, client]);
        await pool.query("delete from status_public.achievements where id = any($1)", [[early, late]]);
        await pool.query("delete from status_public.actions where name = any($1)", [[early, late]]);
      } finally {
        await pool.end();
      }
    }
  });
});

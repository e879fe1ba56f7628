// The tally that the trigger on user_steps keeps, including under concurrent inserts.
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { asService, newUserId, roles, rootPool, withTransaction } from "../../helpers/db";

describe("status_public.user_achievements (the tally)", () => {
  it("adds up a user's steps by name and never goes below zero", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const record = (name: string, count: number) =>
        tx.as(asService(), "insert into status_public.user_steps (user_id, name, count) values ($1, $2, $3)", [user, name, count]);
      await record("post", 1);
      await record("post", 4);
      await record("like", 2);
      await record("like", -5);
      await record("like", 1);
      const tallies = await tx.root("select name, count from status_public.user_achievements where user_id = $1 order by name", [user]);
      expect(tallies).toEqual([
        { name: "like", count: 1 },
        { name: "post", count: 5 },
      ]);
    }));

  it("counts a retried step once: the same idempotency key for the same user is a unique violation", () =>
    withTransaction(async (tx) => {
      const [user, other] = [newUserId(), newUserId()];
      const record = (userId: string, key: string) =>
        tx.as(asService(), "insert into status_public.user_steps (user_id, name, count, idempotency_key) values ($1, 'post', 2, $2)", [userId, key]);
      await record(user, "request-1");
      expect((await tx.expectError(asService(), "insert into status_public.user_steps (user_id, name, count, idempotency_key) values ($1, 'post', 2, 'request-1')", [user])).code).toBe("23505");
      await record(user, "request-2");
      await record(other, "request-1"); // keys are per user
      const tallies = await tx.root("select user_id, count from status_public.user_achievements where user_id in ($1, $2) order by count", [user, other]);
      expect(tallies).toEqual([
        { user_id: other, count: 2 },
        { user_id: user, count: 4 },
      ]);
    }));

  it("rejects a step that counts nothing", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(asService(), "insert into status_public.user_steps (user_id, name, count) values ($1, 'post', 0)", [newUserId()]);
      expect(error.code).toBe("23514");
    }));

  it("is exact when many connections record the same step for the same user at once", async () => {
    const pool = rootPool(16);
    const user = newUserId();
    const writers = 16;
    const stepsEach = 25;
    try {
      await Promise.all(
        Array.from({ length: writers }, async () => {
          const client = await pool.connect();
          try {
            for (let i = 0; i < stepsEach; i++) {
              await client.query("begin");
              // The rate limits (per user, and per service client) are not what this measures: 0 turns them off.
              await client.query(
                "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
                [roles.service],
              );
              await client.query("insert into status_public.user_steps (user_id, name, count) values ($1, 'post', 1)", [user]);
              await client.query("commit");
            }
          } finally {
            client.release();
          }
        }),
      );
      const { rows } = await pool.query("select count from status_public.user_achievements where user_id = $1 and name = 'post'", [user]);
      expect(rows).toEqual([{ count: writers * stepsEach }]);
    } finally {
      try {
        await removeUsersAndCheck(pool, [user]);
      } finally {
        await pool.end();
      }
    }
  });
});

// Retries with the same idempotency key after a timeout count once, and the retry's answer is the stored
// result: (1) an HTTP client gives up on a recordAction whose transaction is still running (it is held on
// a row lock, then commits), and sends the same key again, once while the first is still running and once
// after; (2) a statement_timeout cancels the first attempt (rolled back), and the retry counts it once.
import pg from "pg";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { lockTally, roles, rootPool, testDatabaseUrl } from "../helpers/db";
import { postGraphQL, RECORD_ACTION, sleep } from "../helpers/graphql-client";
import { startTestServer, tokenFor } from "../helpers/server";

let server: RunningServer;
let root: pg.Pool;
// Users this file makes are committed to the shared database: every trace of them is removed at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

beforeAll(async () => {
  server = await startTestServer();
  root = rootPool(4);
});

afterAll(async () => {
  await server?.close();
  await removeUsersAndEnd(root, users.ids);
});

/** The steps recorded with `key`, and the result stored for it (snake_case, as status_private keeps it). */
async function stored(userId: string, key: string) {
  const { rows } = await root.query<{ id: string; result: Record<string, any> }>(
    `select step.id::text, recorded.result from status_public.user_steps as step
       left join status_private.recorded_action_results as recorded on recorded.step_id = step.id
      where step.user_id = $1 and step.idempotency_key = $2`,
    [userId, key],
  );
  return rows;
}

const tallyOf = async (userId: string) =>
  (await root.query<{ count: number }>("select count from status_public.user_achievements where user_id = $1 and name = 'tasks_completed'", [userId])).rows[0]?.count;

/** The GraphQL answer as status_private.recorded_action_results stores it. */
const asStored = (result: Record<string, any>) => ({
  step_id: result.stepId,
  tally: result.tally,
  points_awarded: result.pointsAwarded,
  total_points: result.totalPoints,
  tier_after: result.tierAfter,
  unlocked: result.unlocked.map((u: Record<string, unknown>) => ({ unlock_id: u.unlockId, achievement_id: u.achievementId, points: u.points })),
});

describe("retrying recordAction with the same idempotency key", () => {
  it("counts once when the client gave up on an HTTP request that then committed", async () => {
    const user = newUserId();
    const token = await tokenFor(user);
    const record = (key: string, signal?: AbortSignal) => postGraphQL(server.url, token, RECORD_ACTION, { action: "tasks_completed", amount: 9, key }, signal);
    expect((await record("warm-up")).body.errors).toBeUndefined(); // creates the tally row (9 tasks)

    const lock = await lockTally(root, user);
    let released = false;
    try {
      // The client gives up after 500 ms; the server's transaction is still waiting on the lock.
      const started = Date.now();
      await expect(record("retried", AbortSignal.timeout(500))).rejects.toThrow(/aborted|timeout/i);
      expect(Date.now() - started).toBeLessThan(5_000);
      // A retry while the first attempt is still running: it waits for it, then finds its result.
      const concurrentRetry = record("retried", AbortSignal.timeout(20_000));
      await sleep(300);
      await lock.release();
      released = true;
      const first = await concurrentRetry;
      expect(first.body.errors).toBeUndefined();
      // And a retry after everything committed.
      const second = await record("retried");
      expect(second.body.errors).toBeUndefined();

      const steps = await stored(user, "retried");
      expect(steps).toHaveLength(1);
      expect(await tallyOf(user)).toBe(18);
      const answer = first.body.data!.recordAction.result;
      expect(second.body.data!.recordAction.result).toEqual(answer);
      expect(answer).toMatchObject({ stepId: steps[0].id, tally: 18 });
      expect(steps[0].result).toMatchObject(asStored(answer));
      // 10 tasks crossed here: unlocked once, by the step that counted.
      expect(answer.unlocked.map((u: { achievementId: string }) => u.achievementId)).toEqual(["tasks_completed_10"]);
    } finally {
      if (!released) await lock.release();
    }
  });

  it("counts once when a statement_timeout cancelled the first attempt", async () => {
    const [user, serviceClient] = [newUserId(), newUserId()];
    const key = "timed-out";
    // The service client's id (its token's sub) keys its rate-limit bucket: without one, the calls would
    // spend (and leave behind) the bucket of the nil uuid that every such session shares.
    const asServiceClient = "set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)";
    const service = new pg.Client({ connectionString: testDatabaseUrl() });
    await service.connect();
    const recordFor = async (timeout: string) => {
      await service.query("begin");
      try {
        await service.query(`select ${asServiceClient}, set_config('statement_timeout', $3, true)`, [roles.service, serviceClient, timeout]);
        const { rows } = await service.query("select to_jsonb(status_public.record_action_for($1, 'tasks_completed', 9, $2)) as result", [user, key]);
        await service.query("commit");
        return rows[0].result as Record<string, any>;
      } catch (error) {
        await service.query("rollback");
        throw error;
      }
    };
    try {
      await service.query("begin");
      await service.query(`select ${asServiceClient}`, [roles.service, serviceClient]);
      await service.query("select status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
      await service.query("commit");

      const lock = await lockTally(root, user);
      try {
        await expect(recordFor("300ms")).rejects.toMatchObject({ code: "57014" }); // query_canceled
      } finally {
        await lock.release();
      }
      expect(await stored(user, key)).toEqual([]); // rolled back: nothing counted yet

      const retry = await recordFor("5s");
      const again = await recordFor("5s");
      expect(again).toEqual(retry);
      const steps = await stored(user, key);
      expect(steps).toHaveLength(1);
      expect(steps[0].result).toEqual(retry);
      expect(retry).toMatchObject({ step_id: steps[0].id, tally: 10 });
      expect(await tallyOf(user)).toBe(10);
    } finally {
      await service.end();
    }
  });
});

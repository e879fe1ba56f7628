// The recordAction / recordActionFor rate limit, enforced in the database (status_private.take_record_action_allowance,
// migration 000005): per user recorded for, per service client, with the limits taken from
// the transaction's settings (which the server sets) or the defaults; a refusal is AC429 with a retry-after and
// writes nothing. Most tests run in a rolled-back transaction; the concurrent one commits and cleans up.
import pg from "pg";
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { asService, asUser, newUserId, roles, rootPool, type TestTransaction, withTransaction } from "../../helpers/db";

const RATE_LIMITED = "AC429";

/** The limits of this transaction, as the server sets them (pgSettings). */
async function limits(tx: TestTransaction, settings: { user?: number; service?: number; window?: number }) {
  await tx.root(
    `select set_config('achievements.record_action_rate_limit', $1, true),
            set_config('achievements.record_action_service_rate_limit', $2, true),
            set_config('achievements.record_action_rate_window_seconds', $3, true)`,
    [String(settings.user ?? 60), String(settings.service ?? 6000), String(settings.window ?? 60)],
  );
}

const record = (tx: TestTransaction, userId: string, key: string | null = null) =>
  tx.as<{ tally: number }>(asUser(userId), "select tally from status_public.record_action('tasks_completed', 1, $1)", [key]).then((rows) => rows[0].tally);
const recordFor = (tx: TestTransaction, client: string, userId: string, key: string | null = null) =>
  tx
    .as<{ tally: number }>(asService(client), "select tally from status_public.record_action_for($1, 'lessons_finished', 1, $2)", [userId, key])
    .then((rows) => rows[0].tally);
const stepsOf = async (tx: TestTransaction, userId: string) =>
  (await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [userId]))[0].n;

describe("the recordAction rate limit (in the database)", () => {
  it("lets a user make `limit` calls, then refuses with AC429, when to retry, and nothing written", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 3, window: 600 });
      const me = newUserId();
      for (let i = 1; i <= 3; i++) expect(await record(tx, me)).toBe(i);
      const error = await tx.expectError(asUser(me), "select status_public.record_action('tasks_completed')");
      // One call comes back every 600 / 3 = 200 s.
      expect({ code: error.code, message: error.message, detail: JSON.parse(error.detail ?? "null") }).toEqual({
        code: RATE_LIMITED,
        message: "Too many recorded actions for this user: at most 3 every 600 s; retry in 200 s",
        detail: { retryAfterSeconds: 200 },
      });
      expect(await stepsOf(tx, me)).toBe(3);
      // Another user has their own allowance.
      expect(await record(tx, newUserId())).toBe(1);
    }));

  it("uses the defaults (60 calls per 60 s) when the transaction sets nothing", () =>
    withTransaction(async (tx) => {
      // 70 calls in one statement: the 61st is refused (unless the first 60 took more than 10 s, one call back per second).
      const error = await tx.expectError(asUser(newUserId()), "select count(*) from (select status_public.record_action('tasks_completed') from generate_series(1, 70)) as calls");
      expect([error.code, error.message]).toEqual([RATE_LIMITED, expect.stringMatching(/^Too many recorded actions for this user: at most 60 every 60 s; retry in 1 s$/)]);
    }));

  it("gives calls back steadily over the window (one every window / limit), never more than the limit", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 3, window: 600 });
      const me = newUserId();
      for (let i = 1; i <= 3; i++) expect(await record(tx, me)).toBe(i);
      // As if 250 s had passed since the bucket was last touched (no waiting: the row's clock is moved back).
      const rewind = (seconds: number) =>
        tx.root("update status_private.record_action_allowances set refilled_at = refilled_at - make_interval(secs => $2) where subject_kind = 'user' and user_id = $1", [me, seconds]);
      await rewind(250); // 1.25 calls back
      expect(await record(tx, me)).toBe(4);
      const error = await tx.expectError(asUser(me), "select status_public.record_action('tasks_completed')");
      // 0.25 of a call left: the next whole one in 0.75 x 200 = 150 s.
      expect([error.code, error.message]).toEqual([RATE_LIMITED, "Too many recorded actions for this user: at most 3 every 600 s; retry in 150 s"]);
      await rewind(100_000); // a long pause refills the bucket, to the limit only
      for (let i = 5; i <= 7; i++) expect(await record(tx, me)).toBe(i);
      expect((await tx.expectError(asUser(me), "select status_public.record_action('tasks_completed')")).code).toBe(RATE_LIMITED);
    }));

  it("is off with a limit of 0", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 0, service: 0 });
      const [{ calls }] = await tx.as<{ calls: number }>(
        asService(newUserId()),
        "select count(*)::int as calls from (select status_public.record_action_for($1, 'lessons_finished') from generate_series(1, 70)) as calls",
        [newUserId()],
      );
      expect(calls).toBe(70);
    }));

  it("does not spend the allowance on a retry with an idempotency key already used (it returns the stored result)", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 2, window: 600 });
      const me = newUserId();
      expect(await record(tx, me, "first")).toBe(1);
      for (let retry = 0; retry < 5; retry++) expect(await record(tx, me, "first")).toBe(1);
      expect(await record(tx, me, "second")).toBe(2);
      expect((await tx.expectError(asUser(me), "select status_public.record_action('tasks_completed', 1, 'third')")).code).toBe(RATE_LIMITED);
      // Still answered when out of allowance.
      expect(await record(tx, me, "second")).toBe(2);
    }));

  it("counts recordActionFor against the user recorded for, whoever the service client, together with their own recordAction", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 3, window: 600 });
      const target = newUserId();
      expect(await recordFor(tx, newUserId(), target)).toBe(1);
      expect(await recordFor(tx, newUserId(), target)).toBe(2);
      expect(await record(tx, target)).toBe(1); // tasks_completed: another tally, the same allowance
      const error = await tx.expectError(asService(newUserId()), "select status_public.record_action_for($1, 'lessons_finished')", [target]);
      expect([error.code, error.message]).toEqual([RATE_LIMITED, "Too many recorded actions for this user: at most 3 every 600 s; retry in 200 s"]);
      expect((await tx.expectError(asUser(target), "select status_public.record_action('tasks_completed')")).code).toBe(RATE_LIMITED);
    }));

  it("limits each service client (its token's sub) across all the users it records for", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 100, service: 4, window: 600 });
      const [client, otherClient] = [newUserId(), newUserId()];
      for (let i = 0; i < 4; i++) expect(await recordFor(tx, client, newUserId())).toBe(1);
      const target = newUserId();
      const error = await tx.expectError(asService(client), "select status_public.record_action_for($1, 'lessons_finished')", [target]);
      // Four rows of one call each, every one back in 600 s.
      expect({ code: error.code, message: error.message, detail: JSON.parse(error.detail ?? "null") }).toEqual({
        code: RATE_LIMITED,
        message: "Too many recorded actions by this service client: at most 4 every 600 s; retry in 600 s",
        detail: { retryAfterSeconds: 600 },
      });
      expect(await stepsOf(tx, target)).toBe(0);
      expect(await recordFor(tx, otherClient, target)).toBe(1);
    }));

  it("counts the steps the service inserts itself (createUserStep), not those of the engine or of table triggers", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 2, service: 100, window: 600 });
      const [client, target] = [newUserId(), newUserId()];
      const insertStep = () => tx.as(asService(client), "insert into status_public.user_steps (user_id, name) values ($1, 'make_post')", [target]);
      await insertStep();
      await insertStep();
      const error = await tx.expectError(asService(client), "insert into status_public.user_steps (user_id, name) values ($1, 'make_post')", [target]);
      expect([error.code, error.message]).toEqual([RATE_LIMITED, "Too many recorded actions for this user: at most 2 every 600 s; retry in 300 s"]);
      expect(await stepsOf(tx, target)).toBe(2);
      // The service client spent two of its calls too; recordActionFor spends once per call, not twice.
      const [{ tokens }] = await tx.root<{ tokens: number }>(
        "select sum(tokens)::int as tokens from status_private.record_action_allowances where subject_kind = 'service' and user_id = $1",
        [client],
      );
      expect(tokens).toBe(98);
      const other = newUserId();
      await recordFor(tx, client, other);
      const [{ tokens: after }] = await tx.root<{ tokens: number }>(
        "select sum(tokens)::int as tokens from status_private.record_action_allowances where subject_kind = 'service' and user_id = $1",
        [client],
      );
      expect(after).toBe(97);
      expect(await tx.root("select tokens::int from status_private.record_action_allowances where subject_kind = 'user' and user_id = $1", [other])).toEqual([{ tokens: 1 }]);
      // A table trigger's step (the application's own write, as the table owner here) spends nothing.
      await tx.root("insert into status_public.user_steps (user_id, name) values ($1, 'make_post')", [target]);
      expect(await stepsOf(tx, target)).toBe(3);
    }));

  it("gives a service client exactly its limit, split over its 16 rows", () =>
    withTransaction(async (tx) => {
      await limits(tx, { user: 100, service: 40, window: 3600 });
      const client = newUserId();
      const [{ calls }] = await tx.as<{ calls: number }>(
        asService(client),
        "select count(*)::int as calls from (select status_public.record_action_for(gen_random_uuid(), 'lessons_finished') from generate_series(1, 40)) as calls",
      );
      expect(calls).toBe(40);
      expect((await tx.expectError(asService(client), "select status_public.record_action_for(gen_random_uuid(), 'lessons_finished')")).code).toBe(RATE_LIMITED);
      const rows = await tx.root<{ shard: number; tokens: number }>(
        "select shard, tokens from status_private.record_action_allowances where subject_kind = 'service' and user_id = $1 order by shard",
        [client],
      );
      expect(rows.map((row) => row.shard)).toEqual(Array.from({ length: 16 }, (_, shard) => shard));
      expect(rows.every((row) => row.tokens < 1)).toBe(true);
    }));

  it("keeps its buckets out of the WAL (an unlogged table: after a crash every allowance starts full)", () =>
    withTransaction(async (tx) => {
      const [client, me] = [newUserId(), newUserId()];
      // WAL records written while each statement ran (EXPLAIN's per-statement WAL usage, not the server's).
      const walRecords = async (sql: string, params: unknown[]) => {
        const [{ "QUERY PLAN": plan }] = await tx.root<{ "QUERY PLAN": Array<{ Plan: { "WAL Records": number } }> }>(
          `explain (analyze, wal, costs off, timing off, summary off, format json) ${sql}`, params);
        return plan[0].Plan["WAL Records"];
      };
      const spend = "select status_private.spend_record_action_allowance($1, null, $2)";
      expect(await walRecords(spend, [me, client])).toBe(0); // the client's 16 rows and the user's, created
      expect(await walRecords(spend, [me, client])).toBe(0); // and spent from
      const buckets = await tx.root<{ subject_kind: string; rows: number; spent: number }>(
        `select subject_kind, count(*)::int as rows, round(sum(tokens))::int as spent from status_private.record_action_allowances
          where (subject_kind, user_id) in (('service', $1::uuid), ('user', $2::uuid)) group by subject_kind order by subject_kind`,
        [client, me],
      );
      expect(buckets).toEqual([{ subject_kind: "service", rows: 16, spent: 5998 }, { subject_kind: "user", rows: 1, spent: 58 }]);
      // What the method sees on a logged table: the step that spends.
      expect(await walRecords("select status_public.record_action_for($1, 'lessons_finished')", [me])).toBeGreaterThan(0);
    }));

  it("cannot be changed by an API role: the allowances are private", () =>
    withTransaction(async (tx) => {
      for (const actor of [asUser(newUserId()), asService()]) {
        expect((await tx.expectError(actor, "update status_private.record_action_allowances set tokens = 1000")).code).toBe("42501");
        expect((await tx.expectError(actor, "select status_private.take_record_action_allowance('user', gen_random_uuid(), 1, 1)")).code).toBe("42501");
      }
    }));
});

describe("the rate limit under concurrency (committed, shared by every connection)", () => {
  /**
   * A key retried on another connection while the first call is still in its transaction: the retry waits for
   * it and answers its result, and only one of the two spends the allowance (of 2: one more key fits, then none).
   */
  async function retriedWhileInFlight(record: (connection: pg.PoolClient, key: string) => Promise<unknown>): Promise<void> {
    const pool = rootPool(3);
    const me = newUserId();
    const [first, retry] = [await pool.connect(), await pool.connect()];
    const recordIn = async (connection: pg.PoolClient, key: string) => {
      await connection.query("begin");
      await connection.query(
        `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
                set_config('achievements.record_action_rate_limit', '2', true),
                set_config('achievements.record_action_rate_window_seconds', '86400', true)`,
        [roles.user, me],
      );
      return record(connection, key);
    };
    try {
      const firstAnswer = await recordIn(first, "retried"); // its step inserted, not committed
      const retryPid = (await retry.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0].pid;
      const retried = recordIn(retry, "retried");
      for (let polls = 0; ; polls++) {
        const { rows } = await pool.query("select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'", [retryPid]);
        if (rows.length > 0) break;
        if (polls > 500) throw new Error("the retry never waited for the first call");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await first.query("commit");
      expect(await retried).toEqual(firstAnswer); // the first call's result
      await retry.query("commit");
      expect(await recordIn(first, "second")).toBeDefined();
      await first.query("commit");
      await expect(recordIn(first, "third")).rejects.toMatchObject({ code: RATE_LIMITED });
      await first.query("rollback");
    } finally {
      first.release();
      retry.release();
      try {
        await removeUsersAndCheck(pool, [me]);
      } finally {
        await pool.end();
      }
    }
  }

  it("spends once for a key retried while the first call is still in its transaction (on another connection)", () =>
    // record_action waits for the key before it spends.
    retriedWhileInFlight(async (connection, key) =>
      (await connection.query<{ step_id: string }>("select step_id::text from status_public.record_action('tasks_completed', 1, $1)", [key])).rows[0],
    ));

  it("gives a batch event's allowance back when a concurrent call took its key first", () =>
    // record_actions spends, then its insert waits for the first call and finds the key taken.
    retriedWhileInFlight(async (connection, key) =>
      (await connection.query<{ step_id: string }>(
        "select step_id::text from status_public.record_actions(array[row(null, 'tasks_completed', 1, $1, null)]::status_public.action_event[])",
        [key],
      )).rows,
    ));

  it("lets exactly the service client's limit through from 12 connections at once", async () => {
    const pool = rootPool(12);
    const client = newUserId();
    const users = Array.from({ length: 60 }, newUserId);
    const outcomes: string[] = [];
    try {
      await Promise.all(
        Array.from({ length: 12 }, async (_, writer) => {
          const connection = await pool.connect();
          try {
            for (let i = 0; i < 5; i++) {
              await connection.query("begin");
              try {
                await connection.query(
                  `select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true),
                          set_config('achievements.record_action_service_rate_limit', '37', true),
                          set_config('achievements.record_action_rate_window_seconds', '3600', true)`,
                  [roles.service, client],
                );
                await connection.query("select status_public.record_action_for($1, 'lessons_finished')", [users[writer * 5 + i]]);
                await connection.query("commit");
                outcomes.push("ok");
              } catch (error) {
                await connection.query("rollback");
                outcomes.push((error as pg.DatabaseError).code ?? String(error));
              }
            }
          } finally {
            connection.release();
          }
        }),
      );
      expect({ ok: outcomes.filter((o) => o === "ok").length, refused: outcomes.filter((o) => o === RATE_LIMITED).length }).toEqual({ ok: 37, refused: 23 });
      const [{ steps }] = (await pool.query("select count(*)::int as steps from status_public.user_steps where user_id = any($1)", [users])).rows;
      expect(steps).toBe(37);
    } finally {
      try {
        await removeUsersAndCheck(pool, [client, ...users]);
      } finally {
        await pool.end();
      }
    }
  });
});

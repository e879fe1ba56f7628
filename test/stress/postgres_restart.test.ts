// PostgreSQL restarted under load: a server (startServer) on its OWN embedded PostgreSQL (never the shared
// test database) takes a steady stream of recordAction requests, each with a unique idempotency key that
// the client retries until it succeeds. We stop PostgreSQL for a moment and start it again on the same data
// folder, then check that: requests fail fast with a GraphQL error while it is down (no hang); the server
// recovers by itself within seconds, without a restart of its own; no action is counted twice (steps =
// distinct keys, tally = sum); open subscriptions end with an error, and a new subscription works.
import { randomBytes } from "node:crypto";
import { startTestServer } from "../helpers/server";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "graphql-ws";
import { signToken } from "../../src/auth";
import { asRole, withDatabase } from "../../src/connection-strings";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "../../src/embedded-postgres";
import { createLogger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import type { RunningServer } from "../../src/server";
import { newUserId, roles } from "../helpers/db";
import { freePort } from "../helpers/ports";
import { ACHIEVEMENT_UNLOCKED, connect, describeError, type GraphQLErrorJson, postGraphQL, RECORD_ACTION, sleep, Subscription, waitUntil, waitUntilListening } from "../helpers/graphql-client";

const log = createLogger(process.env.TEST_LOG_LEVEL ?? "warn");
const WORKERS = 4;
/** Unique keys (actions) per worker; each is retried until it succeeds. */
const ACTIONS_EACH = 60;
const ACTIONS_PER_USER = 5;
const DOWN_FOR_MS = 2_000;
/** A request that takes longer than this counts as a hang. */
const REQUEST_LIMIT_MS = 10_000;
const RECOVERY_LIMIT_MS = 10_000;

let dataDir: string;
let port: number;
let password: string;
let postgres: EmbeddedPostgres | undefined;
let databaseUrl: string;
let server: RunningServer | undefined;
const clients: Client[] = [];
const jwtSecret = randomBytes(32).toString("hex");

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "achievements-stress-restart-"));
  port = await freePort();
  password = randomBytes(16).toString("hex");
  postgres = await startEmbeddedPostgres({ dataDir, port, password, log });
  databaseUrl = withDatabase(postgres.url, "achievements");
  const authenticatorPassword = randomBytes(16).toString("hex");
  // The run's role names, as everywhere in the tests (startTestServer uses them), on this cluster of its own.
  await migrateDatabase({ databaseUrl, authenticatorPassword, roles, includeCurrent: true, loadDemoCatalog: true, log });
  server = await startTestServer({ connectionString: asRole(databaseUrl, roles.authenticator, authenticatorPassword), jwtSecret });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
  await postgres?.stop().catch(() => undefined);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 60_000);

interface Attempt {
  key: string;
  started: number;
  ms: number;
  outcome: "ok" | "graphql-error" | "http-error";
  message?: string;
}

/** Until the server LISTENs for the user (test/helpers/graphql-client.ts), asked over a connection of its own. */
function untilListening(userId: string): Promise<void> {
  return withClient(databaseUrl, (client) => waitUntilListening(client, userId));
}

describe("a PostgreSQL restart while the server is under load", () => {
  it("fails requests fast while down, recovers by itself, counts nothing twice, and ends subscriptions", async () => {
    const baseUrl = server!.url;
    // Several users, so that the per-user rate limit of recordAction (plugins/request-limits.ts) is not what we measure.
    const users = Array.from({ length: (WORKERS * ACTIONS_EACH) / ACTIONS_PER_USER }, newUserId);
    const tokens = await Promise.all(users.map((userId) => signToken({ jwtSecret, userId })));
    const watcher = newUserId();
    const watcherToken = await signToken({ jwtSecret, userId: watcher });

    // A subscriber who is connected when PostgreSQL goes away.
    const beforeClient = connect(baseUrl, `Bearer ${watcherToken}`);
    clients.push(beforeClient);
    const before = new Subscription(beforeClient, ACHIEVEMENT_UNLOCKED);
    await untilListening(watcher);

    const attempts: Attempt[] = [];
    const loadDeadline = Date.now() + 45_000;
    const load = Array.from({ length: WORKERS }, async (_, worker) => {
      for (let action = 0; action < ACTIONS_EACH; action++) {
        const key = `w${worker}-a${action}`;
        const token = tokens[Math.floor((worker * ACTIONS_EACH + action) / ACTIONS_PER_USER)];
        // The same key until it succeeds (bounded: the test fails rather than loop forever).
        for (let attempt = 0; ; attempt++) {
          if (Date.now() > loadDeadline) throw new Error(`${key}: no success after ${attempt} attempts`);
          const started = Date.now();
          try {
            const { status, body } = await postGraphQL(baseUrl, token, RECORD_ACTION, { action: "tasks_completed", amount: 1, key }, AbortSignal.timeout(REQUEST_LIMIT_MS));
            const ok = status === 200 && !body.errors && body.data?.recordAction?.result?.stepId;
            attempts.push({ key, started, ms: Date.now() - started, outcome: ok ? "ok" : "graphql-error", message: body.errors?.map((e: GraphQLErrorJson) => e.message).join("; ") });
            if (ok) break;
          } catch (error) {
            // A timeout (a hang) or a refused connection: both fail the test below.
            attempts.push({ key, started, ms: Date.now() - started, outcome: "http-error", message: String(error) });
          }
          await sleep(100);
        }
      }
    });
    const loadDone = Promise.all(load);

    // Under load before the stop: some requests have succeeded (however slowly the machine runs them).
    await waitUntil(() => attempts.filter((a) => a.outcome === "ok").length >= WORKERS, () => "the first successes under load", 30_000);
    const okBefore = attempts.filter((a) => a.outcome === "ok").length;
    // The outage is the time between pg_ctl stop's return (it waits until PostgreSQL is down) and the start:
    // requests sent while the stop is still under way may succeed, however long it takes on a busy machine.
    const stopCalledAt = Date.now();
    await postgres!.stop();
    const stoppedAt = Date.now();
    await sleep(DOWN_FOR_MS);
    // The same data folder and port: pg_ctl start (startEmbeddedPostgres skips initdb when PG_VERSION exists).
    const restartedAt = Date.now();
    postgres = await startEmbeddedPostgres({ dataDir, port, password, log });
    const loadError = await loadDone.then(() => undefined, (error: unknown) => error);
    const finishedAt = Date.now();
    const phase = (a: Attempt) => (a.started < stopCalledAt ? "before" : a.started < stoppedAt ? "stopping" : a.started < restartedAt ? "down" : "after");
    const summary: Record<string, Record<string, number>> = {};
    for (const a of attempts) {
      const group = (summary[phase(a)] ??= {});
      const label = `${a.outcome}: ${a.message ?? ""}`.slice(0, 160);
      group[label] = (group[label] ?? 0) + 1;
    }
    process.stdout.write(`stress/postgres_restart attempts by phase: ${JSON.stringify(summary, null, 1)}\n`);
    if (loadError) throw loadError;

    // Requests while it was down: answered fast, with a GraphQL error (not a hang, not a dropped connection).
    const duringOutage = attempts.filter((a) => a.started >= stoppedAt && a.started + a.ms <= restartedAt);
    expect(okBefore).toBeGreaterThan(0);
    expect(duringOutage.length).toBeGreaterThan(0);
    expect(duringOutage.filter((a) => a.outcome !== "graphql-error")).toEqual([]);
    // ... with a message and a code the client can act on (src/errors.ts), not a masked internal error.
    expect(duringOutage.filter((a) => !a.message?.startsWith("The database is unavailable right now"))).toEqual([]);
    expect(Math.max(...duringOutage.map((a) => a.ms))).toBeLessThan(REQUEST_LIMIT_MS);
    expect(attempts.filter((a) => a.outcome === "http-error")).toEqual([]);

    // Recovery: the first success after the restart comes within seconds.
    const firstOkAfter = Math.min(...attempts.filter((a) => a.outcome === "ok" && a.started >= restartedAt).map((a) => a.started + a.ms));
    expect(firstOkAfter - restartedAt).toBeLessThan(RECOVERY_LIMIT_MS);

    // Counted once: one step per distinct key, and the tally is their sum.
    const counts = await withClient(databaseUrl, async (client) => {
      const steps = await client.query<{ steps: string; keys: string }>(
        "select count(*) as steps, count(distinct (user_id, idempotency_key)) as keys from status_public.user_steps where user_id = any($1)",
        [users],
      );
      const tally = await client.query<{ sum: string }>("select sum(count) from status_public.user_achievements where user_id = any($1) and name = 'tasks_completed'", [users]);
      return { steps: Number(steps.rows[0].steps), keys: Number(steps.rows[0].keys), tally: Number(tally.rows[0].sum) };
    });
    expect(counts).toEqual({ steps: WORKERS * ACTIONS_EACH, keys: WORKERS * ACTIONS_EACH, tally: WORKERS * ACTIONS_EACH });

    // The subscription open during the restart ended with an error the client can see.
    await waitUntil(() => before.ended || before.payloads.some((p) => p.errors), () => "the open subscription to end", 15_000);
    const endedWith = [...before.payloads.flatMap((p) => p.errors ?? []), ...before.sinkErrors.flatMap((e) => (Array.isArray(e) ? e : [describeError(e)]))];
    expect(endedWith).toEqual([expect.objectContaining({ message: expect.stringContaining("The database is unavailable right now"), extensions: { code: "DATABASE_UNAVAILABLE" } })]);

    // A new subscription works: it receives the unlock of the watcher's first action.
    const afterClient = connect(baseUrl, `Bearer ${watcherToken}`);
    clients.push(afterClient);
    const after = new Subscription(afterClient, ACHIEVEMENT_UNLOCKED);
    await untilListening(watcher);
    const { body } = await postGraphQL(baseUrl, watcherToken, RECORD_ACTION, { action: "tasks_completed", amount: 1, key: "after-restart" });
    expect(body.errors).toBeUndefined();
    await after.waitForPayloads(1);
    expect(after.events("achievementUnlocked").map((event) => event.unlock.achievementId)).toEqual(["tasks_completed_1"]);

    const errors = [...new Set(duringOutage.map((a) => a.message))];
    process.stdout.write(
      `stress/postgres_restart: ${attempts.length} requests (${okBefore} ok before the stop), ${duringOutage.length} while down ` +
        `(slowest ${Math.max(...duringOutage.map((a) => a.ms))} ms; ${JSON.stringify(errors)}), first success ${firstOkAfter - restartedAt} ms after the start, ` +
        `load done ${finishedAt - restartedAt} ms after it; subscription ended with ${JSON.stringify(endedWith)}\n`,
    );
  }, 120_000);
});

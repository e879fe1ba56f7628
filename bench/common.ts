// Shared by the benchmarks: a database (embedded PostgreSQL in a temp dir, or BENCH_DATABASE_URL's server),
// sizes from argv/env, percentiles, timed client loops, and the results file.
import "../src/environment";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type pg from "pg";
import { PROJECT_ROOT } from "../src/config";
import { asRole, withDatabase } from "../src/connection-strings";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "../src/limits";
import { createLogger } from "../src/logger";
import { migrateDatabase, withClient } from "../src/migrate";
import { loadRoles } from "../src/roles";
import { freePort } from "../test/helpers/ports";

export const log = createLogger(process.env.LOG_LEVEL ?? "warn");
export const roles = loadRoles();

/** `--name=value` on the command line, else BENCH_<NAME> in the environment, else `fallback`. */
export function option(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const fromArgv = process.argv.slice(2).find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
  const raw = fromArgv ?? process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return value;
}

export const progress = (message: string): void => void process.stderr.write(`${message}\n`);

export interface BenchDatabase {
  /** Superuser, on the bench database. */
  databaseUrl: string;
  /** The authenticator role (what the server connects as). */
  authUrl: string;
  stop(): Promise<void>;
}

/** Rate limits that a benchmark never reaches, as database settings (and the server's pgSettings). */
export const BENCH_RATE_LIMITS = {
  "achievements.record_action_rate_limit": "100000000",
  "achievements.record_action_service_rate_limit": "100000000",
};

/** The request limits of the benchmarks' servers (bench/ingest.ts, bench/overhead.ts): the defaults, with the rate limits above. */
export const BENCH_REQUEST_LIMITS: RequestLimits = {
  ...DEFAULT_REQUEST_LIMITS,
  recordActionRateLimit: Number(BENCH_RATE_LIMITS["achievements.record_action_rate_limit"]),
  recordActionServiceRateLimit: Number(BENCH_RATE_LIMITS["achievements.record_action_service_rate_limit"]),
};

/** A fresh, migrated database with the demo catalog, on an embedded server unless BENCH_DATABASE_URL is set. */
export async function startBenchDatabase(name: string): Promise<BenchDatabase> {
  let stopServer = async () => {};
  let serverUrl = process.env.BENCH_DATABASE_URL;
  if (!serverUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), "achievements-bench-"));
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: randomBytes(16).toString("hex"), log });
    serverUrl = embedded.url;
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const databaseUrl = withDatabase(serverUrl, name);
  await withClient(withDatabase(serverUrl, "postgres"), (client) => client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`));
  const authenticatorPassword = randomBytes(16).toString("hex");
  // BENCH_INCLUDE_CURRENT=1 also runs migrations/current (work in progress), to measure it before it is committed.
  await migrateDatabase({ databaseUrl, authenticatorPassword, loadDemoCatalog: true, includeCurrent: process.env.BENCH_INCLUDE_CURRENT === "1", log });
  // The rate limits stay on (their bookkeeping is part of an action's cost) but high enough never to refuse.
  await withClient(databaseUrl, async (client) => {
    for (const [setting, value] of Object.entries(BENCH_RATE_LIMITS)) {
      await client.query(`alter database ${client.escapeIdentifier(name)} set ${setting} = ${client.escapeLiteral(value)}`);
    }
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      if (process.env.BENCH_DATABASE_URL) {
        await withClient(withDatabase(serverUrl, "postgres"), (client) => client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`));
      }
    } finally {
      await stopServer();
    }
  };
  // Also stopped by main() when the benchmark fails before its own cleanup.
  pendingStops.push(stop);
  return { databaseUrl, authUrl: asRole(databaseUrl, roles.authenticator, authenticatorPassword), stop };
}

/** The databases started and maybe not stopped yet (stop() is idempotent). */
const pendingStops: Array<() => Promise<void>> = [];

export interface Timing {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}

export function percentiles(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length), n: sorted.length };
}

/**
 * The mean time of one `statement`, in ms, timed inside PostgreSQL (no network, no driver): `calls` runs in a DO
 * loop on this session, each after setting jwt.claims.user_id to the next of the users in the setting
 * `bench.probes` (comma-separated; a statement may read it as `me`). array_agg of the whole rows: every column of
 * every row is computed, as a client reading the answer would need.
 */
export async function timeInDatabase(client: pg.Client, statement: string, calls: number): Promise<number> {
  await client.query(`
    do $bench$
    declare
      probes uuid[] := string_to_array(current_setting('bench.probes'), ',')::uuid[];
      me uuid;
      started timestamptz;
    begin
      started := clock_timestamp();
      for i in 1..${calls} loop
        me := probes[1 + i % array_length(probes, 1)];
        perform set_config('jwt.claims.user_id', me::text, true);
        perform array_agg(answer) from (${statement}) as answer;
      end loop;
      perform set_config('bench.elapsed_ms', (extract(epoch from clock_timestamp() - started) * 1000)::text, false);
    end
    $bench$`);
  const { rows } = await client.query<{ elapsed: string }>("select current_setting('bench.elapsed_ms') as elapsed");
  return Number(rows[0].elapsed) / calls;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export interface Throughput {
  events: number;
  seconds: number;
  perSecond: number;
}

/**
 * `clients` loops, each calling `step(client index, iteration)` back to back for `seconds` (bounded also by
 * `maxEvents` per client). Events per second over the wall time of the slowest loop. The first error fails
 * the run (the other loops stop at their next step): a benchmark that drops events measures nothing.
 */
export async function runLoops(
  clients: number,
  seconds: number,
  step: (client: number, iteration: number) => Promise<unknown>,
  maxEvents = Number.POSITIVE_INFINITY,
): Promise<Throughput> {
  const started = nowMs();
  const deadline = started + seconds * 1000;
  let events = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < maxEvents && nowMs() < deadline && !failed; i++) {
        try {
          await step(client, i);
        } catch (error) {
          failed = true;
          throw error;
        }
        events++;
      }
    }),
  );
  const elapsed = (nowMs() - started) / 1000;
  return { events, seconds: elapsed, perSecond: events / elapsed };
}

export function machine(): string {
  const [one] = loadavg();
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}), Node ${process.version}, load average ${one.toFixed(1)} at the end`;
}

export async function writeResult(name: string, result: Record<string, unknown>): Promise<void> {
  await mkdir(join(PROJECT_ROOT, "bench", "results"), { recursive: true });
  await writeFile(
    join(PROJECT_ROOT, "bench", "results", `${name}.json`),
    JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...result }, null, 2) + "\n",
  );
}

export const fmt = (x: number, digits = 0): string => x.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function main(run: () => Promise<void>): void {
  run().catch(async (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    for (const stop of pendingStops) await stop().catch(() => undefined);
    process.exit(1);
  });
}

/** Runs every cleanup step even when one fails (so the embedded PostgreSQL is always stopped), then rethrows the first failure. */
export async function cleanUp(...steps: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  let first: unknown;
  for (const step of steps) {
    try {
      await step?.();
    } catch (error) {
      first ??= error;
      progress(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (first) throw first;
}

/** Until the server's listening connection is idle after a LISTEN and stays so for `quietMs` (subscribers are live). */
export async function waitUntilListening(admin: pg.Client, quietMs = 2000, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let since = Date.now();
  for (;;) {
    const { rows } = await admin.query<{ query: string; state: string }>(
      "select query, state from pg_stat_activity where datname = current_database() and query like 'LISTEN %' order by backend_start desc limit 1",
    );
    const now = rows[0] ? `${rows[0].state} ${rows[0].query}` : "";
    if (now !== last || !now.startsWith("idle ")) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    if (Date.now() > deadline) throw new Error(`the server did not finish its LISTENs within ${timeoutMs} ms (last: ${last})`);
    await sleep(100);
  }
}

/**
 * A benchmark's server in a child process of its own: says its url (and `extra`) as one JSON line on stdout,
 * and stops on SIGTERM or when the parent closes its stdin (the parent ended).
 */
export function serveForParent(server: { url: string; close(): Promise<void> }, extra: Record<string, unknown> = {}): void {
  let closing = false;
  const close = async () => {
    if (closing) return;
    closing = true;
    await server.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void close());
  process.stdin.on("end", () => void close()).resume();
  process.stdout.write(`${JSON.stringify({ url: server.url, ...extra })}\n`);
}

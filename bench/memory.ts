// Benchmark: memory with idle subscribers. The server's resident memory (VmRSS of its process, from
// /proc/<pid>/status) with N websocket connections, each with an `achievementUnlocked` subscription active
// (the toast's fields, as bench/subscriptions.ts), against the same server with none, in the same run:
//   server    the standalone server (startServer) in a process of its own, started by this file with
//             `--serve` (the soft limit of open files raised to the hard one in that process)
//   clients   N graphql-ws + ws clients in this process, one user (a JWT of their own) each; when this
//             process's limit of open files is too low for N sockets, it re-runs itself with the soft limit
//             raised (up to the hard limit; lower than N + 200 fails with what to do)
// RSS is read after a full garbage collection in the server (it runs with --expose-gc and collects on
// SIGUSR2, then reports its heap): after the start, after one subscriber came and went (the baseline: what
// the first subscription initialises), and with N subscribers connected, subscribed and idle (the server's
// LISTEN connection quiet for 2 s). Then the subscriptions must be live: --sample random subscribers get one
// unlock each (`bench_ping_1`, 0 points, through record_action_for as the service role) and every one of them
// must receive its toast within --timeout-ms. PostgreSQL's side: the server's backends and which of them
// LISTEN, and the listening backend's RSS when /proc shows it (a local server). Writes bench/results/memory.json.
// Usage: npm run bench:memory [-- --subscribers=10000 --sample=100 --timeout-ms=30000]
import "../src/environment";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { signToken } from "../src/auth";
import { PROJECT_ROOT } from "../src/config";
import { startServer } from "../src/server";
import { BENCH_REQUEST_LIMITS, cleanUp, fmt, machine, main, option, progress, roles, sleep, serveForParent, startBenchDatabase, waitUntilListening, writeResult } from "./common";

// 10,000: issue 10's goal. (With @dataplan/pg 1.1.2's own PgSubscriber the server stopped answering past ~4,000
// subscribers; the server uses src/pg-subscriber.ts's ScalablePgSubscriber: see bench/README.md.)
const SUBSCRIBERS = option("subscribers", 10_000);
const SAMPLE = Math.min(option("sample", 100), SUBSCRIBERS);
const TIMEOUT_MS = option("timeout-ms", 30_000);
const JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123";
/** Sockets beside the subscribers' that this process may need (database clients, stdio, the loader). */
const SPARE_FILES = 200;
/** Websocket handshakes in flight at a time. */
const CONCURRENT_CONNECTS = option("concurrent-connects", 20);
/** No new handshake after this many seconds: the run measures the subscribers connected by then (and says so). */
const CONNECT_SECONDS = option("connect-seconds", 300);
/** A connection the server does not acknowledge in this time ends the handshakes (the server is saturated). */
const ACK_TIMEOUT_MS = option("ack-timeout-ms", 10_000);

const ACHIEVEMENT_UNLOCKED = `subscription {
  achievementUnlocked {
    unlock { id userId achievementId points unlockedAt }
    achievement { id name points }
    pointsAwarded
    totalPoints
    tier { name minPoints badge }
  }
}`;

/** The soft and hard limits of open files of a process, from /proc/<pid>/limits. */
function openFileLimits(pid: number | "self" = "self"): { soft: number; hard: number } {
  const line = readFileSync(`/proc/${pid}/limits`, "utf8").split("\n").find((l) => l.startsWith("Max open files")) ?? "";
  const [soft, hard] = line.replace("Max open files", "").trim().split(/\s+/).map((v) => (v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v)));
  return { soft, hard };
}

/** `kB` of a /proc/<pid>/status field (VmRSS, VmHWM), in bytes; undefined when not readable. */
function procStatus(pid: number, field: string): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** ws with a handshake timeout: an upgrade the server never answers fails (1006) instead of waiting forever. */
class TimedWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { handshakeTimeout: ACK_TIMEOUT_MS });
  }
}

/** `command args` through sh with the soft limit of open files raised to `files`. */
function withOpenFiles(files: number, command: string, args: string[]): [string, string[]] {
  return ["/bin/sh", ["-c", `ulimit -n ${files} && exec "$0" "$@"`, command, ...args]];
}

// ---------------------------------------------------------------------------------------------------------------
// The server's process (`--serve`): startServer, its memory on SIGUSR2, gone when stdin closes or on SIGTERM.

interface ServerMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

async function serve(): Promise<void> {
  const connectionString = process.env.BENCH_SERVER_CONNECTION_STRING;
  const jwtSecret = process.env.BENCH_SERVER_JWT_SECRET;
  if (!connectionString || !jwtSecret) throw new Error("memory --serve: BENCH_SERVER_CONNECTION_STRING and BENCH_SERVER_JWT_SECRET are required");
  const server = await startServer({ connectionString, jwtSecret, roles, graphiql: false, host: "127.0.0.1", port: 0, limits: BENCH_REQUEST_LIMITS });
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on("SIGUSR2", () => {
    gc?.();
    gc?.();
    const usage = process.memoryUsage();
    const memory: ServerMemory = { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external, arrayBuffers: usage.arrayBuffers };
    process.stdout.write(`${JSON.stringify({ memory })}\n`);
  });
  serveForParent(server, { gc: gc !== undefined });
}

/** The server's process and its messages (JSON lines on its stdout). */
class ServerProcess {
  private waiters: Array<(message: Record<string, unknown>) => boolean> = [];
  private constructor(readonly child: ChildProcess) {
    let buffer = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf("\n"); newline >= 0; newline = buffer.indexOf("\n")) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line);
        } catch {
          continue; // not ours
        }
        this.waiters = this.waiters.filter((waiter) => !waiter(message));
      }
    });
  }

  static async start(connectionString: string, files: number): Promise<{ server: ServerProcess; url: string }> {
    const [command, args] = withOpenFiles(files, process.execPath, ["--expose-gc", "--import", "tsx", join(PROJECT_ROOT, "bench", "memory.ts"), "--serve"]);
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, BENCH_SERVER_CONNECTION_STRING: connectionString, BENCH_SERVER_JWT_SECRET: JWT_SECRET },
      stdio: ["pipe", "pipe", "inherit"],
    });
    const server = new ServerProcess(child);
    const exited = new Promise<never>((_, reject) => child.once("exit", (code, signal) => reject(new Error(`the server exited (${code ?? signal}) before listening`))));
    const started = server.next((message) => typeof message.url === "string");
    const message = await Promise.race([started, exited]);
    if (!message.gc) throw new Error("the server runs without --expose-gc");
    return { server, url: message.url as string };
  }

  get pid(): number {
    return this.child.pid as number;
  }

  private next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      this.waiters.push((message) => {
        if (!match(message)) return false;
        resolve(message);
        return true;
      });
    });
  }

  /** A full collection in the server, then its RSS (/proc) and heap. */
  async memory(): Promise<ServerMemory & { vmRss: number; vmHwm: number }> {
    const reply = this.next((message) => typeof message.memory === "object");
    this.child.kill("SIGUSR2");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not report its memory within ${TIMEOUT_MS} ms (its event loop is blocked)`)), TIMEOUT_MS);
    });
    const { memory } = (await Promise.race([reply, timeout]).finally(() => clearTimeout(timer))) as { memory: ServerMemory };
    await sleep(200);
    return { ...memory, vmRss: procStatus(this.pid, "VmRSS") ?? memory.rss, vmHwm: procStatus(this.pid, "VmHWM") ?? 0 };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.stdin?.end();
    this.child.kill("SIGTERM");
    // A server that does not stop in 15 s (sockets left open by a failed run) is killed.
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The benchmark.

interface Backends {
  total: number;
  listening: number;
  /** RSS of the backend that LISTENs (bytes), when /proc shows it. */
  listenerRss?: number;
  channels?: number;
}

/** The server's backends (the authenticator's connections to the database) and which LISTEN. */
async function backendsOf(admin: pg.Client): Promise<Backends> {
  const { rows } = await admin.query<{ pid: number; query: string }>(
    "select pid, query from pg_stat_activity where datname = current_database() and usename = $1",
    [roles.authenticator],
  );
  const listeners = rows.filter((row) => /^(UN)?LISTEN /i.test(row.query));
  return { total: rows.length, listening: listeners.length, listenerRss: listeners[0] ? procStatus(listeners[0].pid, "VmRSS") : undefined };
}


const MiB = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function benchmark(): Promise<void> {
  progress(`memory: ${fmt(SUBSCRIBERS)} idle subscribers, ${SAMPLE} of them get an unlock`);
  const files = openFileLimits();
  const database = await startBenchDatabase("achievements_bench_memory");
  const admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  await admin.query("insert into status_public.actions (name, description, max_amount) values ('bench_ping', 'Benchmark: unlocks bench_ping_1', 1)");
  await admin.query("insert into status_public.achievements (id, name, points, kind, position) values ('bench_ping_1', 'Ping', 0, 'milestone', 1000)");
  await admin.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('bench_ping_1', 'count', 'bench_ping', 1)");
  const trigger = new pg.Client({ connectionString: database.databaseUrl });
  await trigger.connect();
  await trigger.query(`set role ${trigger.escapeIdentifier(roles.service)}`);

  const serverFiles = Number.isFinite(files.hard) ? files.hard : SUBSCRIBERS + 10 * SPARE_FILES;
  const { server, url } = await ServerProcess.start(database.authUrl, serverFiles);
  const serverLimits = openFileLimits(server.pid);
  progress(`server: pid ${server.pid}, ${url}, open files ${serverLimits.soft} (this process: ${files.soft})`);
  if (serverLimits.soft < SUBSCRIBERS + SPARE_FILES) throw new Error(`the server may open ${serverLimits.soft} files: too few for ${SUBSCRIBERS} sockets (raise the hard limit, ulimit -Hn)`);

  const clients: Client[] = [];
  const errors: unknown[] = [];
  /** Toasts received, by user: the achievement ids. */
  const toasts = new Map<string, string[]>();
  const wsUrl = `${url.replace(/^http/, "ws")}/graphql`;
  /** Connections the server closed before acknowledging them (4408: it did not read the init in time), retried. */
  let retries = 0;
  /** Set when the server did not acknowledge a connection within ACK_TIMEOUT_MS: no new handshakes after it. */
  let saturated = false;
  let saturatedBy = 0;
  const connect = async (userId: string): Promise<Client | null> => {
    const token = await signToken({ jwtSecret: JWT_SECRET, userId, role: "user", expiresIn: "2h" });
    for (let attempt = 1; ; attempt++) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: TimedWebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        connectionAckWaitTimeout: ACK_TIMEOUT_MS,
        // Closes are handled below (and expected at the end, when the server stops first), not logged.
        onNonLazyError: () => undefined,
      });
      clients.push(client); // disposed at the end whatever happens
      const closed = await new Promise<number | undefined>((resolve) => {
        client.on("connected", () => resolve(undefined));
        client.on("closed", (event) => resolve((event as { code?: number }).code ?? 0));
      });
      if (closed === undefined) return client;
      if (closed === 4504 || closed === 1006) {
        // The client's own ack timeout, or the socket dropped during the handshake: the server is too busy.
        saturated = true;
        saturatedBy = closed;
        return null;
      }
      if (closed !== 4408 || attempt >= 3) throw new Error(`socket closed before it was acknowledged (code ${closed}, attempt ${attempt})`);
      retries++;
      await client.dispose();
    }
  };
  const subscribe = async (userId: string): Promise<Client | null> => {
    const client = await connect(userId);
    if (!client) return null;
    client.subscribe(
      { query: ACHIEVEMENT_UNLOCKED },
      {
        next: (payload) => {
          if (payload.errors) errors.push(payload.errors);
          const id = (payload.data as { achievementUnlocked?: { achievement?: { id?: string } } } | null)?.achievementUnlocked?.achievement?.id ?? "(none)";
          toasts.set(userId, [...(toasts.get(userId) ?? []), id]);
        },
        error: (error) => void errors.push(error),
        complete: () => undefined,
      },
    );
    return client;
  };

  // The server first: each socket closed while it runs makes it sync its LISTENs again (see the README).
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= cleanUp(
      () => server.stop(),
      () => Promise.all(clients.map((client) => client.dispose())),
      () => trigger.end(),
      () => admin.end(),
      () => database.stop(),
    ));
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void cleanup().finally(() => process.exit(1)));
  }

  const measured: Record<string, ServerMemory & { vmRss: number; vmHwm: number; backends: Backends }> = {};
  let connectSeconds = 0;
  let subscribers = 0;
  /** When each further 1,000 subscribers were connected (seconds since the first handshake). */
  const milestones: Array<{ subscribers: number; seconds: number }> = [];
  let received = 0;
  let toastSeconds = 0;
  try {
    await sleep(2000);
    measured.started = { ...(await server.memory()), backends: await backendsOf(admin) };
    progress(`after the start: RSS ${MiB(measured.started.vmRss)} MiB`);

    // One subscriber comes and goes, so that the baseline holds what the first subscription initialises.
    const warmUser: string = randomUUID();
    const warm = await subscribe(warmUser);
    if (!warm) throw new Error("the server did not acknowledge the warm-up subscriber");
    clients.splice(clients.indexOf(warm), 1);
    await waitUntilListening(admin, 2000, 300_000);
    await trigger.query("select status_public.record_action_for($1, 'bench_ping', 1)", [warmUser]);
    for (let waited = 0; !toasts.has(warmUser); waited += 50) {
      if (waited > TIMEOUT_MS) throw new Error("the warm-up subscriber got no toast");
      await sleep(50);
    }
    await warm.dispose();
    await sleep(2000);
    measured.baseline = { ...(await server.memory()), backends: await backendsOf(admin) };
    progress(`baseline (one subscriber came and went): RSS ${MiB(measured.baseline.vmRss)} MiB`);

    progress(`${fmt(SUBSCRIBERS)} subscribers: connecting...`);
    const users: string[] = Array.from({ length: SUBSCRIBERS }, () => randomUUID());
    const connecting = Date.now();
    // At most CONCURRENT_CONNECTS handshakes at a time, like clients arriving, not a thundering herd.
    let next = 0;
    let connected = 0;
    let failed = false;
    /** The users whose connection the server acknowledged. */
    const live: string[] = [];
    await Promise.all(
      Array.from({ length: CONCURRENT_CONNECTS }, async () => {
        while (next < users.length && !failed && !saturated && Date.now() - connecting < CONNECT_SECONDS * 1000) {
          const user = next++;
          const client = await subscribe(users[user]).catch((error: unknown) => {
            failed = true;
            throw error;
          });
          if (!client) continue;
          live.push(users[user]);
          if (++connected % 1000 === 0) {
            milestones.push({ subscribers: connected, seconds: (Date.now() - connecting) / 1000 });
            progress(`  ${fmt(connected)} connected after ${milestones.at(-1)?.seconds.toFixed(0)} s`);
          }
        }
      }),
    );
    subscribers = connected;
    await waitUntilListening(admin, 2000, 300_000);
    connectSeconds = (Date.now() - connecting) / 1000;
    await sleep(3000);
    measured.subscribed = { ...(await server.memory()), backends: await backendsOf(admin) };
    progress(`${fmt(connected)} subscribers live after ${connectSeconds.toFixed(0)} s (${retries} handshakes retried): RSS ${MiB(measured.subscribed.vmRss)} MiB`);
    if (errors.length > 0) throw new Error(`${errors.length} subscription error(s), first: ${JSON.stringify(errors[0])}`);

    // Live: a sample gets one unlock each, and every toast must come.
    const sample = [...live].sort(() => Math.random() - 0.5).slice(0, SAMPLE);
    const sending = Date.now();
    for (const userId of sample) await trigger.query("select status_public.record_action_for($1, 'bench_ping', 1)", [userId]);
    const deadline = Date.now() + TIMEOUT_MS;
    while (sample.some((userId) => !toasts.has(userId)) && Date.now() < deadline) await sleep(50);
    toastSeconds = (Date.now() - sending) / 1000;
    received = sample.filter((userId) => toasts.get(userId)?.length === 1 && toasts.get(userId)?.[0] === "bench_ping_1").length;
    const unexpected = [...toasts.keys()].filter((userId) => userId !== warmUser && !sample.includes(userId));
    if (received !== sample.length) throw new Error(`${sample.length - received} of the ${sample.length} sampled subscribers got no toast (or a wrong one) within ${TIMEOUT_MS} ms`);
    if (unexpected.length > 0) throw new Error(`${unexpected.length} subscribers that got no unlock received a toast`);
    if (errors.length > 0) throw new Error(`${errors.length} subscription error(s), first: ${JSON.stringify(errors[0])}`);
    progress(`${received} of ${sample.length} sampled subscribers got their toast (${toastSeconds.toFixed(1)} s for all)`);
  } finally {
    await cleanup();
  }

  const base = measured.baseline;
  const many = measured.subscribed;
  const perSubscriber = (many.vmRss - base.vmRss) / subscribers;
  const heapPerSubscriber = (many.heapUsed - base.heapUsed) / subscribers;
  const short =
    subscribers >= SUBSCRIBERS
      ? ""
      : ` of the ${fmt(SUBSCRIBERS)} asked for (${saturated ? (saturatedBy === 4504 ? `a handshake went unacknowledged for ${ACK_TIMEOUT_MS / 1000} s` : "the server dropped a socket during its handshake (1006)") : `no new handshake after --connect-seconds=${CONNECT_SECONDS}`})`;
  const row = (label: string, m: (typeof measured)[string]) =>
    `| ${label} | ${MiB(m.vmRss)} | ${MiB(m.heapUsed)} | ${MiB(m.external + m.arrayBuffers)} | ${m.backends.total} | ${m.backends.listening} | ${m.backends.listenerRss === undefined ? "–" : MiB(m.backends.listenerRss)} |`;
  const table = [
    "| server (own process, after a full GC) | RSS MiB | JS heap used MiB | external + array buffers MiB | server's PostgreSQL backends | of which LISTEN | listening backend RSS MiB |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("after the start", measured.started),
    row("baseline: one subscriber came and went", base),
    row(`${fmt(subscribers)} idle subscribers${short}`, many),
    "",
    `Handshakes per second, by 1,000 subscribers: ${milestones.map((m, i) => (1000 / (m.seconds - (milestones[i - 1]?.seconds ?? 0))).toFixed(0)).join(", ") || "–"}.`,
    `Per subscriber: ${(perSubscriber / 1024).toFixed(1)} KiB of RSS (${(heapPerSubscriber / 1024).toFixed(1)} KiB of JS heap); peak RSS (VmHWM) ${MiB(many.vmHwm)} MiB. ` +
      `${fmt(subscribers)} connected and subscribed in ${connectSeconds.toFixed(0)} s (${CONCURRENT_CONNECTS} handshakes at a time, ${retries} retried after a 4408 init timeout); ` +
      `${received} of ${Math.min(SAMPLE, subscribers)} sampled subscribers got their unlock's toast (all within ${toastSeconds.toFixed(1)} s).`,
  ].join("\n");
  process.stdout.write(`${table}\n\n${machine()}\n`);
  await writeResult("memory", {
    subscribersAskedFor: SUBSCRIBERS,
    subscribers,
    sample: SAMPLE,
    received,
    connectSeconds,
    concurrentConnects: CONCURRENT_CONNECTS,
    milestones,
    saturated,
    saturatedBy,
    retries,
    toastSeconds,
    perSubscriberBytes: perSubscriber,
    heapPerSubscriberBytes: heapPerSubscriber,
    measured,
    openFiles: { bench: files, server: serverLimits },
  });
}

if (process.argv.includes("--serve")) {
  serve().catch((error: unknown) => {
    process.stderr.write(`memory --serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else {
  const { soft, hard } = openFileLimits();
  const needed = SUBSCRIBERS + SPARE_FILES;
  if (soft >= needed) {
    main(benchmark);
  } else if (hard >= needed && !process.env.BENCH_MEMORY_RAISED_FILES) {
    // Too few open files for the clients: again, with the soft limit raised (Node cannot raise its own).
    const [command, args] = withOpenFiles(needed, process.execPath, [...process.execArgv, ...process.argv.slice(1)]);
    const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, BENCH_MEMORY_RAISED_FILES: "1" } });
    process.exit(result.status ?? 1);
  } else {
    process.stderr.write(`memory: ${SUBSCRIBERS} sockets need ${needed} open files; this process may open ${soft} (hard limit ${hard}): raise it (ulimit -n) or use --subscribers=${Math.max(1, soft - SPARE_FILES)}\n`);
    process.exit(1);
  }
}

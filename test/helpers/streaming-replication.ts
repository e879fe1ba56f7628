// A primary and a streaming replica of a test file's own, from the machine's PostgreSQL 15 server binaries:
// initdb in a temporary folder, pg_basebackup -R for the replica, each on a free port of 127.0.0.1, trust
// authentication (local to this machine, gone at the end). Never the shared server's data. As root,
// PostgreSQL runs as the `postgres` OS user, who then owns the temporary folder.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { postgresOsUser } from "../../src/embedded-postgres";
import { freePort } from "./ports";

const execFileAsync = promisify(execFile);

/** Debian's PostgreSQL 15 server binaries (initdb, pg_ctl, pg_basebackup). */
export const PG15_BIN = "/usr/lib/postgresql/15/bin";

export interface Cluster {
  dataDir: string;
  port: number;
  /** The superuser's connection string to `database`. */
  url(database?: string): string;
  start(): Promise<void>;
  /** A clean shutdown (fast: sessions are ended); `immediate` when its data is thrown away next. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
}

export interface StreamingReplication {
  primary: Cluster;
  replica: Cluster;
  /** pg_basebackup of the primary as it is now, started as its streaming replica. */
  startReplica(): Promise<Cluster>;
  /** Stops both clusters (if running) and removes their folder. */
  destroy(): Promise<void>;
}

/** Starts the primary (initdb: `createDatabase` is created in it); `startReplica()` then copies it. */
export async function startPrimary(createDatabase: string): Promise<StreamingReplication> {
  const runAs = await postgresOsUser();
  const folder = await mkdtemp(join(tmpdir(), "achievements-replicas-"));
  if (runAs) await chown(folder, runAs.uid, runAs.gid);
  const run = (binary: string, args: string[]) => execFileAsync(join(PG15_BIN, binary), args, { ...runAs });

  const cluster = (name: string, port: number): Cluster => {
    const dataDir = join(folder, name);
    return {
      dataDir,
      port,
      url: (database = "postgres") => `postgres://postgres@127.0.0.1:${port}/${database}`,
      async start() {
        // Defaults of PostgreSQL 15 suffice: wal_level=replica, max_wal_senders=10, hot_standby=on, and
        // initdb's pg_hba.conf lets 127.0.0.1 replicate (trust).
        const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`;
        await run("pg_ctl", ["start", "--wait", "--timeout=60", "--silent", "-D", dataDir, "-l", join(folder, `${name}.log`), "-o", options]);
      },
      async stop(mode = "fast") {
        if (existsSync(join(dataDir, "postmaster.pid"))) await run("pg_ctl", ["stop", "--wait", "--timeout=60", "--silent", "-m", mode, "-D", dataDir]);
      },
    };
  };

  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primary = cluster("primary", primaryPort);
  const replica = cluster("replica", replicaPort === primaryPort ? await freePort() : replicaPort);
  const destroy = async () => {
    const stops = await Promise.allSettled([replica.stop("immediate"), primary.stop("immediate")]);
    await rm(folder, { recursive: true, force: true });
    const failed = stops.find((stop) => stop.status === "rejected");
    if (failed) throw failed.reason;
  };
  try {
    await run("initdb", ["-D", primary.dataDir, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"]);
    await primary.start();
    const client = new pg.Client({ connectionString: primary.url() });
    await client.connect();
    await client.query(`create database ${client.escapeIdentifier(createDatabase)}`).finally(() => client.end());
  } catch (error) {
    await destroy().catch(() => undefined);
    throw error;
  }
  return {
    primary,
    replica,
    destroy,
    async startReplica() {
      // -R: standby.signal and primary_conninfo, so that it starts as a streaming replica of the primary.
      await run("pg_basebackup", ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", replica.dataDir, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"]);
      await replica.start();
      return replica;
    },
  };
}

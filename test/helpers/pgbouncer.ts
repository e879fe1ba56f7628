// A real PgBouncer (Debian's package, which .ci/run installs) in front of one test database, in transaction pool
// mode: a process of the test's own on a free port of 127.0.0.1, with its configuration and auth file in a
// temporary folder (never the system's pgbouncer service), stopped by `stop()`. Clients authenticate with SCRAM
// against the auth file, whose plain-text passwords PgBouncer also uses to log in to PostgreSQL.
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./ports";
import { waitUntil } from "./graphql-client";

export const PGBOUNCER = "/usr/sbin/pgbouncer";

export interface PgBouncer {
  port: number;
  /** `connectionString` (a direct one to the database served), through PgBouncer instead. */
  through(connectionString: string): string;
  /** A SHOW command on PgBouncer's console (SHOW POOLS, SHOW CLIENTS, SHOW SERVERS...), as the stats user. */
  show(what: string): Promise<Record<string, unknown>[]>;
  /** What PgBouncer printed (its log). */
  output(): string;
  /** Stops PgBouncer (its clients are disconnected) and removes its folder. */
  stop(): Promise<void>;
}

export async function startPgBouncer(options: {
  /** A direct connection string to the database to serve, as a user of `users` (PgBouncer's stats user). */
  connectionString: string;
  /** Login roles and their passwords (the auth file). */
  users: Record<string, string>;
  /** Server connections per user and database. */
  poolSize: number;
}): Promise<PgBouncer> {
  const upstream = new URL(options.connectionString);
  const database = decodeURIComponent(upstream.pathname.slice(1));
  const statsUser = decodeURIComponent(upstream.username);
  const port = await freePort();
  const folder = await mkdtemp(join(tmpdir(), "achievements-pgbouncer-"));
  // PgBouncer refuses to run as root: then it runs as the `postgres` OS user, who must read the folder.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(folder, 0o755);
  const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;
  await writeFile(join(folder, "userlist.txt"), Object.entries(options.users).map(([user, password]) => `${quoted(user)} ${quoted(password)}\n`).join(""), { mode: 0o644 });
  await writeFile(
    join(folder, "pgbouncer.ini"),
    [
      "[databases]",
      `${database} = host=${upstream.hostname} port=${upstream.port || "5432"} dbname=${database}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = scram-sha-256",
      `auth_file = ${join(folder, "userlist.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${options.poolSize}`,
      "min_pool_size = 0",
      "reserve_pool_size = 0",
      "max_client_conn = 500",
      `stats_users = ${statsUser}`,
      "",
    ].join("\n"),
    { mode: 0o644 },
  );

  let log = "";
  const child: ChildProcess = spawn(PGBOUNCER, [...(asRoot ? ["-u", "postgres"] : []), join(folder, "pgbouncer.ini")], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM"); // immediate shutdown
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(folder, { recursive: true, force: true });
    })());

  const url = (user: string, password: string, db: string) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  const show = async (what: string) => {
    const client = new pg.Client({ connectionString: url(statsUser, options.users[statsUser], "pgbouncer") });
    await client.connect();
    try {
      return (await client.query(`show ${what}`)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  try {
    await waitUntil(
      () => log.includes("process up") || child.exitCode !== null,
      () => `PgBouncer to start on port ${port}; it printed:\n${log}`,
    );
    if (child.exitCode !== null) throw new Error(`PgBouncer exited (code ${child.exitCode}):\n${log}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    through(connectionString) {
      const direct = new URL(connectionString);
      return url(decodeURIComponent(direct.username), decodeURIComponent(direct.password), decodeURIComponent(direct.pathname.slice(1)));
    },
    show,
    output: () => log,
    stop,
  };
}

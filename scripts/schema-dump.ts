// migrations/schema.sql: the schema after every committed migration, as `pg_dump --schema-only` prints it, so
// that it can be read (and reviewed in a diff) without replaying the history, as graphile/starter commits one.
// Only our schemas, with their comments and privileges (part of the security design), without owners, and with
// the role names as .gmrc's defaults whatever roles the database was built with, so that every machine writes
// the same file. Written by `npm run db:dump-schema` and `npm run db:commit`; test/db/schema_dump.test.ts
// fails when it is stale.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/config";
import { withDatabase } from "../src/connection-strings";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { createLogger, type Logger } from "../src/logger";
import { migrateDatabase, withClient } from "../src/migrate";
import { loadRoles, ROLE_NAMES, type Roles } from "../src/roles";
import { freePort } from "../test/helpers/ports";

export const SCHEMA_DUMP = join(PROJECT_ROOT, "migrations", "schema.sql");

const DUMPED_SCHEMAS = ["status_public", "status_private", "jwt_public"];

/** Runs `callback` with the superuser connection string of a throwaway embedded PostgreSQL, removed after. */
export async function withThrowawayPostgres<T>(callback: (serverUrl: string) => Promise<T>): Promise<T> {
  const folder = mkdtempSync(join(tmpdir(), "achievements-throwaway-"));
  chmodSync(folder, 0o755); // as root, PostgreSQL runs as the postgres OS user, which must reach its data
  try {
    const database = await startEmbeddedPostgres({ dataDir: join(folder, "data"), port: await freePort(), password: randomBytes(8).toString("hex"), log: createLogger("warn") });
    try {
      return await callback(database.url);
    } finally {
      await database.stop();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Migrates a new database named `database` on `serverUrl` (a superuser connection string) with `roles`
 * (created by afterReset.sql when missing), dumps it and drops it.
 */
export async function buildSchemaDump(options: { serverUrl: string; database: string; roles: Roles; includeCurrent: boolean; log: Logger }): Promise<string> {
  const { serverUrl, database, roles, includeCurrent, log } = options;
  const databaseUrl = withDatabase(serverUrl, database);
  try {
    await migrateDatabase({ databaseUrl, authenticatorPassword: "", roles, includeCurrent, log });
    return dumpSchema(databaseUrl, roles);
  } finally {
    await withClient(withDatabase(serverUrl, "postgres"), (client) => client.query(`drop database if exists ${client.escapeIdentifier(database)} with (force)`));
  }
}

/** What pg_dump prints of our schemas in `databaseUrl`, built with `roles`, written for migrations/schema.sql. */
export function dumpSchema(databaseUrl: string, roles: Roles): string {
  const dump = execFileSync(pgDump(), ["--schema-only", "--no-owner", ...DUMPED_SCHEMAS.map((schema) => `--schema=${schema}`), databaseUrl], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const defaults = loadRoles();
  // What differs between machines and runs: the versions, and the \restrict key (random on every dump).
  let text = dump.replace(/^-- Dumped (from database|by pg_dump) version .*\n/gm, "").replace(/^\\(un)?restrict \S+\n\n/gm, "");
  for (const name of ROLE_NAMES) {
    if (roles[name] !== defaults[name]) text = text.replace(new RegExp(`(?<![a-z0-9_$])${roles[name]}(?![a-z0-9_$])`, "g"), defaults[name]);
  }
  return text;
}

/** pg_dump of PostgreSQL 15 (the embedded server's version): $PG_DUMP, Debian's postgresql-client-15, or PATH's. */
function pgDump(): string {
  const candidates = process.env.PG_DUMP ? [process.env.PG_DUMP] : ["/usr/lib/postgresql/15/bin/pg_dump", "pg_dump"];
  for (const candidate of candidates) {
    let version: string;
    try {
      version = execFileSync(candidate, ["--version"], { encoding: "utf8" });
    } catch {
      continue;
    }
    if (/\(PostgreSQL\) 15\./.test(version)) return candidate;
  }
  throw new Error(`no pg_dump of PostgreSQL 15 (tried ${candidates.join(", ")}): install postgresql-client-15 (Debian) or set PG_DUMP to one`);
}

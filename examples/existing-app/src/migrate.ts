// The app's migrations: plain SQL files in migrations/ named NNNN-what.sql, applied in name order, each
// once and in its own transaction, recorded in public.app_migrations. Role names in them are placeholders
// (src/roles.ts). Small on purpose: an app might as well use graphile-migrate; the engine does not mind.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";
import { type AppRoles, placeholdersOf } from "./roles.ts";

export const MIGRATIONS_DIR = join(import.meta.dirname, "..", "migrations");

/** A SQL file's text with the role placeholders filled in. */
export async function readSql(file: string, roles: AppRoles): Promise<string> {
  const sql = await readFile(join(MIGRATIONS_DIR, file), "utf8");
  const placeholders = placeholdersOf(roles);
  return sql.replace(/:APP_[A-Z]+\b/g, (name) => {
    const value = placeholders[name];
    if (value === undefined) throw new Error(`${file}: unknown placeholder ${name}`);
    return value;
  });
}

export async function withClient<T>(connectionString: string, callback: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return await callback(client);
  } finally {
    await client.end();
  }
}

/**
 * Applies the migrations not applied yet, up to and including number `until` (default: all). Returns the
 * files applied. Connect as the database owner.
 */
export async function migrateApp(connectionString: string, roles: AppRoles, options: { until?: number } = {}): Promise<string[]> {
  const { until = Infinity } = options;
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => /^\d{4}-.*\.sql$/.test(file)).sort();
  const wanted = files.filter((file) => Number(file.slice(0, 4)) <= until);
  return withClient(connectionString, async (client) => {
    await client.query("create table if not exists public.app_migrations (name text primary key, applied_at timestamptz not null default now())");
    const { rows } = await client.query<{ name: string }>("select name from public.app_migrations");
    const done = new Set(rows.map((row) => row.name));
    const applied: string[] = [];
    for (const file of wanted.filter((name) => !done.has(name))) {
      const sql = await readSql(file, roles);
      await client.query("begin");
      try {
        await client.query(sql);
        await client.query("insert into public.app_migrations (name) values ($1)", [file]);
        await client.query("commit");
      } catch (error) {
        await client.query("rollback");
        throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(file);
    }
    return applied;
  });
}

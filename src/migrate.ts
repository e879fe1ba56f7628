// The standalone server's database: brings it from empty to the current schema with graphile-migrate
// (history in graphile_migrate.migrations): creates the database and the roles when they are missing
// (afterReset.sql), runs the committed migrations, and, when asked, loads the demo catalog into an empty
// catalog. A database an application already has is installed into with src/install.ts instead: the same
// migration files, recorded in our own table.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Logger as MigrateLogger, migrate, run, type Settings, watch } from "graphile-migrate";
import { clearAllPools } from "graphile-migrate/dist/pgReal";
import pg from "pg";
import { PROJECT_ROOT } from "./config";
import { withDatabase } from "./connection-strings";
import type { Logger } from "./logger";
import { loadRoles, loadUserIdSource, placeholdersOf, readGmrc, type Roles, type UserIdSource } from "./roles";

const MIGRATIONS = join(PROJECT_ROOT, "migrations");

export interface MigrateOptions {
  /** A superuser connection string. */
  databaseUrl: string;
  /** Set as the authenticator role's password (skipped when empty). */
  authenticatorPassword: string;
  /** Also run migrations/current/ (work in progress; development and tests only). */
  includeCurrent?: boolean;
  /** Load migrations/seeds/demo-catalog.sql when the catalog is empty (default false). */
  loadDemoCatalog?: boolean;
  /** Role names instead of .gmrc's (the :*_ROLE placeholders); created by afterReset.sql when missing. */
  roles?: Partial<Roles>;
  /** Where jwt_public.current_user_id() finds the user, instead of .gmrc's (:USER_ID_SETTING, :USER_ID_CLAIM). */
  userIdSource?: Partial<UserIdSource>;
  log: Logger;
}

export async function migrateDatabase(options: MigrateOptions): Promise<void> {
  const { databaseUrl, log } = options;
  await createDatabaseIfMissing(databaseUrl, log);
  await refuseInstalledDatabase(databaseUrl);
  const roles = loadRoles(options.roles);
  const settings: Settings = {
    ...readGmrc(),
    placeholders: { ...readGmrc().placeholders, ...placeholdersOf(roles, loadUserIdSource(options.userIdSource)) },
    connectionString: databaseUrl,
    rootConnectionString: withDatabase(databaseUrl, "postgres"),
    migrationsFolder: MIGRATIONS,
    logger: migrateLogger(log),
  };
  try {
    await run(settings, await readFile(join(MIGRATIONS, "afterReset.sql"), "utf8"), "afterReset.sql");
    await withClient(databaseUrl, async (client) => {
      if (options.authenticatorPassword) {
        const role = client.escapeIdentifier(roles.authenticator);
        await client.query(`alter role ${role} with password ${client.escapeLiteral(options.authenticatorPassword)}`);
      }
    });
    await migrate(settings);
    if (options.includeCurrent) {
      await watch(settings, true);
    }
  } finally {
    // graphile-migrate keeps a pool per connection string; an idle one would end the process later.
    clearAllPools();
  }
  if (options.loadDemoCatalog) {
    await loadDemoCatalogIfEmpty(databaseUrl, log);
  }
}

async function loadDemoCatalogIfEmpty(databaseUrl: string, log: Logger): Promise<void> {
  const seed = await readFile(join(MIGRATIONS, "seeds", "demo-catalog.sql"), "utf8");
  await withClient(databaseUrl, async (client) => {
    await client.query("begin");
    try {
      // The seed fills only empty catalog tables; the lock makes two servers starting at once load it once.
      await client.query("select pg_advisory_xact_lock(hashtext('achievements demo catalog'))");
      await client.query(seed);
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
  log.debug("demo catalog checked (migrations/seeds/demo-catalog.sql)");
}

/** A database installed by src/install.ts keeps its history in status_private: graphile-migrate would start over. */
async function refuseInstalledDatabase(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ installed: boolean }>("select to_regclass('status_private.installed_migrations') is not null as installed");
    if (rows[0].installed) {
      throw new Error(
        `${new URL(databaseUrl).pathname.slice(1)} was installed with \`pg-achievements install\` (history in status_private.installed_migrations): upgrade it with the same command, not with graphile-migrate`,
      );
    }
  });
}

async function createDatabaseIfMissing(databaseUrl: string, log: Logger): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  await withClient(withDatabase(databaseUrl, "postgres"), async (client) => {
    const { rowCount } = await client.query("select from pg_database where datname = $1", [name]);
    if (rowCount === 0) {
      await client.query(`create database ${client.escapeIdentifier(name)}`);
      log.info({ database: name }, "created the database");
    }
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

function migrateLogger(log: Logger): MigrateLogger {
  return new MigrateLogger(() => (level, message) => {
    const method = level === "warning" ? "warn" : level;
    log[method]({ component: "graphile-migrate" }, message);
  });
}

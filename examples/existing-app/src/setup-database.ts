// Creates the app's database from nothing, the way a new developer or CI would, or brings an existing one
// up to date: roles (as a superuser), the database (owned by app_owner), the achievements engine (installed
// as the owner, onto the app's roles), then the app's migrations (as the owner).
import { installAchievements, type InstallResult } from "pg-achievements/install"; // the installer alone: no PostGraphile loaded
import { migrateApp, readSql, withClient } from "./migrate.ts";
import type { AppRoles } from "./roles.ts";

export interface AppDatabase {
  /** The owner's connection string: migrations and the engine's install. */
  ownerUrl: string;
  /** The authenticator's connection string: the GraphQL server. */
  authenticatorUrl: string;
}

/** `url` with another user, password and database. */
export function connectionString(url: string, parts: { user?: string; password?: string; database?: string }): string {
  const result = new URL(url);
  if (parts.user !== undefined) result.username = encodeURIComponent(parts.user);
  if (parts.password !== undefined) result.password = encodeURIComponent(parts.password);
  if (parts.database !== undefined) result.pathname = `/${encodeURIComponent(parts.database)}`;
  return result.toString();
}

/** As a superuser: the roles (with these passwords) and the database, when missing. */
export async function createAppDatabase(options: {
  superuserUrl: string;
  database: string;
  roles: AppRoles;
  ownerPassword: string;
  authenticatorPassword: string;
}): Promise<AppDatabase> {
  const { superuserUrl, database, roles } = options;
  await withClient(connectionString(superuserUrl, { database: "postgres" }), async (client) => {
    await client.query(await readSql("roles.sql", roles));
    const id = client.escapeIdentifier.bind(client);
    await client.query(`alter role ${id(roles.owner)} with password ${client.escapeLiteral(options.ownerPassword)}`);
    await client.query(`alter role ${id(roles.authenticator)} with password ${client.escapeLiteral(options.authenticatorPassword)}`);
    const { rowCount } = await client.query("select from pg_database where datname = $1", [database]);
    if (rowCount === 0) {
      await client.query(`create database ${id(database)} owner ${id(roles.owner)}`);
      await client.query(`revoke all on database ${id(database)} from public`);
      await client.query(`grant connect on database ${id(database)} to ${id(roles.authenticator)}`);
    }
  });
  return {
    ownerUrl: connectionString(superuserUrl, { user: roles.owner, password: options.ownerPassword, database }),
    authenticatorUrl: connectionString(superuserUrl, { user: roles.authenticator, password: options.authenticatorPassword, database }),
  };
}

/** Installs (or updates) the achievements engine, mapping its API roles onto the app's. No demo data. */
export async function installEngine(ownerUrl: string, roles: AppRoles): Promise<InstallResult> {
  return installAchievements({
    connectionString: ownerUrl,
    roles: {
      authenticator: roles.authenticator,
      anonymous: roles.anonymous,
      user: roles.visitor,
      service: roles.service,
      admin: roles.admin,
    },
    // The setting the app's server fills with the signed-in user's id (graphile.config.ts).
    userIdSetting: "jwt.claims.user_id",
    demoCatalog: false,
  });
}

/** Everything, in order; safe to run again (each part does only what is missing). */
export async function setupDatabase(database: AppDatabase, roles: AppRoles): Promise<{ install: InstallResult; migrations: string[] }> {
  // The engine needs nothing of the app, and the app's achievements migration needs the engine: install first.
  const install = await installEngine(database.ownerUrl, roles);
  const migrations = await migrateApp(database.ownerUrl, roles);
  return { install, migrations };
}

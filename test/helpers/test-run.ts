// What one test run owns on its PostgreSQL server: a database and the five API roles, with names of the
// run's own (achievements_test_<run>, achievements_t<run>_user ...), so that a run on a shared server never
// meets a database or a role of someone else's. Created by test/global-setup.ts, dropped by
// test/global-teardown.ts (or at once when the setup fails halfway). Only what this run created is dropped:
// a `create` that fails because the name is taken records nothing, so nothing of that name is ever dropped.
import { randomBytes } from "node:crypto";
import { withDatabase } from "../../src/connection-strings";
import type { Logger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import { ROLE_NAMES, type Roles } from "../../src/roles";

/** Where the run creates and drops its databases (as src/migrate.ts does). */
const MAINTENANCE_DATABASE = "postgres";

export interface TestRun {
  /** The superuser's connection string, on the run's database. */
  databaseUrl: string;
  roles: Roles;
  authenticatorPassword: string;
  /** Drops the run's databases and roles (idempotent). */
  drop(): Promise<void>;
}

/** The run's names: its database (other databases of the run start with it and `_`) and its roles. */
export function testRunNames(run: string): { database: string; roles: Roles } {
  const roles = Object.fromEntries(ROLE_NAMES.map((name) => [name, `achievements_t${run}_${name}`])) as unknown as Roles;
  return { database: `achievements_test_${run}`, roles };
}

/**
 * Creates the run's roles (as migrations/afterReset.sql would: the authenticator LOGIN NOINHERIT with a
 * password, the others NOLOGIN) and its database, then migrates it with those role names.
 */
export async function createTestRun(serverUrl: string, options: { log: Logger; run?: string }): Promise<TestRun> {
  const { database, roles } = testRunNames(options.run ?? randomBytes(4).toString("hex"));
  const authenticatorPassword = randomBytes(16).toString("hex");
  const created = { roles: [] as string[], database: false };
  let dropped: Promise<void> | undefined;
  const drop = () => (dropped ??= dropTestRun(serverUrl, database, created));
  try {
    await withClient(withDatabase(serverUrl, MAINTENANCE_DATABASE), async (client) => {
      for (const name of ROLE_NAMES) {
        const role = client.escapeIdentifier(roles[name]);
        const attributes = name === "authenticator" ? `login noinherit password ${client.escapeLiteral(authenticatorPassword)}` : "nologin";
        await client.query(`create role ${role} with ${attributes}`);
        created.roles.push(roles[name]);
      }
      await client.query(`create database ${client.escapeIdentifier(database)}`);
      created.database = true;
    });
    const databaseUrl = withDatabase(serverUrl, database);
    // The roles exist, so afterReset.sql only grants; no password to set (authenticatorPassword "").
    await migrateDatabase({ databaseUrl, authenticatorPassword: "", roles, includeCurrent: true, loadDemoCatalog: true, log: options.log });
    return { databaseUrl, roles, authenticatorPassword, drop };
  } catch (error) {
    await drop().catch((dropError: unknown) => options.log.error({ err: dropError }, "could not drop what the failed test setup created"));
    throw error;
  }
}

async function dropTestRun(serverUrl: string, database: string, created: { roles: string[]; database: boolean }): Promise<void> {
  await withClient(withDatabase(serverUrl, MAINTENANCE_DATABASE), async (client) => {
    if (created.database) {
      // The run's database, and those the test files made under its name (test/helpers/db.ts testDatabaseName()).
      const { rows } = await client.query<{ datname: string }>(
        "select datname from pg_database where datname = $1 or starts_with(datname, $1 || '_')",
        [database],
      );
      for (const { datname } of rows) await client.query(`drop database if exists ${client.escapeIdentifier(datname)} with (force)`);
    }
    if (created.roles.length === 0) return;
    const roleList = created.roles.map((role) => client.escapeIdentifier(role)).join(", ");
    // Privileges or objects the roles still have in a database that a test file made and could not drop:
    // `drop owned by` there removes exactly those (and nothing of anyone else's), so that the roles can go.
    const { rows: elsewhere } = await client.query<{ datname: string }>(
      `select distinct d.datname
         from pg_shdepend s join pg_database d on d.oid = s.dbid
        where s.refclassid = 'pg_authid'::regclass and s.refobjid in (select oid from pg_roles where rolname = any($1))
          and d.datname <> current_database()`,
      [created.roles],
    );
    for (const { datname } of elsewhere) {
      await withClient(withDatabase(serverUrl, datname), (other) => other.query(`drop owned by ${roleList}`));
    }
    // Here: their objects in this database and their privileges on shared objects (other databases' CONNECT).
    await client.query(`drop owned by ${roleList}`);
    for (const role of [...created.roles].reverse()) await client.query(`drop role if exists ${client.escapeIdentifier(role)}`);
  });
}

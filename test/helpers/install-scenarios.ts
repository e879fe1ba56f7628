// The scaffolding of the installer's tests (test/install/): databases and roles of a test file's own, on the
// test cluster (names unique to the run), dropped by `dropCreated()` in its afterAll; a refusal expected from
// installAchievements; and a snapshot of everything an install could change.
import { randomBytes } from "node:crypto";
import type pg from "pg";
import { asRole, withDatabase } from "../../src/connection-strings";
import { InstallError, installAchievements, type InstallOptions } from "../../src/install";
import { withClient } from "../../src/migrate";
import { catalogSnapshot, rolesSnapshot, userSchemas } from "./catalog";
import { testDatabaseName, testDatabaseUrl } from "./db";

export interface Owner {
  role: string;
  password: string;
}

/** `prefix` keeps one file's role names apart from another's within the run. */
export function installScenarios(prefix: string) {
  const run = randomBytes(3).toString("hex");
  const rootUrl = testDatabaseUrl(); // a superuser
  const createdDatabases: string[] = [];
  const createdRoles: string[] = [];

  const name = (suffix: string) => `${prefix}${run}_${suffix}`;
  const root = <T>(database: string, callback: (client: pg.Client) => Promise<T>): Promise<T> =>
    withClient(withDatabase(rootUrl, database), callback);

  async function createRole(role: string, attributes = "nologin"): Promise<string> {
    await root("postgres", (client) => client.query(`create role ${role} ${attributes}`));
    createdRoles.push(role);
    return role;
  }

  /** A login role that is not a superuser (the database owner of a scenario). */
  async function createOwner(suffix: string, attributes = ""): Promise<Owner> {
    const password = randomBytes(12).toString("hex");
    const role = await createRole(name(suffix), `login password '${password}' ${attributes}`);
    return { role, password };
  }

  async function createDatabase(suffix: string, owner?: string): Promise<string> {
    const database = testDatabaseName(suffix); // under the run's name: the global teardown drops it if we could not
    await root("postgres", (client) => client.query(`create database ${database}${owner ? ` owner ${owner}` : ""}`));
    createdDatabases.push(database);
    return database;
  }

  /** Everything an install could change: the whole database's catalog, and the named roles cluster-wide. */
  const everything = (database: string, roles: string[]) =>
    root(database, async (client) => ({
      catalog: await catalogSnapshot(client, { schemas: await userSchemas(client), xmin: true }),
      roles: await rolesSnapshot(client, roles, database),
    }));

  return {
    name,
    root,
    createRole,
    createOwner,
    createDatabase,
    everything,
    /** Roles made elsewhere (by the installer) that the file must drop too. */
    createdRoles,
    urlAs: (database: string, owner: Owner) => asRole(withDatabase(rootUrl, database), owner.role, owner.password),
    async dropCreated(): Promise<void> {
      await root("postgres", async (client) => {
        for (const database of createdDatabases) await client.query(`drop database if exists ${database} with (force)`);
        for (const role of createdRoles.reverse()) await client.query(`drop role if exists ${role}`);
      });
    },
  };
}

export async function expectRefusal(options: InstallOptions): Promise<InstallError> {
  try {
    await installAchievements(options);
  } catch (error) {
    if (error instanceof InstallError) return error;
    throw error;
  }
  throw new Error("expected the install to be refused");
}

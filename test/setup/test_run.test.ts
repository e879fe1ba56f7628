// test/helpers/test-run.ts, what every test run creates on its server (test/global-setup.ts): it drops what
// it created, also when it fails halfway, and never anything it did not create, even of a name it wanted.
// Each case uses run ids of its own on the test server, and drops what it made itself.
import { randomBytes } from "node:crypto";
import { withDatabase } from "../../src/connection-strings";
import { createLogger } from "../../src/logger";
import { withClient } from "../../src/migrate";
import { ROLE_NAMES } from "../../src/roles";
import { testDatabaseUrl } from "../helpers/db";
import { createTestRun, testRunNames } from "../helpers/test-run";

const serverUrl = testDatabaseUrl();
const log = createLogger("silent");
const newRun = () => randomBytes(4).toString("hex");

const onServer = <T>(sql: string, params: unknown[] = []) =>
  withClient(withDatabase(serverUrl, "postgres"), async (client) => (await client.query<T & object>(sql, params)).rows);

async function existingRoles(names: string[]): Promise<{ rolname: string; password_hash: string }[]> {
  return onServer("select rolname, md5(coalesce(rolpassword, '')) as password_hash from pg_authid where rolname = any($1) order by 1", [names]);
}

async function existingDatabases(names: string[]): Promise<string[]> {
  return (await onServer<{ datname: string }>("select datname from pg_database where datname = any($1) order by 1", [names])).map((row) => row.datname);
}

describe("createTestRun", () => {
  it("stops at a role name that is taken, drops the roles it had created and leaves the taken one as it was", async () => {
    const run = newRun();
    const { database, roles } = testRunNames(run);
    await onServer(`create role ${roles.user} login password 'someone-else-${run}'`);
    try {
      const before = await existingRoles([roles.user]);
      await expect(createTestRun(serverUrl, { run, log })).rejects.toThrow(`role "${roles.user}" already exists`);
      expect(await existingRoles(Object.values(roles))).toEqual(before);
      expect(await existingDatabases([database])).toEqual([]);
    } finally {
      await onServer(`drop role if exists ${roles.user}`);
    }
  });

  it("stops at a database name that is taken, drops its roles and leaves the database as it was", async () => {
    const run = newRun();
    const { database, roles } = testRunNames(run);
    await onServer(`create database ${database}`);
    try {
      await withClient(withDatabase(serverUrl, database), (client) => client.query("create table someone_elses (id int)"));
      await expect(createTestRun(serverUrl, { run, log })).rejects.toThrow(`database "${database}" already exists`);
      expect(await existingRoles(Object.values(roles))).toEqual([]);
      expect(await existingDatabases([database])).toEqual([database]);
      const tables = await withClient(withDatabase(serverUrl, database), async (client) => (await client.query("select to_regclass('someone_elses') as t")).rows);
      expect(tables).toEqual([{ t: "someone_elses" }]);
    } finally {
      await onServer(`drop database if exists ${database} with (force)`);
    }
  });

  it("drops its databases (those made under its name too) and its roles, whatever they still hold elsewhere", async () => {
    const run = newRun();
    const testRun = await createTestRun(serverUrl, { run, log });
    const { database, roles } = testRunNames(run);
    const leftOver = `${database}_left_behind`; // as a test file that could not drop its database leaves it
    const outside = `achievements_outside_${newRun()}`; // not the run's: it must stay, without the run's grants
    try {
      expect(await existingRoles(Object.values(roles))).toHaveLength(ROLE_NAMES.length);
      await onServer(`create database ${leftOver}`);
      await onServer(`create database ${outside}`);
      await onServer(`grant connect on database ${outside} to ${roles.user}`);
      await withClient(withDatabase(serverUrl, outside), (client) => client.query(`create table kept (id int); grant select on kept to ${roles.user}`));

      await testRun.drop();

      expect(await existingRoles(Object.values(roles))).toEqual([]);
      expect(await existingDatabases([database, leftOver, outside])).toEqual([outside]);
      const kept = await withClient(withDatabase(serverUrl, outside), async (client) => (await client.query("select relacl::text as acl from pg_class where relname = 'kept'")).rows);
      expect(kept).toHaveLength(1);
      expect(kept[0].acl ?? "").not.toContain(roles.user);
    } finally {
      await testRun.drop();
      await onServer(`drop database if exists ${outside} with (force)`);
    }
  });
});

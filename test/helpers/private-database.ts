// A database of the test file's own, on the test server: for a file whose assertions depend on what every
// user of the database has (the demo page's top 10), so that no neighbour's users can change them.
// Migrated like the shared one (demo catalog included), with the run's roles; the authenticator's password
// is left as it is, since roles are shared by every database of the server.
import { asRole, withDatabase } from "../../src/connection-strings";
import { createLogger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import { testDatabaseName, testDatabaseUrl, testRoles } from "./db";

export interface PrivateDatabase {
  /** Superuser connection string. */
  rootUrl: string;
  /** The authenticator's, as the server connects. */
  authUrl: string;
  drop(): Promise<void>;
}

export async function createPrivateDatabase(purpose: string): Promise<PrivateDatabase> {
  const shared = testDatabaseUrl();
  const name = testDatabaseName(purpose);
  const rootUrl = withDatabase(shared, name);
  await migrateDatabase({ databaseUrl: rootUrl, authenticatorPassword: "", roles: testRoles(), includeCurrent: true, loadDemoCatalog: true, log: createLogger("warn") });
  const authenticatorPassword = decodeURIComponent(new URL(testDatabaseUrl("TEST_AUTH_URL")).password);
  return {
    rootUrl,
    authUrl: asRole(rootUrl, testRoles().authenticator, authenticatorPassword),
    drop: () =>
      withClient(withDatabase(shared, "postgres"), async (client) => {
        // pg-pool's end() resolves before its connections have closed, and a connection that `with (force)`
        // terminates meanwhile raises an error on its pool that nobody listens to any more (it failed a CI run):
        // let the file's own connections close first (a few seconds at most), then force out whatever is left.
        for (let waited = 0; waited < 5_000; waited += 50) {
          const { rows } = await client.query<{ open: number }>("select count(*)::integer as open from pg_stat_activity where datname = $1", [name]);
          if (rows[0].open === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`);
      }),
  };
}

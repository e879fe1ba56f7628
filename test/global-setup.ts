// Once per test run: a fresh database, migrated to the current schema (committed migrations and
// current.sql). On the server of TEST_DATABASE_URL (a superuser connection string) when it is set,
// else on a throwaway embedded PostgreSQL. The test files read the connection details from the
// environment variables set here.
import "../src/environment";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asRole, withDatabase } from "../src/connection-strings";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { createLogger } from "../src/logger";
import { migrateDatabase, withClient } from "../src/migrate";
import { loadRoles } from "../src/roles";
import { freePort } from "./helpers/ports";

const TEST_DATABASE = "achievements_test";

declare global {
  // eslint-disable-next-line no-var
  var stopTestDatabase: (() => Promise<void>) | undefined;
}

export default async function globalSetup(): Promise<void> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? "warn");
  let serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), "achievements-test-"));
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: randomBytes(16).toString("hex"), log });
    serverUrl = embedded.url;
    globalThis.stopTestDatabase = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const databaseUrl = withDatabase(serverUrl, TEST_DATABASE);
  await withClient(withDatabase(serverUrl, "postgres"), (client) =>
    client.query(`drop database if exists ${client.escapeIdentifier(TEST_DATABASE)} with (force)`),
  );
  const authenticatorPassword = randomBytes(16).toString("hex");
  await migrateDatabase({ databaseUrl, authenticatorPassword, includeCurrent: true, loadDemoCatalog: true, log });

  process.env.TEST_ROOT_URL = databaseUrl;
  process.env.TEST_AUTH_URL = asRole(databaseUrl, loadRoles().authenticator, authenticatorPassword);
  process.env.TEST_JWT_SECRET = randomBytes(32).toString("hex");
}

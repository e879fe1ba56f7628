// Once per test run: a database and API roles of the run's own (test/helpers/test-run.ts: names unique to
// the run, created by it, dropped by test/global-teardown.ts), migrated to the current schema (committed
// migrations and migrations/current.sql). On the server of TEST_DATABASE_URL (a superuser connection string)
// when it is set, else on a throwaway embedded PostgreSQL: the same code path either way. Nothing that the
// run did not create is altered or dropped. The test files read the names from the environment set here
// (TEST_ROOT_URL, TEST_AUTH_URL, TEST_ROLES), never from .gmrc.
import "../src/environment";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asRole } from "../src/connection-strings";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { createLogger } from "../src/logger";
import { freePort } from "./helpers/ports";
import { rememberTablesAsFound } from "./helpers/leftovers-check";
import { createTestRun } from "./helpers/test-run";

declare global {
  /** Drops what the run created on its server, then stops the embedded PostgreSQL (test/global-teardown.ts). */
  // eslint-disable-next-line no-var
  var endTestRun: (() => Promise<void>) | undefined;
}

export default async function globalSetup(): Promise<void> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? "warn");
  // What to undo, newest first; also run here when the setup fails halfway (jest skips the teardown then).
  const undo: Array<() => Promise<void>> = [];
  globalThis.endTestRun = async () => {
    const failures: unknown[] = [];
    while (undo.length > 0) await undo.pop()!().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw new AggregateError(failures, "the test run's cleanup failed (see test/helpers/test-run.ts for what it drops)");
  };
  try {
    let serverUrl = process.env.TEST_DATABASE_URL;
    if (!serverUrl) {
      const dataDir = await mkdtemp(join(tmpdir(), "achievements-test-"));
      undo.push(() => rm(dataDir, { recursive: true, force: true }));
      const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: randomBytes(16).toString("hex"), log });
      undo.push(() => embedded.stop());
      serverUrl = embedded.url;
    }
    const run = await createTestRun(serverUrl, { log });
    undo.push(run.drop);

    process.env.TEST_ROOT_URL = run.databaseUrl;
    process.env.TEST_AUTH_URL = asRole(run.databaseUrl, run.roles.authenticator, run.authenticatorPassword);
    process.env.TEST_ROLES = JSON.stringify(run.roles);
    process.env.TEST_JWT_SECRET = randomBytes(32).toString("hex");
    // What the files must leave as they found it (checked by test/global-teardown.ts).
    await rememberTablesAsFound(run.databaseUrl);
  } catch (error) {
    await globalThis.endTestRun().catch((cleanupError: unknown) => log.error({ err: cleanupError }, "cleanup after the failed test setup failed"));
    throw error;
  }
}

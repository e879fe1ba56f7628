// `npm run db:commit -- "message"`: commits migrations/current.sql as the next migration in
// migrations/committed, with graphile-migrate's own `commit`, against a throwaway embedded PostgreSQL, so
// that nobody needs a database (or a shared server's roles) to do it. graphile-migrate resets a shadow
// database, applies every committed migration and the new one there, and writes the file with its hash.
import "../src/environment";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withDatabase } from "../src/connection-strings";
import { PROJECT_ROOT } from "../src/config";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { freePort } from "../test/helpers/ports";
import { createLogger } from "../src/logger";

async function main(message: string | undefined): Promise<void> {
  if (!message) throw new Error('usage: npm run db:commit -- "what the migration does"');
  const folder = mkdtempSync(join(tmpdir(), "achievements-commit-"));
  chmodSync(folder, 0o755); // as root, PostgreSQL runs as the postgres OS user, which must reach its data
  const database = await startEmbeddedPostgres({ dataDir: join(folder, "data"), port: await freePort(), password: "commit", log: createLogger("warn") });
  try {
    const env = {
      ...process.env,
      DATABASE_URL: withDatabase(database.url, "achievements_commit"),
      SHADOW_DATABASE_URL: withDatabase(database.url, "achievements_commit_shadow"),
      ROOT_DATABASE_URL: database.url,
    };
    const migrate = (...args: string[]) =>
      execFileSync(process.execPath, [join(PROJECT_ROOT, "node_modules/graphile-migrate/dist/cli.js"), ...args], { env, stdio: "inherit", cwd: PROJECT_ROOT });
    migrate("reset", "--erase"); // roles (afterReset.sql) and every committed migration
    migrate("commit", "--message", message);
  } finally {
    await database.stop();
    rmSync(folder, { recursive: true, force: true });
  }
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write((error instanceof Error ? error.message : String(error)) + "\n");
  process.exit(1);
});

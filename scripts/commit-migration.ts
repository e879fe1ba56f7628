// `npm run db:commit -- "message"`: commits migrations/current/ (its files joined in order) as the next migration in
// migrations/committed, with graphile-migrate's own `commit`, against a throwaway embedded PostgreSQL, so
// that nobody needs a database (or a shared server's roles) to do it. graphile-migrate resets a shadow
// database, applies every committed migration and the new one there, and writes the file with its hash.
// Then it refreshes migrations/schema.sql from that database, as graphile/starter's afterAllMigrations does.
import "../src/environment";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { withDatabase } from "../src/connection-strings";
import { PROJECT_ROOT } from "../src/config";
import { loadRoles } from "../src/roles";
import { dumpSchema, SCHEMA_DUMP, withThrowawayPostgres } from "./schema-dump";

async function main(message: string | undefined): Promise<void> {
  if (!message) throw new Error('usage: npm run db:commit -- "what the migration does"');
  await withThrowawayPostgres(async (serverUrl) => {
    const env = {
      ...process.env,
      DATABASE_URL: withDatabase(serverUrl, "achievements_commit"),
      SHADOW_DATABASE_URL: withDatabase(serverUrl, "achievements_commit_shadow"),
      ROOT_DATABASE_URL: serverUrl,
    };
    const migrate = (...args: string[]) =>
      execFileSync(process.execPath, [join(PROJECT_ROOT, "node_modules/graphile-migrate/dist/cli.js"), ...args], { env, stdio: "inherit", cwd: PROJECT_ROOT });
    migrate("reset", "--erase"); // roles (afterReset.sql) and every committed migration
    migrate("commit", "--message", message); // ... and the new one
    writeFileSync(SCHEMA_DUMP, dumpSchema(env.DATABASE_URL, loadRoles()));
  });
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write((error instanceof Error ? error.message : String(error)) + "\n");
  process.exit(1);
});

// migrations/schema.sql is the schema that the committed migrations build (scripts/schema-dump.ts): a fresh
// database of the run's, migrated with the committed migrations only (not migrations/current, the work in
// progress), dumped as `npm run db:dump-schema` dumps it, with the run's role names written as .gmrc's.
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { PROJECT_ROOT } from "../../src/config";
import { createLogger } from "../../src/logger";
import { buildSchemaDump, SCHEMA_DUMP } from "../../scripts/schema-dump";
import { roles, testDatabaseName, testDatabaseUrl } from "../helpers/db";

/** Where `committed` first differs from `built`, as a message that says what to do; undefined when equal. */
function staleness(committed: string | undefined, built: string): string | undefined {
  const file = relative(PROJECT_ROOT, SCHEMA_DUMP);
  if (committed === undefined) return `${file} is missing: run \`npm run db:dump-schema\``;
  if (committed === built) return undefined;
  const [was, is] = [committed.split("\n"), built.split("\n")];
  const line = was.findIndex((text, index) => text !== is[index]);
  const at = line === -1 ? is.length - 1 : line;
  return `${file} is stale (the committed migrations build another schema): run \`npm run db:dump-schema\` and commit it. First difference, line ${at + 1}:\n  ${file}: ${was[at] ?? "(end)"}\n  migrations: ${is[at] ?? "(end)"}`;
}

test("migrations/schema.sql is the schema of the committed migrations", async () => {
  const built = await buildSchemaDump({ serverUrl: testDatabaseUrl(), database: testDatabaseName("schema_dump"), roles, includeCurrent: false, log: createLogger("silent") });
  expect(staleness(existsSync(SCHEMA_DUMP) ? readFileSync(SCHEMA_DUMP, "utf8") : undefined, built)).toBeUndefined();
});

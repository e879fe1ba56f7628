// `npm run db:dump-schema`: rewrites migrations/schema.sql (see scripts/schema-dump.ts) from the committed
// migrations, built on a throwaway embedded PostgreSQL as `npm run db:commit` does (which refreshes it too).
// `-- --include-current` adds migrations/current, to read the work in progress as a diff of the dump; commit
// only a dump of the committed migrations, which test/db/schema_dump.test.ts compares it with.
import "../src/environment";
import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import { PROJECT_ROOT } from "../src/config";
import { createLogger } from "../src/logger";
import { loadRoles } from "../src/roles";
import { buildSchemaDump, SCHEMA_DUMP, withThrowawayPostgres } from "./schema-dump";

async function main(args: string[]): Promise<void> {
  const unknown = args.filter((arg) => arg !== "--include-current");
  if (unknown.length > 0) throw new Error(`usage: npm run db:dump-schema [-- --include-current] (unknown: ${unknown.join(" ")})`);
  const includeCurrent = args.includes("--include-current");
  const dump = await withThrowawayPostgres((serverUrl) =>
    buildSchemaDump({ serverUrl, database: "achievements_schema", roles: loadRoles(), includeCurrent, log: createLogger("warn") }),
  );
  writeFileSync(SCHEMA_DUMP, dump);
  process.stderr.write(`wrote ${relative(PROJECT_ROOT, SCHEMA_DUMP)} (committed migrations${includeCurrent ? " and migrations/current" : ""})\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write((error instanceof Error ? error.message : String(error)) + "\n");
  process.exit(1);
});

// APP_SCHEMAS: the application's own PostgreSQL schemas, served by the standalone server on the same
// endpoint beside status_public. Checked twice: the names when the configuration is read (src/config.ts),
// their existence when the server starts (a schema PostGraphile cannot find would just be left out).
import pg from "pg";
import { ACHIEVEMENTS_SCHEMAS } from "./achievements-schema";

/** An unquoted or quoted PostgreSQL name without surprises: letters, digits, `_`, `$`; at most 63 bytes. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;
/** Never exposed: our private schema (trigger functions) and PostgreSQL's own. */
const FORBIDDEN = /^(status_private|information_schema|pg_.*)$/;

/** `app_public, app_hidden` → ["app_public", "app_hidden"]; throws an Error whose message says what is wrong. */
export function parseAppSchemas(value: string): string[] {
  const names = value.split(",").map((name) => name.trim());
  const schemas: string[] = [];
  for (const name of names) {
    if (name === "") throw new Error("must be schema names separated by commas (an empty name was given)");
    if (!SCHEMA_NAME.test(name) || Buffer.byteLength(name) > 63) {
      throw new Error(`"${name}" is not a schema name (letters, digits, _ and $, not starting with a digit, at most 63 bytes)`);
    }
    if (FORBIDDEN.test(name)) throw new Error(`"${name}" cannot be exposed`);
    // status_public is served anyway; listing it is harmless.
    if (!schemas.includes(name) && !ACHIEVEMENTS_SCHEMAS.includes(name)) schemas.push(name);
  }
  return schemas;
}

/** What is wrong with `schemas` in the database at `connectionString` (a schema missing), or undefined. */
export async function appSchemasProblem(connectionString: string, schemas: readonly string[]): Promise<string | undefined> {
  if (schemas.length === 0) return undefined;
  const client = new pg.Client({ connectionString });
  await client.connect();
  let found: string[];
  try {
    const { rows } = await client.query<{ nspname: string }>("select nspname from pg_catalog.pg_namespace where nspname = any($1::text[])", [schemas]);
    found = rows.map((row) => row.nspname);
  } finally {
    await client.end();
  }
  const missing = schemas.filter((schema) => !found.includes(schema));
  if (missing.length === 0) return undefined;
  return (
    `APP_SCHEMAS: no schema ${missing.map((name) => `"${name}"`).join(", ")} in database "${client.database}" ` +
    "(names are case-sensitive: create the schema first, or remove it from APP_SCHEMAS)"
  );
}

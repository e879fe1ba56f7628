// The standalone server's pg connections prepare the statement that sets a transaction's settings.
// @dataplan/pg (1.1.2, adaptors/pg.js) starts every transaction that has pgSettings (every request here: the
// role and claims) with `select set_config(el->>0, el->>1, true) from json_array_elements($1::json) el`, sent
// unnamed: PostgreSQL parses, analyses and plans it again for each request, and the driver sends Parse and
// Describe and reads the row description back each time. Named, it is prepared once per connection and then
// only bound (what bench/raw-server.ts, the overhead benchmark's baseline, does too). Nothing else changes:
// the same text, values and results. `DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE=0`, @dataplan/pg's switch
// for poolers that cannot keep prepared statements, turns this off too.
import pg from "pg";

/** @dataplan/pg's settings statement, verbatim. */
export const SET_CONFIG_TEXT = "select set_config(el->>0, el->>1, true) from json_array_elements($1::json) el";
/** Its name as a prepared statement on each connection. */
export const SET_CONFIG_STATEMENT_NAME = "achievements_set_config";

const preparedStatementsOff = process.env.DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE === "0";

/** A pg.Client that sends @dataplan/pg's settings statement as a named (prepared) statement. */
export class PreparedSettingsClient extends pg.Client {}

// query() is overloaded in pg's types; the override only rewrites a config object with that exact text.
Object.assign(PreparedSettingsClient.prototype, {
  query(this: pg.Client, config: unknown, ...rest: unknown[]): unknown {
    const statement = config as { text?: unknown; name?: unknown } | null;
    const named = !preparedStatementsOff && typeof statement === "object" && statement !== null && statement.text === SET_CONFIG_TEXT && statement.name === undefined;
    return (pg.Client.prototype.query as (...args: unknown[]) => unknown).call(this, named ? { ...statement, name: SET_CONFIG_STATEMENT_NAME } : config, ...rest);
  },
});

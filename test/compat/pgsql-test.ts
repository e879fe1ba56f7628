// What upstream's test suite (@pgpm/achievements, see test/compat/README.md) uses from `pgsql-test`,
// reproduced for this project: jest.config.js maps the import `pgsql-test` to this file.
//
// - getConnections(): a fresh database per test file, on the test cluster (the server of TEST_ROOT_URL),
//   brought to our current schema the way every test database is (src/migrate.ts, current migration
//   included, no demo catalog), and `pg`, a superuser client on it. teardown() closes it and drops the database.
// - PgTestClient: pgsql-test 2.18.6's semantics (the version upstream's lock file pins): beforeEach() opens a
//   transaction and a savepoint, afterEach() rolls back to it and commits; setContext() merges settings
//   that are applied with set_config(key, value, true) (`role` with SET LOCAL ROLE) before every query.
// - snapshot(): pgsql-test 2.18.6's pruning (ids, uuids, dates, hashes, tokens...), key for key.
import pg from "pg";
import { withDatabase } from "../../src/connection-strings";
import { createLogger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import { testDatabaseName, testDatabaseUrl, testRoles } from "../helpers/db";

type Context = Record<string, string | null | undefined>;
// Rows are untyped, as in pgsql-test (upstream's tests read them as any).
type AnyObject = Record<string, any>;

/** pgsql-test's generateContextStatements: SET LOCAL ROLE for `role`, set_config(..., true) for the rest. */
function contextStatements(context: Context): string {
  return Object.entries(context)
    .map(([key, value]) => {
      if (key === "role") {
        return value === null || value === undefined ? "SET LOCAL ROLE NONE;" : `SET LOCAL ROLE "${value.replace(/"/g, '""')}";`;
      }
      return value === null || value === undefined
        ? `SELECT set_config('${key}', NULL, true);`
        : `SELECT set_config('${key}', '${value.replace(/'/g, "''")}', true);`;
    })
    .join("\n");
}

export class PgTestClient {
  private contextSettings: Context = {};
  private ctxStmts = "";

  constructor(readonly client: pg.Client) {}

  async begin(): Promise<void> {
    await this.client.query("BEGIN;");
  }

  async savepoint(name = "lqlsavepoint"): Promise<void> {
    await this.client.query(`SAVEPOINT "${name}";`);
  }

  async rollback(name = "lqlsavepoint"): Promise<void> {
    await this.client.query(`ROLLBACK TO SAVEPOINT "${name}";`);
  }

  async commit(): Promise<void> {
    await this.client.query("COMMIT;");
  }

  async beforeEach(): Promise<void> {
    await this.begin();
    await this.savepoint();
  }

  async afterEach(): Promise<void> {
    await this.rollback();
    await this.commit();
  }

  /** Merged into the settings applied before every query (transaction-local, so set again each time). */
  setContext(context: Context): void {
    Object.assign(this.contextSettings, context);
    this.ctxStmts = contextStatements(this.contextSettings);
  }

  async ctxQuery(): Promise<void> {
    if (this.ctxStmts) await this.client.query(this.ctxStmts);
  }

  async query<Row extends pg.QueryResultRow = AnyObject>(sql: string, values?: unknown[]): Promise<pg.QueryResult<Row>> {
    await this.ctxQuery();
    return this.client.query<Row>(sql, values);
  }

  async any<Row extends pg.QueryResultRow = AnyObject>(sql: string, values?: unknown[]): Promise<Row[]> {
    return (await this.query<Row>(sql, values)).rows;
  }

  async one<Row extends pg.QueryResultRow = AnyObject>(sql: string, values?: unknown[]): Promise<Row> {
    const rows = await this.any<Row>(sql, values);
    if (rows.length !== 1) throw new Error("Expected exactly one result");
    return rows[0];
  }

  async none(sql: string, values?: unknown[]): Promise<void> {
    await this.query(sql, values);
  }
}

export interface Connections {
  pg: PgTestClient;
  teardown: () => Promise<void>;
}

export async function getConnections(): Promise<Connections> {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? "warn");
  const databaseUrl = withDatabase(testDatabaseUrl(), testDatabaseName("compat"));
  // No authenticator password: the role is cluster-wide and the other test files log in with theirs.
  await migrateDatabase({ databaseUrl, authenticatorPassword: "", roles: testRoles(), includeCurrent: true, loadDemoCatalog: false, log });
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= (async () => {
      await client.end();
      await withClient(withDatabase(databaseUrl, "postgres"), (root) =>
        root.query(`drop database if exists ${root.escapeIdentifier(new URL(databaseUrl).pathname.slice(1))} with (force)`),
      );
    })());
  return { pg: new PgTestClient(client), teardown };
}

// snapshot(), as in pgsql-test 2.18.6 (src/utils.ts).
type IdHash = Record<string, number | string>;
type Pruner = (row: AnyObject) => AnyObject;

const uuidRegexp = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const idReplacement = (value: unknown, idHash?: IdHash): unknown => {
  if (!value) return value;
  if (!idHash) return "[ID]";
  const key = String(value);
  return idHash[key] !== undefined ? `[ID-${idHash[key]}]` : "[ID]";
};

const mapValues = (row: AnyObject, fn: (value: any, key: string) => unknown): AnyObject =>
  Object.entries(row).reduce<AnyObject>((acc, [key, value]) => {
    acc[key] = fn(value, key);
    return acc;
  }, {});

export const pruneDates: Pruner = (row) =>
  mapValues(row, (v, k) => {
    if (!v) return v;
    if (v instanceof Date) return "[DATE]";
    if (typeof v === "string" && /(_at|At)$/.test(k) && /^20[0-9]{2}-[0-9]{2}-[0-9]{2}/.test(v)) return "[DATE]";
    return v;
  });

export const pruneIds = (row: AnyObject, idHash?: IdHash): AnyObject =>
  mapValues(row, (v, k) => ((k === "id" || k.endsWith("_id")) && (typeof v === "string" || typeof v === "number") ? idReplacement(v, idHash) : v));

export const pruneIdArrays: Pruner = (row) => mapValues(row, (v, k) => (k.endsWith("_ids") && Array.isArray(v) ? `[UUIDs-${v.length}]` : v));

export const pruneUUIDs: Pruner = (row) =>
  mapValues(row, (v, k) => {
    if (typeof v !== "string") return v;
    if (["uuid", "queue_name"].includes(k) && uuidRegexp.test(v)) return "[UUID]";
    if (k === "gravatar" && /^[0-9a-f]{32}$/i.test(v)) return "[gUUID]";
    return v;
  });

export const pruneHashes: Pruner = (row) =>
  mapValues(row, (v, k) => (k.endsWith("_hash") && typeof v === "string" && v.startsWith("$") ? "[hash]" : v));

export const prunePeoplestamps: Pruner = (row) => mapValues(row, (v, k) => (k.endsWith("_by") && typeof v === "string" ? "[peoplestamp]" : v));

export const pruneTokens: Pruner = (row) => mapValues(row, (v, k) => ((k === "token" || k.endsWith("_token")) && typeof v === "string" ? "[token]" : v));

const composePruners =
  (...pruners: Pruner[]): Pruner =>
  (row) =>
    pruners.reduce((acc, pruner) => pruner(acc), row);

export const defaultPruners: Pruner[] = [pruneTokens, prunePeoplestamps, pruneDates, pruneIdArrays, pruneUUIDs, pruneHashes];

export const createSnapshot = (pruners: Pruner[]) => {
  const pruneFn = composePruners(...pruners);
  const snap = (obj: unknown, idHash?: IdHash): unknown => {
    if (Array.isArray(obj)) return obj.map((element) => snap(element, idHash));
    if (obj && typeof obj === "object") return mapValues(pruneIds(pruneFn(obj as AnyObject), idHash), (value) => snap(value, idHash));
    return obj;
  };
  return snap;
};

export const snapshot = createSnapshot(defaultPruners);

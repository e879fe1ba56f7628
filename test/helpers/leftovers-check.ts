// The end-of-run check of issue #9 (test/global-teardown.ts): once every file has run, the shared test
// database must hold no row of any user (every table of status_public/status_private with a user_id: steps,
// unlocks, points, scores, streaks, profiles, rate-limit buckets, catch-up cursors ...) and its leaderboard
// histogram must equal the scores; the tables without users (the catalog) must hold the rows they held after
// the migration (remembered by test/global-setup.ts). Files that commit clean up with test/helpers/cleanup.ts;
// the others roll back or use a database of their own. A file that forgets makes the whole run fail here,
// with the tables, users and rows it left, so that no neighbour file (its ranks, its counts) meets them.
import pg from "pg";
import { HISTOGRAM_TABLES, histogramMismatches, leftovers } from "./cleanup";

/** record_action's rate-limit subject for a service session without a user id claim (migration 000005). */
const NIL_UUID = "00000000-0000-0000-0000-000000000000";
/** How many of the users left behind are described one by one. */
const USERS_SHOWN = 10;

interface LeftUser {
  user_id: string;
  tables: string;
  steps: string | null;
  first_step: string | null;
  last_step: string | null;
  display_name: string | null;
}

/** What the test files left in the database, as a message naming tables and users; undefined when nothing. */
export async function describeLeftovers(db: pg.Client | pg.Pool): Promise<string | undefined> {
  const found = await leftovers(db);
  // Histogram rows and deltas that sum to zero count nobody (deltas wait for the next fold). What matters
  // is that the histogram equals the scores, checked below; rows that count someone are always a mismatch
  // once the scores are gone.
  for (const table of HISTOGRAM_TABLES) delete found[table];
  const mismatches = await histogramMismatches(db);
  if (Object.keys(found).length === 0 && mismatches.length === 0) return undefined;

  const lines = ["The test files left rows behind in the shared test database (issue #9: each file leaves it as it found it)."];
  if (Object.keys(found).length > 0) {
    const tables = Object.keys(found);
    const union = tables.map((table) => `select user_id, '${table}' as table_name from ${table}`).join(" union all ");
    const { rows: users } = await db.query<LeftUser>(
      `with rows_left as (${union}),
            users as (select user_id, string_agg(table_name || ' ' || n, ', ' order by table_name) as tables
                      from (select user_id, table_name, count(*) as n from rows_left group by 1, 2) as per_table group by 1)
       select users.user_id, users.tables,
              (select string_agg(name || ' ×' || n, ', ' order by name) from (select name, count(*) as n from status_public.user_steps as s where s.user_id = users.user_id group by 1) as per_name) as steps,
              (select min(created_at)::text from status_public.user_steps as s where s.user_id = users.user_id) as first_step,
              (select max(created_at)::text from status_public.user_steps as s where s.user_id = users.user_id) as last_step,
              (select display_name from status_public.user_profiles as p where p.user_id = users.user_id) as display_name
       from users order by first_step nulls last, user_id`,
    );
    lines.push(`Rows of ${users.length} user(s), per table:`);
    for (const [table, n] of Object.entries(found)) lines.push(`  ${table}: ${n}`);
    lines.push(users.length > USERS_SHOWN ? `The first ${USERS_SHOWN} users (by their first step):` : "The users:");
    for (const user of users.slice(0, USERS_SHOWN)) {
      const steps = user.steps ? `; steps ${user.steps} from ${user.first_step} to ${user.last_step}` : "";
      const name = user.display_name ? `; display name ${JSON.stringify(user.display_name)}` : "";
      const nil = user.user_id === NIL_UUID ? " (the nil uuid: a service session with no user id claim spends this bucket; give it a tracked id)" : "";
      lines.push(`  ${user.user_id}${nil}: ${user.tables}${steps}${name}`);
    }
  }
  if (mismatches.length > 0) {
    lines.push(`The leaderboard histogram disagrees with the visible scores in ${mismatches.length} row(s) (users: the histogram's count, actual: the scores'):`);
    for (const row of mismatches.slice(0, USERS_SHOWN)) lines.push(`  ${JSON.stringify(row)}`);
  }
  lines.push(
    "A file that commits makes its users with TrackedUsers and ends with removeUsersAndCheck (test/helpers/cleanup.ts); " +
      "the others run in a rolled-back transaction (withTransaction) or on a database of their own (createPrivateDatabase).",
  );
  return lines.join("\n");
}

declare global {
  /** The other tables' rows after the migration (test/global-setup.ts), to compare with at the end. */
  // eslint-disable-next-line no-var
  var tablesAsFound: Record<string, string[]> | undefined;
}

/**
 * The rows (as text, sorted) of every table without users: the catalog (actions, achievements, criteria,
 * levels, tiers ...) that the migration and the demo catalog wrote; a few hundred rows. The histogram is
 * left out (checked against the scores instead), and so is recorded_action_results (its rows belong to
 * steps, so they go with them).
 */
export async function rowsOfTablesWithoutUsers(db: pg.Client | pg.Pool): Promise<Record<string, string[]>> {
  const { rows: tables } = await db.query<{ name: string }>(
    `select format('%I.%I', t.table_schema, t.table_name) as name
     from information_schema.tables as t
     where t.table_schema in ('jwt_public', 'status_public', 'status_private') and t.table_type = 'BASE TABLE'
       and not exists (select from information_schema.columns as c
                       where (c.table_schema, c.table_name, c.column_name) = (t.table_schema, t.table_name, 'user_id'))
     order by 1`,
  );
  const skipped = [...HISTOGRAM_TABLES, "status_private.recorded_action_results"];
  const found: Record<string, string[]> = {};
  for (const { name } of tables.filter((table) => !skipped.includes(table.name))) {
    const { rows } = await db.query<{ row: string }>(`select t::text as row from ${name} as t order by 1`);
    found[name] = rows.map((row) => row.row);
  }
  return found;
}

/** The rows added to and gone from each table since the start of the run (up to 5 of each shown). */
export function changedTables(before: Record<string, string[]>, after: Record<string, string[]>): string[] {
  const lines: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const [was, is] = [new Set(before[name] ?? []), new Set(after[name] ?? [])];
    const added = [...is].filter((row) => !was.has(row));
    const gone = [...was].filter((row) => !is.has(row));
    if (added.length === 0 && gone.length === 0) continue;
    lines.push(`  ${name}: ${added.length} row(s) added, ${gone.length} gone`);
    for (const row of added.slice(0, 5)) lines.push(`    + ${row}`);
    for (const row of gone.slice(0, 5)) lines.push(`    - ${row}`);
  }
  return lines;
}

/** Remembers the tables without users as the migration left them (test/global-setup.ts, once per run). */
export async function rememberTablesAsFound(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    globalThis.tablesAsFound = await rowsOfTablesWithoutUsers(client);
  } finally {
    await client.end();
  }
}

/**
 * Fails (throws) when the test files left anything behind in the database at databaseUrl: rows of users,
 * a histogram that disagrees with the scores, or (when the setup remembered them) other tables changed.
 */
export async function checkNothingLeftBehind(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const problems: string[] = [];
    const message = await describeLeftovers(client);
    if (message) problems.push(message);
    if (globalThis.tablesAsFound) {
      const changed = changedTables(globalThis.tablesAsFound, await rowsOfTablesWithoutUsers(client));
      if (changed.length > 0) {
        problems.push(`Test files changed tables without users (the catalog ...) and did not restore them (issue #9):\n${changed.join("\n")}`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
  } finally {
    await client.end();
  }
}

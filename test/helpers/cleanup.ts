// Tests that must commit (concurrency, a running server) share the test database with every other file,
// so they leave it as they found it: each file removes every trace of the users it made, derived tables and
// the leaderboard histogram included, and then checks that nothing is left.
import { randomUUID } from "node:crypto";
import pg from "pg";

type Queryable = pg.Pool | pg.Client;

/** Makes user ids and remembers them, so that the file can remove every trace of them at its end. */
export class TrackedUsers {
  readonly ids: string[] = [];

  /** A new user id, remembered. */
  make(): string {
    const id = randomUUID();
    this.ids.push(id);
    return id;
  }

  /** Remembers a user id made elsewhere (by the server, for instance). */
  add(...ids: string[]): void {
    this.ids.push(...ids);
  }
}

/** Every table of the project's schemas with a `user_id` column, so that a table added later is covered too. */
async function tablesWithUsers(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `select format('%I.%I', c.table_schema, c.table_name) as table_name
     from information_schema.columns as c
     join information_schema.tables as t using (table_schema, table_name)
     where c.column_name = 'user_id' and t.table_type = 'BASE TABLE'
       and c.table_schema in ('status_public', 'status_private')
     order by 1`,
  );
  return rows.map((row) => row.table_name);
}

/**
 * Removes every row of these users, in one transaction: first they leave the leaderboards through the
 * engine's own histogram function (which appends the moves as deltas: no shared row is locked), then their
 * rows go from every table that has a user_id. Then the deltas are folded, which drops histogram rows
 * left at zero users, so that the histogram is as found.
 */
export async function removeUsers(pool: pg.Pool, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(
      `select status_private.append_histogram_moves(coalesce(array_agg(row(action, period, period_start, points, null)::status_private.histogram_move), '{}'))
       from status_public.leaderboard_scores where user_id = any($1) and visible`,
      [userIds],
    );
    for (const table of await tablesWithUsers(client)) {
      await client.query(`delete from ${table} where user_id = any($1)`, [userIds]);
    }
    await client.query("commit");
    // What the standalone server does every second (another folder at work: it returns at once).
    await client.query("select status_private.fold_leaderboard_deltas()");
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The rows these users still have, per table (tables where they have none are left out). */
export async function tracesOf(db: Queryable, userIds: readonly string[]): Promise<Record<string, number>> {
  const traces: Record<string, number> = {};
  for (const table of await tablesWithUsers(db)) {
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table} where user_id = any($1)`, [userIds]);
    if (rows[0].n > 0) traces[table] = rows[0].n;
  }
  return traces;
}

/** The leaderboard histogram: its folded tables (per score, the rank levels) and the deltas not folded yet. */
export const HISTOGRAM_TABLES = [
  "status_private.leaderboard_point_counts",
  "status_private.leaderboard_rank_levels",
  "status_private.leaderboard_count_deltas",
];

/** The query of histogramMismatches (for a test's own transaction). */
export const HISTOGRAM_MISMATCHES_SQL = `
    with deltas as (select action, period, period_start, points, sum(users)::int as users from status_private.leaderboard_count_deltas group by 1, 2, 3, 4),
    point_counts as (
      select action, period, period_start, points, sum(users)::int as users
      from (select action, period, period_start, points, users from status_private.leaderboard_point_counts union all select * from deltas) as both_parts
      group by 1, 2, 3, 4
    )
    select 'points' as level, action, period, period_start::text, points as key, counts.users, scores.users as actual
    from point_counts as counts
    full join (select action, period, period_start, points, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2, 3, 4) as scores
      using (action, period, period_start, points)
    where coalesce(counts.users, 0) <> coalesce(scores.users, 0)
    union all
    -- The rank levels are folded with leaderboard_point_counts: each child's users (the difference of two
    -- suffix sums) equal the folded counts of its scores. Key: the block and the child, (block << 8) | child.
    select 'rank level ' || level, action, period, period_start::text, (block << 8) | child, levels.users, counts.users
    from (select action, period, period_start, level, block, place.child,
                 users_from[place.child + 1] - coalesce(users_from[place.child + 2], 0) as users
          from status_private.leaderboard_rank_levels cross join generate_series(0, 255) as place (child)) as levels
    full join (select action, period, period_start, level.level, (points::bigint >> (8 * (level.level + 1)))::int as block,
                      (points >> (8 * level.level)) & 255 as child, sum(users)::int as users
               from status_private.leaderboard_point_counts cross join generate_series(0, 3) as level (level)
               group by 1, 2, 3, 4, 5, 6) as counts
      using (action, period, period_start, level, block, child)
    where coalesce(levels.users, 0) <> coalesce(counts.users, 0)`;

/**
 * Where the histogram (each level folded, plus the deltas not folded yet) disagrees with the visible scores,
 * in one snapshot. Every committed state must have none, whatever other files are doing, so any file may
 * check it at any time.
 */
export async function histogramMismatches(db: Queryable): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(HISTOGRAM_MISMATCHES_SQL);
  return rows;
}

/** Removes the users, then checks that nothing of them is left and that the histogram matches the scores. */
export async function removeUsersAndCheck(pool: pg.Pool, userIds: readonly string[]): Promise<void> {
  await removeUsers(pool, userIds);
  expect(await tracesOf(pool, userIds)).toEqual({});
  expect(await histogramMismatches(pool)).toEqual([]);
}

/** A file's last step: removes its users and checks (removeUsersAndCheck), then ends the pool, whatever happened. */
export async function removeUsersAndEnd(pool: pg.Pool | undefined, userIds: readonly string[]): Promise<void> {
  if (!pool) return; // beforeAll failed before the pool existed: nothing was made
  try {
    await removeUsersAndCheck(pool, userIds);
  } finally {
    await pool.end();
  }
}

/**
 * What users left in the whole database: rows per table with a user_id, and histogram rows. After a run in
 * which every file cleaned up, it is empty (test/global-teardown.ts can check it once all files are done).
 */
export async function leftovers(db: Queryable): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  const tables = [...(await tablesWithUsers(db)), ...HISTOGRAM_TABLES];
  for (const table of tables) {
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    if (rows[0].n > 0) found[table] = rows[0].n;
  }
  return found;
}

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
 * engine's own histogram function (which locks the shared rows in its global order, so it neither
 * deadlocks with nor miscounts for concurrent writers), then their rows go from every table that has a
 * user_id. Histogram rows left at zero users are deleted, so that the histogram is as found.
 */
export async function removeUsers(pool: pg.Pool, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query(
      `select status_private.apply_histogram_moves(coalesce(array_agg(row(period, period_start, points, null)::status_private.histogram_move), '{}'))
       from status_public.leaderboard_scores where user_id = any($1) and visible`,
      [userIds],
    );
    for (const table of await tablesWithUsers(client)) {
      await client.query(`delete from ${table} where user_id = any($1)`, [userIds]);
    }
    await client.query("commit");
    // Rows at zero users count nobody: the engine leaves them when users move to another score, and this
    // removal when its users were a row's last. Each statement on its own, skipping rows that a concurrent
    // transaction holds (it is adding to them): no lock waits, so no deadlock with the engine's lock order.
    for (const table of ["leaderboard_point_counts", "leaderboard_bucket_counts"]) {
      await client.query(
        `delete from status_private.${table} where ctid in (select ctid from status_private.${table} where users = 0 for update skip locked)`,
      );
    }
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

/**
 * Where the histogram disagrees with the visible scores (both levels), in one snapshot. Every committed
 * state must have none, whatever other files are doing, so any file may check it at any time.
 */
export async function histogramMismatches(db: Queryable): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query(`
    select 'points' as level, period, period_start::text, points as key, counts.users, scores.users as actual
    from status_private.leaderboard_point_counts as counts
    full join (select period, period_start, points, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2, 3) as scores
      using (period, period_start, points)
    where coalesce(counts.users, 0) <> coalesce(scores.users, 0)
    union all
    select 'bucket', period, period_start::text, bucket, counts.users, scores.users
    from status_private.leaderboard_bucket_counts as counts
    full join (select period, period_start, points / 100 as bucket, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2, 3) as scores
      using (period, period_start, bucket)
    where coalesce(counts.users, 0) <> coalesce(scores.users, 0)`);
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
  const tables = [...(await tablesWithUsers(db)), "status_private.leaderboard_point_counts", "status_private.leaderboard_bucket_counts"];
  for (const table of tables) {
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    if (rows[0].n > 0) found[table] = rows[0].n;
  }
  return found;
}

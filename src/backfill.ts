// Backfill (migration 000009, 9-backfill.sql): awards achievements to the users whose past steps meet their
// rules now (after a new achievement or a changed rule), as if earned at the step that made them true. One
// transaction per batch of users, so live traffic waits for one batch at most; an interrupted run resumes
// where its last batch ended (`resume`), and however often it runs, each unlock counts once. Then every user's
// tier is brought to the tier of their points (after tier boundaries moved).
import pg from "pg";
import type { Logger } from "./logger";

export interface BackfillOptions {
  /** A connection string of the database owner (the backfill writes derived tables, as the engine does). */
  connectionString: string;
  /** The achievements to backfill; all of them when left out. */
  achievementIds?: string[];
  /** Notify the users (live toasts) of their backfilled unlocks; default false: quietly, with the summary only. */
  notify?: boolean;
  /** Users per transaction (default 500). */
  batchSize?: number;
  /** Go on with this run (the `run` of an earlier summary) instead of starting one. */
  resume?: number;
  log?: Logger;
}

export interface BackfillSummary {
  run: number;
  achievementIds: string[];
  usersChecked: number;
  unlocks: number;
  points: number;
  finished: boolean;
  /** Users whose stored tier was not the tier of their points (tier boundaries moved), now moved. */
  retiered: number;
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    const run =
      options.resume ??
      Number((await client.query<{ id: string }>("select status_private.start_backfill($1, $2) as id", [options.achievementIds ?? null, options.notify ?? false])).rows[0].id);
    const batchSize = options.batchSize ?? 500;
    for (let more = true; more; ) {
      more = (await client.query<{ more: boolean }>("select status_private.backfill_batch($1, $2) as more", [run, batchSize])).rows[0].more;
      options.log?.info(await summaryOf(client, run, 0), "backfill: batch done");
    }
    // Then the tiers, in case their boundaries moved too (idempotent: a tier already right is left alone).
    let retiered = 0;
    for (let after: string | null = null; ; ) {
      const result: pg.QueryResult<{ changed: number; last_user_id: string | null }> = await client.query(
        "select * from status_private.retier_batch($1, $2)",
        [after, batchSize],
      );
      const [batch] = result.rows;
      if (batch.last_user_id === null) break;
      retiered += batch.changed;
      after = batch.last_user_id;
    }
    return await summaryOf(client, run, retiered); // before the finally ends the connection
  } finally {
    await client.end();
  }
}

async function summaryOf(client: pg.Client, run: number, retiered: number): Promise<BackfillSummary> {
  const { rows } = await client.query(
    `select id, achievement_ids, users_checked, unlocks, points, finished_at is not null as finished
     from status_private.backfill_runs where id = $1`,
    [run],
  );
  const row = rows[0];
  return {
    run: Number(row.id),
    achievementIds: row.achievement_ids,
    usersChecked: Number(row.users_checked),
    unlocks: Number(row.unlocks),
    points: Number(row.points),
    finished: row.finished,
    retiered,
  };
}

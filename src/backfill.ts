// Backfill (migrations/current/9-backfill.sql): awards achievements to the users whose past steps meet their
// rules now (after a new achievement or a changed rule), as if earned at the step that made them true. One
// transaction per batch of users, so live traffic waits for one batch at most; an interrupted run resumes
// where its last batch ended (`resume`), and however often it runs, each unlock counts once.
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
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    const run =
      options.resume ??
      Number((await client.query<{ id: string }>("select status_private.start_backfill($1, $2) as id", [options.achievementIds ?? null, options.notify ?? false])).rows[0].id);
    for (;;) {
      const { rows } = await client.query<{ more: boolean }>("select status_private.backfill_batch($1, $2) as more", [run, options.batchSize ?? 500]);
      const progress = await summaryOf(client, run);
      options.log?.info(progress, "backfill: batch done");
      if (!rows[0].more) return progress;
    }
  } finally {
    await client.end();
  }
}

async function summaryOf(client: pg.Client, run: number): Promise<BackfillSummary> {
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
  };
}

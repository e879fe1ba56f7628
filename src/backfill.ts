// Backfill (migration 000009, 9-backfill.sql, and 000012, 3-backfill-admin.sql): awards achievements and levels to
// the users whose past steps meet their rules now (after a new achievement or a changed rule), as if earned at the
// step that made them true; then every user's tier is brought to the tier of their points (after tier boundaries
// moved). One transaction per batch of users, so live traffic waits for one batch at most; an interrupted run
// resumes where its last batch ended (`resume`), and however often it runs, each unlock counts once. The batches
// are status_private.work_on_backfill's, the call the server's worker makes (src/backfill-worker.ts): a run that
// the CLI and a worker both work on is shared batch by batch.
import pg from "pg";
import type { Logger } from "./logger";

export interface BackfillOptions {
  /** The database owner's connection string (to start a run); to resume one, the authenticator's will do. */
  connectionString: string;
  /** The achievements to backfill; all of them when left out. */
  achievementIds?: string[];
  /** The levels to backfill; all of them when left out (`[]`: none). */
  levels?: string[];
  /** Notify the users (live toasts) of their backfilled unlocks; default false: quietly, with the summary only. */
  notify?: boolean;
  /** Users per transaction (default 500). */
  batchSize?: number;
  /** Go on with this run (the `run` of an earlier summary, or one an admin started) instead of starting one. */
  resume?: number;
  log?: Logger;
}

export interface BackfillSummary {
  run: number;
  achievementIds: string[];
  levels: string[];
  usersChecked: number;
  unlocks: number;
  points: number;
  levelsAchieved: number;
  finished: boolean;
  /** Users whose stored tier was not the tier of their points (tier boundaries moved), now moved. */
  retiered: number;
}

/** A batch's failure, as work_on_backfill reports it (the SQLSTATE, AC4xx for the engine's refusals). */
export class BackfillError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function runBackfill(options: BackfillOptions): Promise<BackfillSummary> {
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    const run =
      options.resume ??
      Number(
        (
          await client.query<{ id: string }>("select status_private.start_backfill($1, $2, $3, $4) as id", [
            options.achievementIds ?? null,
            options.notify ?? false,
            options.levels ?? null,
            options.batchSize ?? 500,
          ])
        ).rows[0].id,
      );
    await workOnBackfill(client, run, options.log);
    return await backfillSummary((text, values) => client.query<RunRow>(text, values).then((result) => result.rows), run);
  } finally {
    await client.end();
  }
}

/** Runs the run's batches until it is finished, as work_on_backfill (executable by the owner and the authenticator). */
export async function workOnBackfill(client: pg.ClientBase, run: number, log?: Logger): Promise<void> {
  for (let more = true; more; ) {
    const { rows } = await client.query<{ more: boolean; error_code: string | null; error_message: string | null }>(
      "select * from status_private.work_on_backfill($1)",
      [run],
    );
    if (rows[0].error_code) throw new BackfillError(rows[0].error_message ?? "backfill batch failed", rows[0].error_code);
    more = rows[0].more;
    log?.debug({ run }, "backfill: batch done");
  }
}

interface RunRow {
  id: string;
  achievement_ids: string[];
  levels: string[];
  users_checked: string;
  unlocks: string;
  points: string;
  levels_achieved: string;
  finished: boolean;
  retiered: string;
}

/** A run's summary, as admins read it (status_public.backfill_runs: the owner or the admin role). */
export async function backfillSummary(query: (text: string, values: unknown[]) => Promise<RunRow[]>, run: number): Promise<BackfillSummary> {
  const rows = await query(
    `select id, achievement_ids, levels, users_checked, unlocks, points, levels_achieved, finished_at is not null as finished, retiered
     from status_public.backfill_runs where id = $1`,
    [run],
  );
  const row = rows[0];
  return {
    run: Number(row.id),
    achievementIds: row.achievement_ids,
    levels: row.levels,
    usersChecked: Number(row.users_checked),
    unlocks: Number(row.unlocks),
    points: Number(row.points),
    levelsAchieved: Number(row.levels_achieved),
    finished: row.finished,
    retiered: Number(row.retiered),
  };
}

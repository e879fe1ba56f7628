// Runs the backfills that admins start (`startBackfill`, `applyCatalog(input: { backfill: true })`) in the server,
// so that no GraphQL request runs for hours. Each round calls status_private.work_on_backfill (migration
// 000012, 3-backfill-admin.sql) until it finds nothing to do: one batch of the oldest unfinished run that no other
// worker holds (`for update skip locked`), in a transaction of its own, so that several servers or WORKERS share
// the runs and never run one batch twice, and a worker killed mid-batch leaves the batch to the next claim. A
// failing batch is recorded on the run (`lastError`) and retried a minute later. Woken by NOTIFY when a run
// starts, and by a poll (runs started while it was down, retries that come due).
import pg from "pg";
import type { Logger } from "./logger";
import { startNotifiedLoop } from "./notified-loop";

/** The channel start_backfill notifies. */
const BACKFILL_CHANNEL = "achievements:backfill";

export interface BackfillWorkerOptions {
  /** A role that may execute status_private.work_on_backfill (the authenticator). */
  connectionString: string;
  /** Where to LISTEN for new runs, when `connectionString` goes through PgBouncer in transaction mode (LISTEN_DATABASE_URL). */
  listenConnectionString?: string;
  /** Poll for runs (default 5,000 ms). */
  pollIntervalMs?: number;
  /** A run whose batch failed is claimed again after this long (default 60,000 ms). */
  retryAfterMs?: number;
  log?: Logger;
}

export interface BackfillWorker {
  /** Runs batches until none is left to claim (tests, shutdown); resolves with how many ran. */
  workNow(): Promise<number>;
  stop(): Promise<void>;
}

interface Claimed {
  claimed_run: string;
  more: boolean;
  error_code: string | null;
  error_message: string | null;
}

export function startBackfillWorker(options: BackfillWorkerOptions): BackfillWorker {
  const retryAfterSeconds = (options.retryAfterMs ?? 60_000) / 1000;
  const log = options.log;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 1, idleTimeoutMillis: 0 });
  pool.on("error", (error) => log?.warn({ err: error }, "backfill worker: connection lost"));

  /** Batches, one transaction each, until no run is left to claim. */
  async function round(loop: { readonly stopped: boolean }): Promise<number> {
    let batches = 0;
    while (!loop.stopped) {
      const { rows } = await pool.query<Claimed>("select * from status_private.work_on_backfill(null, $1)", [retryAfterSeconds]);
      const [claimed] = rows;
      if (!claimed) return batches;
      batches++;
      if (claimed.error_code) {
        log?.warn({ run: Number(claimed.claimed_run), code: claimed.error_code, error: claimed.error_message }, "backfill batch failed; retrying later");
      } else if (!claimed.more) {
        log?.info({ run: Number(claimed.claimed_run) }, "backfill finished");
      }
    }
    return batches;
  }

  const loop = startNotifiedLoop({
    connectionString: options.connectionString,
    listenConnectionString: options.listenConnectionString,
    channels: [BACKFILL_CHANNEL],
    pollIntervalMs: options.pollIntervalMs ?? 5_000,
    name: "backfill worker",
    log,
    round,
  });
  return {
    workNow: loop.runNow,
    async stop() {
      await loop.stop();
      await pool.end();
    },
  };
}

// Folds the leaderboard's appended histogram deltas (status_private.fold_leaderboard_deltas) every second.
// The event path only appends deltas, so that no two writers wait for the same histogram row; ranks read the
// folded histogram plus the deltas not folded yet, so they are exact either way: folding keeps rank reads
// fast. One folder works at a time (an advisory lock): several servers (or WORKERS) may all run this.
import pg from "pg";
import type { Logger } from "./logger";

export interface LeaderboardFolding {
  /** Folds once now (tests, shutdown); resolves with how many (board, points) changes were folded. */
  foldNow(): Promise<number>;
  stop(): Promise<void>;
}

export function startLeaderboardFolding(options: {
  /** A connection string of a role that may execute status_private.fold_leaderboard_deltas() (the authenticator). */
  connectionString: string;
  /** Default 1000 ms: the longest that deltas wait. */
  intervalMs?: number;
  log?: Logger;
}): LeaderboardFolding {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 1, idleTimeoutMillis: 0 });
  pool.on("error", (error) => options.log?.warn({ err: error }, "leaderboard folding: connection lost"));
  let running: Promise<number> | undefined;
  const foldNow = (): Promise<number> => {
    running ??= pool
      .query<{ folded: number }>("select status_private.fold_leaderboard_deltas() as folded")
      .then((result) => result.rows[0].folded)
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => {
    foldNow().catch((error: unknown) => options.log?.warn({ err: error }, "leaderboard folding failed; retrying"));
  }, options.intervalMs ?? 1000);
  timer.unref();
  return {
    foldNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
      await pool.end();
    },
  };
}

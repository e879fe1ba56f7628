// Leaderboard ranks stay exact while points change concurrently: many transactions award points to
// overlapping users at once, and afterwards the histogram matches the scores and the scores the ledger.
import type pg from "pg";
import { newUserId, rootPool } from "../../helpers/db";

async function awardWithRetry(pool: pg.Pool, userId: string, points: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query("begin");
      await client.query("insert into status_public.points_ledger (user_id, points) values ($1, $2)", [userId, points]);
      await client.query("commit");
      return attempt;
    } catch (error) {
      await client.query("rollback");
      // A deadlock aborts one of the transactions: nothing of it was written, so it is retried.
      if ((error as { code?: string }).code !== "40P01" || attempt >= 5) throw error;
    } finally {
      client.release();
    }
  }
}

describe("leaderboards under concurrency", () => {
  it("keep the histogram exact", async () => {
    const pool = rootPool(16);
    const users = Array.from({ length: 12 }, newUserId);
    try {
      const attempts = await Promise.all(
        Array.from({ length: 16 }, (_, writer) =>
          (async () => {
            let total = 0;
            for (let i = 0; i < 15; i++) total += await awardWithRetry(pool, users[(writer + i) % users.length], 10 * (1 + ((writer * i) % 3)));
            return total;
          })(),
        ),
      );
      expect(attempts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(16 * 15);

      const { rows: scoresVsLedger } = await pool.query(
        `select score.user_id, score.points, ledger.points as ledger_points
         from status_public.leaderboard_scores as score
         join (select user_id, sum(points)::int as points from status_public.points_ledger where user_id = any($1) group by user_id) as ledger using (user_id)
         where score.period = 'ALL_TIME' and score.points <> ledger.points`,
        [users],
      );
      expect(scoresVsLedger).toEqual([]);
      const { rows: histogramMismatches } = await pool.query(
        `select period, points, counts.users, scores.users as actual
         from status_private.leaderboard_point_counts as counts
         full join (select period, period_start, points, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2, 3) as scores
           using (period, period_start, points)
         where coalesce(counts.users, 0) <> coalesce(scores.users, 0)
         union all
         select period, bucket, counts.users, scores.users
         from status_private.leaderboard_bucket_counts as counts
         full join (select period, period_start, points / 100 as bucket, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2, 3) as scores
           using (period, period_start, bucket)
         where coalesce(counts.users, 0) <> coalesce(scores.users, 0)`,
      );
      expect(histogramMismatches).toEqual([]);
    } finally {
      // Take the users off the boards (and the histogram) before removing their rows.
      await pool.query(
        `select status_private.apply_histogram_moves(array_agg(row(period, period_start, points, null)::status_private.histogram_move))
         from status_public.leaderboard_scores where user_id = any($1) and visible`,
        [users],
      );
      for (const table of ["leaderboard_scores", "points_ledger", "user_scores"]) {
        await pool.query(`delete from status_public.${table} where user_id = any($1)`, [users]);
      }
      await pool.end();
    }
  });
});

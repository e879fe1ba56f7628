// Leaderboard ranks stay exact while points change concurrently: many transactions award points to
// overlapping users at once, and afterwards the histogram matches the scores and the scores the ledger.
import type pg from "pg";
import { HISTOGRAM_MISMATCHES_SQL, removeUsersAndCheck } from "../../helpers/cleanup";
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
    // 16 writers award 15 times each: writer w's i-th award goes to user (w + i) mod 12, 10, 20 or 30 points.
    const schedule = Array.from({ length: 16 }, (_, writer) =>
      Array.from({ length: 15 }, (_, i) => ({ user: users[(writer + i) % users.length], points: 10 * (1 + ((writer * i) % 3)) })),
    );
    const expectedPoints = Object.fromEntries(users.map((user) => [user, 0]));
    for (const award of schedule.flat()) expectedPoints[award.user] += award.points;
    try {
      await Promise.all(
        schedule.map(async (awards) => {
          for (const award of awards) await awardWithRetry(pool, award.user, award.points);
        }),
      );
      // Each award counted once, retried or not: the ledger has exactly 240 entries, and each user the schedule's points.
      const { rows: ledger } = await pool.query<{ user_id: string; entries: number; points: number }>(
        "select user_id::text, count(*)::int as entries, sum(points)::int as points from status_public.points_ledger where user_id = any($1) group by user_id",
        [users],
      );
      expect(ledger.reduce((sum, row) => sum + row.entries, 0)).toBe(16 * 15);
      expect(Object.fromEntries(ledger.map((row) => [row.user_id, row.points]))).toEqual(expectedPoints);
      const { rows: allTime } = await pool.query<{ user_id: string; points: number }>(
        "select user_id::text, points from status_public.leaderboard_scores where period = 'ALL_TIME' and user_id = any($1)",
        [users],
      );
      expect(Object.fromEntries(allTime.map((row) => [row.user_id, row.points]))).toEqual(expectedPoints);

      const { rows: scoresVsLedger } = await pool.query(
        `select score.user_id, score.points, ledger.points as ledger_points
         from status_public.leaderboard_scores as score
         join (select user_id, sum(points)::int as points from status_public.points_ledger where user_id = any($1) group by user_id) as ledger using (user_id)
         where score.period = 'ALL_TIME' and score.points <> ledger.points`,
        [users],
      );
      expect(scoresVsLedger).toEqual([]);
      // Exact before folding (the deltas count) and after (what the server does every second).
      expect((await pool.query(HISTOGRAM_MISMATCHES_SQL)).rows).toEqual([]);
      await pool.query("select status_private.fold_leaderboard_deltas()");
      const { rows: histogramMismatches } = await pool.query(HISTOGRAM_MISMATCHES_SQL);
      expect(histogramMismatches).toEqual([]);
    } finally {
      try {
        await removeUsersAndCheck(pool, users);
      } finally {
        await pool.end();
      }
    }
  });
});

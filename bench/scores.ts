// Scored users for the read benchmarks (bench/reads.ts, bench/overhead.ts), awarded as bench/rank.ts does:
// points_ledger inserts in batches, whose triggers write every period's scores and the leaderboard histogram.
import type pg from "pg";

/**
 * Folds the leaderboard's pending histogram deltas (status_private.fold_leaderboard_deltas(), which a running
 * server calls every second): the steady state reads see.
 */
export async function foldLeaderboardDeltas(client: pg.Client): Promise<void> {
  await client.query("select status_private.fold_leaderboard_deltas()");
  await client.query("vacuum analyze status_private.leaderboard_count_deltas");
}

/**
 * Adds `users` new users, each awarded once through the engine, with points from a long-tailed distribution
 * (many low scores, few high ones) in steps of 5; then folds the histogram's deltas and
 * VACUUM ANALYZEs the tables the leaderboard queries read.
 */
export async function awardScoredUsers(client: pg.Client, users: number): Promise<void> {
  const batch = 50_000;
  for (let done = 0; done < users; done += batch) {
    await client.query(
      `insert into status_public.points_ledger (user_id, points, created_at)
       select gen_random_uuid(), 5 + 5 * floor(power(random(), 3) * 4000)::int, now() - random() * interval '90 days'
       from generate_series(1, $1)`,
      [Math.min(batch, users - done)],
    );
  }
  await foldLeaderboardDeltas(client);
  for (const table of [
    "status_public.leaderboard_scores",
    "status_public.user_scores",
    "status_public.user_profiles",
    "status_private.leaderboard_point_counts",
    "status_private.leaderboard_rank_levels",
  ]) {
    await client.query(`vacuum analyze ${table}`);
  }
}

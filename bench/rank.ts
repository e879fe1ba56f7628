// Benchmark: one user's exact all-time rank among N scored users, three ways, in the same run:
//   histogram  status_private.rank_of(): 1 + the users above you in the folded histogram (the 100-point
//              buckets; with migration 000014, 4-reads.sql, the rank levels) + the pending deltas above you
//              (what myRank and the leaderboards use)
//   naive      1 + count(*) of the users with more points (index-only scan over everyone above you)
//   redis      ZREVRANK on a sorted set, in a redis-server that the benchmark starts on a free port of
//              127.0.0.1 and stops (skipped, and said so, when redis-server is not installed: apt redis-server)
// The scores are awarded through the engine (points_ledger inserts, whose triggers keep the scores and the
// histogram), and every lookup is checked: the histogram's rank against count(*), and Redis' answer against
// both. Writes bench/results/rank.json and prints a table. Usage: npm run bench:rank [-- 10000 100000 1000000]
import "../src/environment";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import pg from "pg";
import { PROJECT_ROOT } from "../src/config";
import { withDatabase } from "../src/connection-strings";
import { startEmbeddedPostgres } from "../src/embedded-postgres";
import { createLogger } from "../src/logger";
import { migrateDatabase, withClient } from "../src/migrate";
import { freePort } from "../test/helpers/ports";
import { awardScoredUsers } from "./scores";

const SIZES = process.argv.slice(2).map(Number).filter(Boolean);
const USER_COUNTS = SIZES.length > 0 ? SIZES : [10_000, 100_000, 1_000_000];
const LOOKUPS = 300;
const log = createLogger(process.env.LOG_LEVEL ?? "warn");

interface Timing {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

async function time(samples: number[], run: () => Promise<unknown>) {
  const started = process.hrtime.bigint();
  await run();
  samples.push(Number(process.hrtime.bigint() - started) / 1e6);
}

/**
 * N users with points drawn from a long-tailed distribution (many low scores, few high ones), in steps of 5,
 * each awarded once through the engine: inserts into points_ledger in batches, whose triggers write the
 * users' scores (every period) and the histogram's deltas, as they do for real awards. Then folds the deltas
 * and checks that the histogram's counts per score match the all-time scores.
 */
async function populate(client: pg.Client, users: number): Promise<void> {
  await client.query(
    `truncate status_public.points_ledger, status_public.user_scores, status_public.leaderboard_scores,
              status_private.leaderboard_point_counts, status_private.leaderboard_count_deltas,
              status_private.leaderboard_rank_levels`,
  );
  // Awarded through the engine, then folded and analyzed, as the read benchmarks do (bench/scores.ts).
  await awardScoredUsers(client, users);
  const { rows: mismatches } = await client.query(
    `select 'points' as level, coalesce(counts.points, scores.points) as key, counts.users, scores.users as actual
     from (select * from status_private.leaderboard_point_counts where period = 'ALL_TIME') as counts
     full join (select points, count(*)::int as users from status_public.leaderboard_scores where period = 'ALL_TIME' and visible group by 1) as scores using (points)
     where coalesce(counts.users, 0) <> coalesce(scores.users, 0)
     limit 5`,
  );
  if (mismatches.length > 0) throw new Error(`the histogram does not match the scores: ${JSON.stringify(mismatches)}`);
  const { rows } = await client.query("select count(*)::int as n from status_public.leaderboard_scores where period = 'ALL_TIME'");
  if (rows[0].n !== users) throw new Error(`${rows[0].n} all-time scores for ${users} users`);
}

/** A redis-server of the benchmark's own, on a free port of 127.0.0.1, keeping nothing on disk; null when it is not installed. */
async function startRedis(): Promise<{ redis: Redis; stop(): Promise<void> } | null> {
  if (spawnSync("redis-server", ["--version"]).error) return null;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "achievements-bench-redis-"));
  const server: ChildProcess = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
    stdio: "ignore",
  });
  const exited = new Promise((resolve) => server.once("exit", resolve));
  const redis = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => undefined);
  const stop = async () => {
    redis.disconnect();
    server.kill("SIGTERM");
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await redis.connect();
      await redis.ping();
      return { redis, stop };
    } catch (error) {
      if (attempt >= 50) {
        await stop();
        throw new Error(`redis-server on port ${port} did not answer: ${error instanceof Error ? error.message : String(error)}`);
      }
      redis.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function main(): Promise<void> {
  let stop = async () => {};
  let serverUrl = process.env.BENCH_DATABASE_URL;
  if (!serverUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), "achievements-bench-"));
    const embedded = await startEmbeddedPostgres({ dataDir, port: await freePort(), password: randomBytes(16).toString("hex"), log });
    serverUrl = embedded.url;
    stop = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }
  const databaseUrl = withDatabase(serverUrl, "achievements_bench");
  await withClient(withDatabase(serverUrl, "postgres"), (client) => client.query("drop database if exists achievements_bench with (force)"));
  await migrateDatabase({ databaseUrl, authenticatorPassword: randomBytes(16).toString("hex"), log });

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const ownRedis = await startRedis();
  const redis = ownRedis?.redis ?? null;
  process.stderr.write(ownRedis ? "redis: a redis-server of this benchmark's own\n" : "redis: redis-server is not installed (apt install redis-server): its column is skipped\n");

  const rows = [];
  try {
    for (const users of USER_COUNTS) {
      process.stderr.write(`${users} users: awarding their points through the engine...\n`);
      const populating = process.hrtime.bigint();
      await populate(client, users);
      process.stderr.write(`${users} users: populated in ${(Number(process.hrtime.bigint() - populating) / 1e9).toFixed(1)} s, histogram checked\n`);
      const { rows: sample } = await client.query<{ user_id: string; points: number }>(
        "select user_id::text, points from status_public.leaderboard_scores tablesample bernoulli (least(100, 100.0 * $1 / $2)) where period = 'ALL_TIME' limit $1",
        [LOOKUPS * 2, users],
      );
      const probes = sample.slice(0, LOOKUPS);
      if (redis) {
        await redis.del("bench:leaderboard");
        const { rows: all } = await client.query<{ user_id: string; points: number }>("select user_id::text, points from status_public.leaderboard_scores where period = 'ALL_TIME'");
        for (let i = 0; i < all.length; i += 10_000) {
          await redis.zadd("bench:leaderboard", ...all.slice(i, i + 10_000).flatMap((row) => [row.points, row.user_id]));
        }
      }
      const histogram: number[] = [];
      const naive: number[] = [];
      const zrevrank: number[] = [];
      for (const probe of probes) {
        let viaHistogram = 0;
        let viaCount = 0;
        await time(histogram, async () => {
          viaHistogram = (await client.query("select status_private.rank_of('ALL_TIME', '-infinity', $1) as rank", [probe.points])).rows[0].rank;
        });
        await time(naive, async () => {
          viaCount = (await client.query(
            `select 1 + count(*)::int as rank from status_public.leaderboard_scores
             where period = 'ALL_TIME' and period_start = '-infinity' and visible and points > $1`,
            [probe.points],
          )).rows[0].rank;
        });
        if (viaHistogram !== viaCount) throw new Error(`rank mismatch for ${probe.points} points: histogram ${viaHistogram}, count ${viaCount}`);
        if (redis) {
          let position: number | null = null;
          await time(zrevrank, async () => {
            position = await redis.zrevrank("bench:leaderboard", probe.user_id);
          });
          // ZREVRANK is a 0-based position: ties are ordered by member, so it lies among the tied users' positions.
          const higher = Number(await redis.zcount("bench:leaderboard", `(${probe.points}`, "+inf"));
          const tied = Number(await redis.zcount("bench:leaderboard", probe.points, probe.points));
          if (higher + 1 !== viaHistogram || position === null || position < higher || position >= higher + tied) {
            throw new Error(`Redis disagrees for ${probe.points} points: ${higher} higher, ${tied} tied, ZREVRANK ${position}; histogram rank ${viaHistogram}`);
          }
        }
      }
      const row = {
        users,
        histogram: percentiles(histogram),
        naive: percentiles(naive),
        redis: redis ? percentiles(zrevrank) : null,
        distinctScores: (await client.query("select count(*)::int as n from status_private.leaderboard_point_counts where period = 'ALL_TIME'")).rows[0].n as number,
      };
      rows.push(row);
      process.stderr.write(`${users} users: histogram p50 ${row.histogram.p50.toFixed(3)} ms, naive p50 ${row.naive.p50.toFixed(3)} ms\n`);
    }
  } finally {
    await ownRedis?.stop();
    await client.end();
    await stop();
  }

  const format = (t: Timing | null) => (t ? `${t.p50.toFixed(3)} / ${t.p99.toFixed(3)}` : "skipped");
  const table = [
    "| users | distinct scores | histogram p50 / p99 ms | naive count(*) p50 / p99 ms | Redis ZREVRANK p50 / p99 ms | naive / histogram (p50) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (row) =>
        `| ${row.users.toLocaleString("en")} | ${row.distinctScores} | ${format(row.histogram)} | ${format(row.naive)} | ${format(row.redis)} | ${(row.naive.p50 / row.histogram.p50).toFixed(1)}x |`,
    ),
  ].join("\n");
  process.stdout.write(table + "\n");
  await mkdir(join(PROJECT_ROOT, "bench", "results"), { recursive: true });
  await writeFile(join(PROJECT_ROOT, "bench", "results", "rank.json"), JSON.stringify({ date: new Date().toISOString(), lookups: LOOKUPS, rows }, null, 2) + "\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

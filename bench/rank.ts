// Benchmark: one user's exact all-time rank among N scored users, three ways, in the same run:
//   histogram  status_private.rank_of(): 1 + the users in higher 100-point buckets + those above you in
//              yours, from the two-level histogram (what myRank and the leaderboards use)
//   naive      1 + count(*) of the users with more points (index-only scan over everyone above you)
//   redis      ZREVRANK on a sorted set (on 127.0.0.1:6379 when present; skipped otherwise)
// Writes bench/results/rank.json and prints a table. Usage: npm run bench:rank [-- 10000 100000 1000000]
import "../src/environment";
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

/** N users with points drawn from a long-tailed distribution (many low scores, few high ones), in steps of 5. */
async function populate(client: pg.Client, users: number): Promise<void> {
  await client.query("truncate status_public.leaderboard_scores, status_private.leaderboard_point_counts, status_private.leaderboard_bucket_counts");
  await client.query(
    `insert into status_public.leaderboard_scores (period, period_start, user_id, points, reached_at, visible)
     select 'ALL_TIME', '-infinity', gen_random_uuid(), 5 + 5 * floor(power(random(), 3) * 4000)::int, now() - random() * interval '90 days', true
     from generate_series(1, $1)`,
    [users],
  );
  await client.query(
    `insert into status_private.leaderboard_point_counts (period, period_start, points, users)
     select period, period_start, points, count(*) from status_public.leaderboard_scores where visible group by 1, 2, 3`,
  );
  await client.query(
    `insert into status_private.leaderboard_bucket_counts (period, period_start, bucket, users)
     select period, period_start, points / 100, count(*) from status_public.leaderboard_scores where visible group by 1, 2, 3`,
  );
  await client.query("vacuum analyze status_public.leaderboard_scores");
  await client.query("vacuum analyze status_private.leaderboard_point_counts");
  await client.query("vacuum analyze status_private.leaderboard_bucket_counts");
}

async function redisOrNull(): Promise<Redis | null> {
  const redis = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch {
    redis.disconnect();
    return null;
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
  const redis = await redisOrNull();
  process.stderr.write(redis ? "redis: 127.0.0.1:6379\n" : "redis: not reachable on 127.0.0.1:6379, its column is skipped\n");

  const rows = [];
  try {
    for (const users of USER_COUNTS) {
      process.stderr.write(`${users} users: populating...\n`);
      await populate(client, users);
      const { rows: sample } = await client.query<{ user_id: string; points: number }>(
        "select user_id, points from status_public.leaderboard_scores tablesample bernoulli (least(100, 100.0 * $1 / $2)) limit $1",
        [LOOKUPS * 2, users],
      );
      const probes = sample.slice(0, LOOKUPS);
      if (redis) {
        await redis.del("bench:leaderboard");
        const { rows: all } = await client.query<{ user_id: string; points: number }>("select user_id, points from status_public.leaderboard_scores");
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
        if (redis) await time(zrevrank, () => redis.zrevrank("bench:leaderboard", probe.user_id));
      }
      const row = {
        users,
        histogram: percentiles(histogram),
        naive: percentiles(naive),
        redis: redis ? percentiles(zrevrank) : null,
        distinctScores: (await client.query("select count(*)::int as n from status_private.leaderboard_point_counts")).rows[0].n as number,
      };
      rows.push(row);
      process.stderr.write(`${users} users: histogram p50 ${row.histogram.p50.toFixed(3)} ms, naive p50 ${row.naive.p50.toFixed(3)} ms\n`);
    }
  } finally {
    if (redis) {
      await redis.del("bench:leaderboard");
      redis.disconnect();
    }
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

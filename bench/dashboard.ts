// Benchmark: the progress reads against the catalog's size, timed inside PostgreSQL (no network, no driver), in
// the same run, catalog by catalog:
//   my_achievements   status_public.my_achievements() as a user: every visible achievement with its progress
//   my_dashboard      status_public.my_dashboard() as a user: the same progress once, and tier, tallies, streaks...
//   plain             the rows any design reads for it: every achievement with its criteria, and the user's
//                     tallies and unlocks (a plain join, no progress maths), as the superuser
// Catalogs: the demo's 11 achievements, then `--catalogs` sizes (default 1,011 and 10,011), each extra
// achievement one `count` criterion on tasks_completed, every 10th also a `streak` one (so some have two). One
// user with 18 tasks and a login (a few unlocks). Each statement runs `calls` times in a DO loop timed with
// clock_timestamp(), `repeats` times in a turning order; the median of the repeats' mean time per call is
// reported. Before timing, my_achievements' rows are checked against the visible catalog. A design whose cost
// grows faster than the catalog shows as a rising ratio to the plain read from one size to the next.
// Writes bench/results/dashboard.json and prints a table.
// Usage: npm run bench:dashboard [-- --catalogs=1011,10011 --calls=20 --repeats=5]
import "../src/environment";
import pg from "pg";
import { cleanUp, machine, main, median, option, progress, roles, startBenchDatabase, timeInDatabase, writeResult } from "./common";

const CALLS = option("calls", 20);
const REPEATS = option("repeats", 5);
const CATALOGS = (process.argv.find((arg) => arg.startsWith("--catalogs="))?.slice("--catalogs=".length) ?? "1011,10011").split(",").map(Number);
const USER = "5ca1ab1e-0000-4000-8000-000000000001";

const STATEMENTS = {
  my_achievements: "select * from status_public.my_achievements()",
  my_dashboard: "select * from status_public.my_dashboard()",
  plain: `select achievement.*, criterion.*, tally.count, unlock.unlocked_at
          from status_public.achievements as achievement
          left join status_public.achievement_criteria as criterion on criterion.achievement_id = achievement.id
          left join status_public.user_achievements as tally on tally.user_id = '${USER}' and tally.name = criterion.action
          left join status_public.achievement_unlocks as unlock on unlock.user_id = '${USER}' and unlock.achievement_id = achievement.id`,
};
type Read = keyof typeof STATEMENTS;
const READS = Object.keys(STATEMENTS) as Read[];

/** The mean time of one call of `read`, in ms (as the user, but for the plain read). */
async function timeRead(client: pg.Client, read: Read): Promise<number> {
  await client.query(read === "plain" ? "reset role" : `set role ${client.escapeIdentifier(roles.user)}`);
  try {
    return await timeInDatabase(client, STATEMENTS[read], CALLS);
  } finally {
    await client.query("reset role");
  }
}


/** Grows the catalog to `size` achievements (the demo's first), as the file's header says. */
async function growCatalog(client: pg.Client, size: number): Promise<void> {
  const { rows } = await client.query<{ n: number }>("select count(*)::integer as n from status_public.achievements");
  const from = rows[0].n + 1;
  if (size < from) return;
  await client.query(
    `insert into status_public.achievements (id, name, points, kind, position)
     select 'bench_' || n, 'Bench ' || n, 5, 'milestone', 1000 + n from generate_series($1::integer, $2::integer) as n`,
    [from, size],
  );
  await client.query(
    `insert into status_public.achievement_criteria (achievement_id, kind, action, threshold)
     select 'bench_' || n, 'count'::status_public.criterion_kind, 'tasks_completed', 20 + n from generate_series($1::integer, $2::integer) as n
     union all
     select 'bench_' || n, 'streak', null, 2 + n % 30 from generate_series($1::integer, $2::integer) as n where n % 10 = 0`,
    [from, size],
  );
  await client.query("vacuum analyze status_public.achievements, status_public.achievement_criteria");
}

main(async () => {
  const sizes = [11, ...CATALOGS];
  progress(`dashboard: catalogs of ${sizes.join(", ")} achievements, ${CALLS} calls a timing, ${REPEATS} repeats`);
  const database = await startBenchDatabase("achievements_bench_dashboard");
  const client = new pg.Client({ connectionString: database.databaseUrl });
  await client.connect();
  const results: Array<{ achievements: number } & Record<Read, number>> = [];
  try {
    await client.query("select status_private.record_action($1, 'tasks_completed', 10, null, null)", [USER]);
    await client.query("select status_private.record_action($1, 'tasks_completed', 8, null, null)", [USER]);
    await client.query("select status_private.record_action($1, 'logins', 1, null, null)", [USER]);
    // As the server's connections (@dataplan/pg): no JIT optimization. The one user, for the functions (and the check).
    await client.query("set jit_optimize_above_cost = -1");
    await client.query("select set_config('jwt.claims.user_id', $1, false), set_config('bench.probes', $1, false)", [USER]);
    for (const size of sizes) {
      await growCatalog(client, size);
      const { rows: check } = await client.query<{ listed: number; visible: number }>(`
        select (select count(*)::integer from status_public.my_achievements()) as listed,
               (select count(*)::integer from status_public.achievements as achievement
                where not achievement.hidden
                   or exists (select from status_public.achievement_unlocks as unlock where unlock.user_id = $1 and unlock.achievement_id = achievement.id)) as visible`,
        [USER],
      );
      if (check[0].listed !== check[0].visible || check[0].listed < size - 5) throw new Error(`my_achievements listed ${check[0].listed} of ${check[0].visible} visible achievements`);
      const timings: Record<Read, number[]> = { my_achievements: [], my_dashboard: [], plain: [] };
      for (const read of READS) await timeRead(client, read); // warm-up
      for (let repeat = 0; repeat < REPEATS; repeat++) {
        for (let i = 0; i < READS.length; i++) {
          const read = READS[(repeat + i) % READS.length];
          timings[read].push(await timeRead(client, read));
        }
      }
      const result = { achievements: size, my_achievements: median(timings.my_achievements), my_dashboard: median(timings.my_dashboard), plain: median(timings.plain) };
      results.push(result);
      progress(`${size} achievements: my_achievements ${result.my_achievements.toFixed(3)} ms, my_dashboard ${result.my_dashboard.toFixed(3)} ms, plain ${result.plain.toFixed(3)} ms`);
    }
  } finally {
    await cleanUp(
      () => client.end(),
      () => database.stop(),
    );
  }
  const table = [
    "| catalog (achievements) | my_achievements ms | my_dashboard ms | plain read of the catalog and the user's rows ms | my_achievements / plain | my_dashboard / plain | my_dashboard µs per achievement |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...results.map(
      (result) =>
        `| ${result.achievements.toLocaleString("en-US")} | ${result.my_achievements.toFixed(3)} | ${result.my_dashboard.toFixed(3)} | ${result.plain.toFixed(3)} | ${(result.my_achievements / result.plain).toFixed(2)}x | ${(result.my_dashboard / result.plain).toFixed(2)}x | ${((1000 * result.my_dashboard) / result.achievements).toFixed(1)} |`,
    ),
  ].join("\n");
  process.stdout.write(`${table}\n\nmedian of ${REPEATS} repeats of ${CALLS} calls each in a DO loop; ${machine()}\n`);
  await writeResult("dashboard", { calls: CALLS, repeats: REPEATS, results });
});

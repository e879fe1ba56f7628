// Benchmark: does ingestion slow down with the size of the catalog? record_action_for as the service role
// (the whole engine), the same clients, with the demo catalog (11 achievements, 5 of them naming
// `tasks_completed`) and with 10,000 more whose criteria name another action. The unlock trigger looks up
// only the criteria of the recorded action (index on achievement_criteria.action), so the ratio should be
// close to 1. The two catalogs alternate for `rounds` rounds, each phase with fresh users; after each, the
// tallies must equal the events counted and the unlocks what the tallies reach (none of the 10,000), and any
// failed event fails the run.
// Writes bench/results/catalog.json and prints a table.
// Usage: npm run bench:catalog [-- --clients=8 --seconds=5 --users=1000 --rounds=2 --extra=10000]
import "../src/environment";
import pg from "pg";
import { cleanUp, fmt, machine, main, option, progress, startBenchDatabase, type Throughput, writeResult } from "./common";
import { closeClients, newUsers, openClients, PIPELINE_SQL, runSql, verifyPhase } from "./workload";

const CLIENTS = option("clients", 8);
const SECONDS = option("seconds", 5);
const USERS = option("users", 1000);
const ROUNDS = option("rounds", 2);
const EXTRA = option("extra", 10_000);

async function catalogSize(client: pg.Client): Promise<{ achievements: number; naming: number }> {
  const { rows } = await client.query(
    `select (select count(*)::int from status_public.achievements) as achievements,
            (select count(distinct achievement_id)::int from status_public.achievement_criteria where action = 'tasks_completed') as naming`,
  );
  return rows[0];
}

/** EXTRA achievements, 10 points each, each with a count criterion on `bench_other_action`. */
async function addLargeCatalog(client: pg.Client): Promise<void> {
  await client.query(
    `insert into status_public.actions (name, description) values ('bench_other_action', 'Benchmark: an action nobody records')
     on conflict do nothing`,
  );
  await client.query(
    `insert into status_public.achievements (id, name, points, kind, position)
     select 'bench_' || n, 'Benchmark ' || n, 10, 'milestone', 1000 + n from generate_series(1, $1) as n`,
    [EXTRA],
  );
  await client.query(
    `insert into status_public.achievement_criteria (achievement_id, kind, action, threshold)
     select 'bench_' || n, 'count', 'bench_other_action', 1 + n % 1000 from generate_series(1, $1) as n`,
    [EXTRA],
  );
  await client.query("analyze status_public.achievements, status_public.achievement_criteria");
}

async function removeLargeCatalog(client: pg.Client): Promise<void> {
  await client.query("delete from status_public.achievements where id like 'bench\\_%'");
  await client.query("analyze status_public.achievements, status_public.achievement_criteria");
}

main(async () => {
  progress(`catalog: ${CLIENTS} clients, ${SECONDS} s a phase, ${USERS} users a phase, ${ROUNDS} round(s), +${EXTRA} achievements`);
  const database = await startBenchDatabase("achievements_bench_catalog");
  const admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  const clients = await openClients(database.databaseUrl, CLIENTS, true);
  const totals: { small?: Throughput; large?: Throughput } = {};
  const unlocks = { small: 0, large: 0 };
  const sizes: Record<string, { achievements: number; naming: number }> = {};
  try {
    progress("warm-up...");
    await verifyPhase(admin, "warm-up", (await runSql(clients, newUsers(USERS), PIPELINE_SQL, 1)).eventsPerUser, "engine");
    for (let round = 1; round <= ROUNDS; round++) {
      for (const size of ["small", "large"] as const) {
        if (size === "large") await addLargeCatalog(admin);
        sizes[size] = await catalogSize(admin);
        const result = await runSql(clients, newUsers(USERS), PIPELINE_SQL, SECONDS);
        unlocks[size] += await verifyPhase(admin, `round ${round}, ${size} catalog`, result.eventsPerUser, "engine");
        const total = totals[size];
        totals[size] = total
          ? { events: total.events + result.events, seconds: total.seconds + result.seconds, perSecond: (total.events + result.events) / (total.seconds + result.seconds) }
          : { events: result.events, seconds: result.seconds, perSecond: result.perSecond };
        progress(`round ${round}, ${sizes[size].achievements} achievements: ${fmt(result.perSecond)} events/s (${result.events} events, tallies verified)`);
        if (size === "large") await removeLargeCatalog(admin);
      }
    }
  } finally {
    await cleanUp(
      () => closeClients(clients),
      () => admin.end(),
      () => database.stop(),
    );
  }

  const small = totals.small!;
  const large = totals.large!;
  const table = [
    `| catalog (${CLIENTS} clients, record_action_for) | achievements naming the action | events | events/s | unlocks per event | vs small catalog |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    `| ${fmt(sizes.small.achievements)} achievements (demo) | ${sizes.small.naming} | ${fmt(small.events)} | ${fmt(small.perSecond)} | ${(unlocks.small / small.events).toFixed(2)} | 1.00 |`,
    `| ${fmt(sizes.large.achievements)} achievements | ${sizes.large.naming} | ${fmt(large.events)} | ${fmt(large.perSecond)} | ${(unlocks.large / large.events).toFixed(2)} | ${(large.perSecond / small.perSecond).toFixed(2)} |`,
  ].join("\n");
  process.stdout.write(`${table}\n\n${machine()}\n`);
  await writeResult("catalog", {
    clients: CLIENTS,
    secondsPerPhase: SECONDS,
    usersPerPhase: USERS,
    rounds: ROUNDS,
    sizes,
    small,
    large,
    unlocks,
    ratio: large.perSecond / small.perSecond,
  });
});

// Benchmark: ingestion under concurrency, in the same run:
//   floor     the least an event costs: one insert into a plain copy of user_steps plus the tally upsert,
//             one statement (bench_steps, bench_tallies: no triggers)
//   pipeline  status_public.record_action_for(user, 'tasks_completed', 1) as the service role: the whole engine
//             (tally, streaks, unlocks, points, tiers, leaderboards, levels, notifications) in one transaction
//   graphql   recordAction over HTTP as each user, through a server started in-process (startServer), with
//             keep-alive fetch clients
// Each phase uses fresh users (so each sees the same unlock rate) and the phases alternate for `rounds`
// rounds. Writes bench/results/ingest.json and prints tables.
// Usage: npm run bench:ingest [-- --clients=8 --seconds=5 --users=1000 --rounds=2]
import "../src/environment";
import pg from "pg";
import { signToken } from "../src/auth";
import { startServer } from "../src/server";
import { cleanUp, fmt, machine, main, option, progress, roles, runLoops, startBenchDatabase, type Throughput, writeResult } from "./common";
import { closeClients, createFloorTables, FLOOR_SQL, newUsers, openClients, PIPELINE_SQL, runSql, unlockCount } from "./workload";

const CLIENTS = option("clients", 8);
const SECONDS = option("seconds", 5);
const USERS = option("users", 1000);
const ROUNDS = option("rounds", 2);
const JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123";

const RECORD_ACTION = `mutation ($amount: Int!) { recordAction(input: { action: "tasks_completed", amount: $amount }) { result { tally unlocked { achievementId } } } }`;

type Phase = "floor" | "pipeline" | "graphql";

function add(total: Throughput | undefined, next: Throughput): Throughput {
  if (!total) return next;
  const events = total.events + next.events;
  const seconds = total.seconds + next.seconds;
  return { events, seconds, perSecond: events / seconds, errors: total.errors + next.errors };
}

main(async () => {
  progress(`ingest: ${CLIENTS} clients, ${SECONDS} s a phase, ${USERS} users a phase, ${ROUNDS} round(s)`);
  const database = await startBenchDatabase("achievements_bench_ingest");
  const admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  const sqlClients = await openClients(database.databaseUrl, CLIENTS, true);
  const server = await startServer({
    connectionString: database.authUrl,
    jwtSecret: JWT_SECRET,
    roles,
    graphiql: false,
    host: "127.0.0.1",
    port: 0,
  });
  const totals: Partial<Record<Phase, Throughput>> = {};
  const unlocks: Record<Phase, number> = { floor: 0, pipeline: 0, graphql: 0 };
  try {
    await createFloorTables(admin);
    const phases: Record<Phase, () => Promise<Throughput>> = {
      floor: () => runSql(sqlClients, newUsers(USERS), FLOOR_SQL, SECONDS),
      pipeline: () => runSql(sqlClients, newUsers(USERS), PIPELINE_SQL, SECONDS),
      graphql: async () => {
        const users = newUsers(USERS);
        const tokens = await Promise.all(users.map((userId) => signToken({ jwtSecret: JWT_SECRET, userId, role: "user", expiresIn: "1h" })));
        return runLoops(CLIENTS, SECONDS, async () => {
          const response = await fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${tokens[Math.floor(Math.random() * tokens.length)]}` },
            body: JSON.stringify({ query: RECORD_ACTION, variables: { amount: 1 } }),
          });
          const body = (await response.json()) as { errors?: { message: string }[] };
          if (body.errors || response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
        });
      },
    };
    // Warm-up: plans, the server's schema and pool, the JIT of this process.
    progress("warm-up...");
    await runSql(sqlClients, newUsers(USERS), FLOOR_SQL, 1);
    await runSql(sqlClients, newUsers(USERS), PIPELINE_SQL, 1);
    await phases.graphql();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const phase of ["floor", "pipeline", "graphql"] as const) {
        const before = await unlockCount(admin);
        const result = await phases[phase]();
        unlocks[phase] += (await unlockCount(admin)) - before;
        totals[phase] = add(totals[phase], result);
        progress(`round ${round}, ${phase}: ${fmt(result.perSecond)} events/s (${result.events} events, ${result.errors} errors)`);
      }
    }
  } finally {
    await cleanUp(
      () => server.close(),
      () => closeClients(sqlClients),
      () => admin.end(),
      () => database.stop(),
    );
  }

  const floor = totals.floor!;
  const pipeline = totals.pipeline!;
  const graphql = totals.graphql!;
  const perEvent = (phase: Phase) => (totals[phase]!.events ? unlocks[phase] / totals[phase]!.events : 0).toFixed(2);
  const table = [
    `| path (${CLIENTS} clients) | events | events/s | unlocks per event | vs floor | vs SQL pipeline |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    `| floor: insert + tally upsert (plain tables) | ${fmt(floor.events)} | ${fmt(floor.perSecond)} | – | 1.00 | ${(floor.perSecond / pipeline.perSecond).toFixed(2)} |`,
    `| SQL: record_action_for (service role) | ${fmt(pipeline.events)} | ${fmt(pipeline.perSecond)} | ${perEvent("pipeline")} | ${(pipeline.perSecond / floor.perSecond).toFixed(2)} | 1.00 |`,
    `| GraphQL over HTTP: recordAction (users) | ${fmt(graphql.events)} | ${fmt(graphql.perSecond)} | ${perEvent("graphql")} | ${(graphql.perSecond / floor.perSecond).toFixed(2)} | ${(graphql.perSecond / pipeline.perSecond).toFixed(2)} |`,
  ].join("\n");
  process.stdout.write(`${table}\n\n${machine()}\n`);
  await writeResult("ingest", {
    clients: CLIENTS,
    secondsPerPhase: SECONDS,
    usersPerPhase: USERS,
    rounds: ROUNDS,
    floor,
    pipeline,
    graphql,
    unlocks,
    ratios: { pipelineOverFloor: pipeline.perSecond / floor.perSecond, graphqlOverPipeline: graphql.perSecond / pipeline.perSecond },
  });
});

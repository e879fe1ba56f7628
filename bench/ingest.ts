// Benchmark: ingestion under concurrency, in the same run:
//   floor     the least an event costs: one insert into a plain copy of user_steps plus the tally upsert,
//             one statement (bench_steps, bench_tallies: no triggers)
//   pipeline  status_public.record_action_for(user, 'tasks_completed', 1) as the service role: the whole engine
//             (tally, streaks, unlocks, points, tiers, leaderboards, levels, notifications) in one transaction
//   graphql   recordAction over HTTP as each user, through a server started in-process (startServer), with
//             keep-alive fetch clients
// Each phase uses fresh users (so each sees the same unlock rate) and the phases alternate for `rounds`
// rounds. After each phase the tallies must equal the events counted, user by user, and the engine's unlocks
// what those tallies reach; any failed event fails the run. Writes bench/results/ingest.json and prints tables.
// Usage: npm run bench:ingest [-- --clients=8 --seconds=5 --users=1000 --rounds=2]
import "../src/environment";
import pg from "pg";
import { signToken } from "../src/auth";
import { startServer } from "../src/server";
import { DEFAULT_REQUEST_LIMITS } from "../src/limits";
import { BENCH_RATE_LIMITS, cleanUp, fmt, machine, main, option, progress, roles, runLoops, startBenchDatabase, type Throughput, writeResult } from "./common";
import { closeClients, createFloorTables, FLOOR_SQL, newUsers, openClients, type Phase as PhaseResult, PIPELINE_SQL, runSql, verifyPhase } from "./workload";

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
  return { events, seconds, perSecond: events / seconds };
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
    // As high as the database's (bench/common.ts): the server passes its own limits to each transaction.
    limits: {
      ...DEFAULT_REQUEST_LIMITS,
      recordActionRateLimit: Number(BENCH_RATE_LIMITS["achievements.record_action_rate_limit"]),
      recordActionServiceRateLimit: Number(BENCH_RATE_LIMITS["achievements.record_action_service_rate_limit"]),
    },
  });
  const totals: Partial<Record<Phase, Throughput>> = {};
  const unlocks: Record<Phase, number> = { floor: 0, pipeline: 0, graphql: 0 };
  try {
    await createFloorTables(admin);
    const phases: Record<Phase, () => Promise<PhaseResult>> = {
      floor: () => runSql(sqlClients, newUsers(USERS), FLOOR_SQL, SECONDS),
      pipeline: () => runSql(sqlClients, newUsers(USERS), PIPELINE_SQL, SECONDS),
      graphql: async () => {
        const users = newUsers(USERS);
        const tokens = await Promise.all(users.map((userId) => signToken({ jwtSecret: JWT_SECRET, userId, role: "user", expiresIn: "1h" })));
        const eventsPerUser = new Map<string, number>();
        const result = await runLoops(CLIENTS, SECONDS, async () => {
          const index = Math.floor(Math.random() * tokens.length);
          const response = await fetch(`${server.url}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${tokens[index]}` },
            body: JSON.stringify({ query: RECORD_ACTION, variables: { amount: 1 } }),
          });
          const body = (await response.json()) as { errors?: { message: string }[] };
          if (body.errors || response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body.errors)}`);
          eventsPerUser.set(users[index], (eventsPerUser.get(users[index]) ?? 0) + 1);
        });
        return { ...result, eventsPerUser };
      },
    };
    // Warm-up: plans, the server's schema and pool, the JIT of this process.
    progress("warm-up...");
    await verifyPhase(admin, "warm-up floor", (await runSql(sqlClients, newUsers(USERS), FLOOR_SQL, 1)).eventsPerUser, "floor");
    await verifyPhase(admin, "warm-up pipeline", (await runSql(sqlClients, newUsers(USERS), PIPELINE_SQL, 1)).eventsPerUser, "engine");
    await verifyPhase(admin, "warm-up graphql", (await phases.graphql()).eventsPerUser, "engine");
    for (let round = 1; round <= ROUNDS; round++) {
      for (const phase of ["floor", "pipeline", "graphql"] as const) {
        const result = await phases[phase]();
        unlocks[phase] += await verifyPhase(admin, `round ${round}, ${phase}`, result.eventsPerUser, phase === "floor" ? "floor" : "engine");
        totals[phase] = add(totals[phase], { events: result.events, seconds: result.seconds, perSecond: result.perSecond });
        progress(`round ${round}, ${phase}: ${fmt(result.perSecond)} events/s (${result.events} events, tallies verified)`);
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

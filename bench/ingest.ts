// Benchmark: ingestion under concurrency, in the same run:
//   floor     the least an event costs: one insert into a plain copy of user_steps plus the tally upsert,
//             one statement (bench_steps, bench_tallies: no triggers)
//   pipeline  status_public.record_action_for(user, 'tasks_completed', 1) as the service role: the whole engine
//             (tally, streaks, unlocks, points, tiers, leaderboards, levels, notifications) in one transaction
//   graphql   recordAction over HTTP as each user, through a server started in-process (startServer), with
//             keep-alive fetch clients
//   relay     the pipeline with `achievements.notification_relay` on in its sessions: the writers send no NOTIFY
//             (no NOTIFY lock at their commits); the in-process server's dispatcher publishes their outbox rows
//             and notifies the users' channels, by its poll (its sessions do not relay: every 1 s, in batches)
//   floor1, pipeline1, relay1   the floor, the pipeline and relay with one client: the per-event time of each
//   batchFloor  the floor's rows, `batch` events per statement (one insert of them all, then one tally upsert
//             per user, in user order): what any batch path must do at the least
//   batch     status_public.record_actions(events status_public.action_event[]) as the service role, `batch`
//             events a call
// Each phase uses fresh users (so each sees the same unlock rate) and the phases alternate for `rounds`
// rounds. After each phase the tallies must equal the events counted, user by user, and the engine's unlocks
// what those tallies reach; any failed event fails the run. Writes bench/results/ingest.json and prints tables:
// the paths at `clients` clients, then the one-client and batch phases against issue 10's goals.
// Usage: npm run bench:ingest [-- --clients=8 --seconds=5 --users=1000 --rounds=2 --batch=100]
import "../src/environment";
import pg from "pg";
import { signToken } from "../src/auth";
import { startServer } from "../src/server";
import { BATCH_FLOOR_SQL, BATCH_SQL, runBatches } from "./batches";
import { BENCH_REQUEST_LIMITS, cleanUp, fmt, machine, main, option, progress, roles, runLoops, startBenchDatabase, type Throughput, writeResult } from "./common";
import { closeClients, createFloorTables, FLOOR_SQL, newUsers, openClients, type Phase as PhaseResult, PIPELINE_SQL, runSql, verifyPhase } from "./workload";

const CLIENTS = option("clients", 8);
const SECONDS = option("seconds", 5);
const USERS = option("users", 1000);
const ROUNDS = option("rounds", 2);
const BATCH = option("batch", 100);
const JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123";

const RECORD_ACTION = `mutation ($amount: Int!) { recordAction(input: { action: "tasks_completed", amount: $amount }) { result { tally unlocked { achievementId } } } }`;

type Phase = "floor" | "pipeline" | "relay" | "graphql" | "floor1" | "pipeline1" | "relay1" | "batchFloor" | "batch";

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
  const relayClients = await openClients(database.databaseUrl, CLIENTS, true);
  await Promise.all(relayClients.map((client) => client.query("set achievements.notification_relay = on")));
  const server = await startServer({
    connectionString: database.authUrl,
    jwtSecret: JWT_SECRET,
    roles,
    graphiql: false,
    host: "127.0.0.1",
    port: 0,
    // As high as the database's (bench/common.ts): the server passes its own limits to each transaction.
    limits: BENCH_REQUEST_LIMITS,
  });
  const totals: Partial<Record<Phase, Throughput>> = {};
  const unlocks: Record<Phase, number> = { floor: 0, pipeline: 0, relay: 0, graphql: 0, floor1: 0, pipeline1: 0, relay1: 0, batchFloor: 0, batch: 0 };
  const oneClient = sqlClients.slice(0, 1);
  try {
    await createFloorTables(admin);
    const phases: Record<Phase, () => Promise<PhaseResult>> = {
      floor: () => runSql(sqlClients, newUsers(USERS), FLOOR_SQL, SECONDS),
      pipeline: () => runSql(sqlClients, newUsers(USERS), PIPELINE_SQL, SECONDS),
      relay: () => runSql(relayClients, newUsers(USERS), PIPELINE_SQL, SECONDS),
      floor1: () => runSql(oneClient, newUsers(USERS), FLOOR_SQL, SECONDS),
      pipeline1: () => runSql(oneClient, newUsers(USERS), PIPELINE_SQL, SECONDS),
      relay1: () => runSql(relayClients.slice(0, 1), newUsers(USERS), PIPELINE_SQL, SECONDS),
      batchFloor: () => runBatches(sqlClients, newUsers(USERS), BATCH_FLOOR_SQL, SECONDS, BATCH, false),
      batch: () => runBatches(sqlClients, newUsers(USERS), BATCH_SQL, SECONDS, BATCH, true),
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
    await verifyPhase(admin, "warm-up relay", (await runSql(relayClients, newUsers(USERS), PIPELINE_SQL, 1)).eventsPerUser, "engine");
    await verifyPhase(admin, "warm-up graphql", (await phases.graphql()).eventsPerUser, "engine");
    await verifyPhase(admin, "warm-up batchFloor", (await runBatches(sqlClients, newUsers(USERS), BATCH_FLOOR_SQL, 1, BATCH, false)).eventsPerUser, "floor");
    await verifyPhase(admin, "warm-up batch", (await runBatches(sqlClients, newUsers(USERS), BATCH_SQL, 1, BATCH, true)).eventsPerUser, "engine");
    const order: Phase[] = ["floor", "pipeline", "relay", "graphql", "floor1", "pipeline1", "relay1", "batchFloor", "batch"];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const phase of order) {
        const result = await phases[phase]();
        const tallies = phase === "floor" || phase === "floor1" || phase === "batchFloor" ? "floor" : "engine";
        unlocks[phase] += await verifyPhase(admin, `round ${round}, ${phase}`, result.eventsPerUser, tallies);
        totals[phase] = add(totals[phase], { events: result.events, seconds: result.seconds, perSecond: result.perSecond });
        progress(`round ${round}, ${phase}: ${fmt(result.perSecond)} events/s (${result.events} events, tallies verified)`);
      }
    }
  } finally {
    await cleanUp(
      () => server.close(),
      () => closeClients(sqlClients),
      () => closeClients(relayClients),
      () => admin.end(),
      () => database.stop(),
    );
  }

  const floor = totals.floor!;
  const pipeline = totals.pipeline!;
  const graphql = totals.graphql!;
  const floor1 = totals.floor1!;
  const pipeline1 = totals.pipeline1!;
  const relay = totals.relay!;
  const relay1 = totals.relay1!;
  const batchFloor = totals.batchFloor!;
  const batch = totals.batch!;
  const perEvent = (phase: Phase) => (totals[phase]!.events ? unlocks[phase] / totals[phase]!.events : 0).toFixed(2);
  const table = [
    `| path (${CLIENTS} clients) | events | events/s | unlocks per event | vs floor | vs SQL pipeline |`,
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    `| floor: insert + tally upsert (plain tables) | ${fmt(floor.events)} | ${fmt(floor.perSecond)} | – | 1.00 | ${(floor.perSecond / pipeline.perSecond).toFixed(2)} |`,
    `| SQL: record_action_for (service role) | ${fmt(pipeline.events)} | ${fmt(pipeline.perSecond)} | ${perEvent("pipeline")} | ${(pipeline.perSecond / floor.perSecond).toFixed(2)} | 1.00 |`,
    `| SQL: the same, notifications relayed | ${fmt(relay.events)} | ${fmt(relay.perSecond)} | ${perEvent("relay")} | ${(relay.perSecond / floor.perSecond).toFixed(2)} | ${(relay.perSecond / pipeline.perSecond).toFixed(2)} |`,
    `| GraphQL over HTTP: recordAction (users) | ${fmt(graphql.events)} | ${fmt(graphql.perSecond)} | ${perEvent("graphql")} | ${(graphql.perSecond / floor.perSecond).toFixed(2)} | ${(graphql.perSecond / pipeline.perSecond).toFixed(2)} |`,
  ].join("\n");
  const msPerEvent = (phase: Throughput) => (1000 * phase.seconds) / phase.events;
  const perEventRatio = msPerEvent(pipeline1) / msPerEvent(floor1);
  const scaling = pipeline.perSecond / pipeline1.perSecond;
  const batchOverPipeline = batch.perSecond / pipeline.perSecond;
  const batchOverBatchFloor = batch.perSecond / batchFloor.perSecond;
  const oneClientTable = [
    "| path | clients | events | events/s | ms per event | unlocks per event |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    `| floor: insert + tally upsert | 1 | ${fmt(floor1.events)} | ${fmt(floor1.perSecond)} | ${msPerEvent(floor1).toFixed(3)} | – |`,
    `| SQL: record_action_for (service role) | 1 | ${fmt(pipeline1.events)} | ${fmt(pipeline1.perSecond)} | ${msPerEvent(pipeline1).toFixed(3)} | ${perEvent("pipeline1")} |`,
    `| SQL: the same, notifications relayed | 1 | ${fmt(relay1.events)} | ${fmt(relay1.perSecond)} | ${msPerEvent(relay1).toFixed(3)} | ${perEvent("relay1")} |`,
    `| batched floor: ${BATCH} events a statement | ${CLIENTS} | ${fmt(batchFloor.events)} | ${fmt(batchFloor.perSecond)} | – | – |`,
    `| batch: record_actions, ${BATCH} events a call | ${CLIENTS} | ${fmt(batch.events)} | ${fmt(batch.perSecond)} | – | ${perEvent("batch")} |`,
  ].join("\n");
  const goals = [
    "| goal (issue 10) | measured | target |",
    "| --- | ---: | ---: |",
    `| 1 client: pipeline / floor, ms per event | ${perEventRatio.toFixed(2)}x (${msPerEvent(pipeline1).toFixed(3)} / ${msPerEvent(floor1).toFixed(3)} ms) | <= 2.5x |`,
    `| pipeline: ${CLIENTS} clients / 1 client, events/s | ${scaling.toFixed(2)}x (${fmt(pipeline.perSecond)} / ${fmt(pipeline1.perSecond)}) | >= 1.6x |`,
    `| ${CLIENTS} clients: pipeline / floor, events/s | ${(pipeline.perSecond / floor.perSecond).toFixed(2)}x (${fmt(pipeline.perSecond)} / ${fmt(floor.perSecond)}) | >= 0.5x |`,
    `| batches of ${BATCH}: record_actions / single-event pipeline, events/s | ${batchOverPipeline.toFixed(2)}x | >= 5x |`,
    `| batches of ${BATCH}: record_actions / batched floor, events/s | ${batchOverBatchFloor.toFixed(2)}x | >= 0.5x |`,
    `| notifications relayed: 1 client / floor, ms per event; ${CLIENTS} clients / floor, events/s | ${(msPerEvent(relay1) / msPerEvent(floor1)).toFixed(2)}x; ${(relay.perSecond / floor.perSecond).toFixed(2)}x (${fmt(relay.perSecond)}) | (as above) |`,
  ].join("\n");
  process.stdout.write(`${table}\n\n${oneClientTable}\n\n${goals}\n\n${machine()}\n`);
  await writeResult("ingest", {
    clients: CLIENTS,
    secondsPerPhase: SECONDS,
    usersPerPhase: USERS,
    rounds: ROUNDS,
    batchSize: BATCH,
    floor,
    pipeline,
    graphql,
    relay,
    oneClient: {
      floor: { ...floor1, msPerEvent: msPerEvent(floor1) },
      pipeline: { ...pipeline1, msPerEvent: msPerEvent(pipeline1) },
      relay: { ...relay1, msPerEvent: msPerEvent(relay1) },
    },
    batchFloor,
    batch,
    unlocks,
    ratios: {
      pipelineOverFloor: pipeline.perSecond / floor.perSecond,
      relayOverPipeline: relay.perSecond / pipeline.perSecond,
      oneClientRelayOverFloorMsPerEvent: msPerEvent(relay1) / msPerEvent(floor1),
      graphqlOverPipeline: graphql.perSecond / pipeline.perSecond,
      oneClientPipelineOverFloorMsPerEvent: perEventRatio,
      pipelineClientsOverOneClient: scaling,
      batchOverPipeline,
      batchOverBatchFloor,
    },
    goals: {
      oneClientPipelineOverFloorMsPerEvent: 2.5,
      pipelineClientsOverOneClient: 1.6,
      pipelineOverFloor: 0.5,
      batchOverPipeline: 5,
      batchOverBatchFloor: 0.5,
    },
  });
});

// Batches: the batched floor and the engine's batch path (status_public.record_actions), each `batch` events a
// statement drawn at random from the phase's users. bench/ingest.ts runs the two phases beside its others; run
// on its own (npm run bench:batches), this file measures issue 10's batch goals in one run:
//   pipeline     status_public.record_action_for(user, 'tasks_completed', 1), one event a call (as bench:ingest)
//   batchFloor   the floor's rows, `batch` events a statement (one insert of them all, then one tally upsert per
//                user, in user order): the least any batch path must do for the same rows
//   batch        status_public.record_actions(events status_public.action_event[]) as the service role, the
//                same batches (events in the order drawn, not sorted)
//   import       status_public.import_actions(events status_public.action_event[]) as the service role, the same
//                batches: the bulk path for historical events (a summary, no per-event results)
// and, labelled apart (the goals are the rows above), an import where each client has users of its own (each
// client draws from its own `users` fresh users, so concurrent batches never share a user's rows):
//   batchFloorOwn, batchOwn, importOwn   the batched floor, record_actions and import_actions again, each client
//                                        with its own users
// All phases at `clients` clients, fresh users each, alternating for `rounds` rounds after a warm-up; the
// tallies (and the engine's unlocks) are checked after each phase. Writes bench/results/batches.json.
// Usage: npm run bench:batches [-- --clients=8 --seconds=5 --users=1000 --rounds=2 --batch=100]
import pg from "pg";
import { cleanUp, fmt, machine, main, option, progress, runLoops, startBenchDatabase, type Throughput, writeResult } from "./common";
import { closeClients, createFloorTables, type EventsPerUser, newUsers, openClients, type Phase, PIPELINE_SQL, runSql, verifyPhase } from "./workload";

/** The floor, `$1` (an array of user ids) at once: one insert of every step, then each user's tally upsert once, in user order. */
export const BATCH_FLOOR_SQL = `
  with step as (
    insert into public.bench_steps (user_id, name, count)
    select event.user_id, 'tasks_completed', 1 from unnest($1::uuid[]) as event(user_id)
    returning user_id, name, count
  )
  insert into public.bench_tallies as tally (user_id, name, count)
  select user_id, name, sum(count)::integer from step group by user_id, name order by user_id
  on conflict (user_id, name) do update set count = tally.count + excluded.count`;

/** The engine's batch path, the same events in the order drawn (the hook for status_public.record_actions). */
export const BATCH_SQL = `
  select count(*)::integer as results from status_public.record_actions(array(
    select row(event.user_id, 'tasks_completed', 1, null, null)::status_public.action_event
    from unnest($1::uuid[]) with ordinality as event(user_id, position) order by event.position))`;

/** The engine's bulk import path, the same events (the hook for status_public.import_actions): events imported. */
export const IMPORT_SQL = `
  select (status_public.import_actions(array(
    select row(event.user_id, 'tasks_completed', 1, null, null)::status_public.action_event
    from unnest($1::uuid[]) with ordinality as event(user_id, position) order by event.position))).imported as results`;


/**
 * `clients` connections each run `sql` with `batch` random users for `seconds`; an event is one user of a batch.
 * `users`: one list for every client, or (one list per client) each client's own users.
 */
export async function runBatches(clients: pg.Client[], users: string[] | string[][], sql: string, seconds: number, batch: number, checkResults: boolean): Promise<Phase> {
  const usersOf = (client: number): string[] => (Array.isArray(users[0]) ? (users as string[][])[client] : (users as string[]));
  const eventsPerUser: EventsPerUser = new Map();
  const result = await runLoops(clients.length, seconds, async (index) => {
    const own = usersOf(index);
    const events = Array.from({ length: batch }, () => own[Math.floor(Math.random() * own.length)]);
    const { rows } = await clients[index].query<{ results?: number }>(sql, [events]);
    if (checkResults && rows[0]?.results !== batch) throw new Error(`the batch path returned ${rows[0]?.results} results for ${batch} events`);
    for (const user of events) eventsPerUser.set(user, (eventsPerUser.get(user) ?? 0) + 1);
  });
  return { events: result.events * batch, seconds: result.seconds, perSecond: (result.events * batch) / result.seconds, eventsPerUser };
}

type BatchPhase = "pipeline" | "batchFloor" | "batch" | "import" | "batchFloorOwn" | "batchOwn" | "importOwn";

/** Which tallies a phase writes: the floor's copy, or the engine's. */
const tallies = (phase: BatchPhase): "engine" | "floor" => (phase === "batchFloor" || phase === "batchFloorOwn" ? "floor" : "engine");

if (require.main === module) {
  const CLIENTS = option("clients", 8);
  const SECONDS = option("seconds", 5);
  const USERS = option("users", 1000);
  const ROUNDS = option("rounds", 2);
  const BATCH = option("batch", 100);

  main(async () => {
    progress(`batches: ${CLIENTS} clients, ${SECONDS} s a phase, ${USERS} users a phase (a client, in the own-users phases), ${BATCH} events a batch, ${ROUNDS} round(s)`);
    const database = await startBenchDatabase("achievements_bench_batches");
    const admin = new pg.Client({ connectionString: database.databaseUrl });
    await admin.connect();
    const clients = await openClients(database.databaseUrl, CLIENTS, true);
    const totals: Partial<Record<BatchPhase, Throughput>> = {};
    const perRound: Record<BatchPhase, number[]> = { pipeline: [], batchFloor: [], batch: [], import: [], batchFloorOwn: [], batchOwn: [], importOwn: [] };
    const unlocks: Record<BatchPhase, number> = { pipeline: 0, batchFloor: 0, batch: 0, import: 0, batchFloorOwn: 0, batchOwn: 0, importOwn: 0 };
    try {
      await createFloorTables(admin);
      const ownUsers = () => Array.from({ length: CLIENTS }, () => newUsers(USERS));
      const phases: Record<BatchPhase, (seconds: number) => Promise<Phase>> = {
        pipeline: (seconds) => runSql(clients, newUsers(USERS), PIPELINE_SQL, seconds),
        batchFloor: (seconds) => runBatches(clients, newUsers(USERS), BATCH_FLOOR_SQL, seconds, BATCH, false),
        batch: (seconds) => runBatches(clients, newUsers(USERS), BATCH_SQL, seconds, BATCH, true),
        import: (seconds) => runBatches(clients, newUsers(USERS), IMPORT_SQL, seconds, BATCH, true),
        batchFloorOwn: (seconds) => runBatches(clients, ownUsers(), BATCH_FLOOR_SQL, seconds, BATCH, false),
        batchOwn: (seconds) => runBatches(clients, ownUsers(), BATCH_SQL, seconds, BATCH, true),
        importOwn: (seconds) => runBatches(clients, ownUsers(), IMPORT_SQL, seconds, BATCH, true),
      };
      const order: BatchPhase[] = ["pipeline", "batchFloor", "batch", "import", "batchFloorOwn", "batchOwn", "importOwn"];
      // Warm-up: the plans of every statement, on every connection.
      progress("warm-up...");
      for (const phase of order) await verifyPhase(admin, `warm-up ${phase}`, (await phases[phase](1)).eventsPerUser, tallies(phase));
      for (let round = 1; round <= ROUNDS; round++) {
        for (const phase of order) {
          const result = await phases[phase](SECONDS);
          unlocks[phase] += await verifyPhase(admin, `round ${round}, ${phase}`, result.eventsPerUser, tallies(phase));
          const total = totals[phase];
          const events = (total?.events ?? 0) + result.events;
          const seconds = (total?.seconds ?? 0) + result.seconds;
          totals[phase] = { events, seconds, perSecond: events / seconds };
          perRound[phase].push(result.perSecond);
          progress(`round ${round}, ${phase}: ${fmt(result.perSecond)} events/s (${result.events} events, tallies verified)`);
        }
      }
    } finally {
      await cleanUp(
        () => closeClients(clients),
        () => admin.end(),
        () => database.stop(),
      );
    }

    const { pipeline, batchFloor, batch, import: imported, batchFloorOwn, batchOwn, importOwn: importedOwn } = totals as Record<BatchPhase, Throughput>;
    const perEvent = (phase: BatchPhase) => (totals[phase]!.events ? unlocks[phase] / totals[phase]!.events : 0).toFixed(2);
    const ratio = (a: Throughput, b: Throughput) => `${(a.perSecond / b.perSecond).toFixed(2)}x`;
    const row = (label: string, users: string, phase: BatchPhase, floor?: Throughput) => {
      const measured = totals[phase]!;
      const unlocked = tallies(phase) === "engine" ? perEvent(phase) : "–";
      return `| ${label} | ${users} | ${fmt(measured.events)} | ${fmt(measured.perSecond)} | ${unlocked} | ${ratio(measured, pipeline)} | ${floor ? ratio(measured, floor) : "–"} |`;
    };
    const table = [
      `| path (${CLIENTS} clients) | users | events | events/s | unlocks per event | vs pipeline | vs batched floor (same users) |`,
      "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
      row("SQL pipeline: record_action_for, 1 event a call", `${fmt(USERS)} shared`, "pipeline"),
      row(`batched floor: ${BATCH} events a statement`, `${fmt(USERS)} shared`, "batchFloor"),
      row(`batch: record_actions, ${BATCH} events a call`, `${fmt(USERS)} shared`, "batch", batchFloor),
      row(`import: import_actions, ${BATCH} events a call`, `${fmt(USERS)} shared`, "import", batchFloor),
      row(`import: batched floor, ${BATCH} events a statement`, `${fmt(USERS)} per client`, "batchFloorOwn"),
      row(`import: record_actions, ${BATCH} events a call`, `${fmt(USERS)} per client`, "batchOwn", batchFloorOwn),
      row(`import: import_actions, ${BATCH} events a call`, `${fmt(USERS)} per client`, "importOwn", batchFloorOwn),
    ].join("\n");
    const goals = [
      "| goal (issue 10) | measured | target |",
      "| --- | ---: | ---: |",
      `| batches of ${BATCH}: record_actions / single-event pipeline, events/s | ${ratio(batch, pipeline)} (${fmt(batch.perSecond)} / ${fmt(pipeline.perSecond)}) | >= 5x |`,
      `| batches of ${BATCH}: record_actions / batched floor, events/s | ${ratio(batch, batchFloor)} (${fmt(batch.perSecond)} / ${fmt(batchFloor.perSecond)}) | >= 0.5x |`,
      `| bulk import, ${BATCH} a call: import_actions / single-event pipeline, events/s | ${ratio(imported, pipeline)} (${fmt(imported.perSecond)} / ${fmt(pipeline.perSecond)}) | >= 5x |`,
      `| bulk import, ${BATCH} a call: import_actions / batched floor, events/s | ${ratio(imported, batchFloor)} (${fmt(imported.perSecond)} / ${fmt(batchFloor.perSecond)}) | >= 0.5x |`,
      `| (import, own users a client) record_actions / single-event pipeline | ${ratio(batchOwn, pipeline)} (${fmt(batchOwn.perSecond)} / ${fmt(pipeline.perSecond)}) | – |`,
      `| (import, own users a client) record_actions / batched floor, own users | ${ratio(batchOwn, batchFloorOwn)} (${fmt(batchOwn.perSecond)} / ${fmt(batchFloorOwn.perSecond)}) | – |`,
      `| (import, own users a client) import_actions / single-event pipeline | ${ratio(importedOwn, pipeline)} (${fmt(importedOwn.perSecond)} / ${fmt(pipeline.perSecond)}) | – |`,
      `| (import, own users a client) import_actions / batched floor, own users | ${ratio(importedOwn, batchFloorOwn)} (${fmt(importedOwn.perSecond)} / ${fmt(batchFloorOwn.perSecond)}) | – |`,
    ].join("\n");
    const rounds = (Object.keys(perRound) as BatchPhase[]).map((phase) => `${phase} ${perRound[phase].map((x) => fmt(x)).join(" and ")}`).join(", ");
    process.stdout.write(`${table}\n\n${goals}\n\nPer round (events/s): ${rounds}.\n\n${machine()}\n`);
    await writeResult("batches", {
      clients: CLIENTS,
      secondsPerPhase: SECONDS,
      usersPerPhase: USERS,
      rounds: ROUNDS,
      batchSize: BATCH,
      ...totals,
      perRound,
      unlocks,
      ratios: {
        batchOverPipeline: batch.perSecond / pipeline.perSecond,
        batchOverBatchFloor: batch.perSecond / batchFloor.perSecond,
        ownUsersBatchOverPipeline: batchOwn.perSecond / pipeline.perSecond,
        ownUsersBatchOverBatchFloor: batchOwn.perSecond / batchFloorOwn.perSecond,
        importOverPipeline: imported.perSecond / pipeline.perSecond,
        importOverBatchFloor: imported.perSecond / batchFloor.perSecond,
        ownUsersImportOverPipeline: importedOwn.perSecond / pipeline.perSecond,
        ownUsersImportOverBatchFloor: importedOwn.perSecond / batchFloorOwn.perSecond,
      },
      goals: { batchOverPipeline: 5, batchOverBatchFloor: 0.5 },
    });
  });
}

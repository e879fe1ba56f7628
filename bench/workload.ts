// The ingestion workloads shared by bench/ingest.ts and bench/catalog.ts: SQL clients, fresh users, and one
// event through the engine or through the floor (a plain insert plus a tally upsert).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { roles, runLoops, type Throughput } from "./common";

/** `count` connections as the superuser; with `asService`, each is then the service role for its session. */
export async function openClients(databaseUrl: string, count: number, asService: boolean): Promise<pg.Client[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      if (asService) await client.query(`set role ${client.escapeIdentifier(roles.service)}`);
      return client;
    }),
  );
}

export const closeClients = (clients: pg.Client[]) => Promise.all(clients.map((client) => client.end()));

export const newUsers = (count: number): string[] => Array.from({ length: count }, () => randomUUID());

/** The floor's tables: a plain copy of the step log and of the tally, no triggers. */
export async function createFloorTables(client: pg.Client): Promise<void> {
  await client.query(`
    drop table if exists public.bench_steps, public.bench_tallies;
    create table public.bench_steps (like status_public.user_steps including all);
    create table public.bench_tallies (like status_public.user_achievements including all);
    grant all on public.bench_steps, public.bench_tallies to ${client.escapeIdentifier(roles.service)};
  `);
}

/** One statement, one transaction, one round trip: what the engine does at the least for an event. */
export const FLOOR_SQL = `
  with step as (
    insert into public.bench_steps (user_id, name, count) values ($1, 'tasks_completed', 1) returning user_id, name, count
  )
  insert into public.bench_tallies as tally (user_id, name, count) select user_id, name, count from step
  on conflict (user_id, name) do update set count = tally.count + excluded.count`;

/** The whole pipeline: record_action_for as the service role (tally, streaks, unlocks, points, levels, notify). */
export const PIPELINE_SQL = `select status_public.record_action_for($1, 'tasks_completed', 1)`;

/** Events counted per user by a phase: what its tallies must add up to. */
export type EventsPerUser = Map<string, number>;

export interface Phase extends Throughput {
  eventsPerUser: EventsPerUser;
}

/** `clients` connections run `sql` with a random user of `users` for `seconds`, counting each event per user. */
export async function runSql(clients: pg.Client[], users: string[], sql: string, seconds: number, maxEvents?: number): Promise<Phase> {
  const eventsPerUser: EventsPerUser = new Map();
  const result = await runLoops(
    clients.length,
    seconds,
    async (index) => {
      const user = users[Math.floor(Math.random() * users.length)];
      await clients[index].query(sql, [user]);
      eventsPerUser.set(user, (eventsPerUser.get(user) ?? 0) + 1);
    },
    maxEvents,
  );
  return { ...result, eventsPerUser };
}

/** The demo catalog's achievements of `tasks_completed`, by tally needed: what a user with a tally has unlocked. */
const TASK_THRESHOLDS = [1, 5, 10, 50, 100];

/**
 * Fails unless the phase's tallies are exactly the events it counted, user by user (in `tallies`: the engine's
 * user_achievements, or the floor's copy), and, for the engine, unless each user unlocked exactly the task
 * achievements their tally reaches. Returns the unlocks, for "unlocks per event".
 */
export async function verifyPhase(admin: pg.Client, phase: string, counted: EventsPerUser, tallies: "engine" | "floor"): Promise<number> {
  const users = [...counted.keys()];
  const table = tallies === "engine" ? "status_public.user_achievements" : "public.bench_tallies";
  const { rows } = await admin.query<{ user_id: string; count: number }>(
    `select user_id::text, count from ${table} where name = 'tasks_completed' and user_id = any($1)`,
    [users],
  );
  const found = new Map(rows.map((row) => [row.user_id, row.count]));
  const wrong = users.filter((user) => found.get(user) !== counted.get(user));
  if (wrong.length > 0 || rows.length !== users.length) {
    const [user] = wrong;
    throw new Error(`${phase}: ${wrong.length} of ${users.length} tallies differ from the events counted (user ${user}: ${found.get(user)} in the table, ${counted.get(user)} counted)`);
  }
  if (tallies === "floor") return 0;
  const expectedUnlocks = [...counted.values()].reduce((sum, tally) => sum + TASK_THRESHOLDS.filter((needed) => tally >= needed).length, 0);
  const { rows: unlocks } = await admin.query<{ n: number }>("select count(*)::int as n from status_public.achievement_unlocks where user_id = any($1)", [users]);
  if (unlocks[0].n !== expectedUnlocks) throw new Error(`${phase}: ${unlocks[0].n} unlocks, expected ${expectedUnlocks} from the tallies`);
  return expectedUnlocks;
}

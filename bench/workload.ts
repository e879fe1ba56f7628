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
  on conflict (user_id, name) do update set count = tally.count + excluded.count, updated_at = now()`;

/** The whole pipeline: record_action_for as the service role (tally, streaks, unlocks, points, levels, notify). */
export const PIPELINE_SQL = `select status_public.record_action_for($1, 'tasks_completed', 1)`;

/** `clients` connections run `sql` with a random user of `users` for `seconds`. */
export function runSql(clients: pg.Client[], users: string[], sql: string, seconds: number, maxEvents?: number): Promise<Throughput> {
  return runLoops(
    clients.length,
    seconds,
    (index) => clients[index].query(sql, [users[Math.floor(Math.random() * users.length)]]),
    maxEvents,
  );
}

/** Unlocks recorded so far (to report unlocks per event). */
export async function unlockCount(client: pg.Client): Promise<number> {
  return (await client.query("select count(*)::int as n from status_public.achievement_unlocks")).rows[0].n;
}

// Batches for bench/ingest.ts: the batched floor, and the hook for the engine's batch path
// (status_public.record_actions), each `batch` events a statement drawn at random from the phase's users.
import type pg from "pg";
import { runLoops } from "./common";
import type { EventsPerUser, Phase } from "./workload";

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

/** Whether the database has status_public.record_actions(status_public.action_event[]) (the batch phase runs only then). */
export async function hasRecordActions(admin: pg.Client): Promise<boolean> {
  const { rows } = await admin.query<{ found: boolean }>(`
    select exists (
      select from pg_catalog.pg_proc as proc join pg_catalog.pg_namespace as namespace on namespace.oid = proc.pronamespace
      where namespace.nspname = 'status_public' and proc.proname = 'record_actions'
        and proc.pronargs = 1 and proc.proargtypes[0] = to_regtype('status_public.action_event[]')::oid
    ) as found`);
  return rows[0].found;
}

/** `clients` connections each run `sql` with `batch` random users of `users` for `seconds`; an event is one user of a batch. */
export async function runBatches(clients: pg.Client[], users: string[], sql: string, seconds: number, batch: number, checkResults: boolean): Promise<Phase> {
  const eventsPerUser: EventsPerUser = new Map();
  const result = await runLoops(clients.length, seconds, async (index) => {
    const events = Array.from({ length: batch }, () => users[Math.floor(Math.random() * users.length)]);
    const { rows } = await clients[index].query<{ results?: number }>(sql, [events]);
    if (checkResults && rows[0]?.results !== batch) throw new Error(`record_actions returned ${rows[0]?.results} results for ${batch} events`);
    for (const user of events) eventsPerUser.set(user, (eventsPerUser.get(user) ?? 0) + 1);
  });
  return { events: result.events * batch, seconds: result.seconds, perSecond: (result.events * batch) / result.seconds, eventsPerUser };
}

// Benchmark: growth. The per-event cost of `status_public.record_action_for(user, 'tasks_completed', 1)` as the
// service role (bench/workload.ts PIPELINE_SQL) on an empty database against one holding `--users` users and
// `--steps` steps with everything the engine derives from them, and rank lookups on both, in the same run:
//   empty   a fresh, migrated database with the demo catalog
//   big     the same, loaded with --users users (default 1,000,000) and about --steps steps (10,000,000):
//           the step log generated set-based (generate_series over a history in closed form, class History),
//           then the derived tables (tallies, streaks, unlocks, points ledger, scores, leaderboard scores and
//           histograms, catch-up cursors, rate-limit rows) set-based, with triggers off
//           (session_replication_role = replica) and the loaded tables' indexes and keys dropped during the
//           load and rebuilt after, then VACUUM ANALYZE and a CHECKPOINT. The state is checked against the
//           loaded rows before timing (checkConsistency: tallies = sums of steps, streaks, unlocks replayed,
//           scores = ledger sums, histogram totals = visible score rows, rank_of = count(*)).
// The two databases are two embedded PostgreSQL servers (or two databases on BENCH_DATABASE_URL's server),
// timed in alternation: per round, for each client count (1 and --clients), a phase on each of 1,000 users
// that neither database has seen (so both see the same unlock rate), and on the big one also a phase on
// 1,000 of its loaded users (informational: their first event there can unlock launch_sprint). Each phase's
// tallies are checked against the events it counted. Then --lookups rank lookups on each database:
// status_private.rank_of (the histogram) and status_public.my_rank (as the user). Writes
// bench/results/growth.json. The derived tables are written by one function, deriveTables() below: when the
// schema of the event path changes, that is the place to follow it.
// Usage: npm run bench:growth [-- --users=1000000 --steps=10000000 --clients=8 --seconds=5 --rounds=2 --lookups=300]
import "../src/environment";
import pg from "pg";
import { cleanUp, fmt, machine, main, nowMs, option, percentiles, progress, roles, sleep, startBenchDatabase, type Throughput, type Timing, writeResult } from "./common";
import { closeClients, newUsers, openClients, PIPELINE_SQL, runSql, verifyPhase } from "./workload";

const USERS = option("users", 1_000_000);
const STEPS = option("steps", 10_000_000);
const CLIENTS = option("clients", 8);
const SECONDS = option("seconds", 5);
const ROUNDS = option("rounds", 2);
const LOOKUPS = option("lookups", 300);
const PHASE_USERS = 1000;

/** The tables the load writes: their indexes and keys are dropped during the load and rebuilt after. */
const LOADED_TABLES = [
  "status_public.user_steps",
  "status_public.user_achievements",
  "status_public.user_streaks",
  "status_public.achievement_unlocks",
  "status_public.points_ledger",
  "status_public.user_scores",
  "status_public.leaderboard_scores",
  "status_private.leaderboard_point_counts",
  "status_private.user_event_cursors",
  "status_private.record_action_allowances",
];

/** Runs `sql` and reports how long it took. */
async function timed(client: pg.Client, label: string, sql: string, values?: unknown[]): Promise<pg.QueryResult> {
  const started = nowMs();
  const result = await client.query(sql, values);
  progress(`  ${label}: ${((nowMs() - started) / 1000).toFixed(1)} s${result.rowCount ? `, ${fmt(result.rowCount)} rows` : ""}`);
  return result;
}

/**
 * Drops the indexes, primary keys, unique keys and foreign keys of `tables` (and the foreign keys pointing at
 * them), runs `load`, then recreates each from its own definition (pg_get_indexdef / pg_get_constraintdef),
 * under its own name, and checks that the tables end with exactly the definitions they had. Rebuilding the
 * keys checks the loaded rows too (uniqueness, and every foreign key is validated).
 */
async function withoutIndexes(client: pg.Client, tables: string[], load: () => Promise<void>): Promise<void> {
  const definitions = async () => {
    const { rows } = await client.query<{ kind: string; tbl: string; name: string; def: string }>(
      `with loaded as (select unnest($1::text[])::regclass as oid)
       select case contype when 'f' then 'foreign' else 'key' end as kind, conrelid::regclass::text as tbl, conname as name, pg_get_constraintdef(c.oid) as def
         from pg_constraint as c
         where (contype in ('p', 'u') and conrelid in (select oid from loaded))
            or (contype = 'f' and (conrelid in (select oid from loaded) or confrelid in (select oid from loaded)))
       union all
       select 'index', i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
         from pg_index as i
         where i.indrelid in (select oid from loaded)
           and not exists (select from pg_constraint as c where c.conindid = i.indexrelid and c.contype in ('p', 'u'))
       order by 1, 2, 3`,
      [tables],
    );
    return rows;
  };
  const before = await definitions();
  for (const kind of ["foreign", "key", "index"]) {
    for (const row of before.filter((r) => r.kind === kind)) {
      await client.query(kind === "index" ? `drop index ${row.name}` : `alter table ${row.tbl} drop constraint ${client.escapeIdentifier(row.name)}`);
    }
  }
  progress(`  dropped ${before.length} indexes and keys of ${tables.length} tables`);
  await load();
  for (const kind of ["index", "key", "foreign"]) {
    const started = nowMs();
    for (const row of before.filter((r) => r.kind === kind)) {
      await client.query(kind === "index" ? row.def : `alter table ${row.tbl} add constraint ${client.escapeIdentifier(row.name)} ${row.def}`);
    }
    progress(`  rebuilt the ${kind === "index" ? "indexes" : kind === "key" ? "primary and unique keys" : "foreign keys (validated)"}: ${((nowMs() - started) / 1000).toFixed(1)} s`);
  }
  const after = await definitions();
  if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`the loaded tables' indexes and keys differ after the load:\n${JSON.stringify({ before, after }, null, 1)}`);
}

/**
 * The big state's history, in closed form of a user's number n (1 .. users), so that the step log is generated
 * in one pass and every derived table follows from a few formulas per user, without sorting or grouping the
 * step log. Pseudo-random values are hashes of n (hashint8extended), the same in every statement:
 *   user      an md5-based uuid of n
 *   k         the user's steps, long-tailed: round(m * E^2 / 2) for an exponential E (mean ~m), at least 1
 *   stride    2 to 7 days between two steps (less for users with many steps; at least 2), so no two steps of a
 *             user are on the same or on consecutive days: every streak is 1 day long
 *   last day  one of the 365 days before the load's day (UTC); step i (1 .. k) is on last day - stride x (k - i)
 *   step i    `logins` when i is a multiple of 5, else `tasks_completed`; amount 1; an md5-based uuid of (n, i);
 *             tasks at any hour, logins between 12:00 and 12:59 UTC
 * So the tasks tally is k - k/5, the logins tally k/5, and a count criterion of T tasks is reached at step
 * T + (T - 1)/4 (integer division), of T logins at step 5T. No loaded step meets a time-of-day criterion of the
 * demo catalog (early_bird, night_owl, insomniac), a streak criterion of 2 days or more, nor launch_sprint's
 * window (from the catalog's load, today, on): checkConsistency() checks these against the real rows.
 */
class History {
  constructor(
    readonly users: number,
    readonly meanSteps: number,
    /** The load's day (UTC), fixed so that every statement regenerates the same history. */
    readonly today: string,
    /** The achievements that the history unlocks, each with when (unlockStep below). */
    readonly unlockable: Unlockable[],
  ) {}

  /** A pseudo-random number in [0, 1) for an integer key and a salt. */
  private random = (key: string, salt: number) => `((hashint8extended(${key}, ${salt}) & 4294967295)::float8 / 4294967296.0)`;

  /** The users, one row each: (n, user_id, k, stride, last_day). */
  get users_(): string {
    const r = (salt: number) => this.random("u0.n::bigint", salt);
    return `(select u0.n, md5('bench-growth-user:' || u0.n)::uuid as user_id, u0.k,
                    greatest(2, least(2 + floor(${r(4)} * 6)::int, 1460 / u0.k)) as stride,
                    '${this.today}'::date - 1 - floor(${r(5)} * 365)::int as last_day
             from (select n, greatest(1, least(1000000, round(${this.meanSteps} * power(ln(1 - ${this.random("n::bigint", 0)}), 2) / 2)))::int as k
                   from generate_series(1, ${this.users}) as n offset 0) as u0
             -- offset 0: computed once per user, not inlined into every expression that uses them
             offset 0)`;
  }

  /** Step i of user u (a row of users_): its id, name and time. */
  stepId = (u: string, i: string) => `md5('bench-growth-step:' || ${u}.n || ':' || ${i})::uuid`;
  stepName = (i: string) => `case when ${i} % 5 = 0 then 'logins' else 'tasks_completed' end`;
  stepAt = (u: string, i: string) =>
    `((${u}.last_day - ${u}.stride * (${u}.k - ${i}))
      + case when ${i} % 5 = 0 then interval '12 hours' + ${this.random(`(${u}.n::bigint * 1048576 + ${i})`, 3)} * interval '59 minutes'
             else ${this.random(`(${u}.n::bigint * 1048576 + ${i})`, 3)} * interval '24 hours' end) at time zone 'UTC'`;

  /** The user's unlocks: (achievement_id, points, position, i) for each unlockable achievement the user reaches. */
  unlocksOf(u: string): string {
    if (this.unlockable.length === 0) return "(select null::text as achievement_id, 0 as points, 0 as position, 0 as i where false)";
    const rows = this.unlockable.map(
      (a) => `(${a.literalId}, ${a.points}, ${a.position}, case when ${a.reached(`${u}.k`)} then ${a.step(`${u}.k`)} end)`,
    );
    return `(select * from (values ${rows.join(", ")}) as unlockable (achievement_id, points, position, i) where i is not null)`;
  }
}

/** An achievement the history unlocks: whether a user with k steps reaches it, and at which step. */
interface Unlockable {
  literalId: string;
  points: number;
  position: number;
  reached(k: string): string;
  step(k: string): string;
}

/**
 * What each achievement of the catalog does in the history: unlocked at a step given by formulas, or never
 * (checked by checkConsistency against the loaded rows). Fails for a catalog it cannot say that of.
 */
async function unlockableIn(client: pg.Client): Promise<{ unlockable: Unlockable[]; never: string[] }> {
  const { rows } = await client.query<{ id: string; points: number; position: number; windowed: boolean; criteria: Array<{ kind: string; action: string | null; threshold: number | null }> }>(
    `select achievement.id, achievement.points, achievement.position,
            achievement.available_from is not null or achievement.available_until is not null as windowed,
            json_agg(json_build_object('kind', criterion.kind, 'action', criterion.action, 'threshold', criterion.threshold)) as criteria
     from status_public.achievements as achievement
     join status_public.achievement_criteria as criterion on criterion.achievement_id = achievement.id
     group by achievement.id order by achievement.id`,
  );
  // Per criterion: [reached (SQL of k), step (SQL of k)], or null when no user of the history meets it.
  const formula = (c: { kind: string; action: string | null; threshold: number | null }): [(k: string) => string, (k: string) => string] | null => {
    const t = c.threshold ?? 0;
    if (c.kind === "count" && c.action === "tasks_completed") return [(k) => `${k} - ${k} / 5 >= ${t}`, () => `${t + Math.floor((t - 1) / 4)}`];
    if (c.kind === "count" && c.action === "logins") return [(k) => `${k} / 5 >= ${t}`, () => `${5 * t}`];
    if (c.kind === "streak" && t === 1 && (c.action === "tasks_completed" || c.action === null)) return [(k) => `${k} >= 1`, () => "1"];
    if (c.kind === "streak" && t === 1 && c.action === "logins") return [(k) => `${k} >= 5`, () => "5"];
    return null;
  };
  const unlockable: Unlockable[] = [];
  const never: string[] = [];
  for (const achievement of rows) {
    const parts = achievement.criteria.map(formula);
    const impossible = achievement.criteria.some((c) => c.kind === "time_of_day" || (c.kind === "streak" && (c.threshold ?? 0) >= 2));
    if (achievement.windowed || impossible) {
      never.push(achievement.id);
      continue;
    }
    if (parts.some((part) => part === null)) {
      throw new Error(`the growth loader does not know when achievement ${achievement.id} unlocks (${JSON.stringify(achievement.criteria)}): extend unlockableIn()`);
    }
    const known = parts as Array<[(k: string) => string, (k: string) => string]>;
    unlockable.push({
      literalId: client.escapeLiteral(achievement.id),
      points: achievement.points,
      position: achievement.position,
      // All criteria hold from the last of their steps on.
      reached: (k) => known.map(([reached]) => `(${reached(k)})`).join(" and "),
      step: (k) => (known.length === 1 ? known[0][1](k) : `greatest(${known.map(([, step]) => step(k)).join(", ")})`),
    });
  }
  return { unlockable, never };
}

/** The step log: every user's steps, generated in the database. */
async function loadSteps(client: pg.Client, history: History): Promise<void> {
  await timed(
    client,
    "user_steps",
    `insert into status_public.user_steps (id, user_id, name, count, occurred_at, created_at)
     select ${history.stepId("u", "i")}, u.user_id, ${history.stepName("i")}, 1, ${history.stepAt("u", "i")}, ${history.stepAt("u", "i")}
     from ${history.users_} as u cross join lateral generate_series(1, u.k) as i`,
  );
}

/**
 * Everything the engine derives from the step log, as its triggers would have written it had the steps been
 * recorded one by one in time order, each in its own transaction at its occurred_at, in the users' time zone
 * (UTC: no profiles). The single place to follow a schema change of the event path.
 */
async function deriveTables(client: pg.Client, history: History): Promise<void> {
  const users = `${history.users_} as u`;
  const lastOf = (name: "tasks_completed" | "logins") =>
    name === "logins" ? "5 * (u.k / 5)" : "case when u.k % 5 = 0 then u.k - 1 else u.k end";
  // Tallies: tasks k - k/5 (first at step 1), logins k/5 (first at step 5); a tally of zero has no row.
  await timed(
    client,
    "user_achievements (tallies)",
    `insert into status_public.user_achievements (user_id, name, count, created_at)
     select u.user_id, tally.name, tally.count, tally.created_at
     from ${users} cross join lateral (values
       ('tasks_completed', u.k - u.k / 5, ${history.stepAt("u", "1")}),
       ('logins', u.k / 5, ${history.stepAt("u", "5")})) as tally (name, count, created_at)
     where tally.count > 0`,
  );
  // Streaks: no two steps of a user on consecutive days, so every streak is 1 day, ending on the day of the
  // action's last step (any activity: the last step).
  await timed(
    client,
    "user_streaks",
    `insert into status_public.user_streaks (user_id, action, current_length, longest_length, last_day, updated_at)
     select u.user_id, streak.action, 1, 1, (streak.at at time zone 'UTC')::date, streak.at
     from ${users} cross join lateral (values
       ('tasks_completed', ${history.stepAt("u", lastOf("tasks_completed"))}, u.k - u.k / 5),
       ('logins', ${history.stepAt("u", lastOf("logins"))}, u.k / 5),
       (null, ${history.stepAt("u", "u.k")}, u.k)) as streak (action, at, steps)
     where streak.steps > 0`,
  );
  // The unlocks once, in a scratch table; the tables that follow from them read it. Cursors number each user's
  // unlocks in the order they happened.
  await timed(
    client,
    "unlocks (scratch table)",
    `create unlogged table public.bench_growth_unlocks as
     select u.user_id, gen_random_uuid() as id, unlock.achievement_id, unlock.points,
            ${history.stepId("u", "unlock.i")} as step_id, ${history.stepAt("u", "unlock.i")} as at,
            (row_number() over (partition by u.n order by unlock.i, unlock.position, unlock.achievement_id))::int as cursor
     from ${users} cross join lateral ${history.unlocksOf("u")} as unlock`,
  );
  await timed(
    client,
    "achievement_unlocks",
    `insert into status_public.achievement_unlocks (id, user_id, achievement_id, points, unlocked_at, step_id, cursor)
     select id, user_id, achievement_id, points, at, step_id, cursor from public.bench_growth_unlocks`,
  );
  await timed(
    client,
    "points_ledger",
    `insert into status_public.points_ledger (user_id, points, unlock_id, created_at)
     select user_id, points, id, at from public.bench_growth_unlocks where points > 0`,
  );
  await timed(
    client,
    "user_event_cursors",
    `insert into status_private.user_event_cursors (user_id, last_cursor)
     select user_id, max(cursor) from public.bench_growth_unlocks group by user_id`,
  );
  // Every user who acted has a score row (0 points until awarded) with the tier of their points; reached_at:
  // their last award, else their first step.
  await timed(
    client,
    "user_scores",
    `insert into status_public.user_scores (user_id, points, tier, reached_at, created_at)
     select u.user_id, coalesce(earned.points, 0),
            (select tier.name from status_public.tiers as tier where tier.min_points <= coalesce(earned.points, 0) order by tier.min_points desc limit 1),
            coalesce(earned.reached_at, ${history.stepAt("u", "1")}), ${history.stepAt("u", "1")}
     from ${users}
     left join (select user_id, sum(points)::int as points, max(at) as reached_at from public.bench_growth_unlocks where points > 0 group by user_id) as earned
       on earned.user_id = u.user_id`,
  );
  // Leaderboard scores: each period in which points were awarded (old periods stay, as the triggers leave them).
  await timed(
    client,
    "leaderboard_scores",
    `insert into status_public.leaderboard_scores (period, period_start, user_id, points, reached_at, visible)
     select board.period, status_private.period_start(board.period, unlock.at), unlock.user_id, sum(unlock.points)::int, max(unlock.at),
            not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = unlock.user_id), false)
     from public.bench_growth_unlocks as unlock
     cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
     where unlock.points > 0
     group by board.period, 2, unlock.user_id`,
  );
  await client.query("drop table public.bench_growth_unlocks");
  // The histogram of visible users per score. (The triggers also leave rows at 0 users for scores every user
  // has left; they change no rank.)
  await timed(
    client,
    "leaderboard_point_counts",
    `insert into status_private.leaderboard_point_counts (period, period_start, points, users)
     select period, period_start, points, count(*) from status_public.leaderboard_scores where visible group by 1, 2, 3`,
  );
  // The rank levels (migration 000014, 4-reads.sql), from the point counts.
  await timed(client, "leaderboard_rank_levels", "select status_private.rebuild_leaderboard_rank_levels()");
  // The rate limit's bucket of each user recorded for (full: the window has long passed).
  await timed(
    client,
    "record_action_allowances",
    `insert into status_private.record_action_allowances (subject_kind, user_id, shard, tokens, refilled_at)
     select 'user', u.user_id, 0, 60, now() from ${users}`,
  );
}


async function checkConsistency(client: pg.Client, users: number, never: string[]): Promise<void> {
  const failures: string[] = [];
  const expect = async (label: string, sql: string, values?: unknown[]) => {
    const { rows } = await client.query(sql, values);
    if (rows.length > 0) failures.push(`${label}: ${JSON.stringify(rows.slice(0, 3))}`);
  };
  await client.query(
    `create temp table sample_users on commit preserve rows as
     select user_id from status_public.user_scores tablesample bernoulli (least(100, 100.0 * 2000 / $1)) limit 1000`,
    [users],
  );
  await expect(
    "tallies = sums of steps",
    `select sample.user_id, steps.name, steps.total, tally.count
     from sample_users as sample
     join (select user_id, name, sum(count)::int as total from status_public.user_steps where user_id in (select user_id from sample_users) group by 1, 2) as steps using (user_id)
     full join (select * from status_public.user_achievements where user_id in (select user_id from sample_users)) as tally using (user_id, name)
     where steps.total is distinct from tally.count`,
  );
  await expect(
    "scores = ledger sums = all-time leaderboard points",
    `select score.user_id, score.points, ledger.points as ledger, board.points as board
     from status_public.user_scores as score
     left join (select user_id, sum(points)::int as points from status_public.points_ledger where user_id in (select user_id from sample_users) group by 1) as ledger using (user_id)
     left join status_public.leaderboard_scores as board on board.period = 'ALL_TIME' and board.user_id = score.user_id
     where score.user_id in (select user_id from sample_users)
       and (score.points <> coalesce(ledger.points, 0) or score.points <> coalesce(board.points, 0)
            or score.tier is distinct from (select tier.name from status_public.tiers as tier where tier.min_points <= score.points order by tier.min_points desc limit 1))`,
  );
  await expect(
    "unlocks = the steps at which a count criterion's running tally reaches its threshold (replayed from the steps)",
    `with running as (
       select step.user_id, step.id, step.name, sum(step.count) over (partition by step.user_id, step.name order by step.occurred_at, step.id) as tally, step.count
       from status_public.user_steps as step where step.user_id in (select user_id from sample_users)
     ), expected as (
       select running.user_id, criterion.achievement_id, running.id as step_id
       from running join status_public.achievement_criteria as criterion
         on criterion.kind = 'count' and criterion.action = running.name and running.tally >= criterion.threshold and running.tally - running.count < criterion.threshold
       where criterion.achievement_id <> all($1) and (select count(*) from status_public.achievement_criteria as other where other.achievement_id = criterion.achievement_id) = 1
     ), actual as (
       select user_id, achievement_id, step_id from status_public.achievement_unlocks where user_id in (select user_id from sample_users)
     )
     select * from expected full join actual using (user_id, achievement_id, step_id) where expected.user_id is null or actual.user_id is null`,
    [never],
  );
  await expect(
    "no unlock of an achievement the history never reaches",
    `select achievement_id, count(*) from status_public.achievement_unlocks where achievement_id = any($1) group by 1`,
    [never],
  );
  await expect(
    "streaks = the islands of consecutive days of the steps (sampled users)",
    `with days as (
       select user_id, name as action, (occurred_at at time zone 'UTC')::date as day from status_public.user_steps where user_id in (select user_id from sample_users) group by 1, 2, 3
       union all
       select user_id, null, (occurred_at at time zone 'UTC')::date from status_public.user_steps where user_id in (select user_id from sample_users) group by 1, 2, 3
     ), islands as (
       select user_id, action, day, day - (row_number() over (partition by user_id, action order by day))::int as island from days
     ), lengths as (
       select user_id, action, count(*)::int as length, max(day) as last_day from islands group by user_id, action, island
     ), expected as (
       select user_id, action, (array_agg(length order by last_day desc))[1] as current_length, max(length) as longest_length, max(last_day) as last_day
       from lengths group by user_id, action
     )
     select * from expected
     full join (select user_id, action, current_length, longest_length, last_day from status_public.user_streaks where user_id in (select user_id from sample_users)) as actual
       on actual.user_id = expected.user_id and actual.action is not distinct from expected.action
     where (expected.current_length, expected.longest_length, expected.last_day) is distinct from (actual.current_length, actual.longest_length, actual.last_day)`,
  );
  await expect(
    "no loaded step in a time-of-day criterion's hours, or from a time-limited achievement's start on",
    `select criterion.achievement_id, count(*) from status_public.user_steps as step
     join status_public.achievement_criteria as criterion on criterion.kind = 'time_of_day' and criterion.action = step.name
       and case when criterion.hour_from < criterion.hour_until
                then extract(hour from step.occurred_at at time zone 'UTC') >= criterion.hour_from and extract(hour from step.occurred_at at time zone 'UTC') < criterion.hour_until
                else extract(hour from step.occurred_at at time zone 'UTC') >= criterion.hour_from or extract(hour from step.occurred_at at time zone 'UTC') < criterion.hour_until end
     group by 1
     union all
     select achievement.id, 1 from status_public.achievements as achievement
     where (achievement.available_from is not null or achievement.available_until is not null)
       and not coalesce(achievement.available_from > (select max(occurred_at) from status_public.user_steps), false)`,
  );
  await expect(
    "histogram totals = visible score rows, per period",
    `select coalesce(points.period, scores.period) as period, coalesce(points.period_start, scores.period_start) as period_start, points.users as point_users, scores.users as scores
     from (select period, period_start, sum(users)::int as users from status_private.leaderboard_point_counts group by 1, 2) as points
     full join (select period, period_start, count(*)::int as users from status_public.leaderboard_scores where visible group by 1, 2) as scores
       using (period, period_start)
     where points.users is distinct from scores.users`,
  );
  await expect(
    "rank_of = 1 + the visible users with more points (20 sampled users)",
    `select sample.user_id, board.points, status_private.rank_of('ALL_TIME', '-infinity', board.points) as rank,
            1 + (select count(*) from status_public.leaderboard_scores as other where other.period = 'ALL_TIME' and other.visible and other.points > board.points) as counted
     from (select user_id from sample_users limit 20) as sample
     join status_public.leaderboard_scores as board on board.period = 'ALL_TIME' and board.user_id = sample.user_id
     where status_private.rank_of('ALL_TIME', '-infinity', board.points)
           <> 1 + (select count(*) from status_public.leaderboard_scores as other where other.period = 'ALL_TIME' and other.visible and other.points > board.points)`,
  );
  const { rows } = await client.query<{ n: number }>("select count(*)::int as n from status_public.user_scores");
  if (rows[0].n !== users) failures.push(`${rows[0].n} score rows for ${users} users`);
  // A schema whose awards append histogram deltas, folded later (migrations/current): the load writes the folded state.
  const { rows: deltas } = await client.query<{ exists: boolean }>("select to_regclass('status_private.leaderboard_count_deltas') is not null as exists");
  if (deltas[0].exists) await expect("no unfolded histogram deltas", "select count(*) from status_private.leaderboard_count_deltas having count(*) > 0");
  await client.query("drop table sample_users");
  if (failures.length > 0) throw new Error(`the loaded state is inconsistent:\n  ${failures.join("\n  ")}`);
  progress("  consistent: tallies, scores, unlocks, histogram totals and sampled ranks checked");
}

/** The history of `users` users with about `steps` steps, against the catalog of the database. */
async function historyFor(client: pg.Client, users: number, steps: number): Promise<{ history: History; never: string[] }> {
  const { unlockable, never } = await unlockableIn(client);
  const { rows } = await client.query<{ today: string }>("select ((now() at time zone 'UTC')::date)::text as today");
  // round(m * E^2 / 2) has mean ~m; greatest(1, ...) adds ~0.25.
  return { history: new History(users, Math.max(0.5, steps / users - 0.25), rows[0].today, unlockable), never };
}

/** Loads the big state into `databaseUrl` (superuser): steps, derived tables, keys, statistics; returns the counts. */
async function loadBigState(databaseUrl: string, embedded: boolean): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // An embedded server is the benchmark's own: fewer checkpoints during the load. (Never on a shared server.)
    if (embedded) {
      await client.query("alter system set max_wal_size = '8GB'");
      await client.query("select pg_reload_conf()");
    }
    await client.query("set session_replication_role = replica");
    await client.query("set maintenance_work_mem = '1GB'");
    await client.query("set work_mem = '1GB'");
    await client.query("set synchronous_commit = off");
    const started = nowMs();
    const { history, never } = await historyFor(client, USERS, STEPS);
    await withoutIndexes(client, LOADED_TABLES, async () => {
      await loadSteps(client, history);
      await deriveTables(client, history);
    });
    await client.query("set session_replication_role = origin");
    const analysing = nowMs();
    for (const table of LOADED_TABLES) await client.query(`vacuum (analyze) ${table}`);
    await client.query("checkpoint");
    progress(`  vacuum analyze and checkpoint: ${((nowMs() - analysing) / 1000).toFixed(1)} s; loaded in ${((nowMs() - started) / 1000).toFixed(0)} s`);
    await checkConsistency(client, USERS, never);
    const counts: Record<string, number> = {};
    for (const table of LOADED_TABLES) {
      counts[table] = Number((await client.query(`select count(*) as n from ${table}`)).rows[0].n);
    }
    return counts;
  } finally {
    await client.end();
  }
}

interface Lookups {
  rankOf: Timing;
  myRank: Timing;
  users: number;
}

/** `LOOKUPS` rank lookups of random scored users: status_private.rank_of (superuser) and status_public.my_rank (as the user). */
async function timeRankLookups(databaseUrl: string): Promise<Lookups> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows: total } = await client.query<{ n: number }>("select count(*)::int as n from status_public.leaderboard_scores where period = 'ALL_TIME'");
    const { rows: sample } = await client.query<{ user_id: string; points: number }>(
      `select user_id::text, points from status_public.leaderboard_scores tablesample bernoulli (least(100, 100.0 * $1 * 4 / greatest($2, 1)))
       where period = 'ALL_TIME' limit $1`,
      [LOOKUPS, total[0].n],
    );
    const rankOf: number[] = [];
    const myRank: number[] = [];
    for (const { points } of sample) {
      const started = nowMs();
      await client.query("select status_private.rank_of('ALL_TIME', '-infinity', $1) as rank", [points]);
      rankOf.push(nowMs() - started);
    }
    await client.query(`set role ${client.escapeIdentifier(roles.user)}`);
    for (const { user_id: userId } of sample) {
      const started = nowMs();
      // One round trip, as a server's transaction sets the claim: the claim for this statement, then my_rank.
      await client.query("select (status_public.my_rank('ALL_TIME')).rank from (select set_config('jwt.claims.user_id', $1, false)) as claim", [userId]);
      myRank.push(nowMs() - started);
    }
    return { rankOf: percentiles(rankOf), myRank: percentiles(myRank), users: total[0].n };
  } finally {
    await client.end();
  }
}

/** Calls status_private.fold_leaderboard_deltas() on `client` every second until stopped. */
function foldEverySecond(client: pg.Client): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await client.query("select status_private.fold_leaderboard_deltas()");
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

type Case = "empty" | "big" | "bigExisting";

function add(total: Throughput | undefined, next: Throughput): Throughput {
  if (!total) return next;
  const events = total.events + next.events;
  const seconds = total.seconds + next.seconds;
  return { events, seconds, perSecond: events / seconds };
}

main(async () => {
  progress(`growth: ${fmt(USERS)} users and ~${fmt(STEPS)} steps against an empty database; 1 and ${CLIENTS} clients, ${SECONDS} s a phase, ${ROUNDS} round(s)`);
  const empty = await startBenchDatabase("achievements_bench_growth_empty");
  const big = await startBenchDatabase("achievements_bench_growth_big");
  const clients: Record<"empty" | "big", pg.Client[]> = { empty: [], big: [] };
  const admins: pg.Client[] = [];
  const totals: Record<string, Throughput> = {};
  const unlocks: Record<string, number> = {};
  let counts: Record<string, number> = {};
  let loadSeconds = 0;
  const lookups: Partial<Record<"empty" | "big", Lookups>> = {};
  const folders: Array<{ stop(): Promise<void> }> = [];
  try {
    progress(`loading ${fmt(USERS)} users and ~${fmt(STEPS)} steps into the big database...`);
    const loading = nowMs();
    counts = await loadBigState(big.databaseUrl, !process.env.BENCH_DATABASE_URL);
    loadSeconds = (nowMs() - loading) / 1000;
    progress(`loaded and checked in ${loadSeconds.toFixed(0)} s: ${Object.entries(counts).map(([table, n]) => `${table.split(".")[1]} ${fmt(n)}`).join(", ")}`);

    for (const name of ["empty", "big"] as const) {
      const database = name === "empty" ? empty : big;
      clients[name] = await openClients(database.databaseUrl, CLIENTS, true);
      const admin = new pg.Client({ connectionString: database.databaseUrl });
      await admin.connect();
      admins.push(admin);
    }
    const [emptyAdmin, bigAdmin] = admins;
    // Where awards append histogram deltas (migrations/current), fold them every second, as the standalone server does.
    for (const name of ["empty", "big"] as const) {
      const database = name === "empty" ? empty : big;
      const folder = new pg.Client({ connectionString: database.databaseUrl });
      await folder.connect();
      admins.push(folder);
      const { rows } = await folder.query<{ folds: boolean }>("select to_regproc('status_private.fold_leaderboard_deltas') is not null as folds");
      if (rows[0].folds) {
        folders.push(foldEverySecond(folder));
        progress(`${name}: the schema appends leaderboard deltas: folding them every second`);
      }
    }
    // Warm-up: 1 s on each database, on users of its own.
    for (const name of ["empty", "big"] as const) await runSql(clients[name], newUsers(PHASE_USERS), PIPELINE_SQL, 1);

    for (let round = 1; round <= ROUNDS; round++) {
      for (const count of [1, CLIENTS]) {
        for (const which of ["empty", "big", "bigExisting"] as const satisfies readonly Case[]) {
          const database = which === "empty" ? "empty" : "big";
          const admin = which === "empty" ? emptyAdmin : bigAdmin;
          const key = `${which}/${count}`;
          let users: string[];
          let before = new Map<string, number>();
          if (which === "bigExisting") {
            // Loaded users, with their tallies before the phase.
            const { rows } = await admin.query<{ user_id: string; count: number | null }>(
              `select sample.user_id::text, tally.count
               from (select user_id from status_public.user_scores tablesample bernoulli (least(100, 100.0 * $1 * 2 / $2)) limit $1) as sample
               left join status_public.user_achievements as tally on tally.user_id = sample.user_id and tally.name = 'tasks_completed'`,
              [PHASE_USERS, USERS],
            );
            users = rows.map((row) => row.user_id);
            before = new Map(rows.map((row) => [row.user_id, row.count ?? 0]));
          } else {
            users = newUsers(PHASE_USERS);
          }
          const phase = await runSql(clients[database].slice(0, count), users, PIPELINE_SQL, SECONDS);
          if (which === "bigExisting") {
            const { rows } = await admin.query<{ user_id: string; count: number }>(
              "select user_id::text, count from status_public.user_achievements where name = 'tasks_completed' and user_id = any($1)",
              [[...phase.eventsPerUser.keys()]],
            );
            const after = new Map(rows.map((row) => [row.user_id, row.count]));
            const wrong = [...phase.eventsPerUser].filter(([user, events]) => after.get(user) !== (before.get(user) ?? 0) + events);
            if (wrong.length > 0) throw new Error(`${key}: ${wrong.length} tallies differ from their loaded value plus the events counted`);
          } else {
            unlocks[key] = (unlocks[key] ?? 0) + (await verifyPhase(admin, key, phase.eventsPerUser, "engine"));
          }
          totals[key] = add(totals[key], phase);
          progress(`round ${round}, ${count} client(s), ${which}: ${fmt(phase.perSecond)} events/s`);
        }
      }
    }
    lookups.empty = await timeRankLookups(empty.databaseUrl);
    lookups.big = await timeRankLookups(big.databaseUrl);
  } finally {
    await cleanUp(
      () => Promise.all(folders.map((folder) => folder.stop())),
      () => closeClients(clients.empty),
      () => closeClients(clients.big),
      () => Promise.all(admins.map((admin) => admin.end())),
      () => empty.stop(),
      () => big.stop(),
    );
  }

  const msPerEvent = (t: Throughput, count: number) => (1000 * count) / t.perSecond;
  const label: Record<Case, string> = {
    empty: "empty database",
    big: `${fmt(USERS)} users, ${fmt(counts["status_public.user_steps"] ?? 0)} steps`,
    bigExisting: "the same, events of loaded users",
  };
  const lines = [
    `| database (record_action_for, service role) | clients | events | events/s | ms per event (per client) | unlocks per event | vs empty (ms per event) |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const count of [1, CLIENTS]) {
    for (const which of ["empty", "big", "bigExisting"] as const) {
      const t = totals[`${which}/${count}`];
      const base = totals[`empty/${count}`];
      const perEventUnlocks = unlocks[`${which}/${count}`] === undefined ? "–" : (unlocks[`${which}/${count}`] / t.events).toFixed(2);
      lines.push(
        `| ${label[which]} | ${count} | ${fmt(t.events)} | ${fmt(t.perSecond)} | ${msPerEvent(t, count).toFixed(2)} | ${perEventUnlocks} | ${(msPerEvent(t, count) / msPerEvent(base, count)).toFixed(2)}x |`,
      );
    }
  }
  const rankLine = (name: "empty" | "big") => {
    const l = lookups[name] as Lookups;
    return `| ${name === "empty" ? "empty database (the phases' users)" : label.big} | ${fmt(l.users)} | ${l.rankOf.p50.toFixed(3)} / ${l.rankOf.p99.toFixed(3)} | ${l.myRank.p50.toFixed(3)} / ${l.myRank.p99.toFixed(3)} |`;
  };
  const rankTable = [
    "| database | scored users (all time) | rank_of p50 / p99 ms | my_rank (as the user) p50 / p99 ms |",
    "| --- | ---: | ---: | ---: |",
    rankLine("empty"),
    rankLine("big"),
  ];
  process.stdout.write(`${lines.join("\n")}\n\n${rankTable.join("\n")}\n\nloaded in ${loadSeconds.toFixed(0)} s; ${machine()}\n`);
  await writeResult("growth", {
    users: USERS,
    steps: STEPS,
    clients: CLIENTS,
    seconds: SECONDS,
    rounds: ROUNDS,
    loadSeconds,
    counts,
    throughput: totals,
    unlocks,
    lookups,
  });
});

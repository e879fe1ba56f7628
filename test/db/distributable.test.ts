// The schema stays distributable by user_id (issue 12; docs/scaling.md says how it maps onto Citus). Checked on
// one PostgreSQL, in two ways:
//
// 1. The catalogs. A *user table* is any table of ours with a `user_id` column (a table added later is covered
//    without being listed), but for NOT_DISTRIBUTED below, each with its reason. Every user table has a primary
//    key, and user_id in it and in every unique index (constraints, partial indexes); a foreign key between two
//    user tables maps user_id onto user_id; no other table references a user table (a reference table cannot
//    point into a distributed one).
// 2. The event path, run under a guard. In a database installed by a non-superuser owner (so that SECURITY
//    DEFINER functions run as a role that row-level security applies to), every user table gets FORCE ROW LEVEL
//    SECURITY and a restrictive policy calling distributable_guard.same_user(user_id), which raises unless the
//    row's user is one of the event's users (the setting distributable_guard.users). A query that evaluates
//    another user's row, whether it reads, updates or checks it, fails. Sequential scans, hash and merge joins are
//    turned off for the session, so that every read that can be driven by a user_id key is an index lookup and
//    touches that user's rows only, while a read with no user key still scans other users' rows and fails: a
//    statement on Citus would be a single-shard (router) statement in the first case, a multi-shard one in the
//    second. The documented counters are exempt (SHARED_ON_THE_EVENT_PATH): the service client's rate-limit
//    buckets. The leaderboard histograms and deltas have no user_id: not user tables, so not guarded. The
//    scenarios record single events (of an action with a tally leaderboard too), batches, idempotent retries, streak freezes, levels, the reference helpers
//    and a profile change for one user (and a batch for two) while other users' rows exist, and every trigger
//    function on a user table must have run (pg_stat_xact_user_functions), so that a new trigger is not left
//    out. A trigger that reads every user's tallies is shown to fail.
//
// The guard's tests share one transaction (rolled back at the end) and run in order: the trigger check counts
// the calls the scenarios before it made.
//
// What the guard does not see: a lookup by a key without user_id that still finds only the user's own row (an
// id; on Citus a multi-shard statement unless it also names user_id), and foreign-key checks (PostgreSQL runs
// them without row security; they follow the composite keys of part 1).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { installAchievements } from "../../src/install";
import { withDatabase } from "../../src/connection-strings";
import { asService, asUser, testDatabaseUrl, testRoles, TestTransaction } from "../helpers/db";
import { installScenarios } from "../helpers/install-scenarios";

/** Tables with a user_id column that are not distributed by it, and why (docs/scaling.md, "Global state"). */
const NOT_DISTRIBUTED: Record<string, string> = {
  // Positions number every user's events in one commit order (its unique index on position is global); on
  // Citus the rows stay with their user's shard and a single publisher gives positions in a table of its own.
  "status_private.outbox_events": "the outbox: one global order of positions",
};

/** Rows of other users that the event path reads and writes on purpose (documented counters). */
const SHARED_ON_THE_EVENT_PATH: Record<string, string> = {
  // The service client's buckets are keyed by its own id (subject_kind 'service'): one allowance for all the
  // users it records for.
  "status_private.record_action_allowances": "subject_kind = 'service'",
};

const OUR_SCHEMAS = ["status_public", "status_private", "jwt_public"];

interface UserTable {
  name: string;
  oid: number;
  user_id_attnum: number;
}

async function userTables(client: pg.Client): Promise<UserTable[]> {
  const { rows } = await client.query<UserTable>(
    `select c.oid::regclass::text as name, c.oid::int as oid, a.attnum::int as user_id_attnum
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped
      where n.nspname = any ($1) and c.relkind in ('r', 'p')
      order by 1`,
    [OUR_SCHEMAS],
  );
  return rows;
}

describe("the schema is distributable by user_id (catalogs)", () => {
  let client: pg.Client;
  let tables: UserTable[];
  let distributed: UserTable[];
  beforeAll(async () => {
    client = new pg.Client({ connectionString: testDatabaseUrl() });
    await client.connect();
    tables = await userTables(client);
    distributed = tables.filter((table) => !(table.name in NOT_DISTRIBUTED));
  });
  afterAll(() => client.end());

  it("finds the user tables, and every allow-listed table exists and has a user_id", () => {
    const names = tables.map((table) => table.name);
    for (const name of [...Object.keys(NOT_DISTRIBUTED), ...Object.keys(SHARED_ON_THE_EVENT_PATH)]) expect(names).toContain(name);
    expect(names).toEqual(expect.arrayContaining(["status_public.user_steps", "status_public.user_achievements", "status_public.achievement_unlocks",
      "status_public.points_ledger", "status_public.user_streaks", "status_public.user_scores", "status_private.recorded_action_results"]));
  });

  it("every user table has a primary key, and user_id is in it and in every unique index", async () => {
    const { rows } = await client.query<{ table_name: string; index_name: string | null; key_columns: string[] | null; is_primary: boolean | null }>(
      `select c.oid::regclass::text as table_name, i.indexrelid::regclass::text as index_name, i.indisprimary as is_primary,
              array(select a.attname::text from unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) as k (attnum)
                    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum) as key_columns
         from pg_class c
         left join pg_index i on i.indrelid = c.oid and i.indisunique
        where c.oid = any ($1::oid[])`,
      [distributed.map((table) => table.oid)],
    );
    const withoutPrimaryKey = distributed.filter((table) => !rows.some((row) => row.table_name === table.name && row.is_primary)).map((t) => t.name);
    expect(withoutPrimaryKey).toEqual([]);
    // An expression index has no column for an expression (attnum 0): it never counts as holding user_id.
    const withoutUserId = rows.filter((row) => row.index_name !== null && !row.key_columns!.includes("user_id"))
      .map((row) => `${row.table_name}: ${row.index_name} (${row.key_columns!.join(", ")})`);
    expect(withoutUserId).toEqual([]);
  });

  it("a foreign key between user tables maps user_id onto user_id, and only user tables reference user tables", async () => {
    const { rows } = await client.query<{ name: string; from_table: string; to_table: string; from_columns: string[]; to_columns: string[] }>(
      `select con.conname::text as name, con.conrelid::regclass::text as from_table, con.confrelid::regclass::text as to_table,
              array(select a.attname::text from unnest(con.conkey) with ordinality as k (attnum, n)
                    join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum order by k.n) as from_columns,
              array(select a.attname::text from unnest(con.confkey) with ordinality as k (attnum, n)
                    join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum order by k.n) as to_columns
         from pg_constraint con
        where con.contype = 'f' and (con.conrelid = any ($1::oid[]) or con.confrelid = any ($1::oid[]))
        order by 1`,
      [tables.map((table) => table.oid)],
    );
    const isDistributed = (name: string) => distributed.some((table) => table.name === name);
    const problems = rows.flatMap((fk) => {
      const label = `${fk.from_table}.${fk.name} (${fk.from_columns.join(", ")}) -> ${fk.to_table} (${fk.to_columns.join(", ")})`;
      if (isDistributed(fk.from_table) && isDistributed(fk.to_table)) {
        const at = fk.from_columns.indexOf("user_id");
        return at >= 0 && fk.to_columns[at] === "user_id" ? [] : [`${label}: does not join on user_id`];
      }
      if (isDistributed(fk.to_table)) return [`${label}: a table not distributed by user_id references a user table`];
      if (isDistributed(fk.from_table) && fk.to_table in NOT_DISTRIBUTED) return [`${label}: a user table references ${fk.to_table}, which is not distributed`];
      return []; // a user table onto the catalog (reference tables), or between tables that are not distributed
    });
    expect(problems).toEqual([]);
    // The composite keys that this checks are there (so that the test cannot pass on an empty list).
    expect(rows.map((fk) => fk.name)).toEqual(expect.arrayContaining(["achievement_unlocks_step_id_fkey", "points_ledger_unlock_id_fkey",
      "recorded_action_results_step_id_fkey", "user_levels_step_id_fkey"]));
  });
});

describe("the event path reads only its users' rows (a guard on every user table)", () => {
  const runRoles = testRoles();
  const { createOwner, createDatabase, urlAs, root, dropCreated } = installScenarios("dist");
  let client: pg.Client;
  let tx: TestTransaction;
  let tables: UserTable[];
  let ownerRole: string;
  const user = randomUUID();
  const second = randomUUID();
  const others = Array.from({ length: 40 }, () => randomUUID());
  const service = asService();

  /** Runs `callback` with the guard on for `users` (their rows only), inside a savepoint. */
  async function guarded<T>(users: string[], callback: () => Promise<T>): Promise<T> {
    await tx.root("select set_config('distributable_guard.users', $1, true)", [users.join(",")]);
    try {
      return await callback();
    } finally {
      await tx.root("select set_config('distributable_guard.users', '', true)");
    }
  }

  beforeAll(async () => {
    const owner = await createOwner("owner");
    ownerRole = owner.role;
    const database = await createDatabase("guard", owner.role);
    // As the owner, not a superuser: every object, and so every SECURITY DEFINER function, is the owner's.
    await installAchievements({ connectionString: urlAs(database, owner), roles: runRoles, includeCurrent: true, demoCatalog: true });
    await root(database, async (setup) => {
      await setup.query(`
        create schema distributable_guard;
        grant usage on schema distributable_guard to public;
        create function distributable_guard.same_user(row_user uuid, table_name text) returns boolean
          language plpgsql stable
        as $$
        declare
          allowed text := coalesce(current_setting('distributable_guard.users', true), '');
        begin
          if allowed = '' or row_user = any (string_to_array(allowed, ',')::uuid[]) then
            return true;
          end if;
          raise exception 'distributable guard: % read a row of user % (the event''s users: %)', table_name, row_user, allowed;
        end;
        $$;`);
      for (const table of await userTables(setup)) {
        const exempt = SHARED_ON_THE_EVENT_PATH[table.name];
        const check = `${exempt ? `(${exempt}) or ` : ""}distributable_guard.same_user(user_id, ${setup.escapeLiteral(table.name)})`;
        await setup.query(`
          alter table ${table.name} enable row level security;
          alter table ${table.name} force row level security;
          create policy distributable_owner on ${table.name} for all to ${setup.escapeIdentifier(owner.role)} using (true) with check (true);
          create policy distributable_guard on ${table.name} as restrictive for all to public using (${check}) with check (${check});`);
      }
    });
    // The tests' own connection is the superuser's (setup, inspection); what they test runs as the API roles.
    client = new pg.Client({ connectionString: withDatabase(testDatabaseUrl(), database) });
    await client.connect();
    tx = new TestTransaction(client);
    await client.query("begin");
    tables = await userTables(client);
    // A tally leaderboard on the action the scenarios record most (the rank_tallies stage runs for it).
    await tx.root("update status_public.actions set ranked = true where name = 'tasks_completed'");
    // Other users' rows everywhere the event path goes: steps, tallies, streaks, unlocks, scores, boards, levels.
    for (const other of others) {
      await tx.as(service, "select status_public.record_action_for($1, 'tasks_completed', 3)", [other]);
      await tx.as(service, "select status_public.record_action_for($1, 'logins', 1, $2)", [other, `key-${other}`]);
      await tx.as(service, "select status_public.grant_streak_freezes($1, 1)", [other]);
      await tx.as(service, "select status_private.user_completed_step('complete_profile', $1)", [other]);
    }
    await client.query("analyze");
    await client.query("set track_functions = 'all'; set enable_seqscan = off; set enable_hashjoin = off; set enable_mergejoin = off");
  });

  afterAll(async () => {
    await client?.query("rollback").catch(() => undefined);
    await client?.end();
    await dropCreated();
  });

  it("records single events, retries, freezes, levels, batches and a profile change for one user", async () => {
    await guarded([user], async () => {
      const [first] = await tx.as<{ unlocks: number }>(service, "select cardinality(unlocked) as unlocks from status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
      expect(first.unlocks).toBe(1); // tasks_completed_1: unlock, ledger, scores, boards, outbox, cursor
      await tx.as(service, "select status_public.record_action_for($1, 'logins', 1, 'k1', '2026-03-01 03:30Z')", [user]); // early bird
      await tx.as(service, "select status_public.record_action_for($1, 'logins', 1, 'k1', '2026-03-01 03:30Z')", [user]); // a retry
      await tx.as(service, "select status_public.grant_streak_freezes($1, 2)", [user]);
      await tx.as(service, "select status_public.record_action_for($1, 'logins', 1, null, '2026-03-03 10:00Z')", [user]); // a freeze spent
      await tx.as(service, `select count(*) from status_public.record_actions(array[row($1, 'tasks_completed', 2, 'k2', null),
        row($1, 'tasks_completed', 7, null, null), row($1, 'lessons_finished', 1, 'k3', null)]::status_public.action_event[])`, [user]);
      await tx.as(asUser(user), "select status_public.record_action('tasks_completed', 1)");
      // A service's own insert (the rate-limit trigger), the reference helpers, and a level achieved.
      await tx.as(service, "insert into status_public.user_steps (user_id, name) values ($1, 'make_post')", [user]);
      await tx.as(service, "select status_private.user_completed_step('make_post', $1)", [user]);
      await tx.as(service, "select status_private.upsert_achievement($1, 'make_post', 1)", [user]);
      await tx.as(service, "select status_private.user_incompleted_step('make_post', $1)", [user]);
      await tx.as(service, "select status_private.upsert_achievement($1, 'make_post', 2)", [user]);
      await tx.as(service, "select status_private.user_completed_step('complete_profile', $1)", [user]);
      expect(await tx.root("select level from status_public.user_levels where user_id = $1", [user])).toEqual([{ level: "beginner" }]);
      // An unlock that the unlock stage did not write (a backfill's insert, as the owner): its row triggers take the
      // cursor and write the provenance (the stage writes both itself).
      await tx.root(`set local role ${client.escapeIdentifier(ownerRole)}`);
      try {
        await tx.root(`insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
          select user_id, 'night_owl', 0, id from status_public.user_steps where user_id = $1 and name = 'logins' limit 1`, [user]);
      } finally {
        await tx.resetActor();
      }
      // ... and on the tally boards of tasks_completed, in every period.
      expect(await tx.root("select count(*)::int as boards from status_public.leaderboard_scores where user_id = $1 and action = 'tasks_completed'", [user])).toEqual([{ boards: 4 }]);
      await tx.as(asUser(user), "select status_public.set_my_profile(display_name => 'Ada', time_zone => 'Europe/Paris', leaderboard_opt_out => true)");
      await tx.as(asUser(user), "select status_public.set_my_profile(leaderboard_opt_out => false)");
    });
  });

  it("records a batch for two users reading only theirs", async () => {
    await guarded([user, second], async () => {
      const rows = await tx.as(service, `select * from status_public.record_actions(array[row($1, 'tasks_completed', 1, null, null),
        row($2, 'tasks_completed', 1, null, null), row($2, 'logins', 1, 'k4', null)]::status_public.action_event[])`, [user, second]);
      expect(rows).toHaveLength(3);
    });
  });

  it("ran every trigger function of every user table under the guard", async () => {
    const { rows } = await client.query<{ table_name: string; trigger_name: string; function_name: string; calls: number }>(
      `select t.tgrelid::regclass::text as table_name, t.tgname::text as trigger_name, t.tgfoid::regprocedure::text as function_name,
              coalesce(s.calls, 0)::int as calls
         from pg_trigger t
         left join pg_stat_xact_user_functions s on s.funcid = t.tgfoid
        where not t.tgisinternal and t.tgrelid = any ($1::oid[])
        order by 1, 2`,
      [tables.map((table) => table.oid)],
    );
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.filter((row) => row.calls === 0).map((row) => `${row.table_name} ${row.trigger_name} (${row.function_name})`)).toEqual([]);
  });

  it("fails on a trigger that reads other users' tallies", async () => {
    await client.query("savepoint cross_user");
    try {
      await client.query(`
        create function public.distributable_cross_user_read() returns trigger language plpgsql as $$
        begin
          perform count(*) from status_public.user_achievements;
          return null;
        end;
        $$;
        create trigger _990_cross_user_read after insert on status_public.user_steps
          for each statement execute function public.distributable_cross_user_read();`);
      const error = await guarded([user], () => tx.as(service, "select status_public.record_action_for($1, 'tasks_completed', 1)", [user]))
        .then(() => undefined, (caught: unknown) => caught as Error);
      expect(error?.message).toMatch(/^distributable guard: status_public\.user_achievements read a row of user [0-9a-f-]{36} \(the event's users: /);
    } finally {
      await client.query("rollback to savepoint cross_user");
    }
  });
});

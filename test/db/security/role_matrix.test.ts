// The role matrix: what each API role may do with every table of status_public and status_private and
// every function of status_public, status_private and jwt_public. The expected answers are written here,
// by hand, from the design ("Who may do what" in the README); the test compares them with what the
// database grants (has_*_privilege) and with what real statements do as each role, in a rolled-back
// transaction. A new table, function, grant or column grant fails this test until the matrix says so.
import type pg from "pg";
import { type ApiRole, newUserId, roles, type TestTransaction, withTransaction } from "../../helpers/db";

const API_ROLES: ApiRole[] = ["anonymous", "user", "service", "admin"];
const INSUFFICIENT_PRIVILEGE = "42501";

interface Grants {
  select: boolean;
  /** Columns the role may insert (grants always name their columns). */
  insert: string[];
  /** Columns the role may update. */
  update: string[];
  delete: boolean;
}

const NONE: Grants = { select: false, insert: [], update: [], delete: false };
const READ: Grants = { select: true, insert: [], update: [], delete: false };
const manage = (columns: string[]): Grants => ({ select: true, insert: columns, update: columns, delete: true });

/** Everyone reads the catalog; only admins write it, through the named columns. */
const catalog = (columns: string[]): Record<ApiRole, Grants> => ({ anonymous: READ, user: READ, service: READ, admin: manage(columns) });
/** Derived and per-user tables: signed-in roles read (RLS decides which rows); nobody writes. */
const PER_USER_READ: Record<ApiRole, Grants> = { anonymous: NONE, user: READ, service: READ, admin: READ };
const PRIVATE: Record<ApiRole, Grants> = { anonymous: NONE, user: NONE, service: NONE, admin: NONE };

const TABLES: Record<string, Record<ApiRole, Grants>> = {
  "status_private.backfill_runs": PRIVATE,
  // Backfills as admins read them (a view of the private table, read with its owner's rights).
  "status_public.backfill_runs": { anonymous: NONE, user: NONE, service: NONE, admin: READ },
  "status_private.leaderboard_count_deltas": PRIVATE,
  "status_private.leaderboard_point_counts": PRIVATE,
  "status_private.leaderboard_rank_levels": PRIVATE,
  "status_private.outbox_events": PRIVATE,
  // Which backend's import may skip the event path (status_public.import_actions writes and deletes it).
  "status_private.import_tokens": PRIVATE,
  "status_private.record_action_allowances": PRIVATE,
  "status_private.recorded_action_results": PRIVATE,
  "status_private.user_event_cursors": PRIVATE,
  // Rule versions (issue 11): kept by triggers, read as the catalog is, written by no API role.
  "status_public.achievement_rule_versions": { anonymous: READ, user: READ, service: READ, admin: READ },
  "status_public.points_multipliers": catalog(["name", "multiplier", "starts_at", "ends_at"]),
  "status_private.webhook_endpoint_secrets": PRIVATE,
  "status_public.achievement_criteria": catalog(["achievement_id", "kind", "action", "threshold", "hour_from", "hour_until"]),
  "status_public.achievement_unlocks": PER_USER_READ,
  "status_public.achievements": catalog(["id", "name", "description", "points", "icon", "kind", "hidden", "available_from", "available_until", "position", "retired_at"]),
  "status_public.actions": catalog(["name", "description", "client_reportable", "max_amount", "ranked"]),
  "status_public.leaderboard_scores": PER_USER_READ,
  "status_public.level_requirements": catalog(["name", "level", "required_count", "priority"]),
  "status_public.levels": catalog(["name"]),
  "status_public.points_ledger": PER_USER_READ,
  "status_public.tiers": catalog(["name", "min_points", "badge"]),
  "status_public.user_achievements": PER_USER_READ,
  "status_public.user_levels": PER_USER_READ,
  "status_public.user_profiles": {
    anonymous: NONE,
    user: { select: true, insert: ["user_id", "display_name", "time_zone", "leaderboard_opt_out"], update: ["display_name", "time_zone", "leaderboard_opt_out"], delete: false },
    service: READ,
    admin: READ,
  },
  "status_public.user_scores": PER_USER_READ,
  "status_public.user_steps": {
    anonymous: NONE,
    user: READ,
    service: { select: true, insert: ["user_id", "name", "count", "idempotency_key", "occurred_at"], update: [], delete: false },
    admin: READ,
  },
  "status_public.user_streaks": PER_USER_READ,
  // Streak freezes (issue 11): granted through grant_streak_freezes, spent by the streaks stage.
  "status_public.user_streak_freezes": PER_USER_READ,
  "status_public.user_frozen_days": PER_USER_READ,
  // Webhooks: admins only; endpoints are created (with their secret) by create_webhook_endpoint, deliveries
  // written by the dispatcher's functions.
  "status_public.webhook_deliveries": { anonymous: NONE, user: NONE, service: NONE, admin: { select: true, insert: [], update: [], delete: true } },
  "status_public.webhook_endpoints": {
    anonymous: NONE,
    user: NONE,
    service: NONE,
    admin: { select: true, insert: [], update: ["url", "description", "kinds", "enabled"], delete: true },
  },
};

/** Which rows of a per-user table each role sees: its own, everyone's, or none (no SELECT at all). */
type Rows = "own" | "all" | "denied";
const PER_USER_ROWS: Rows[] = ["denied", "own", "all", "all"]; // anonymous, user, service, admin
const ROWS: Record<string, Record<ApiRole, Rows>> = Object.fromEntries(
  [
    "status_public.achievement_unlocks",
    "status_public.leaderboard_scores",
    "status_public.points_ledger",
    "status_public.user_achievements",
    "status_public.user_levels",
    "status_public.user_profiles",
    "status_public.user_scores",
    "status_public.user_steps",
    "status_public.user_streaks",
    "status_public.user_streak_freezes",
    "status_public.user_frozen_days",
  ].map((table) => [table, Object.fromEntries(API_ROLES.map((role, i) => [role, PER_USER_ROWS[i]])) as Record<ApiRole, Rows>]),
);

/** The roles that may execute each function: A anonymous, U user, S service, D admin; "-" none. */
const FUNCTIONS: Record<string, string> = {
  "jwt_public.current_role_acts_for_anyone()": "AUSD",
  "jwt_public.current_user_id()": "AUSD",
  "status_private.count_column_change(text,text,text[],name,regclass,jsonb,jsonb)": "-",
  "status_private.leaderboard_entries(text,status_public.leaderboard_period,date,uuid[],integer[],integer)": "-",
  "status_private.allowance_of_shard(integer,integer,integer)": "-",
  "status_private.notify_user(uuid,text,text)": "-",
  // The outbox (7-outbox.sql): its triggers, and what the dispatcher runs as the authenticator (no API role).
  "status_private.claim_webhook_deliveries(integer,double precision,integer)": "-",
  "status_private.new_webhook_secret()": "-",
  "status_private.prune_outbox(interval)": "-",
  "status_private.publish_outbox_events(integer)": "-",
  "status_private.record_webhook_attempt(uuid,integer,text,double precision)": "-",
  "status_private.tg_achievement_unlocks__outbox()": "-",
  "status_private.tg_user_levels__outbox()": "-",
  "status_private.tg_user_scores__outbox()": "-",
  // Notifications relayed by the publisher (migration 000018).
  "status_private.relays_notifications()": "-",
  "status_private.publisher_notifies()": "-",
  "status_private.outbox_notification_id(status_public.achievement_event_kind,jsonb)": "-",
  // The event path (migration 000008, 4-event-path.sql), the criterion kinds and the leaderboard histogram.
  "status_private.achieve_levels(status_private.pipeline_step[])": "-",
  "status_private.append_histogram_moves(status_private.histogram_move[])": "-",
  "status_private.batch_step_id(bigint)": "-",
  "status_private.board_users(status_public.leaderboard_period,date,text)": "-",
  // Tally boards (issue 11): the read's board, the event path's stage, the trigger that fills a newly ranked action's boards.
  "status_private.board_action_of(text)": "-",
  "status_private.add_to_boards(status_private.board_award[])": "-",
  "status_private.rank_tallies(status_private.pipeline_step[])": "-",
  "status_private.tg_actions__tally_boards()": "-",
  "status_private.caller_acts_for_anyone()": "-",
  "status_private.count_criterion_progress(status_public.achievement_criteria,uuid)": "-",
  "status_private.count_steps(status_private.pipeline_step[])": "-",
  "status_private.criterion_progress(status_public.achievement_criteria,uuid,text,timestamp without time zone)": "-",
  "status_private.extend_streaks(status_private.pipeline_step[],boolean)": "-",
  "status_private.achievements_to_check(uuid,text,timestamp with time zone)": "-",
  "status_private.unlock_provenance_at(text,uuid,text,timestamp with time zone,timestamp without time zone)": "-",
  "status_private.import_streak_states(status_private.pipeline_step[])": "-",
  // Executable by the authenticator (the server folds every second), by no API role.
  "status_private.fold_leaderboard_deltas()": "-",
  "status_private.fold_into_point_counts(status_private.histogram_change[])": "-",
  // The rank levels (4-reads.sql): kept by the fold, rebuilt from the histogram by the migration.
  "status_private.fold_into_rank_levels(status_private.histogram_change[])": "-",
  "status_private.rebuild_leaderboard_rank_levels()": "-",
  "status_private.recorded_result(status_public.user_steps,text,integer)": "-",
  "status_private.step_results(status_public.user_steps[])": "-",
  "status_private.streak_criterion_progress(status_public.achievement_criteria,uuid,date)": "-",
  "status_private.tg_points_ledger__scores()": "-",
  "status_private.tg_user_steps__event_path()": "-",
  "status_private.time_of_day_criterion_progress(status_public.achievement_criteria,uuid,text,timestamp without time zone)": "-",
  "status_private.unlock_achievements(status_private.pipeline_step[])": "-",
  "status_private.period_start(status_public.leaderboard_period,timestamp with time zone)": "-",
  "status_private.rank_of(status_public.leaderboard_period,date,integer,text)": "-",
  // The leaderboard reads' histogram counts (migration 000009, 3-leaderboard-reads.sql), inlined into them.
  "status_private.users_above(text,status_public.leaderboard_period,date,integer)": "-",
  "status_private.users_around(text,status_public.leaderboard_period,date,integer)": "-",
  "status_private.users_at(text,status_public.leaderboard_period,date,integer)": "-",
  "status_private.users_up_to(text,status_public.leaderboard_period,date,integer)": "-",
  "status_private.record_action(uuid,text,integer,text,timestamp with time zone)": "-",
  "status_private.record_action_rate_setting(text,integer)": "-",
  "status_private.refilled_tokens(double precision,timestamp with time zone,integer,integer,timestamp with time zone)": "-",
  "status_private.spend_record_action_allowance(uuid,text,uuid)": "-",
  // Batches (migration 000009, 2-batches.sql): a batch's rate limits in one call per bucket.
  "status_private.refuse_record_actions(text,integer,integer,double precision)": "-",
  "status_private.spend_record_actions_allowance(uuid[],uuid)": "-",
  "status_private.check_action_events(status_public.action_event[],boolean,uuid,boolean)": "-",
  "status_private.take_service_allowance(uuid,integer,integer,integer)": "-",
  "status_private.take_user_allowances(uuid[],integer[],integer,integer)": "-",
  // A batch event whose key a concurrent call took gives its user's allowance back (migration 000013).
  "status_private.give_back_user_allowances(uuid[])": "-",
  "status_private.streak_as_of(integer,date,date)": "-",
  "status_private.take_record_action_allowance(text,uuid,integer,integer)": "-",
  "status_private.tg__take_user_cursor()": "-",
  "status_private.tg_achievement()": "-",
  "status_private.tg_achievement_boolean()": "-",
  "status_private.tg_achievement_toggle()": "-",
  "status_private.tg_achievement_toggle_boolean()": "-",
  "status_private.tg_user_profiles__check_time_zone()": "-",
  "status_private.tg_user_profiles__leaderboard_visibility()": "-",
  "status_private.tg_user_steps__rate_limit()": "-",
  "status_private.tier_for(integer)": "-",
  "status_private.streak_freezes_of(uuid)": "-",
  // The dashboard's and my_almost_there's selection (migration 000019).
  "status_private.almost_there_of(status_public.achievement_progress[],integer,integer)": "-",
  "status_private.streak_kept_as_of(uuid,integer,date,date)": "-",
  "status_public.grant_streak_freezes(uuid,integer)": "SD",
  // Historical imports: trusted backends and admins.
  "status_public.import_actions(status_public.action_event[],boolean)": "SD",
  // Backfill (issue 11): the database owner's (npm run backfill), no API role's; work_on_backfill is the
  // server's worker's (the authenticator's); admins start runs with status_public.start_backfill.
  "status_private.achievement_met_at(status_public.achievements,uuid)": "-",
  "status_private.backfill_awards(text[],uuid[])": "-",
  "status_private.backfill_batch(bigint,integer)": "-",
  "status_private.backfill_candidates(text[],text[],uuid,integer)": "-",
  "status_private.backfill_level_awards(text[],uuid[])": "-",
  "status_private.count_criterion_met_at(status_public.achievement_criteria,uuid)": "-",
  "status_private.criterion_met_at(status_public.achievement_criteria,uuid)": "-",
  "status_private.level_met_at(text,uuid)": "-",
  "status_private.run_backfill(bigint,integer)": "-",
  "status_private.retier_batch(uuid,integer)": "-",
  "status_private.retier_users(integer)": "-",
  "status_private.start_backfill(text[],boolean,text[],integer)": "-",
  "status_private.step_count_reached_at(uuid,text,integer)": "-",
  "status_private.work_on_backfill(bigint,double precision)": "-",
  "status_public.start_backfill(text[],text[],boolean,integer)": "D",
  "status_private.streak_criterion_met_at(status_public.achievement_criteria,uuid)": "-",
  "status_private.time_of_day_criterion_met_at(status_public.achievement_criteria,uuid)": "-",
  // Rule versions and provenance (issue 11).
  "status_private.criterion_rule(status_public.achievement_criteria)": "-",
  "status_private.current_rules(text[])": "-",
  "status_private.record_rule_versions(text[])": "-",
  "status_private.tg_achievement_criteria__rule_versions()": "-",
  "status_private.tg_achievement_unlocks__provenance()": "-",
  "status_private.tg_achievements__rule_versions()": "-",
  "status_public.achievement_unlocks_rules(status_public.achievement_unlocks)": "USD",
  "status_public.unlock_provenance(text,uuid)": "AUSD",
  "status_public.active_points_multiplier()": "AUSD",
  "status_private.tier_progress(integer)": "-",
  "status_private.time_zone_of(uuid)": "-",
  "status_private.trigger_arguments(text[],name,regclass)": "-",
  "status_private.trigger_column_value(jsonb,text,name,regclass)": "-",
  // The reference package's step helpers: for the service (a trusted backend), never users or anonymous.
  "status_private.upsert_achievement(uuid,text,integer)": "S",
  "status_private.user_completed_step(text,uuid)": "S",
  "status_private.user_incompleted_step(text,uuid)": "S",
  // Every user's events: callable by all, answered to the service only (others: FORBIDDEN, AC403).
  "status_public.achievement_events(bigint,integer)": "AUSD",
  "status_public.achievements_rarity_percent(status_public.achievements)": "AUSD",
  // Catalog plans' impact (src/catalog/plan.ts): counts over every user, for admins.
  "status_public.catalog_level_impact(text[])": "D",
  "status_public.catalog_tier_impact()": "D",
  "status_public.catalog_unlock_impact(text[])": "D",
  // Webhook endpoints and dead letters: admins.
  "status_public.create_webhook_endpoint(text,status_public.achievement_event_kind[],text)": "D",
  "status_public.retry_webhook_delivery(uuid)": "D",
  "status_public.rotate_webhook_endpoint_secret(uuid)": "D",
  "status_public.webhook_deliveries_kind(status_public.webhook_deliveries)": "D",
  "status_public.webhook_deliveries_payload(status_public.webhook_deliveries)": "D",
  "status_public.hidden_locked_count()": "AUSD",
  "status_public.leaderboard(status_public.leaderboard_period,integer,integer,text)": "AUSD",
  "status_public.leaderboard_around_me(status_public.leaderboard_period,integer,text)": "AUSD",
  "status_public.my_achievements()": "AUSD",
  "status_public.my_almost_there(integer,integer)": "AUSD",
  "status_public.my_dashboard()": "AUSD",
  "status_public.my_rank(status_public.leaderboard_period,text)": "AUSD",
  "status_public.my_tier()": "AUSD",
  // A signed-in user's unlocks after a catch-up cursor.
  "status_public.my_unlocks_since(integer)": "U",
  // Anonymous may call recordAction and setMyProfile: the functions answer UNAUTHENTICATED (AC401).
  "status_public.record_action(text,integer,text)": "AU",
  "status_public.record_action_for(uuid,text,integer,text,timestamp with time zone)": "S",
  // A batch: the service for anyone, a user for themselves (anonymous: UNAUTHENTICATED, as recordAction).
  "status_public.record_actions(status_public.action_event[])": "AUS",
  "status_public.set_my_profile(text,text,boolean)": "AU",
  "status_public.steps_required(text,uuid)": "AUSD",
  "status_public.user_achieved(text,uuid)": "AUSD",
};
const LETTER: Record<ApiRole, string> = { anonymous: "A", user: "U", service: "S", admin: "D" };

async function tablesInDatabase(tx: TestTransaction): Promise<string[]> {
  const rows = await tx.root<{ name: string }>(`
    select c.oid::regclass::text as name from pg_class c
    where c.relkind in ('r', 'p', 'v', 'm', 'f') and c.relnamespace::regnamespace::text in ('status_public', 'status_private')
    order by 1`);
  return rows.map((row) => row.name);
}

async function columnsOf(tx: TestTransaction, table: string): Promise<string[]> {
  const rows = await tx.root<{ name: string }>(
    "select attname as name from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum",
    [table],
  );
  return rows.map((row) => row.name);
}

/** Runs `sql` as `role`; returns "ok" or the SQLSTATE of the error. */
async function outcome(tx: TestTransaction, role: ApiRole, sql: string, userId: string | null = newUserId()): Promise<string> {
  try {
    await tx.as({ role, userId: role === "anonymous" ? null : userId }, sql);
    return "ok";
  } catch (error) {
    return (error as pg.DatabaseError).code ?? String(error);
  }
}

describe("the role matrix", () => {
  it("lists every table of status_public and status_private, and no other", () =>
    withTransaction(async (tx) => {
      expect(await tablesInDatabase(tx)).toEqual(Object.keys(TABLES).sort());
    }));

  it("lists every function of status_public, status_private and jwt_public, and no other", () =>
    withTransaction(async (tx) => {
      const rows = await tx.root<{ name: string }>(`
        select p.oid::regprocedure::text as name from pg_proc p
        where p.pronamespace::regnamespace::text in ('status_public', 'status_private', 'jwt_public') order by 1`);
      expect(rows.map((row) => row.name)).toEqual(Object.keys(FUNCTIONS).sort());
    }));

  it("gives usage of status_private only to the service (for the reference helpers), and every API role usage of status_public and jwt_public", () =>
    withTransaction(async (tx) => {
      for (const role of API_ROLES) {
        const [row] = await tx.root(
          `select has_schema_privilege($1, 'status_private', 'usage') as private, has_schema_privilege($1, 'status_private', 'create') as private_create,
                  has_schema_privilege($1, 'status_public', 'usage') as public, has_schema_privilege($1, 'status_public', 'create') as public_create,
                  has_schema_privilege($1, 'jwt_public', 'usage') as jwt`,
          [roles[role]],
        );
        expect({ role, ...row }).toEqual({ role, private: role === "service", private_create: false, public: true, public_create: false, jwt: true });
      }
    }));

  describe.each(Object.keys(TABLES))("%s", (table) => {
    it("has exactly the grants of the matrix (has_table_privilege / has_column_privilege)", () =>
      withTransaction(async (tx) => {
        const columns = await columnsOf(tx, table);
        for (const role of API_ROLES) {
          const expected = TABLES[table][role];
          const [tablePrivileges] = await tx.root(
            `select has_table_privilege($1, $2, 'select') as select, has_any_column_privilege($1, $2, 'select') as any_column_select,
                    has_table_privilege($1, $2, 'insert') as table_insert, has_table_privilege($1, $2, 'update') as table_update,
                    has_table_privilege($1, $2, 'delete') as delete, has_table_privilege($1, $2, 'truncate') as truncate,
                    has_table_privilege($1, $2, 'references') as references, has_table_privilege($1, $2, 'trigger') as trigger`,
            [roles[role], table],
          );
          expect({ role, ...tablePrivileges }).toEqual({
            role,
            select: expected.select,
            any_column_select: expected.select, // no column-level SELECT grants either
            table_insert: false, // INSERT and UPDATE are granted per column, never on the whole table
            table_update: false,
            delete: expected.delete,
            truncate: false,
            references: false,
            trigger: false,
          });
          const columnGrants = await tx.root<{ column: string; insert: boolean; update: boolean }>(
            `select c as column, has_column_privilege($1, $2, c, 'insert') as insert, has_column_privilege($1, $2, c, 'update') as update
             from unnest($3::text[]) with ordinality as u(c, n) order by n`,
            [roles[role], table, columns],
          );
          expect({ role, insert: columnGrants.filter((c) => c.insert).map((c) => c.column) }).toEqual({ role, insert: expected.insert });
          expect({ role, update: columnGrants.filter((c) => c.update).map((c) => c.column) }).toEqual({ role, update: expected.update });
        }
      }));

    it("lets real statements through exactly where the matrix says", () =>
      withTransaction(async (tx) => {
        const columns = await columnsOf(tx, table);
        const first = columns[0];
        for (const role of API_ROLES) {
          const expected = TABLES[table][role];
          const denied = (allowed: boolean) => (allowed ? "ok" : INSUFFICIENT_PRIVILEGE);
          const seen: Record<string, string> = {
            select: await outcome(tx, role, `select count(*) from ${table}`),
            delete: await outcome(tx, role, `delete from ${table} where false`),
            update: await outcome(tx, role, `update ${table} set ${expected.update[0] ?? first} = ${expected.update[0] ?? first} where false`),
            insert:
              expected.insert.length > 0
                ? await outcome(tx, role, `insert into ${table} (${expected.insert.join(", ")}) select ${expected.insert.join(", ")} from ${table} where false`)
                : await outcome(tx, role, `insert into ${table} default values`),
          };
          // A column outside the grant is refused even to a role that may insert or update others.
          const notInsertable = columns.find((column) => !expected.insert.includes(column));
          if (expected.insert.length > 0 && notInsertable) {
            seen.insertOtherColumn = await outcome(tx, role, `insert into ${table} (${notInsertable}) select ${notInsertable} from ${table} where false`);
          }
          const notUpdatable = columns.find((column) => !expected.update.includes(column));
          if (expected.update.length > 0 && notUpdatable) {
            seen.updateOtherColumn = await outcome(tx, role, `update ${table} set ${notUpdatable} = ${notUpdatable} where false`);
          }
          expect({ role, ...seen }).toEqual({
            role,
            select: denied(expected.select),
            delete: denied(expected.delete),
            update: denied(expected.update.length > 0),
            insert: denied(expected.insert.length > 0),
            ...(expected.insert.length > 0 && notInsertable ? { insertOtherColumn: INSUFFICIENT_PRIVILEGE } : {}),
            ...(expected.update.length > 0 && notUpdatable ? { updateOtherColumn: INSUFFICIENT_PRIVILEGE } : {}),
          });
        }
      }));
  });

  it("lists the per-user tables of the row matrix among the tables", () => {
    for (const table of Object.keys(ROWS)) expect(Object.keys(TABLES)).toContain(table);
  });

  it("shows each role the rows the row matrix says: its own, everyone's, or none", () =>
    withTransaction(async (tx) => {
      const [alice, bob] = [newUserId(), newUserId()];
      for (const user of [alice, bob]) {
        // Through the real path: the service records, the user sets a profile; then a level, directly.
        await tx.as({ role: "service", userId: newUserId() }, "select status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
        await tx.as({ role: "user", userId: user }, "select status_public.set_my_profile('someone')");
        await tx.root("insert into status_public.user_levels (user_id, level) values ($1, 'newbie')", [user]);
        // Streak freezes granted, and a day frozen (as the streaks stage records one).
        await tx.as({ role: "service", userId: newUserId() }, "select status_public.grant_streak_freezes($1, 2)", [user]);
        await tx.root("insert into status_public.user_frozen_days (user_id, day) values ($1, '2026-01-01')", [user]);
      }
      for (const table of Object.keys(ROWS)) {
        const [seeded] = await tx.root<{ alice: number; bob: number }>(
          `select count(*) filter (where user_id = $1)::int as alice, count(*) filter (where user_id = $2)::int as bob from ${table}`,
          [alice, bob],
        );
        expect({ table, aliceHasRows: seeded.alice > 0, bobHasRows: seeded.bob > 0 }).toEqual({ table, aliceHasRows: true, bobHasRows: true });
        for (const role of API_ROLES) {
          const sql = `select count(*) filter (where user_id = $1)::int as alice, count(*) filter (where user_id = $2)::int as bob from ${table}`;
          let seen: string;
          try {
            const [row] = await tx.as<{ alice: number; bob: number }>({ role, userId: role === "anonymous" ? null : alice }, sql, [alice, bob]);
            seen = row.alice === seeded.alice && row.bob === seeded.bob ? "all" : row.alice === seeded.alice && row.bob === 0 ? "own" : `alice ${row.alice}, bob ${row.bob}`;
          } catch (error) {
            seen = (error as pg.DatabaseError).code === INSUFFICIENT_PRIVILEGE ? "denied" : String(error);
          }
          expect({ table, role, rows: seen }).toEqual({ table, role, rows: ROWS[table][role] });
        }
      }
    }));

  it("lets a user write only their own profile (row-level security on insert and update)", () =>
    withTransaction(async (tx) => {
      const [alice, bob] = [newUserId(), newUserId()];
      await tx.root("insert into status_public.user_profiles (user_id, display_name) values ($1, 'bob')", [bob]);
      const asAlice = { role: "user" as const, userId: alice };
      expect((await tx.expectError(asAlice, "insert into status_public.user_profiles (user_id, display_name) values ($1, 'forged')", [newUserId()])).code).toBe(
        INSUFFICIENT_PRIVILEGE,
      );
      expect(await tx.as(asAlice, "update status_public.user_profiles set display_name = 'forged' where user_id = $1 returning user_id", [bob])).toEqual([]);
      expect(await tx.root("select display_name from status_public.user_profiles where user_id = $1", [bob])).toEqual([{ display_name: "bob" }]);
      await tx.as(asAlice, "insert into status_public.user_profiles (user_id, display_name) values ($1, 'alice')", [alice]);
      expect(await tx.as(asAlice, "update status_public.user_profiles set display_name = 'Alice' where user_id = $1 returning display_name", [alice])).toEqual([
        { display_name: "Alice" },
      ]);
    }));

  it("grants EXECUTE on each function exactly to the roles of the matrix (has_function_privilege)", () =>
    withTransaction(async (tx) => {
      for (const [signature, allowed] of Object.entries(FUNCTIONS)) {
        const [row] = await tx.root<Record<ApiRole, boolean>>(
          `select has_function_privilege($1, $5, 'execute') as anonymous, has_function_privilege($2, $5, 'execute') as user,
                  has_function_privilege($3, $5, 'execute') as service, has_function_privilege($4, $5, 'execute') as admin`,
          [roles.anonymous, roles.user, roles.service, roles.admin, signature],
        );
        const letters = API_ROLES.filter((role) => row[role]).map((role) => LETTER[role]).join("") || "-";
        expect({ signature, roles: letters }).toEqual({ signature, roles: allowed });
      }
    }));

  it("refuses real calls of each function to the roles the matrix leaves out", () =>
    withTransaction(async (tx) => {
      const functions = await tx.root<{ signature: string; name: string; args: string[]; procedure: boolean }>(`
        select p.oid::regprocedure::text as signature, p.pronamespace::regnamespace::text || '.' || quote_ident(p.proname) as name,
               array(select format_type(t, null) from unnest(p.proargtypes::oid[]) as t) as args, p.prokind = 'p' as procedure
        from pg_proc p where p.pronamespace::regnamespace::text in ('status_public', 'status_private', 'jwt_public') order by 1`);
      for (const { signature, name, args, procedure } of functions) {
        for (const role of API_ROLES) {
          if ((FUNCTIONS[signature] ?? "").includes(LETTER[role])) continue;
          const call = `${procedure ? "call" : "select"} ${name}(${args.map((type) => `null::${type}`).join(", ")})`;
          expect({ signature, role, outcome: await outcome(tx, role, call) }).toEqual({ signature, role, outcome: INSUFFICIENT_PRIVILEGE });
        }
      }
    }));
});

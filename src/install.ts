// Installs the engine into a database an application already has: only our schemas (status_public,
// status_private, jwt_public), our API roles mapped onto the application's own, no demo data unless asked.
//
// The SQL has one home, migrations/committed (and migrations/current while developing), authored with
// graphile-migrate. The standalone server's database is migrated by graphile-migrate itself (src/migrate.ts,
// history in graphile_migrate.migrations); here the same files are applied verbatim, in order, with
// graphile-migrate's own placeholder substitution and hash checks, but recorded in our own table
// (status_private.installed_migrations), so an application that uses graphile-migrate keeps its history
// to itself. Everything runs in one transaction under an advisory lock, after a preflight that changes
// nothing: a refusal leaves the database as it was.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getCurrentMigrationLocation, readCurrentMigration } from "graphile-migrate/dist/current";
import { calculateHash } from "graphile-migrate/dist/hash";
import { isNoTransactionDefined } from "graphile-migrate/dist/header";
import { getAllMigrations, slowGeneratePlaceholderReplacement } from "graphile-migrate/dist/migration";
import type { ParsedSettings } from "graphile-migrate/dist/settings";
import pg from "pg";
import { PROJECT_ROOT } from "./config";
import {
  loadRoles,
  loadUserIdSource,
  placeholdersOf,
  readGmrc,
  ROLE_NAME_PATTERN,
  ROLE_NAMES,
  type Roles,
  USER_ID_PLACEHOLDERS,
  type UserIdSource,
} from "./roles";

const MIGRATIONS = join(PROJECT_ROOT, "migrations");
/** Our schemas: the installer creates these and nothing else. */
export const ACHIEVEMENTS_INSTALL_SCHEMAS = ["status_public", "status_private", "jwt_public"] as const;
const LOCK_KEY = "pg-achievements install";
const DEFAULT_USER_ID_SETTING = "jwt.claims.user_id";
/** The comment on the roles the installer creates: a later run may grant memberships of these (and only these). */
const CREATED_ROLE_COMMENT = "Created by the pg-achievements installer (an API role of the achievements engine).";

export interface InstallLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  debug(object: object, message?: string): void;
}

export interface InstallOptions {
  /** The database to install into, as its owner (CREATE on the database). A superuser works but is not needed. */
  connectionString: string;
  /** API roles mapped onto roles the application already has (they must exist). */
  roles?: Partial<Roles>;
  /** Names of the roles left unmapped (default: .gmrc's achievements_*); created NOLOGIN when missing. */
  defaultRoles?: Partial<Roles>;
  /** The setting jwt_public.current_user_id() reads (default `jwt.claims.user_id`; Supabase: `request.jwt.claims`). */
  userIdSetting?: string;
  /** The JSON key of that setting holding the user's uuid (Supabase: `sub`); unset: the setting is the uuid. */
  userIdClaim?: string;
  /** Also load the demo catalog (migrations/seeds/demo-catalog.sql) into empty catalog tables. Default false. */
  demoCatalog?: boolean;
  /** Also apply migrations/current/ (work in progress: development and tests). Default false. */
  includeCurrent?: boolean;
  /** The :DATABASE_OWNER placeholder (default: the connecting user, as graphile-migrate does). */
  databaseOwner?: string;
  /** Do everything, report it, then roll back. */
  dryRun?: boolean;
  log?: InstallLogger;
}

export interface InstallResult {
  database: string;
  roles: Roles;
  createdRoles: string[];
  grantedMemberships: { role: string; member: string }[];
  /** The migrations applied by this run (committed file names; `current/` for the current migration). */
  applied: string[];
  /** True when this run changed nothing. */
  upToDate: boolean;
  demoCatalogLoaded: boolean;
  userIdSetting: string;
  userIdClaim: string | null;
  /** Things that will not work until you act (for example the authenticator cannot switch to a role). */
  warnings: string[];
  dryRun: boolean;
  durationMs: number;
}

export type InstallProblemCode =
  | "INVALID_OPTION"
  | "HASH_MISMATCH"
  | "SCHEMA_NOT_OURS"
  | "UPSTREAM_PGPM"
  | "MANAGED_BY_GRAPHILE_MIGRATE"
  | "ROLE_MISSING"
  | "ROLE_CONFLICT"
  | "ROLE_TOO_POWERFUL"
  | "CONCURRENT_INSTALL"
  | "PRIVILEGE_MISSING"
  | "DEFAULT_PRIVILEGES"
  | "SETTINGS_CHANGED"
  | "MIGRATIONS_DIVERGED";

export interface InstallProblem {
  code: InstallProblemCode;
  message: string;
}

/** The preflight found problems; nothing was changed. */
export class InstallError extends Error {
  constructor(readonly problems: InstallProblem[]) {
    super(`pg-achievements install refused; nothing was changed:\n${problems.map((p) => `  - [${p.code}] ${p.message}`).join("\n")}`);
    this.name = "InstallError";
  }
}

/** Supabase: its roles, and the user from PostgREST's `request.jwt.claims` ->> `sub`. */
export const SUPABASE_INSTALL_OPTIONS = {
  roles: { anonymous: "anon", user: "authenticated", service: "service_role", authenticator: "authenticator" },
  userIdSetting: "request.jwt.claims",
  userIdClaim: "sub",
} as const satisfies Partial<InstallOptions>;

interface CommittedMigration {
  realFilename: string;
  filename: string;
  hash: string;
  previousHash: string | null;
  body: string;
}

/** What we recorded at the last install (status_private.installation). */
interface InstallationRow {
  roles: Roles;
  user_id_setting: string;
  user_id_claim: string | null;
  current_hash: string | null;
}

const silent: InstallLogger = { info() {}, warn() {}, debug() {} };

export async function installAchievements(options: InstallOptions): Promise<InstallResult> {
  const started = performance.now();
  const log = options.log ?? silent;
  const { roles, source, problems } = resolveOptions(options);
  const migrations = await readCommittedMigrations(problems);
  const current = options.includeCurrent ? await readCurrent() : null;
  if (!isDefaultSource(source) && ![...migrations.map((m) => m.body), current ?? ""].some((body) => body.includes(USER_ID_PLACEHOLDERS.setting))) {
    problems.push({
      code: "INVALID_OPTION",
      message: `userIdSetting/userIdClaim need the migration that makes the claim configurable (${USER_ID_PLACEHOLDERS.setting}), which is not committed yet: add includeCurrent (--include-current)`,
    });
  }
  if (problems.length > 0) throw new InstallError(problems);

  const run = () => installInTransaction(options, { roles, source, migrations, current, started, log });
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof RoleCreatedConcurrently)) throw error;
    // Roles are cluster-wide but the advisory lock is per database: an install into another database created
    // the same role and committed while we waited on it. Run again: the role now exists.
    log.info({ role: error.role }, "another install created the same role at the same time: running again");
    try {
      return await run();
    } catch (again) {
      if (!(again instanceof RoleCreatedConcurrently)) throw again;
      throw new InstallError([{ code: "CONCURRENT_INSTALL", message: `another install (into another database of this cluster) is creating the role ${again.role} at the same time: run again once it is done` }]);
    }
  }
}

/** create role failed because another transaction created the same role (roles are cluster-wide). */
class RoleCreatedConcurrently extends Error {
  constructor(readonly role: string) {
    super(`role ${role} was created by another transaction`);
  }
}

interface Prepared {
  roles: Roles;
  source: UserIdSource;
  migrations: CommittedMigration[];
  current: string | null;
  started: number;
  log: InstallLogger;
}

async function installInTransaction(options: InstallOptions, { roles, source, migrations, current, started, log }: Prepared): Promise<InstallResult> {
  const problems: InstallProblem[] = [];
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await client.query("begin");
    // A role-level statement_timeout (Supabase sets some) must not cut a migration in half; local to this transaction.
    await client.query("set local statement_timeout = 0");
    // Two installers at once: the second waits, then finds the work done.
    await client.query("select pg_advisory_xact_lock(hashtext($1))", [LOCK_KEY]);
    const state = await inspect(client, roles, migrations[0]?.hash);
    const mapped = new Set(Object.keys(options.roles ?? {}).filter((name) => options.roles?.[name as keyof Roles] !== undefined));
    preflight(state, roles, source, mapped, migrations, problems);
    if (problems.length > 0) throw new InstallError(problems);

    const result: InstallResult = {
      database: state.database,
      roles,
      createdRoles: [],
      grantedMemberships: [],
      applied: [],
      upToDate: true,
      demoCatalogLoaded: false,
      userIdSetting: source.setting,
      userIdClaim: source.claim ?? null,
      warnings: [],
      dryRun: options.dryRun ?? false,
      durationMs: 0,
    };

    await ensureRoles(client, roles, state, result, log);

    const compile = slowGeneratePlaceholderReplacement(
      { placeholders: { ...readGmrc().placeholders, ...placeholdersOf(roles, source) }, databaseOwner: options.databaseOwner ?? state.currentUser } as ParsedSettings,
      { database: state.database },
    );
    const recorded = new Set(state.recordedMigrations.map((row) => row.filename));
    const toApply = migrations.filter((migration) => !recorded.has(migration.filename));
    const compiledCurrent = current === null ? null : compile(current);
    const currentHash = compiledCurrent === null || compiledCurrent.trim() === "" ? null : `sha1:${createHash("sha1").update(compiledCurrent).digest("hex")}`;
    const applyCurrent = currentHash !== null && currentHash !== (state.installation?.current_hash ?? null);
    // Migration 000001 revokes EXECUTE from PUBLIC on the functions its role creates, so that ours are granted
    // on purpose. That default is the installing role's, database-wide: it holds while we apply migrations,
    // then the application gets its own default back.
    const publicExecutesByDefault = await publicExecutesNewFunctions(client);
    if (publicExecutesByDefault && (toApply.length > 0 || applyCurrent)) {
      await client.query("alter default privileges revoke execute on functions from public");
    }
    for (const migration of toApply) {
      log.info({ migration: migration.realFilename }, "applying migration");
      await runMigration(client, compile(migration.body), migration.realFilename);
      result.applied.push(migration.realFilename);
    }
    if (applyCurrent && compiledCurrent !== null) {
      log.info({ migration: "current/" }, "applying the current migration");
      await runMigration(client, compiledCurrent, "migrations/current");
      result.applied.push("current/");
    }
    if (result.applied.length > 0) {
      await record(client, toApply, {
        roles,
        user_id_setting: source.setting,
        user_id_claim: source.claim ?? null,
        current_hash: applyCurrent ? currentHash : (state.installation?.current_hash ?? null),
      });
      if (publicExecutesByDefault) {
        await client.query("alter default privileges grant execute on functions to public");
      }
    }
    if (options.demoCatalog) {
      result.demoCatalogLoaded = await loadDemoCatalog(client);
    }
    result.upToDate = result.createdRoles.length === 0 && result.grantedMemberships.length === 0 && result.applied.length === 0 && !result.demoCatalogLoaded;
    await client.query(options.dryRun ? "rollback" : "commit");
    result.durationMs = Math.round(performance.now() - started);
    log.info(
      { database: result.database, applied: result.applied, createdRoles: result.createdRoles, dryRun: result.dryRun, durationMs: result.durationMs },
      result.upToDate ? "pg-achievements is up to date" : options.dryRun ? "pg-achievements install checked (dry run: rolled back)" : "pg-achievements installed",
    );
    for (const warning of result.warnings) log.warn({}, warning);
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

function resolveOptions(options: InstallOptions): { roles: Roles; source: UserIdSource; problems: InstallProblem[] } {
  const problems: InstallProblem[] = [];
  let roles: Roles = loadRoles();
  let source: UserIdSource = { setting: DEFAULT_USER_ID_SETTING };
  for (const name of ROLE_NAMES) {
    if (options.roles?.[name] !== undefined && options.defaultRoles?.[name] !== undefined) {
      problems.push({ code: "INVALID_OPTION", message: `the ${name} role is both mapped (roles.${name}) and named for creation (defaultRoles.${name}): give one` });
    }
  }
  try {
    roles = loadRoles({ ...options.defaultRoles, ...options.roles });
  } catch (error) {
    problems.push({ code: "INVALID_OPTION", message: (error as Error).message });
  }
  try {
    source = loadUserIdSource({ setting: options.userIdSetting ?? DEFAULT_USER_ID_SETTING, claim: options.userIdClaim ?? "" });
  } catch (error) {
    problems.push({ code: "INVALID_OPTION", message: (error as Error).message });
  }
  // Substituted unquoted into the SQL as :DATABASE_OWNER, like the role names.
  if (options.databaseOwner !== undefined && !ROLE_NAME_PATTERN.test(options.databaseOwner)) {
    problems.push({ code: "INVALID_OPTION", message: `databaseOwner must be a lower-case role name (${ROLE_NAME_PATTERN}), got ${JSON.stringify(options.databaseOwner)}` });
  }
  for (const acting of ["service", "admin"] as const) {
    for (const plain of ["anonymous", "user"] as const) {
      if (roles[acting] === roles[plain]) {
        problems.push({ code: "ROLE_CONFLICT", message: `the ${acting} and ${plain} roles are both ${roles[acting]}: the ${acting} role acts for any user, so it needs a role of its own` });
      }
    }
  }
  for (const name of ROLE_NAMES.filter((n) => n !== "authenticator")) {
    if (roles[name] === roles.authenticator) {
      problems.push({ code: "ROLE_CONFLICT", message: `the ${name} role and the authenticator are both ${roles.authenticator}: the authenticator logs in and switches to the API roles, it is none of them` });
    }
  }
  return { roles, source, problems };
}

const isDefaultSource = (source: UserIdSource): boolean => source.setting === DEFAULT_USER_ID_SETTING && !source.claim;

async function readCommittedMigrations(problems: InstallProblem[]): Promise<CommittedMigration[]> {
  // graphile-migrate's own reader: checks the files' names and their --! Previous chain.
  const migrations = (await getAllMigrations({ migrationsFolder: MIGRATIONS } as ParsedSettings)) as (CommittedMigration & { allowInvalidHash: boolean })[];
  for (const migration of migrations) {
    const hash = calculateHash(migration.body, migration.previousHash);
    if (hash !== migration.hash && !migration.allowInvalidHash) {
      problems.push({ code: "HASH_MISMATCH", message: `migrations/committed/${migration.realFilename}: its --! Hash is ${migration.hash} but its content hashes to ${hash}: the file was edited after it was committed` });
    }
    if (isNoTransactionDefined(migration.body)) {
      problems.push({ code: "INVALID_OPTION", message: `migrations/committed/${migration.realFilename} is --! no-transaction: the installer applies everything in one transaction` });
    }
  }
  return migrations;
}

/** migrations/current.sql or migrations/current/*.sql, joined as graphile-migrate joins them. */
async function readCurrent(): Promise<string> {
  const settings = { migrationsFolder: MIGRATIONS } as ParsedSettings;
  const location = await getCurrentMigrationLocation(settings);
  return location.exists ? readCurrentMigration(settings, location) : "";
}

interface DatabaseState {
  database: string;
  currentUser: string;
  isSuperuser: boolean;
  canCreateRoles: boolean;
  canCreateSchemas: boolean;
  databaseOwner: string;
  /** Our schemas that exist, with their owner and whether the connecting user may act as it. */
  schemas: { name: string; owner: string; usable: boolean }[];
  installed: boolean;
  installation: InstallationRow | null;
  recordedMigrations: { filename: string; hash: string }[];
  managedByGraphileMigrate: boolean;
  upstreamAchievements: boolean;
  upstreamJwtClaims: boolean;
  /** Every role named in the mapping that exists. */
  existingRoles: Set<string>;
  /** The mapped roles that an earlier run of the installer created (their comment says so). */
  ourRoles: Set<string>;
  /** Existing roles of the mapping that are superusers or bypass row-level security. */
  powerfulRoles: Map<string, { superuser: boolean; bypassrls: boolean }>;
  /** Our roles (ourRoles) that have privileges or objects in other databases of the cluster: role → those databases. */
  otherDatabases: Map<string, string[]>;
  /** Default privileges of the connecting role, in every schema, granted to other roles or PUBLIC: they would reach our objects. */
  globalDefaultGrants: { objtype: string; grantee: string; privilege: string }[];
  /** role → the roles it is a member of (may `set role` to), transitively. */
  memberships: Map<string, Set<string>>;
}

async function inspect(client: pg.Client, roles: Roles, firstHash: string | undefined): Promise<DatabaseState> {
  const one = async <Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<Row> => (await client.query<Row>(sql, params)).rows[0];
  const who = await one<{ database: string; current_user: string; rolsuper: boolean; rolcreaterole: boolean; can_create: boolean; owner: string }>(
    `select current_database() as database, current_user, r.rolsuper, r.rolcreaterole,
            has_database_privilege(current_database(), 'CREATE') as can_create, pg_get_userbyid(d.datdba) as owner
       from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()`,
  );
  const { rows: schemas } = await client.query<{ name: string; owner: string; usable: boolean }>(
    `select nspname as name, pg_get_userbyid(nspowner) as owner, pg_has_role(current_user, nspowner, 'USAGE') as usable
       from pg_namespace where nspname = any($1) order by nspname`,
    [ACHIEVEMENTS_INSTALL_SCHEMAS],
  );
  const flags = await one<{ installed: boolean; gm: boolean; upstream: boolean; jwt_claims: boolean }>(
    // By the catalog, not to_regclass: naming a relation in a schema we may not use would be an error.
    `select (select count(*) = 2 from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'status_private' and c.relname in ('installed_migrations', 'installation')) as installed,
            exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
                     where n.nspname = 'graphile_migrate' and c.relname = 'migrations') as gm,
            exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'status_private' and p.proname in ('user_completed_step', 'user_incompleted_step', 'upsert_achievement')) as upstream,
            exists (select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                     where n.nspname = 'jwt_public' and p.proname in ('current_ip_address', 'current_user_agent', 'current_origin')) as jwt_claims`,
  );
  let managedByGraphileMigrate = false;
  const gmReadable =
    flags.gm && (await one<{ ok: boolean }>("select has_schema_privilege('graphile_migrate', 'USAGE') and has_table_privilege('graphile_migrate.migrations', 'SELECT') as ok")).ok;
  if (gmReadable && firstHash) {
    managedByGraphileMigrate = (await client.query("select from graphile_migrate.migrations where hash = $1", [firstHash])).rowCount === 1;
  }
  let installation: InstallationRow | null = null;
  let recordedMigrations: { filename: string; hash: string }[] = [];
  // Readable by the role that installed (the owner); for anyone else preflight names that role instead.
  const readable =
    flags.installed &&
    (
      await one<{ ok: boolean }>(
        `select has_schema_privilege('status_private', 'USAGE') and bool_and(has_table_privilege(c.oid, 'SELECT')) as ok
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'status_private' and c.relname in ('installed_migrations', 'installation')`,
      )
    ).ok;
  if (readable) {
    installation = (await client.query<InstallationRow>("select roles, user_id_setting, user_id_claim, current_hash from status_private.installation")).rows[0] ?? null;
    recordedMigrations = (await client.query("select filename, hash from status_private.installed_migrations order by filename")).rows;
  }
  const names = [...new Set(Object.values(roles))];
  const { rows: existing } = await client.query<{ rolname: string }>("select rolname from pg_roles where rolname = any($1)", [names]);
  const existingRoles = new Set(existing.map((row) => row.rolname));
  const { rows: ours } = await client.query<{ rolname: string }>(
    "select rolname from pg_roles where rolname = any($1) and shobj_description(oid, 'pg_authid') = $2",
    [names, CREATED_ROLE_COMMENT],
  );
  const { rows: powerful } = await client.query<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean }>(
    "select rolname, rolsuper, rolbypassrls from pg_roles where rolname = any($1) and (rolsuper or rolbypassrls)",
    [names],
  );
  // pg_shdepend: grants and ownership in each database (dbid), and grants on databases themselves (dbid 0).
  const { rows: elsewhere } = await client.query<{ rolname: string; databases: string[] }>(
    `select r.rolname, array_agg(distinct d.datname::text order by d.datname::text) as databases
       from pg_roles r
       join pg_shdepend s on s.refclassid = 'pg_authid'::regclass and s.refobjid = r.oid
       join pg_database d on d.oid = case when s.dbid = 0 and s.classid = 'pg_database'::regclass then s.objid else s.dbid end
      where r.rolname = any($1) and d.datname <> current_database()
      group by r.rolname`,
    [ours.map((row) => row.rolname)],
  );
  // PUBLIC (grantee 0) counts too: TRUNCATE, TRIGGER and REFERENCES are not covered by row-level security. Not the
  // built-in EXECUTE on functions (handled while migrating) nor USAGE on types.
  const { rows: globalDefaultGrants } = await client.query<{ objtype: string; grantee: string; privilege: string }>(
    `select d.defaclobjtype::text as objtype, case when acl.grantee = 0 then 'PUBLIC' else pg_get_userbyid(acl.grantee) end as grantee,
            acl.privilege_type as privilege
       from pg_default_acl d, aclexplode(d.defaclacl) acl
      where d.defaclrole = (select oid from pg_roles where rolname = current_user) and d.defaclnamespace = 0
        and acl.grantee <> d.defaclrole
        and not (acl.grantee = 0 and (d.defaclobjtype, acl.privilege_type) in (('f', 'EXECUTE'), ('T', 'USAGE')))
      order by 1, 2, 3`,
  );
  const memberships = new Map<string, Set<string>>();
  const { rows: pairs } = await client.query<{ member: string; role: string }>(
    `select m.rolname as member, r.rolname as role from pg_roles m, pg_roles r
      where m.rolname = any($1) and r.rolname = any($1) and m.rolname <> r.rolname and pg_has_role(m.oid, r.oid, 'MEMBER')`,
    [names],
  );
  for (const { member, role } of pairs) {
    if (!memberships.has(member)) memberships.set(member, new Set());
    memberships.get(member)?.add(role);
  }
  return {
    database: who.database,
    currentUser: who.current_user,
    isSuperuser: who.rolsuper,
    canCreateRoles: who.rolsuper || who.rolcreaterole,
    canCreateSchemas: who.can_create,
    databaseOwner: who.owner,
    schemas,
    installed: flags.installed,
    installation,
    recordedMigrations,
    managedByGraphileMigrate,
    upstreamAchievements: flags.upstream,
    upstreamJwtClaims: flags.jwt_claims,
    existingRoles,
    ourRoles: new Set(ours.map((row) => row.rolname)),
    powerfulRoles: new Map(powerful.map((row) => [row.rolname, { superuser: row.rolsuper, bypassrls: row.rolbypassrls }])),
    otherDatabases: new Map(elsewhere.map((row) => [row.rolname, row.databases])),
    globalDefaultGrants,
    memberships,
  };
}

function preflight(state: DatabaseState, roles: Roles, source: UserIdSource, mapped: Set<string>, migrations: CommittedMigration[], problems: InstallProblem[]): void {
  const add = (code: InstallProblemCode, message: string) => problems.push({ code, message });
  const where = `database "${state.database}"`;

  if (state.installed) {
    const was = state.installation;
    if (was) {
      const changed = ROLE_NAMES.filter((name) => was.roles[name] !== roles[name]).map((name) => `${name}: installed as ${was.roles[name]}, now ${roles[name]}`);
      if (changed.length > 0) {
        add("SETTINGS_CHANGED", `${where} was installed with other roles (${changed.join("; ")}): the grants and policies name the installed roles; pass the same mapping`);
      }
      if (was.user_id_setting !== source.setting || (was.user_id_claim ?? undefined) !== source.claim) {
        add(
          "SETTINGS_CHANGED",
          `${where} was installed reading the user from ${describeSource({ setting: was.user_id_setting, claim: was.user_id_claim ?? undefined })}, now ${describeSource(source)}: pass the installed userIdSetting/userIdClaim`,
        );
      }
    }
    const byFile = new Map(migrations.map((m) => [m.filename, m.hash]));
    for (const row of state.recordedMigrations) {
      const hash = byFile.get(row.filename);
      if (hash === undefined) {
        add("MIGRATIONS_DIVERGED", `${where} has migration ${row.filename} (${row.hash}), which this version of pg-achievements does not have: it was installed by a newer version; upgrade the package`);
      } else if (hash !== row.hash) {
        add("MIGRATIONS_DIVERGED", `${where} has migration ${row.filename} with hash ${row.hash}, but the file's is ${hash}: the migration history differs from this package's`);
      }
    }
    for (const schema of state.schemas.filter((s) => !s.usable)) {
      add("PRIVILEGE_MISSING", `schema ${schema.name} belongs to ${schema.owner}: connect as ${schema.owner} (the role that installed pg-achievements), not ${state.currentUser}`);
    }
  } else if (state.schemas.length > 0) {
    const names = state.schemas.map((s) => s.name).join(", ");
    if (state.managedByGraphileMigrate) {
      add("MANAGED_BY_GRAPHILE_MIGRATE", `${where} already has pg-achievements, migrated by graphile-migrate (the standalone server's \`npm run db:migrate\`, history in graphile_migrate.migrations): keep migrating it that way`);
    } else if (state.upstreamAchievements || state.upstreamJwtClaims) {
      const modules = [state.upstreamAchievements && "@pgpm/achievements", state.upstreamJwtClaims && "@pgpm/jwt-claims"].filter(Boolean).join(" and ");
      add(
        "UPSTREAM_PGPM",
        `${where} has ${names} from ${modules} (pgpm). pg-achievements keeps that SQL API's names but is a different schema and cannot be installed over it. ` +
          "Either install into another database, or export your data (status_public.levels, level_requirements, user_steps), " +
          "`pgpm revert` the achievements module (and jwt-claims, if nothing else of yours uses jwt_public), install, then re-insert the rows: " +
          "inserting user_steps rebuilds every tally, unlock and level.",
      );
    } else {
      for (const schema of state.schemas) {
        add("SCHEMA_NOT_OURS", `schema ${schema.name} already exists in ${where} (owner ${schema.owner}) and was not created by pg-achievements: pg-achievements needs the schemas ${ACHIEVEMENTS_INSTALL_SCHEMAS.join(", ")} for itself; rename or drop yours, or install into another database`);
      }
    }
  }

  if (state.globalDefaultGrants.length > 0) {
    const kinds: Record<string, string> = { r: "tables", S: "sequences", f: "functions", T: "types", n: "schemas" };
    const grants = state.globalDefaultGrants.map((g) => `${g.privilege} on ${kinds[g.objtype] ?? g.objtype} to ${g.grantee}`);
    const toPublic = [...new Set(state.globalDefaultGrants.filter((g) => g.grantee === "PUBLIC").map((g) => kinds[g.objtype] ?? g.objtype))];
    add(
      "DEFAULT_PRIVILEGES",
      `${state.currentUser} has default privileges in every schema (${grants.join(", ")}): our tables and functions would be granted to those roles too, bypassing the engine's grants` +
        (toPublic.length > 0 ? " (PUBLIC: every role, and row-level security does not cover TRUNCATE, TRIGGER or REFERENCES)" : "") +
        ". Install as a role without them, or narrow them to your schemas (`alter default privileges in schema <yours> grant ...`)" +
        (toPublic.length > 0 ? `; for PUBLIC: ${toPublic.map((kind) => `\`alter default privileges revoke all on ${kind} from public\``).join(", ")}` : ""),
    );
  }

  if (!state.installed && !state.canCreateSchemas) {
    add("PRIVILEGE_MISSING", `${state.currentUser} lacks CREATE on ${where}, needed to create our schemas: connect as the database's owner (${state.databaseOwner}) or \`grant create on database ${quoteIdent(state.database)} to ${quoteIdent(state.currentUser)}\``);
  }

  for (const name of ROLE_NAMES) {
    const role = roles[name];
    if (mapped.has(name) && !state.existingRoles.has(role)) {
      add("ROLE_MISSING", `the ${name} role is mapped to ${role}, which does not exist: create it, fix the name, or leave ${name} unmapped to get ${loadRoles()[name]}`);
    }
  }
  const toCreate = ROLE_NAMES.filter((name) => !mapped.has(name) && !state.existingRoles.has(roles[name])).map((name) => roles[name]);
  if (toCreate.length > 0 && !state.canCreateRoles) {
    add(
      "PRIVILEGE_MISSING",
      `${state.currentUser} lacks CREATEROLE, needed to create the missing roles ${[...new Set(toCreate)].join(", ")}: map them onto existing roles, create them (\`create role ... nologin\`), or install as a role with CREATEROLE`,
    );
  }
  // Every request as the anonymous or user role would see every row (BYPASSRLS), or could do anything (superuser).
  for (const name of ROLE_NAMES) {
    const role = roles[name];
    const power = state.powerfulRoles.get(role);
    if (power?.superuser) {
      add("ROLE_TOO_POWERFUL", `${role} (the ${name} role) is a superuser: every request as it could do anything in the cluster, and the engine's grants and row-level security would not apply; map ${name} onto a role that is not a superuser`);
    } else if (power?.bypassrls && (name === "anonymous" || name === "user")) {
      add("ROLE_TOO_POWERFUL", `${role} (the ${name} role) has BYPASSRLS: every ${name} request would see and change every user's rows; map ${name} onto a role without BYPASSRLS`);
    }
  }
  // A user who could use the service or admin role would act for every user.
  for (const plain of ["anonymous", "user"] as const) {
    for (const acting of ["service", "admin"] as const) {
      if (roles[plain] !== roles[acting] && state.memberships.get(roles[plain])?.has(roles[acting])) {
        add("ROLE_CONFLICT", `${roles[plain]} (the ${plain} role) is a member of ${roles[acting]} (the ${acting} role), so every ${plain} request could act for any user: map ${acting} to a role ${roles[plain]} cannot use`);
      }
    }
  }
}

async function ensureRoles(client: pg.Client, roles: Roles, state: DatabaseState, result: InstallResult, log: InstallLogger): Promise<void> {
  const created = new Set<string>();
  for (const name of ROLE_NAMES) {
    const role = roles[name];
    if (state.existingRoles.has(role) || created.has(role)) continue;
    // NOLOGIN: no password is ever set here. The authenticator needs LOGIN and a password from you.
    try {
      await client.query(`create role ${quoteIdent(role)} with nologin${name === "authenticator" ? " noinherit" : ""}`);
    } catch (error) {
      // 23505: created and committed by another transaction while we waited on it; 42710: since our snapshot.
      const code = (error as { code?: string }).code;
      if (code === "23505" || code === "42710") throw new RoleCreatedConcurrently(role);
      throw error;
    }
    await client.query(`comment on role ${quoteIdent(role)} is ${quoteLiteral(CREATED_ROLE_COMMENT)}`);
    created.add(role);
    result.createdRoles.push(role);
    log.info({ role }, "created role");
  }
  // Roles are cluster-wide: one an earlier install created for another database now serves both.
  for (const name of ROLE_NAMES) {
    const role = roles[name];
    const databases = state.otherDatabases.get(role);
    if (databases && !created.has(role) && !result.warnings.some((w) => w.startsWith(`${role} (`))) {
      result.warnings.push(
        `${role} (the ${name} role) already serves database ${databases.join(", ")}: roles are cluster-wide, so whoever can use it there can use it in ${state.database} too; give each database roles of its own (defaultRoles, e.g. ${state.database}_achievements_${name}) unless that is what you want`,
      );
    }
  }
  const authenticator = roles.authenticator;
  for (const name of ROLE_NAMES.filter((n) => n !== "authenticator")) {
    const role = roles[name];
    if (state.memberships.get(authenticator)?.has(role) || result.grantedMemberships.some((g) => g.role === role)) continue;
    if (created.has(role) || created.has(authenticator) || state.ourRoles.has(role) || state.ourRoles.has(authenticator)) {
      // A membership of a role we created: the application's roles keep every attribute and membership they had.
      await client.query(`grant ${quoteIdent(role)} to ${quoteIdent(authenticator)}`);
      result.grantedMemberships.push({ role, member: authenticator });
      if (state.powerfulRoles.get(role)?.bypassrls && !created.has(role)) {
        result.warnings.push(
          `${role} (the ${name} role) has BYPASSRLS and was granted to ${authenticator} (the authenticator): whoever logs in as ${authenticator} can read and change every row of every table in ${state.database}, not only the engine's; map ${name} onto a role without BYPASSRLS if that is more than you want`,
        );
      }
    } else {
      result.warnings.push(`${authenticator} (the authenticator) is not a member of ${role} (the ${name} role), so it cannot switch to it: \`grant ${quoteIdent(role)} to ${quoteIdent(authenticator)}\` (the installer does not change roles it did not create)`);
    }
  }
}

async function runMigration(client: pg.Client, sql: string, name: string): Promise<void> {
  try {
    await client.query(sql);
  } catch (error) {
    if (error instanceof Error) error.message = `${name}: ${error.message}`;
    throw error;
  }
}

async function record(client: pg.Client, applied: CommittedMigration[], installation: InstallationRow): Promise<void> {
  await client.query(`
    create table if not exists status_private.installed_migrations (
      filename text primary key,
      hash text not null unique,
      previous_hash text references status_private.installed_migrations (hash) on delete restrict,
      installed_at timestamptz not null default now()
    );
    comment on table status_private.installed_migrations is E'The migrations pg-achievements'' installer applied (migrations/committed), in the chain of their --! Hash headers.';
    alter table status_private.installed_migrations enable row level security;
    create table if not exists status_private.installation (
      singleton boolean primary key default true check (singleton),
      roles jsonb not null,
      user_id_setting text not null,
      user_id_claim text,
      current_hash text,
      updated_at timestamptz not null default now()
    );
    comment on table status_private.installation is E'How pg-achievements was installed: the roles it maps onto, where the user id comes from (user_id_claim NULL: the setting is the uuid), and the hash of the current migration applied (development only).';
    alter table status_private.installation enable row level security;
  `);
  for (const migration of applied) {
    await client.query("insert into status_private.installed_migrations (filename, hash, previous_hash) values ($1, $2, $3)", [
      migration.filename,
      migration.hash,
      migration.previousHash,
    ]);
  }
  await client.query(
    `insert into status_private.installation (roles, user_id_setting, user_id_claim, current_hash) values ($1, $2, $3, $4)
     on conflict (singleton) do update set roles = excluded.roles, user_id_setting = excluded.user_id_setting,
       user_id_claim = excluded.user_id_claim, current_hash = excluded.current_hash, updated_at = now()`,
    [JSON.stringify(installation.roles), installation.user_id_setting, installation.user_id_claim, installation.current_hash],
  );
}

/** Whether functions the connecting role creates (anywhere) are executable by PUBLIC by default. */
async function publicExecutesNewFunctions(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ public_executes: boolean }>(
    `select coalesce((select bool_or(acl.grantee = 0 and acl.privilege_type = 'EXECUTE')
                        from pg_default_acl d, aclexplode(d.defaclacl) acl
                       where d.defaclrole = (select oid from pg_roles where rolname = current_user)
                         and d.defaclnamespace = 0 and d.defaclobjtype = 'f'),
                     not exists (select from pg_default_acl d
                                  where d.defaclrole = (select oid from pg_roles where rolname = current_user)
                                    and d.defaclnamespace = 0 and d.defaclobjtype = 'f')) as public_executes`,
  );
  return rows[0].public_executes;
}

/** Loads the demo catalog into empty catalog tables; true when it added anything. */
async function loadDemoCatalog(client: pg.Client): Promise<boolean> {
  const count = "select (select count(*) from status_public.levels) + (select count(*) from status_public.actions) + (select count(*) from status_public.achievements) + (select count(*) from status_public.tiers) as n";
  const before = Number((await client.query<{ n: string }>(count)).rows[0].n);
  await client.query(await readFile(join(MIGRATIONS, "seeds", "demo-catalog.sql"), "utf8"));
  return Number((await client.query<{ n: string }>(count)).rows[0].n) !== before;
}

function describeSource(source: UserIdSource): string {
  return source.claim ? `${source.setting} ->> ${source.claim}` : source.setting;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

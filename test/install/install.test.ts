// Installing into a database an application already has (src/install.ts). Each scenario creates its own
// database, with an application's own schema and roles, on the test cluster (the server of TEST_ROOT_URL);
// names are unique to the run, and everything the test created is dropped at the end.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { asRole, withDatabase } from "../../src/connection-strings";
import { installAchievements, type InstallOptions, type InstallResult, SUPABASE_INSTALL_OPTIONS } from "../../src/install";
import { createLogger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import type { Roles } from "../../src/roles";
import { catalogSnapshot, userSchemas } from "../helpers/catalog";
import { cleanEnvironment, runCli } from "../helpers/cli";
import { testDatabaseUrl, testRoleEnvironment, testRoles } from "../helpers/db";
import { expectRefusal, installScenarios } from "../helpers/install-scenarios";

const OUR_SCHEMAS = ["jwt_public", "status_private", "status_public"];
const BOOKKEEPING = ["status_private.installed_migrations", "status_private.installation"];
const rootUrl = testDatabaseUrl(); // a superuser, on the run's database (graphile-migrate's: the standalone path)
/** The run's API roles (test/global-setup.ts): the test database was migrated with these. */
const runRoles: Roles = testRoles();
const { name, root, createRole, createOwner, createDatabase, urlAs, everything, createdRoles, dropCreated } = installScenarios("t");

/** In one rolled-back transaction on `url` (the authenticator's login), as `role` with `settings`, as a server does it. */
async function asApiRole<T>(url: string, role: string, settings: Record<string, string>, callback: (client: pg.Client) => Promise<T>): Promise<T> {
  return withClient(url, async (client) => {
    await client.query("begin");
    try {
      await client.query("select set_config('role', $1, true)", [role]);
      for (const [setting, value] of Object.entries(settings)) await client.query("select set_config($1, $2, true)", [setting, value]);
      return await callback(client);
    } finally {
      await client.query("rollback");
    }
  });
}

afterAll(() => dropCreated());

describe("installAchievements into a graphile/starter-style database, as its owner (not a superuser)", () => {
  const owner = { role: "", password: "" };
  let database = "";
  let appRoles: { authenticator: string; visitor: string; anonymous: string };
  const authenticatorPassword = randomBytes(8).toString("hex");
  const authenticatorUrl = () => asRole(withDatabase(rootUrl, database), appRoles.authenticator, authenticatorPassword);
  let ourRoles: { service: string; admin: string };
  let before: Awaited<ReturnType<typeof everything>>;
  let appCatalogBefore: Awaited<ReturnType<typeof catalogSnapshot>>;
  let first: InstallResult;

  beforeAll(async () => {
    Object.assign(owner, await createOwner("starter_owner", "createrole"));
    appRoles = {
      authenticator: await createRole(name("app_authenticator"), `login noinherit password '${authenticatorPassword}'`),
      visitor: await createRole(name("app_visitor")),
      anonymous: await createRole(name("app_anonymous")),
    };
    ourRoles = { service: name("ach_service"), admin: name("ach_admin") };
    createdRoles.push(ourRoles.service, ourRoles.admin); // created by the installer, dropped by us
    await root("postgres", (client) => client.query(`grant ${appRoles.visitor}, ${appRoles.anonymous} to ${appRoles.authenticator}`));
    database = await createDatabase("starter", owner.role);
    // The application's own schema, as graphile/starter has it: its owner, its roles, its database ACL.
    await withClient(urlAs(database, owner), (client) =>
      client.query(`
        revoke all on database ${database} from public;
        grant connect on database ${database} to ${appRoles.authenticator};
        create schema app_public;
        grant usage on schema app_public to ${appRoles.visitor}, ${appRoles.anonymous};
        create table app_public.posts (id uuid primary key default gen_random_uuid(), author_id uuid not null, body text not null);
        alter table app_public.posts enable row level security;
        grant select, insert on app_public.posts to ${appRoles.visitor};
        create function app_public.hello() returns text language sql stable as $$ select 'hello' $$;
      `),
    );
    before = await everything(database, [owner.role, ...Object.values(appRoles), ...Object.values(runRoles)]);
    appCatalogBefore = await root(database, (client) => catalogSnapshot(client, { schemas: ["app_public", "public"], xmin: true }));
    first = await installAchievements({
      connectionString: urlAs(database, owner),
      roles: { authenticator: appRoles.authenticator, user: appRoles.visitor, anonymous: appRoles.anonymous },
      defaultRoles: ourRoles,
      includeCurrent: true,
    });
  });

  it("creates the unmapped roles NOLOGIN, grants them to the application's authenticator, and applies every migration", async () => {
    expect(first.createdRoles.sort()).toEqual([ourRoles.admin, ourRoles.service].sort());
    expect(first.grantedMemberships).toEqual(
      expect.arrayContaining([
        { role: ourRoles.service, member: appRoles.authenticator },
        { role: ourRoles.admin, member: appRoles.authenticator },
      ]),
    );
    expect(first.grantedMemberships).toHaveLength(2);
    expect(first.applied[0]).toMatch(/^000001-/);
    expect(first.applied).toContain("current/");
    expect(first.upToDate).toBe(false);
    expect(first.warnings).toEqual([]);
    const created = await root("postgres", (client) =>
      client.query("select rolname, rolcanlogin, rolsuper from pg_roles where rolname = any($1) order by 1", [[ourRoles.admin, ourRoles.service]]),
    );
    expect(created.rows.map((r) => [r.rolcanlogin, r.rolsuper])).toEqual([[false, false], [false, false]]);
  });

  it("creates only our schemas, owned by the database owner, and loads no demo data", async () => {
    await root(database, async (client) => {
      const { rows } = await client.query("select nspname, pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = any($1) order by 1", [OUR_SCHEMAS]);
      expect(rows).toEqual(OUR_SCHEMAS.map((nspname) => ({ nspname, owner: owner.role })));
      expect((await userSchemas(client)).sort()).toEqual(["app_public", "public", ...OUR_SCHEMAS].sort());
      expect((await client.query("select graphile_migrate from to_regnamespace('graphile_migrate') as graphile_migrate")).rows[0].graphile_migrate).toBeNull();
      const { rows: counts } = await client.query(
        `select (select count(*) from status_public.levels) + (select count(*) from status_public.level_requirements)
              + (select count(*) from status_public.actions) + (select count(*) from status_public.achievements)
              + (select count(*) from status_public.tiers) as n`,
      );
      expect(Number(counts[0].n)).toBe(0);
    });
  });

  it("leaves the application's schema, roles, memberships, database ACL and default privileges as they were", async () => {
    const after = await everything(database, [owner.role, ...Object.values(appRoles), ...Object.values(runRoles)]);
    expect(after.roles).toEqual(before.roles);
    expect(await root(database, (client) => catalogSnapshot(client, { schemas: ["app_public", "public"], xmin: true }))).toEqual(appCatalogBefore);
    // Functions the owner creates later in its own schemas are still executable by PUBLIC, as before.
    await withClient(urlAs(database, owner), (client) => client.query("create function app_public.later() returns int language sql as 'select 1'"));
    const { rows } = await root(database, (client) => client.query("select proacl from pg_proc where oid = 'app_public.later()'::regprocedure"));
    expect(rows[0].proacl).toBeNull();
    await withClient(urlAs(database, owner), (client) => client.query("drop function app_public.later()"));
  });

  it("a second run is a no-op: the catalog (row versions included) and the roles are identical", async () => {
    const roles = [owner.role, ...Object.values(appRoles), ...Object.values(ourRoles)];
    const beforeSecond = await everything(database, roles);
    const second = await installAchievements({
      connectionString: urlAs(database, owner),
      roles: { authenticator: appRoles.authenticator, user: appRoles.visitor, anonymous: appRoles.anonymous },
      defaultRoles: ourRoles,
      includeCurrent: true,
    });
    expect(second).toMatchObject({ applied: [], createdRoles: [], grantedMemberships: [], upToDate: true });
    expect(await everything(database, roles)).toEqual(beforeSecond);
  });

  it("a trigger on the application's table credits the row's author, and RLS shows each visitor their own tally", async () => {
    const author = randomUUID();
    const other = randomUUID();
    await withClient(urlAs(database, owner), async (client) => {
      await client.query(
        "create trigger _500_track_posts after insert on app_public.posts for each row execute function status_private.tg_achievement('id', 'make_post', 'author_id')",
      );
      await client.query("insert into app_public.posts (author_id, body) values ($1, 'one'), ($1, 'two'), ($2, 'three')", [author, other]);
    });
    const rows = await asApiRole(authenticatorUrl(), appRoles.visitor, { "jwt.claims.user_id": author }, async (client) =>
      (await client.query("select user_id, name, count from status_public.user_achievements")).rows,
    );
    expect(rows).toEqual([{ user_id: author, name: "make_post", count: 2 }]);
    await withClient(urlAs(database, owner), (client) => client.query("drop trigger _500_track_posts on app_public.posts; delete from app_public.posts"));
  });

  it("the authenticator switches to the mapped and created roles; the anonymous role sees no one's steps", async () => {
    await withClient(authenticatorUrl(), async (client) => {
      for (const role of [appRoles.visitor, appRoles.anonymous, ourRoles.service, ourRoles.admin]) {
        await client.query(`set role ${role}`);
        expect((await client.query("select current_user")).rows[0].current_user).toBe(role);
        await client.query("reset role");
      }
    });
    await asApiRole(authenticatorUrl(), appRoles.anonymous, {}, async (client) => {
      expect((await client.query("select count(*)::int as n from status_public.levels")).rows[0].n).toBe(0);
      await expect(client.query("select * from status_public.user_steps")).rejects.toThrow(/permission denied/);
    });
  });

  it("an upgrade as another role than the one that installed is refused, naming that role (PRIVILEGE_MISSING)", async () => {
    const stranger = await createOwner("starter_stranger", "createrole");
    await root(database, (client) => client.query(`grant connect, create on database ${database} to ${stranger.role}`));
    const roles = [owner.role, stranger.role, ...Object.values(appRoles), ...Object.values(ourRoles)];
    const beforeStranger = await everything(database, roles);
    const refusal = await expectRefusal({
      connectionString: urlAs(database, stranger),
      roles: { authenticator: appRoles.authenticator, user: appRoles.visitor, anonymous: appRoles.anonymous },
      defaultRoles: ourRoles,
    });
    expect(refusal.problems.map((p) => p.code)).toEqual(["PRIVILEGE_MISSING", "PRIVILEGE_MISSING", "PRIVILEGE_MISSING"]);
    expect(refusal.message).toContain(`schema status_private belongs to ${owner.role}: connect as ${owner.role}`);
    expect(await everything(database, roles)).toEqual(beforeStranger);
    await root(database, (client) => client.query(`revoke connect, create on database ${database} from ${stranger.role}`));
  });

  it("graphile/starter itself has one visitor role for anonymous and signed-in requests: both may map to it", async () => {
    const database = await createDatabase("starter_one_visitor", owner.role);
    const result = await installAchievements({
      connectionString: urlAs(database, owner),
      roles: { authenticator: appRoles.authenticator, user: appRoles.visitor, anonymous: appRoles.visitor },
      defaultRoles: ourRoles, // created by the first install: reused, not created again
    });
    // Shared on purpose here, but said: roles are cluster-wide (review #5).
    expect(result).toMatchObject({
      createdRoles: [],
      warnings: (["service", "admin"] as const).map((n) => expect.stringMatching(new RegExp(`^${ourRoles[n]} \\(the ${n} role\\) already serves database [^:]*_starter_[0-9a-f]{6}\\b`))),
    });
    await asApiRole(authenticatorUrl(), appRoles.visitor, {}, async (client) => {
      expect((await client.query("select count(*)::int as n from status_public.levels")).rows[0].n).toBe(0);
      await expect(client.query("select status_public.record_action('logins')")).rejects.toMatchObject({ code: "AC401" });
    });
  });

  it("took a measurable time for a fresh install (reported in the notes)", () => {
    // Not a timing assertion: the number is printed for the notes (npm test output).
    process.stdout.write(`fresh install into an existing database: ${first.durationMs} ms (${first.applied.length} migrations)\n`);
    expect(first.durationMs).toBeGreaterThan(0);
  });
});

describe("installAchievements into a Supabase-style database", () => {
  const owner = { role: "", password: "" };
  let database = "";
  let supa: { anon: string; authenticated: string; service_role: string; authenticator: string };
  const admin = name("sb_ach_admin");
  const authenticatorPassword = randomBytes(8).toString("hex");
  const authenticatorUrl = () => asRole(withDatabase(rootUrl, database), supa.authenticator, authenticatorPassword);

  const options = (): InstallOptions => ({
    ...SUPABASE_INSTALL_OPTIONS,
    connectionString: urlAs(database, owner),
    roles: { anonymous: supa.anon, user: supa.authenticated, service: supa.service_role, authenticator: supa.authenticator },
    defaultRoles: { admin },
    includeCurrent: true,
  });

  /** Runs `sql` as Supabase's PostgREST would: the role from the token, its claims as JSON in request.jwt.claims. */
  async function asRequest<Row extends pg.QueryResultRow>(role: string, claims: string | null, sql: string, params: unknown[] = []): Promise<Row[]> {
    return asApiRole(authenticatorUrl(), role, claims === null ? {} : { "request.jwt.claims": claims }, async (client) => (await client.query<Row>(sql, params)).rows);
  }

  beforeAll(async () => {
    Object.assign(owner, await createOwner("sb_postgres", "createrole"));
    supa = {
      anon: await createRole(name("anon")),
      authenticated: await createRole(name("authenticated")),
      service_role: await createRole(name("service_role"), "nologin bypassrls"),
      authenticator: await createRole(name("authenticator"), `login noinherit password '${authenticatorPassword}'`),
    };
    createdRoles.push(admin);
    await root("postgres", (client) => client.query(`grant ${supa.anon}, ${supa.authenticated}, ${supa.service_role} to ${supa.authenticator}`));
    database = await createDatabase("supabase", owner.role);
    await withClient(urlAs(database, owner), (client) =>
      client.query(`
        create table public.todos (id bigint generated always as identity primary key, title text not null, done boolean not null default false);
        grant select, insert, update on public.todos to ${supa.authenticated};
        grant usage on sequence public.todos_id_seq to ${supa.authenticated};
      `),
    );
    const result = await installAchievements(options());
    expect(result).toMatchObject({ createdRoles: [admin], userIdSetting: "request.jwt.claims", userIdClaim: "sub", warnings: [] });
    expect(result.grantedMemberships).toEqual([{ role: admin, member: supa.authenticator }]);
    await withClient(urlAs(database, owner), (client) =>
      client.query("insert into status_public.actions (name, client_reportable, max_amount) values ('tasks_completed', true, 10)"),
    );
  });

  it("current_user_id() is the `sub` of request.jwt.claims; missing, malformed or non-uuid values are NULL", async () => {
    const user = randomUUID();
    const idOf = async (claims: string | null) =>
      (await asRequest<{ id: string | null }>(supa.authenticated, claims, "select jwt_public.current_user_id() as id"))[0].id;
    expect(await idOf(JSON.stringify({ sub: user, role: "authenticated", aud: "authenticated" }))).toBe(user);
    expect(await idOf(JSON.stringify({ sub: user.toUpperCase() }))).toBe(user);
    for (const bad of [null, "", "{", "not json", "[1,2]", '"a string"', "null", JSON.stringify({ role: "anon" }), JSON.stringify({ sub: "alice" }), JSON.stringify({ sub: { id: user } }), '{"sub":"\\u0000"}']) {
      expect(await idOf(bad)).toBeNull();
    }
    // jwt.claims.user_id is not read any more.
    const viaOldSetting = await asApiRole(authenticatorUrl(), supa.authenticated, { "jwt.claims.user_id": user }, async (client) =>
      (await client.query("select jwt_public.current_user_id() as id")).rows[0].id,
    );
    expect(viaOldSetting).toBeNull();
  });

  it("record_action and row-level security see the user from the claim", async () => {
    const user = randomUUID();
    const claims = JSON.stringify({ sub: user, role: "authenticated" });
    await asApiRole(authenticatorUrl(), supa.authenticated, { "request.jwt.claims": claims }, async (client) => {
      const { rows: recorded } = await client.query("select (status_public.record_action('tasks_completed', 2)).tally");
      expect(recorded[0].tally).toBe(2);
      const { rows: mine } = await client.query("select user_id, name, count from status_public.user_achievements");
      expect(mine).toEqual([{ user_id: user, name: "tasks_completed", count: 2 }]);
      // Another user's claim sees nothing of it.
      await client.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: randomUUID() })]);
      expect((await client.query("select * from status_public.user_achievements")).rows).toEqual([]);
      // Anonymous (anon, no claims): must sign in.
      await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', '', true)", [supa.anon]);
      await expect(client.query("select status_public.record_action('tasks_completed')")).rejects.toMatchObject({ code: "AC401" });
    });
  });

  it("a trigger with no user column credits the user of the claim", async () => {
    const user = randomUUID();
    await withClient(urlAs(database, owner), (client) =>
      client.query("create trigger _500_done after insert or update on public.todos for each row execute function status_private.tg_achievement_boolean('done', 'todos_done')"),
    );
    const rows = await asApiRole(authenticatorUrl(), supa.authenticated, { "request.jwt.claims": JSON.stringify({ sub: user }) }, async (client) => {
      await client.query("insert into public.todos (title, done) values ('a', true), ('b', false)");
      return (await client.query("select user_id, name, count from status_public.user_achievements")).rows;
    });
    expect(rows).toEqual([{ user_id: user, name: "todos_done", count: 1 }]);
    await withClient(urlAs(database, owner), (client) => client.query("drop trigger _500_done on public.todos"));
  });

  it("service_role acts for anyone, the created admin role manages the catalog", async () => {
    const user = randomUUID();
    const service = await asRequest<{ tally: number }>(supa.service_role, JSON.stringify({ sub: randomUUID() }), "select (status_public.record_action_for($1, 'tasks_completed', 3)).tally", [user]);
    expect(service[0].tally).toBe(3);
    const levels = await asRequest<{ name: string }>(admin, JSON.stringify({ sub: randomUUID() }), "insert into status_public.levels (name) values ('veteran') returning name");
    expect(levels).toEqual([{ name: "veteran" }]);
  });

  it("a second run is a no-op; another claim setting is refused (SETTINGS_CHANGED) and changes nothing", async () => {
    const roles = [owner.role, ...Object.values(supa), admin];
    const beforeSecond = await everything(database, roles);
    expect(await installAchievements(options())).toMatchObject({ upToDate: true, applied: [] });
    expect(await everything(database, roles)).toEqual(beforeSecond);
    const refusal = await expectRefusal({ ...options(), userIdSetting: undefined, userIdClaim: undefined });
    expect(refusal.problems.map((p) => p.code)).toEqual(["SETTINGS_CHANGED"]);
    expect(refusal.message).toMatch(/request\.jwt\.claims ->> sub/);
    expect(await everything(database, roles)).toEqual(beforeSecond);
  });
});

describe("installAchievements refuses, naming the problem, and changes nothing", () => {
  it("status_public exists and is not ours (SCHEMA_NOT_OURS)", async () => {
    const owner = await createOwner("foreign_owner", "createrole");
    const database = await createDatabase("foreign", owner.role);
    await withClient(urlAs(database, owner), (client) => client.query("create schema status_public; create table status_public.mine (id int primary key)"));
    const before = await everything(database, [owner.role]);
    const refusal = await expectRefusal({ connectionString: urlAs(database, owner), defaultRoles: uniqueDefaults("foreign") });
    expect(refusal.problems.map((p) => p.code)).toEqual(["SCHEMA_NOT_OURS"]);
    expect(refusal.message).toMatch(/schema status_public already exists .* not created by pg-achievements/);
    expect(await everything(database, [owner.role])).toEqual(before);
    await expectNoRoles(Object.values(uniqueDefaults("foreign")));
  });

  it("the database has @pgpm/achievements (UPSTREAM_PGPM), with what to do", async () => {
    const database = await createDatabase("upstream");
    await root(database, (client) =>
      client.query(`
        create schema jwt_public; create schema status_public; create schema status_private;
        create function jwt_public.current_user_id() returns uuid language sql stable as 'select null::uuid';
        create function jwt_public.current_ip_address() returns inet language sql stable as 'select null::inet';
        create table status_public.user_steps (id uuid primary key, user_id uuid, name text, count int);
        create function status_private.user_completed_step(step text, user_id uuid) returns void language sql as '';
      `),
    );
    const before = await everything(database, []);
    const refusal = await expectRefusal({ connectionString: withDatabase(rootUrl, database), roles: runRoles });
    expect(refusal.problems.map((p) => p.code)).toEqual(["UPSTREAM_PGPM"]);
    expect(refusal.message).toMatch(/@pgpm\/achievements and @pgpm\/jwt-claims/);
    expect(refusal.message).toMatch(/pgpm revert/);
    expect(await everything(database, [])).toEqual(before);
  });

  it("a mapped role does not exist (ROLE_MISSING); nothing else is created", async () => {
    const owner = await createOwner("missing_owner", "createrole");
    const database = await createDatabase("missing", owner.role);
    const defaults = uniqueDefaults("missing");
    const before = await everything(database, [owner.role]);
    const refusal = await expectRefusal({ connectionString: urlAs(database, owner), roles: { user: name("no_such_role") }, defaultRoles: { ...defaults, user: undefined } });
    expect(refusal.problems).toEqual([{ code: "ROLE_MISSING", message: expect.stringContaining(`the user role is mapped to ${name("no_such_role")}, which does not exist`) }]);
    expect(await everything(database, [owner.role])).toEqual(before);
    await expectNoRoles(Object.values(defaults));
  });

  it("roles must be created but the owner lacks CREATEROLE; another user lacks CREATE on the database (PRIVILEGE_MISSING)", async () => {
    const owner = await createOwner("plain_owner");
    const stranger = await createOwner("stranger");
    const database = await createDatabase("privileges", owner.role);
    const defaults = uniqueDefaults("privileges");
    const before = await everything(database, [owner.role, stranger.role]);
    const noCreateRole = await expectRefusal({ connectionString: urlAs(database, owner), defaultRoles: defaults });
    expect(noCreateRole.problems.map((p) => p.code)).toEqual(["PRIVILEGE_MISSING"]);
    expect(noCreateRole.message).toMatch(new RegExp(`${owner.role} lacks CREATEROLE, needed to create the missing roles`));
    const noCreate = await expectRefusal({ connectionString: urlAs(database, stranger), defaultRoles: defaults });
    expect(noCreate.problems.map((p) => p.code)).toEqual(["PRIVILEGE_MISSING", "PRIVILEGE_MISSING"]);
    expect(noCreate.message).toMatch(new RegExp(`${stranger.role} lacks CREATE on database "${database}".*connect as the database's owner \\(${owner.role}\\)`));
    expect(await everything(database, [owner.role, stranger.role])).toEqual(before);
  });

  it("the owner has database-wide default privileges that would reach our objects (DEFAULT_PRIVILEGES)", async () => {
    const owner = await createOwner("defaults_owner");
    const reader = await createRole(name("defaults_reader"));
    const database = await createDatabase("defaults", owner.role);
    await withClient(urlAs(database, owner), (client) => client.query(`alter default privileges grant select on tables to ${reader}`));
    const before = await everything(database, [owner.role, reader]);
    const refusal = await expectRefusal({ connectionString: urlAs(database, owner), roles: runRoles });
    expect(refusal.problems.map((p) => p.code)).toEqual(["DEFAULT_PRIVILEGES"]);
    expect(refusal.message).toContain(`SELECT on tables to ${reader}`);
    expect(await everything(database, [owner.role, reader])).toEqual(before);
    await withClient(urlAs(database, owner), (client) => client.query(`alter default privileges revoke select on tables from ${reader}`));
  });

  it("the same role for users and the service (ROLE_CONFLICT)", async () => {
    const refusal = await expectRefusal({ connectionString: rootUrl, roles: { ...runRoles, service: runRoles.user } });
    expect(refusal.problems.map((p) => p.code)).toContain("ROLE_CONFLICT");
  });

  it("the standalone server's database, migrated by graphile-migrate (MANAGED_BY_GRAPHILE_MIGRATE)", async () => {
    const refusal = await expectRefusal({ connectionString: rootUrl, roles: runRoles });
    expect(refusal.problems.map((p) => p.code)).toEqual(["MANAGED_BY_GRAPHILE_MIGRATE"]);
  });
});

describe("the installer and graphile-migrate give the same schema", () => {
  it("installing with the test database's roles matches it (graphile-migrate, current included), object for object", async () => {
    const database = await createDatabase("same_schema");
    // As the same superuser as test/global-setup.ts, so that owners compare too; its roles are the run's own.
    const result = await installAchievements({ connectionString: withDatabase(rootUrl, database), roles: runRoles, includeCurrent: true });
    expect(result.createdRoles).toEqual([]);
    const installed = await root(database, (client) => catalogSnapshot(client, { schemas: OUR_SCHEMAS, exclude: BOOKKEEPING }));
    const migrated = await withClient(rootUrl, (client) => catalogSnapshot(client, { schemas: OUR_SCHEMAS }));
    expect(installed).toEqual(migrated);
    expect(installed.functions.length).toBeGreaterThan(30);
    // graphile-migrate (npm run db:migrate) refuses the installed database rather than start over.
    await expect(migrateDatabase({ databaseUrl: withDatabase(rootUrl, database), authenticatorPassword: "", log: createLogger("silent") })).rejects.toThrow(
      /was installed with `pg-achievements install`/,
    );
  });

  it("with mapped roles and the Supabase claim too: graphile-migrate (db:migrate) and the installer agree", async () => {
    const roles = uniqueDefaults("both_paths");
    createdRoles.push(...Object.values(roles)); // afterReset.sql creates them
    const userIdSource = { setting: "request.jwt.claims", claim: "sub" };
    const migratedDb = await createDatabase("both_migrated");
    await migrateDatabase({ databaseUrl: withDatabase(rootUrl, migratedDb), authenticatorPassword: "", includeCurrent: true, roles, userIdSource, log: createLogger("silent") });
    const installedDb = await createDatabase("both_installed");
    const result = await installAchievements({ connectionString: withDatabase(rootUrl, installedDb), roles, userIdSetting: "request.jwt.claims", userIdClaim: "sub", includeCurrent: true });
    expect(result).toMatchObject({ createdRoles: [], grantedMemberships: [], warnings: [] });
    const installed = await root(installedDb, (client) => catalogSnapshot(client, { schemas: OUR_SCHEMAS, exclude: BOOKKEEPING }));
    const migrated = await root(migratedDb, (client) => catalogSnapshot(client, { schemas: OUR_SCHEMAS }));
    expect(installed).toEqual(migrated);
    expect(installed.functions.find((line) => line.startsWith('["jwt_public.current_user_id()"'))).toContain("request.jwt.claims");
  });

  it("a dry run reports what it would do and changes nothing; --demo-catalog loads the demo catalog", async () => {
    const database = await createDatabase("dry_run");
    const before = await everything(database, Object.values(runRoles));
    const dry = await installAchievements({ connectionString: withDatabase(rootUrl, database), roles: runRoles, demoCatalog: true, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, upToDate: false, demoCatalogLoaded: true });
    expect(dry.applied.length).toBeGreaterThan(0);
    expect(await everything(database, Object.values(runRoles))).toEqual(before);
    const real = await installAchievements({ connectionString: withDatabase(rootUrl, database), roles: runRoles, demoCatalog: true });
    expect(real.demoCatalogLoaded).toBe(true);
    const { rows } = await root(database, (client) => client.query("select count(*)::int as n from status_public.achievements"));
    expect(rows[0].n).toBeGreaterThan(0);
  });
});

function uniqueDefaults(scenario: string) {
  return {
    authenticator: name(`${scenario}_ach_authenticator`),
    anonymous: name(`${scenario}_ach_anonymous`),
    user: name(`${scenario}_ach_user`),
    service: name(`${scenario}_ach_service`),
    admin: name(`${scenario}_ach_admin`),
  };
}

async function expectNoRoles(roles: string[]): Promise<void> {
  const { rows } = await root("postgres", (client) => client.query("select rolname from pg_roles where rolname = any($1)", [roles]));
  expect(rows).toEqual([]);
}

describe("npm run db:install (the command line)", () => {
  let dataDir = "";
  // The run's roles (ACHIEVEMENTS_*_ROLE), which exist: .gmrc's may not, or may be someone else's.
  const env = () => ({ ...cleanEnvironment(), ...testRoleEnvironment(), DATA_DIR: dataDir, LOG_LEVEL: "warn" });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "achievements-install-cli-"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("--dry-run prints what it would do as one JSON line and changes nothing", async () => {
    const owner = await createOwner("cli_owner");
    const database = await createDatabase("cli", owner.role);
    const before = await everything(database, [owner.role]);
    const run = await runCli(["install", "--database-url", urlAs(database, owner), "--dry-run"], { env: env() });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as InstallResult; // stdout is the result alone; logs go to stderr
    expect(result).toMatchObject({ database, dryRun: true, upToDate: false, createdRoles: [] });
    expect(result.applied.length).toBeGreaterThan(0);
    expect(await everything(database, [owner.role])).toEqual(before);
  }, 60_000);

  it("a refusal is a message naming the problem (no stack trace), exit code 1", async () => {
    const owner = await createOwner("cli_refused_owner");
    const database = await createDatabase("cli_refused", owner.role);
    const run = await runCli(["install", "--database-url", urlAs(database, owner), "--user-role", name("nobody")], { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`[ROLE_MISSING] the user role is mapped to ${name("nobody")}, which does not exist`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  }, 60_000);
});

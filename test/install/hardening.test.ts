// The installer's refusals and warnings from the security review (/work/notes/review.md #3-#6, #8):
// PUBLIC default privileges, too powerful API roles, two installs at once into two databases of one
// cluster, roles shared between databases, and --database-owner. Each scenario creates its own database
// and roles (names unique to the run) and drops them at the end.
import { installAchievements } from "../../src/install";
import { withClient } from "../../src/migrate";
import { testDatabaseUrl } from "../helpers/db";
import { expectRefusal, installScenarios } from "../helpers/install-scenarios";

const rootUrl = testDatabaseUrl(); // a superuser
const { name, root, createRole, createOwner, createDatabase, urlAs, everything, createdRoles, dropCreated } = installScenarios("h");

function uniqueDefaults(scenario: string) {
  const roles = {
    authenticator: name(`${scenario}_authenticator`),
    anonymous: name(`${scenario}_anonymous`),
    user: name(`${scenario}_user`),
    service: name(`${scenario}_service`),
    admin: name(`${scenario}_admin`),
  };
  return roles;
}

async function expectNoRoles(roles: string[]): Promise<void> {
  const { rows } = await root("postgres", (client) => client.query("select rolname from pg_roles where rolname = any($1)", [roles]));
  expect(rows).toEqual([]);
}

afterAll(() => dropCreated());

describe("installAchievements refuses what would give API roles more than the engine grants", () => {
  it("default privileges granted to PUBLIC on tables and sequences (DEFAULT_PRIVILEGES), saying what to run", async () => {
    const owner = await createOwner("public_owner", "createrole");
    const database = await createDatabase("public", owner.role);
    const defaults = uniqueDefaults("public");
    await withClient(urlAs(database, owner), (client) =>
      client.query("alter default privileges grant all on tables to public; alter default privileges grant usage on sequences to public"),
    );
    const before = await everything(database, [owner.role]);
    const refusal = await expectRefusal({ connectionString: urlAs(database, owner), defaultRoles: defaults });
    expect(refusal.problems.map((p) => p.code)).toEqual(["DEFAULT_PRIVILEGES"]);
    expect(refusal.message).toContain("TRUNCATE on tables to PUBLIC");
    expect(refusal.message).toContain("USAGE on sequences to PUBLIC");
    expect(refusal.message).toContain("alter default privileges revoke all on tables from public");
    expect(refusal.message).toContain("alter default privileges revoke all on sequences from public");
    expect(await everything(database, [owner.role])).toEqual(before);
    await expectNoRoles(Object.values(defaults));
  });

  it("but not the function EXECUTE default to PUBLIC, which the installer handles", async () => {
    const owner = await createOwner("execute_owner", "createrole");
    const database = await createDatabase("execute", owner.role);
    const defaults = uniqueDefaults("execute");
    createdRoles.push(...Object.values(defaults));
    // An explicit default (a pg_default_acl row that grants EXECUTE to PUBLIC), not only the built-in one.
    await withClient(urlAs(database, owner), (client) =>
      client.query("alter default privileges revoke execute on functions from public; alter default privileges grant execute on functions to public"),
    );
    const result = await installAchievements({ connectionString: urlAs(database, owner), defaultRoles: defaults, dryRun: true });
    expect(result.dryRun).toBe(true);
    expect(result.createdRoles).toEqual(Object.values(defaults));
  });

  it("anonymous or user mapped onto a BYPASSRLS or superuser role, any API role onto a superuser (ROLE_TOO_POWERFUL); nothing is changed", async () => {
    const owner = await createOwner("powerful_owner", "createrole");
    const database = await createDatabase("powerful", owner.role);
    const bypass = await createRole(name("bypass"), "nologin bypassrls");
    const superuser = await createRole(name("super"), "nologin superuser");
    const defaults = uniqueDefaults("powerful");
    const before = await everything(database, [owner.role, bypass, superuser]);
    const without = (...names: (keyof typeof defaults)[]) => ({ ...defaults, ...Object.fromEntries(names.map((n) => [n, undefined])) });

    const plain = await expectRefusal({ connectionString: urlAs(database, owner), roles: { user: bypass, anonymous: superuser }, defaultRoles: without("user", "anonymous") });
    expect(plain.problems.map((p) => p.code)).toEqual(["ROLE_TOO_POWERFUL", "ROLE_TOO_POWERFUL"]);
    expect(plain.message).toContain(`${superuser} (the anonymous role) is a superuser`);
    expect(plain.message).toContain(`${bypass} (the user role) has BYPASSRLS`);

    const acting = await expectRefusal({ connectionString: urlAs(database, owner), roles: { service: superuser }, defaultRoles: without("service") });
    expect(acting.problems.map((p) => p.code)).toEqual(["ROLE_TOO_POWERFUL"]);
    expect(acting.message).toContain(`${superuser} (the service role) is a superuser`);

    expect(await everything(database, [owner.role, bypass, superuser])).toEqual(before);
    await expectNoRoles(Object.values(defaults));
  });

  it("a BYPASSRLS service role is accepted (Supabase's service_role), with a warning when our authenticator gets it", async () => {
    const owner = await createOwner("bypass_service_owner", "createrole");
    const database = await createDatabase("bypass_service", owner.role);
    const serviceRole = await createRole(name("service_role"), "nologin bypassrls");
    const defaults = uniqueDefaults("bypass_service");
    createdRoles.push(...Object.values(defaults));
    const result = await installAchievements({ connectionString: urlAs(database, owner), roles: { service: serviceRole }, defaultRoles: { ...defaults, service: undefined }, dryRun: true });
    expect(result.grantedMemberships).toContainEqual({ role: serviceRole, member: defaults.authenticator });
    expect(result.warnings).toContainEqual(expect.stringContaining(`${serviceRole} (the service role) has BYPASSRLS`));
  });

  it("--database-owner must be a role name, like the roles (it is substituted into the SQL)", async () => {
    const refusal = await expectRefusal({ connectionString: rootUrl, databaseOwner: "postgres; drop table x" });
    expect(refusal.problems.map((p) => p.code)).toContain("INVALID_OPTION");
    expect(refusal.message).toMatch(/databaseOwner must be a lower-case role name/);
  });
});

describe("two installs at once into two databases of one cluster, with the same default roles", () => {
  it("both succeed (the second finds the roles the first created), and the second warns that they are shared", async () => {
    const owner = await createOwner("race_owner", "createrole");
    const first = await createDatabase("race_p", owner.role);
    const second = await createDatabase("race_q", owner.role);
    const defaults = uniqueDefaults("race");
    createdRoles.push(...Object.values(defaults));
    const results = await Promise.allSettled([first, second].map((database) => installAchievements({ connectionString: urlAs(database, owner), defaultRoles: defaults })));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : []));
    expect(failures).toEqual([]);
    const [p, q] = results.map((r) => (r.status === "fulfilled" ? r.value : null));
    const creator = p?.createdRoles.length ? p : q;
    const sharer = creator === p ? q : p;
    expect(creator?.createdRoles).toEqual(Object.values(defaults));
    expect(sharer?.createdRoles).toEqual([]);
    expect(sharer?.warnings).toContainEqual(expect.stringMatching(new RegExp(`${defaults.service} \\(the service role\\) already serves database ${creator?.database}`)));
  });
});

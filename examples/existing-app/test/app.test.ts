// The whole adoption, end to end, as the app's users see it: an app that already has users, posts and likes
// installs the achievements engine into its database (onto its own roles), adds the engine's preset to its
// own PostGraphile server, and counts posts and likes with the engine's triggers. Real PostgreSQL, the
// app's real HTTP server, real websockets.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { makeAppPreset } from "../graphile.config.ts";
import { migrateApp, withClient } from "../src/migrate.ts";
import { type AppRoles, appRoles } from "../src/roles.ts";
import { startServer, type RunningServer } from "../src/server.ts";
import { type AppDatabase, connectionString, createAppDatabase, installEngine, setupDatabase } from "../src/setup-database.ts";
import { graphql, post, type Result, Subscription, waitUntil } from "./client.ts";
import { startTestPostgres, type TestPostgres } from "./postgres.ts";

const run = promisify(execFile);

const REGISTER = `mutation ($username: String!, $password: String!) {
  register(input: { username: $username, password: $password }) { user: result { id rowId username } }
}`;
const AUTHENTICATE = `mutation ($username: String!, $password: String!) {
  authenticate(input: { username: $username, password: $password }) { jwtToken: result }
}`;
const CREATE_POST = `mutation ($body: String!) { createPost(input: { post: { body: $body } }) { post { id rowId authorId } } }`;
const CREATE_LIKE = `mutation ($postId: UUID!) { createLike(input: { like: { postId: $postId } }) { like { rowId postAuthorId } } }`;
const MY_TALLIES = `{ allUserAchievements(orderBy: NAME_ASC) { nodes { name count } } }`;
const UNLOCK_TOAST = `subscription { achievementUnlocked { achievement { rowId name icon points } pointsAwarded totalPoints tier { name badge } } }`;

let postgres: TestPostgres;
let roles: AppRoles;
let databaseName: string;
let database: AppDatabase;
let server: RunningServer;
const jwtSecret = randomBytes(32).toString("hex");

/** The superuser, on the app's database. */
const asSuperuser = <T>(callback: Parameters<typeof withClient<T>>[1]) => withClient(connectionString(postgres.url, { database: databaseName }), callback);

async function signUp(username: string): Promise<{ userId: string; token: string }> {
  const password = `${username}-password`;
  const { register } = await graphql(server.url, null, REGISTER, { username, password });
  const { authenticate } = await graphql(server.url, null, AUTHENTICATE, { username, password });
  assert.equal(typeof authenticate.jwtToken, "string");
  return { userId: register.user.rowId, token: authenticate.jwtToken };
}

/** A MY_TALLIES answer as [name, count] pairs. */
const talliesOf = (data: Record<string, any>): [string, number][] =>
  data.allUserAchievements.nodes.map((node: { name: string; count: number }) => [node.name, node.count]);

/** Until the app's server LISTENs on the user's channel (a subscription goes live asynchronously). */
async function untilListening(userId: string): Promise<void> {
  const statement = `LISTEN "achievements:${userId}"`;
  await waitUntil(
    () =>
      asSuperuser(async (client) => {
        const { rowCount } = await client.query("select from pg_stat_activity where datname = current_database() and query = $1", [statement]);
        return rowCount !== 0;
      }),
    () => statement,
  );
}

describe("an existing app adopting pg-achievements", () => {
  before(async () => {
    postgres = await startTestPostgres();
    const suffix = randomBytes(4).toString("hex");
    // On a shared server, role names (cluster-wide) and the database are unique to the run.
    roles = appRoles(postgres.shared ? `app_t${suffix}` : "app");
    databaseName = `existing_app_${suffix}`;
    database = await createAppDatabase({
      superuserUrl: postgres.url,
      database: databaseName,
      roles,
      ownerPassword: randomBytes(16).toString("hex"),
      authenticatorPassword: randomBytes(16).toString("hex"),
    });
  });

  after(async () => {
    await server?.close();
    if (database) {
      await withClient(connectionString(postgres.url, { database: "postgres" }), async (client) => {
        await client.query(`drop database if exists ${client.escapeIdentifier(databaseName)} with (force)`);
        if (postgres.shared) {
          for (const role of Object.values(roles)) await client.query(`drop role if exists ${client.escapeIdentifier(role)}`);
        }
      });
    }
    await postgres?.stop();
  });

  it("starts as the app it was: users, posts and likes, before any achievements", async () => {
    assert.deepEqual(await migrateApp(database.ownerUrl, roles, { until: 1 }), ["0001-users-posts-likes.sql"]);
    // Some history from before the install: alice wrote a post and bob liked it.
    await withClient(database.ownerUrl, async (client) => {
      const alice = await client.query("select id from app_public.register('alice', 'alice-password')");
      const bob = await client.query("select id from app_public.register('bob', 'bob-password')");
      const { rows } = await client.query("insert into app_public.posts (author_id, body) values ($1, 'Hello, world') returning id", [alice.rows[0].id]);
      await client.query("insert into app_public.likes (post_id, user_id) values ($1, $2)", [rows[0].id, bob.rows[0].id]);
    });
  });

  it("installs the engine as the database owner, onto the app's roles, without demo data", async () => {
    const { install, migrations } = await setupDatabase(database, roles);
    assert.equal(install.dryRun, false);
    assert.equal(install.demoCatalogLoaded, false);
    assert.ok(install.applied.length > 0);
    assert.deepEqual(install.roles, {
      authenticator: roles.authenticator,
      anonymous: roles.anonymous,
      user: roles.visitor,
      service: roles.service,
      admin: roles.admin,
    });
    assert.deepEqual(install.createdRoles, [], "every engine role is one of the app's");
    // The installer changes no membership of roles it did not create (it warns that the authenticator
    // cannot switch to app_service / app_admin: this app never does).
    assert.deepEqual(install.grantedMemberships, []);
    assert.deepEqual(migrations, ["0002-achievements.sql"]);

    // Again: nothing to do, through the library and through the package's command line alike.
    assert.equal((await installEngine(database.ownerUrl, roles)).upToDate, true);
    const cli = await run(process.execPath, [
      join(import.meta.dirname, "..", "node_modules", ".bin", "pg-achievements"),
      "install",
      "--database-url", database.ownerUrl,
      "--authenticator-role", roles.authenticator,
      "--anonymous-role", roles.anonymous,
      "--user-role", roles.visitor,
      "--service-role", roles.service,
      "--admin-role", roles.admin,
      "--user-id-setting", "jwt.claims.user_id",
    ]);
    // It logs as it goes (to stderr), then prints its result on stdout.
    const cliResult = JSON.parse(cli.stdout); // stdout is the result alone; logs go to stderr
    assert.equal(cliResult.upToDate, true);
    assert.deepEqual(cliResult.roles, install.roles);
    assert.deepEqual(await migrateApp(database.ownerUrl, roles), []);

    await asSuperuser(async (client) => {
      // The catalog is the app's own (migrations/0002), not the engine's demo catalog.
      const { rows: achievements } = await client.query("select id from status_public.achievements order by position");
      assert.deepEqual(
        achievements.map((row) => row.id),
        ["first_post", "ten_posts", "first_like_received", "ten_likes_received"],
      );
      const { rows: levels } = await client.query("select count(*)::int as count from status_public.levels");
      assert.equal(levels[0].count, 0);
      // The engine's API rights went to the app's roles: the visitor reads its own tallies, the anonymous role does not.
      const { rows: grants } = await client.query(
        `select has_table_privilege($1, 'status_public.user_achievements', 'select') as visitor,
                has_table_privilege($2, 'status_public.user_achievements', 'select') as anonymous,
                has_function_privilege($1, 'status_private.tg_achievement()', 'execute') as visitor_runs_triggers`,
        [roles.visitor, roles.anonymous],
      );
      assert.deepEqual(grants[0], { visitor: true, anonymous: false, visitor_runs_triggers: false });
    });

    server = await startServer(makeAppPreset({ connectionString: database.authenticatorUrl, jwtSecret, roles }));
  });

  it("counts what users did before the install", async () => {
    const alice = await graphql(server.url, null, AUTHENTICATE, { username: "alice", password: "alice-password" });
    assert.deepEqual(talliesOf(await graphql(server.url, alice.authenticate.jwtToken, MY_TALLIES)), [
      ["make_post", 1],
      ["receive_like", 1],
    ]);
    const dashboard = await graphql(server.url, alice.authenticate.jwtToken, `{ myDashboard { unlocked { achievementId } tier { points tier } } }`);
    assert.deepEqual(dashboard.myDashboard.unlocked.map((unlock: { achievementId: string }) => unlock.achievementId).sort(), [
      "first_like_received",
      "first_post",
    ]);
    assert.deepEqual(dashboard.myDashboard.tier, { points: 30, tier: "Newcomer" });
  });

  it("a post and a like through the app's GraphQL: the author's tallies and unlocks follow, and the toast arrives over websockets", async () => {
    const carol = await signUp("carol");
    const dave = await signUp("dave");

    // One after the other: the server LISTENs for both on one connection, whose last statement is what we see.
    const carolToasts = new Subscription(server.url, carol.token, UNLOCK_TOAST);
    await untilListening(carol.userId);
    const daveToasts = new Subscription(server.url, dave.token, UNLOCK_TOAST);
    try {
      await untilListening(dave.userId);

      const { createPost } = await graphql(server.url, carol.token, CREATE_POST, { body: "My first post" });
      assert.equal(createPost.post.authorId, carol.userId);
      await carolToasts.waitForResults(1);

      const { createLike } = await graphql(server.url, dave.token, CREATE_LIKE, { postId: createPost.post.rowId });
      assert.equal(createLike.like.postAuthorId, carol.userId);
      const results = await carolToasts.waitForResults(2);
      assert.deepEqual(
        results.map((result) => result.data?.achievementUnlocked),
        [
          {
            achievement: { rowId: "first_post", name: "First post", icon: "✍️", points: 10 },
            pointsAwarded: 10,
            totalPoints: 10,
            tier: { name: "Newcomer", badge: "🌱" },
          },
          {
            achievement: { rowId: "first_like_received", name: "First like received", icon: "❤️", points: 20 },
            pointsAwarded: 20,
            totalPoints: 30,
            tier: { name: "Newcomer", badge: "🌱" },
          },
        ],
      );

      // Dave's toasts are his own: the first he gets is for his own first post, nothing of Carol's before it.
      await graphql(server.url, dave.token, CREATE_POST, { body: "Dave's first post" });
      const daveResults = await daveToasts.waitForResults(1);
      assert.deepEqual(
        daveResults.map((result) => result.data?.achievementUnlocked.achievement.rowId),
        ["first_post"],
      );
    } finally {
      await carolToasts.close();
      await daveToasts.close();
    }

    // The like counted for the post's author, not for the liker.
    assert.deepEqual(talliesOf(await graphql(server.url, carol.token, MY_TALLIES)), [
      ["make_post", 1],
      ["receive_like", 1],
    ]);
    assert.deepEqual(talliesOf(await graphql(server.url, dave.token, MY_TALLIES)), [["make_post", 1]]);

    // The app's own tables keep their Relay global ids (Amber's default), beside the engine's.
    const { allPosts } = await graphql(server.url, null, `query ($carol: UUID!) { allPosts(condition: { authorId: $carol }) { nodes { id body } } }`, {
      carol: carol.userId,
    });
    const { node } = await graphql(server.url, null, `query ($id: ID!) { node(id: $id) { ... on Post { body userByAuthorId { username } } } }`, {
      id: allPosts.nodes[0].id,
    });
    assert.deepEqual(node, { body: "My first post", userByAuthorId: { username: "carol" } });
  });

  it("ten posts unlock `ten_posts` and move the author up a tier", async () => {
    const erin = await signUp("erin");
    for (let i = 1; i <= 10; i++) {
      await graphql(server.url, erin.token, CREATE_POST, { body: `Post ${i}` });
    }
    const { myDashboard } = await graphql(server.url, erin.token, `{ myDashboard { unlocked { achievementId } tier { points tier } tallies { name count } } }`);
    assert.deepEqual(myDashboard.unlocked.map((unlock: { achievementId: string }) => unlock.achievementId).sort(), ["first_post", "ten_posts"]);
    assert.deepEqual(myDashboard.tier, { points: 60, tier: "Regular" });
    assert.deepEqual(myDashboard.tallies, [{ name: "make_post", count: 10 }]);
  });

  it("row-level security still holds: nobody reads another user's progress", async () => {
    const frank = await signUp("frank");
    const grace = await signUp("grace");
    await graphql(server.url, frank.token, CREATE_POST, { body: "Frank's post" });

    // Grace asks for everyone's tallies, steps and unlocks: she gets only her own (none).
    const asGrace = await graphql(
      server.url,
      grace.token,
      `query ($frank: UUID!) {
        allUserAchievements(condition: { userId: $frank }) { nodes { name count } }
        allUserSteps(condition: { userId: $frank }) { nodes { name } }
        allAchievementUnlocks(condition: { userId: $frank }) { nodes { achievementId } }
        userAchievementByUserIdAndName(userId: $frank, name: "make_post") { count }
      }`,
      { frank: frank.userId },
    );
    assert.deepEqual(asGrace, {
      allUserAchievements: { nodes: [] },
      allUserSteps: { nodes: [] },
      allAchievementUnlocks: { nodes: [] },
      userAchievementByUserIdAndName: null,
    });
    // Frank sees his.
    const asFrank = await graphql(server.url, frank.token, `{ allUserAchievements { nodes { name count } } }`);
    assert.deepEqual(asFrank.allUserAchievements.nodes, [{ name: "make_post", count: 1 }]);

    // Signed out: no progress at all, and no toasts.
    const anonymous = await post(server.url, null, `{ allUserAchievements { nodes { name } } }`);
    assert.equal(anonymous.errors?.[0]?.extensions?.code, "FORBIDDEN", "the anonymous role cannot read tallies");
    const anonymousToasts = new Subscription(server.url, null, UNLOCK_TOAST);
    try {
      await waitUntil(
        () => anonymousToasts.errors.length > 0 || anonymousToasts.results.length > 0,
        () => "the anonymous subscription's answer",
      );
      const answer = anonymousToasts.results[0]?.errors ?? (anonymousToasts.errors[0] as Result["errors"]);
      assert.equal(JSON.stringify(answer).includes("UNAUTHENTICATED"), true, JSON.stringify(answer));
    } finally {
      await anonymousToasts.close();
    }

    // Steps come from the app's tables only: a visitor cannot report `make_post` for themselves (the app's
    // actions are not client-reportable), and no mutation writes steps directly (the authenticator cannot
    // become app_service, so PostGraphile's RBAC leaves createUserStep and recordActionFor out).
    const cheat = await post(server.url, grace.token, `mutation { recordAction(input: { action: "make_post" }) { result { tally } } }`);
    assert.equal(cheat.errors?.[0]?.extensions?.code, "FORBIDDEN", JSON.stringify(cheat));
    const forged = await post(
      server.url,
      grace.token,
      `mutation ($frank: UUID!) { createUserStep(input: { userStep: { userId: $frank, name: "make_post" } }) { userStep { name } } }`,
      { frank: frank.userId },
    );
    assert.match(forged.errors?.[0]?.message ?? "", /Cannot query field "createUserStep"/);
    // And a bad token is refused by the app's own auth.
    const badToken = await post(server.url, "not-a-jwt", `{ currentUser { username } }`);
    assert.equal(badToken.status, 401);
    assert.match(badToken.errors?.[0]?.message ?? "", /^Invalid token/);
  });
});

// Our preset in an application's own PostGraphile v5 server, as a team would add it: Amber, their schema
// (app_public) listed first, `makeAchievementsPreset()` and `...ACHIEVEMENTS_SCHEMAS`, Relay global ids ON,
// their own authentication (Supabase-style: `request.jwt.claims` holds the claims as JSON; no JWT code of
// ours runs). And the standalone server serving an application's schemas beside ours (APP_SCHEMAS).
//
// Everything runs in a database of its own (the app's database, into which the test installs the engine
// with installAchievements), dropped at the end: mutations and subscriptions commit for real.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSchema } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { execute, hookArgs, subscribe } from "postgraphile/grafast";
import {
  type ExecutionResult,
  type GraphQLArgument,
  type GraphQLField,
  GraphQLNonNull,
  GraphQLObjectType,
  type GraphQLSchema,
  parse,
  validate,
} from "postgraphile/graphql";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { signToken } from "../../src/auth";
import { ConfigError, loadConfig } from "../../src/config";
import { withDatabase } from "../../src/connection-strings";
import { ACHIEVEMENTS_SCHEMAS, installAchievements, makeAchievementsPreset, maskAchievementsError } from "../../src/index";
import { withClient } from "../../src/migrate";
import { type RunningServer, startServer } from "../../src/server";
import { roles, testDatabaseName, testDatabaseUrl } from "../helpers/db";

const APP_DATABASE = testDatabaseName("app");
const rootUrl = () => withDatabase(testDatabaseUrl("TEST_ROOT_URL"), APP_DATABASE);
const authUrl = () => withDatabase(testDatabaseUrl("TEST_AUTH_URL"), APP_DATABASE);

/** The application's own schema, there before our engine: posts, and a function of theirs (not strict). */
const APP_SCHEMA_SQL = `
  create schema app_public;
  create function app_public.current_user_id() returns uuid language sql stable
    as $$ select nullif(current_setting('request.jwt.claims', true)::json ->> 'sub', '')::uuid $$;
  create table app_public.posts (
    id serial primary key,
    author_id uuid not null default app_public.current_user_id(),
    title text not null
  );
  comment on table app_public.posts is E'The application''s posts.';
  create function app_public.greeting(name text) returns text language sql stable
    as $$ select 'Hello, ' || coalesce(name, 'stranger') $$;
`;

/** After installing: the app's grants to our user role, and a trigger crediting each post to its author. */
const APP_WIRING_SQL = `
  grant usage on schema app_public to ${roles.user}, ${roles.anonymous};
  grant select on app_public.posts to ${roles.user}, ${roles.anonymous};
  grant insert (title) on app_public.posts to ${roles.user};
  grant usage on sequence app_public.posts_id_seq to ${roles.user};
  grant execute on function app_public.current_user_id(), app_public.greeting(text) to ${roles.user}, ${roles.anonymous};
  create trigger _500_count_posts after insert on app_public.posts
    for each row execute function status_private.tg_achievement('id', 'make_post', 'author_id');
`;

/** What the app's own authentication puts in pgSettings for a signed-in user (PostgREST/Supabase style). */
const appPgSettings = (userId: string | null) =>
  userId ? { role: roles.user, "request.jwt.claims": JSON.stringify({ sub: userId, role: "authenticated" }) } : { role: roles.anonymous };

/** The request, as the app's own authentication sees it once it has checked who is calling. */
interface AppRequestContext {
  appUserId?: string | null;
}

/** The app's graphile.config.ts, as the README tells a team to write it. */
const appPreset = (): GraphileConfig.Preset => ({
  extends: [PostGraphileAmberPreset, makeAchievementsPreset()],
  pgServices: [makePgService({ connectionString: authUrl(), schemas: ["app_public", ...ACHIEVEMENTS_SCHEMAS], pubsub: true })],
  grafserv: { maskError: maskAchievementsError },
  grafast: {
    // The app's auth, not ours: it sets the role and the claims its database reads.
    context: (requestContext, args) => ({
      pgSettings: { ...args.contextValue?.pgSettings, ...appPgSettings((requestContext as AppRequestContext).appUserId ?? null) },
    }),
  },
});

beforeAll(async () => {
  await withClient(testDatabaseUrl("TEST_ROOT_URL"), (client) => client.query(`create database ${APP_DATABASE}`));
  await withClient(rootUrl(), (client) => client.query(APP_SCHEMA_SQL));
  await installAchievements({
    connectionString: rootUrl(),
    roles, // the run's (they exist: test/global-setup.ts made them)
    userIdSetting: "request.jwt.claims",
    userIdClaim: "sub",
    demoCatalog: true,
    includeCurrent: true,
  });
  await withClient(rootUrl(), (client) => client.query(APP_WIRING_SQL));
});

afterAll(async () => {
  await withClient(testDatabaseUrl("TEST_ROOT_URL"), (client) => client.query(`drop database if exists ${APP_DATABASE} with (force)`));
});

describe("makeAchievementsPreset() in an application's own server", () => {
  let schema: GraphQLSchema;
  let resolvedPreset: GraphileConfig.ResolvedPreset;

  beforeAll(async () => {
    ({ schema, resolvedPreset } = await makeSchema(appPreset()));
  });
  afterAll(async () => {
    await Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.()));
  });

  const fieldsOf = (typeName: string): Record<string, GraphQLField<unknown, unknown>> => {
    const type = schema.getType(typeName);
    if (!(type instanceof GraphQLObjectType)) throw new Error(`no object type ${typeName}`);
    return type.getFields();
  };
  const argumentOf = (typeName: string, field: string, name: string): GraphQLArgument => {
    const found = fieldsOf(typeName)[field]?.args.find((arg) => arg.name === name);
    if (!found) throw new Error(`no argument ${typeName}.${field}(${name})`);
    return found;
  };

  /** Runs a document with the pgSettings the app's authentication would set. */
  async function run(userId: string | null, source: string, variableValues?: Record<string, unknown>) {
    const document = parse(source);
    const errors = validate(schema, document);
    if (errors.length > 0) throw new Error(errors.map((error) => error.message).join("\n"));
    const requestContext: AppRequestContext = { appUserId: userId };
    const args = { schema, document, variableValues, resolvedPreset, requestContext: requestContext as Partial<Grafast.RequestContext> };
    await hookArgs(args);
    return args;
  }
  async function query(userId: string | null, source: string, variableValues?: Record<string, unknown>) {
    const result = (await execute(await run(userId, source, variableValues))) as ExecutionResult;
    return { data: result.data as Record<string, any> | null | undefined, errors: result.errors?.map(maskAchievementsError) };
  }

  it("has our fields next to the app's, with the app's conventions left alone", () => {
    const queryFields = fieldsOf("Query");
    // The app's, and Relay's `node` (NodePlugin on).
    expect(queryFields).toHaveProperty("allPosts");
    expect(queryFields).toHaveProperty("greeting");
    expect(queryFields).toHaveProperty("node");
    // Ours.
    for (const field of ["leaderboard", "myRank", "leaderboardAroundMe", "stepsRequired", "userAchieved", "myDashboard", "allAchievements"]) {
      expect(queryFields).toHaveProperty(field);
    }
    expect(fieldsOf("Mutation")).toHaveProperty("createPost");
    expect(fieldsOf("Mutation")).toHaveProperty("recordAction");
    expect(Object.keys(fieldsOf("Subscription"))).toEqual(expect.arrayContaining(["achievementUnlocked", "tierChanged", "levelAchieved"]));

    // Our names carry no schema prefix although status_public is not the first schema...
    expect(schema.getType("Achievement")).toBeDefined();
    expect(schema.getType("StatusPublicAchievement")).toBeUndefined();
    // ...and follow the app's naming: with global ids on, `id` columns are `rowId`, theirs and ours alike.
    expect(Object.keys(fieldsOf("Post"))).toEqual(expect.arrayContaining(["id", "rowId"]));
    expect(Object.keys(fieldsOf("Achievement"))).toEqual(expect.arrayContaining(["id", "rowId"]));
    // Our function arguments without a default are required; the app's function keeps its nullable argument.
    expect(argumentOf("Query", "stepsRequired", "level").type).toBeInstanceOf(GraphQLNonNull);
    expect(argumentOf("Query", "greeting", "name").type).not.toBeInstanceOf(GraphQLNonNull);
  });

  it("serves the app's user through the app's own pgSettings: posts count as steps, actions rank", async () => {
    const userId = randomUUID();
    const post = await query(userId, `mutation { createPost(input: { post: { title: "Hello" } }) { post { title authorId } } }`);
    expect(post).toEqual({ data: { createPost: { post: { title: "Hello", authorId: userId } } }, errors: undefined });

    const recorded = await query(
      userId,
      `mutation { recordAction(input: { action: "tasks_completed", amount: 1, idempotencyKey: "preset-1" }) { result { tally totalPoints unlocked { achievementId } } } }`,
    );
    expect(recorded.errors).toBeUndefined();
    expect(recorded.data?.recordAction.result).toEqual({ tally: 1, totalPoints: 10, unlocked: [{ achievementId: "tasks_completed_1" }] });

    const read = await query(
      userId,
      `{
        myRank(period: ALL_TIME) { points }
        leaderboard(first: 100) { userId points }
        stepsRequired(level: "beginner") { nodes { name requiredCount } }
        myDashboard { tallies { name count } }
        greeting(name: null)
      }`,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data?.myRank).toEqual({ points: 10 });
    expect(read.data?.leaderboard).toContainEqual({ userId, points: 10 });
    // beginner needs 2 make_post and 1 complete_profile: both still unmet, though the app's post counted once.
    expect(read.data?.stepsRequired.nodes).toEqual([
      { name: "complete_profile", requiredCount: 1 },
      { name: "make_post", requiredCount: 2 },
    ]);
    expect(read.data?.myDashboard.tallies).toEqual(expect.arrayContaining([{ name: "make_post", count: 1 }, { name: "tasks_completed", count: 1 }]));
    expect(read.data?.greeting).toBe("Hello, stranger");
  });

  it("maps our errors with maskAchievementsError: an anonymous myRank is UNAUTHENTICATED", async () => {
    const { errors } = await query(null, `{ myRank { rank } }`);
    expect(errors?.map((error) => error.extensions.code)).toEqual(["UNAUTHENTICATED"]);
  });

  it("delivers achievementUnlocked on the channel of the user the database names (jwt_public.current_user_id())", async () => {
    const userId = randomUUID();
    const stream = await subscribe(
      await run(userId, `subscription { achievementUnlocked { achievement { rowId name } pointsAwarded totalPoints } }`),
    );
    if (!(Symbol.asyncIterator in stream)) throw new Error(`expected a stream, got ${JSON.stringify(stream)}`);
    try {
      const first = stream.next();
      await waitUntilListening(userId);
      const recorded = await query(userId, `mutation { recordAction(input: { action: "tasks_completed", amount: 1 }) { result { tally } } }`);
      expect(recorded.errors).toBeUndefined();
      const { value } = await first;
      expect(value).toEqual({
        data: { achievementUnlocked: { achievement: { rowId: "tasks_completed_1", name: expect.any(String) }, pointsAwarded: 10, totalPoints: 10 } },
      });
    } finally {
      await stream.return?.(undefined);
    }
  });

  it("refuses an anonymous subscriber with UNAUTHENTICATED", async () => {
    const result = await subscribe(await run(null, `subscription { achievementUnlocked { pointsAwarded } }`));
    const payload = (Symbol.asyncIterator in result ? (await result.next()).value : result) as ExecutionResult;
    expect(payload.errors?.map((error) => maskAchievementsError(error).extensions.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("makeAchievementsPreset({ subscriptions: false })", () => {
  it("leaves our subscription fields out (for a server without pubsub or websockets), and keeps the rest", async () => {
    const { schema, resolvedPreset } = await makeSchema({
      extends: [PostGraphileAmberPreset, makeAchievementsPreset({ subscriptions: false })],
      pgServices: [makePgService({ connectionString: authUrl(), schemas: ["app_public", ...ACHIEVEMENTS_SCHEMAS] })],
    });
    try {
      expect(schema.getSubscriptionType()?.getFields() ?? {}).not.toHaveProperty("achievementUnlocked");
      expect(schema.getQueryType()?.getFields()).toHaveProperty("leaderboard");
    } finally {
      await Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.()));
    }
  });
});

/** Until the server runs `LISTEN "achievements:<id>"` on its listening connection (LISTEN starts asynchronously). */
async function waitUntilListening(userId: string): Promise<void> {
  const statement = `LISTEN "achievements:${userId}"`;
  await withClient(rootUrl(), async (client) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const { rowCount } = await client.query("select from pg_stat_activity where datname = current_database() and query = $1", [statement]);
      if (rowCount) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no server ran ${statement}`);
  });
}

describe("the standalone server's APP_SCHEMAS", () => {
  let dataDir: string;
  let postId: number;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "achievements-app-schemas-"));
    const { rows } = await withClient(rootUrl(), (client) =>
      client.query<{ id: number }>(`insert into app_public.posts (author_id, title) values ($1, 'Standalone') returning id`, [randomUUID()]),
    );
    postId = rows[0].id;
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("is a list of schema names: trimmed, deduplicated, status_public implied", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).appSchemas).toEqual([]);
    expect(loadConfig({ DATA_DIR: dataDir, APP_SCHEMAS: " app_public, app_hidden ,app_public,status_public" }).appSchemas).toEqual([
      "app_public",
      "app_hidden",
    ]);
  });

  it.each([
    ["app-public", /APP_SCHEMAS: "app-public" is not a schema name/],
    ["app_public,,app_hidden", /APP_SCHEMAS: must be schema names separated by commas/],
    ["1app", /APP_SCHEMAS: "1app" is not a schema name/],
    ["status_private", /APP_SCHEMAS: "status_private" cannot be exposed/],
    ["pg_catalog", /APP_SCHEMAS: "pg_catalog" cannot be exposed/],
  ])("refuses %s with a message naming it", (value, message) => {
    expect(() => loadConfig({ DATA_DIR: dataDir, APP_SCHEMAS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dataDir, APP_SCHEMAS: value })).toThrow(message);
  });

  const jwtSecret = randomBytes(32).toString("hex");
  const start = (appSchemas: string[]) =>
    startServer({ connectionString: authUrl(), jwtSecret, roles, graphiql: false, host: "127.0.0.1", port: 0, appSchemas });

  it("serves the app's schema beside ours on the one endpoint, under the standalone's naming", async () => {
    const server: RunningServer = await start(["app_public"]);
    try {
      const token = await signToken({ jwtSecret, userId: randomUUID() });
      const response = await fetch(`${server.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `{
            postById(id: ${postId}) { id title }
            achievementById(id: "tasks_completed_1") { id }
            leaderboard(first: 1) { rank }
            greeting(name: "you")
          }`,
        }),
      });
      const body = (await response.json()) as ExecutionResult<Record<string, any>>;
      expect(body.errors).toBeUndefined();
      // No global ids in the standalone: `id` is the column, in the app's tables too.
      expect(body.data).toEqual({
        postById: { id: postId, title: "Standalone" },
        achievementById: { id: "tasks_completed_1" },
        leaderboard: [{ rank: 1 }],
        greeting: "Hello, you",
      });
    } finally {
      await server.close();
    }
  });

  it("stops the start when a named schema does not exist, naming it", async () => {
    await expect(start(["app_public", "app_hiden"])).rejects.toThrow(
      new ConfigError(
        `Invalid configuration:\n  APP_SCHEMAS: no schema "app_hiden" in database "${APP_DATABASE}" (names are case-sensitive: create the schema first, or remove it from APP_SCHEMAS)`,
      ),
    );
  });
});

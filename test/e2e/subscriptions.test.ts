// Realtime toasts (plugins/subscriptions.ts) over real websockets (graphql-ws + ws), against the real
// server and PostgreSQL: each user gets their own events and only the kind they subscribed to, anonymous
// subscribers and bad tokens are refused with UNAUTHENTICATED, and an action recorded through one server
// process reaches a subscriber connected to another (LISTEN/NOTIFY, not memory).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "graphql-ws";
import type pg from "pg";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { removeUsers, removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { type Cli, cleanEnvironment, killAll, startCli, stopCli } from "../helpers/cli";
import { rootPool, testDatabaseUrl, testRoleEnvironment } from "../helpers/db";
import { connect as connectClient, type GraphQLErrorJson, graphql, sleep, Subscription, waitUntilListening } from "../helpers/graphql-client";
import { freePort } from "../helpers/ports";
import { startTestServer, testJwtSecret } from "../helpers/server";

// Users this file makes are committed to the shared database: every trace of them is removed at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

const tokenFor = (userId: string, role: "user" | "service" = "user") => signToken({ jwtSecret: testJwtSecret(), userId, role });

let server: RunningServer;
let root: pg.Pool;
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
  root = rootPool(2);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
  await removeUsersAndEnd(root, users.ids);
});

/** A client the file disposes of at its end. */
function connect(baseUrl: string, authorization?: string): Client {
  const client = connectClient(baseUrl, authorization);
  clients.push(client);
  return client;
}

/** The user records `amount` completed tasks; returns the ids of the achievements this call unlocked. */
async function completeTasks(baseUrl: string, userToken: string, amount: number): Promise<string[]> {
  const data = await graphql(
    baseUrl,
    userToken,
    `mutation ($amount: Int!) { recordAction(input: { action: "tasks_completed", amount: $amount }) { result { unlocked { achievementId } } } }`,
    { amount },
  );
  return data.recordAction.result.unlocked.map((unlock: { achievementId: string }) => unlock.achievementId);
}

/** The service records steps for a user (the reference API's way, as the tg_achievement* triggers do). */
async function recordSteps(baseUrl: string, userId: string, name: string, count: number): Promise<void> {
  const data = await graphql(
    baseUrl,
    await tokenFor(newUserId(), "service"),
    `mutation ($userId: UUID!, $name: String!, $count: Int!) { createUserStep(input: { userStep: { userId: $userId, name: $name, count: $count } }) { userStep { count } } }`,
    { userId, name, count },
  );
  expect(data.createUserStep.userStep.count).toBe(count);
}

const ACHIEVEMENT_UNLOCKED = `subscription {
  achievementUnlocked {
    cursor
    unlock { id userId achievementId points unlockedAt cursor }
    achievement { id name points }
    pointsAwarded
    totalPoints
    tier { name minPoints badge }
  }
}`;
const TIER_CHANGED = `subscription { tierChanged { tier { name minPoints badge } points } }`;
const LEVEL_ACHIEVED = `subscription { levelAchieved { level { name } achievedAt } }`;

const BEGINNER = { name: "Beginner", minPoints: 0, badge: "🥉" };
const STUDENT = { name: "Student", minPoints: 100, badge: "🥈" };
const EXPERT = { name: "Expert", minPoints: 500, badge: "🥇" };

/** The unlock as the user reads it over HTTP (the subscription must show the same row). */
async function myUnlock(baseUrl: string, userToken: string, achievementId: string) {
  const data = await graphql(
    baseUrl,
    userToken,
    `query ($achievementId: String!) { allAchievementUnlocks(condition: { achievementId: $achievementId }) { nodes { id userId achievementId points unlockedAt cursor } } }`,
    { achievementId },
  );
  expect(data.allAchievementUnlocks.nodes).toHaveLength(1);
  return data.allAchievementUnlocks.nodes[0];
}

describe("the subscription API", () => {
  it("has exactly the three event fields, none taking an argument (the topic comes from the session), and the service's stream", async () => {
    const data = await graphql(
      server.url,
      await tokenFor(newUserId()),
      `{
        subscription: __type(name: "Subscription") { fields { name args { name } type { name kind } } }
        unlocked: __type(name: "AchievementUnlockedEvent") { fields { name type { kind name ofType { name } } } }
        tier: __type(name: "TierChangedEvent") { fields { name type { kind name ofType { name } } } }
        level: __type(name: "LevelAchievedEvent") { fields { name type { kind name ofType { name } } } }
      }`,
    );
    expect(data.subscription.fields).toEqual([
      { name: "achievementUnlocked", args: [], type: { name: "AchievementUnlockedEvent", kind: "OBJECT" } },
      { name: "tierChanged", args: [], type: { name: "TierChangedEvent", kind: "OBJECT" } },
      { name: "levelAchieved", args: [], type: { name: "LevelAchievedEvent", kind: "OBJECT" } },
      // Every user's events, for the service (plugins/achievement-events.ts; test/e2e/achievement_events.test.ts).
      { name: "achievementEvents", args: [{ name: "afterPosition" }], type: { name: "AchievementEvent", kind: "OBJECT" } },
    ]);
    const object = (name: string) => ({ kind: "OBJECT", name, ofType: null });
    const nonNull = (name: string) => ({ kind: "NON_NULL", name: null, ofType: { name } });
    expect(data.unlocked.fields).toEqual([
      { name: "cursor", type: nonNull("Int") },
      { name: "unlock", type: nonNull("AchievementUnlock") },
      { name: "achievement", type: nonNull("Achievement") },
      { name: "pointsAwarded", type: nonNull("Int") },
      { name: "totalPoints", type: nonNull("Int") },
      { name: "tier", type: object("Tier") },
    ]);
    expect(data.tier.fields).toEqual([
      { name: "tier", type: object("Tier") },
      { name: "points", type: nonNull("Int") },
    ]);
    expect(data.level.fields).toEqual([
      { name: "cursor", type: nonNull("Int") },
      { name: "level", type: nonNull("Level") },
      { name: "achievedAt", type: nonNull("Datetime") },
    ]);
  });
});

describe("achievementUnlocked", () => {
  it("delivers the unlock, its achievement, the points and the tier to the signed-in user, and to nobody else", async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    const [aliceToken, bobToken] = await Promise.all([tokenFor(alice), tokenFor(bob)]);
    const aliceToasts = new Subscription(connect(server.url, `Bearer ${aliceToken}`), ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(root, alice);
    const bobToasts = new Subscription(connect(server.url, `Bearer ${bobToken}`), ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(root, bob);

    expect(await completeTasks(server.url, aliceToken, 1)).toEqual(["tasks_completed_1"]);
    await aliceToasts.waitForPayloads(1);
    const aliceUnlock = await myUnlock(server.url, aliceToken, "tasks_completed_1");
    expect(aliceUnlock).toMatchObject({ userId: alice, achievementId: "tasks_completed_1", points: 10 });
    expect(aliceToasts.events("achievementUnlocked")).toEqual([
      {
        cursor: 1, // Alice's first event
        unlock: aliceUnlock,
        achievement: { id: "tasks_completed_1", name: "1 task", points: 10 },
        pointsAwarded: 10,
        totalPoints: 10,
        tier: BEGINNER,
      },
    ]);

    // Bob's first toast is his own: had Alice's event reached him, it would have come first (one
    // listening connection, notifications in commit order).
    expect(await completeTasks(server.url, bobToken, 1)).toEqual(["tasks_completed_1"]);
    await bobToasts.waitForPayloads(1);
    const bobUnlock = await myUnlock(server.url, bobToken, "tasks_completed_1");
    expect(bobUnlock.id).not.toBe(aliceUnlock.id);
    expect(bobToasts.events("achievementUnlocked")).toEqual([
      {
        cursor: 1, // Bob's own first event: cursors are per user
        unlock: { ...bobUnlock, userId: bob },
        achievement: { id: "tasks_completed_1", name: "1 task", points: 10 },
        pointsAwarded: 10,
        totalPoints: 10,
        tier: BEGINNER,
      },
    ]);
    await sleep(200);
    expect(aliceToasts.payloads).toHaveLength(1);
    expect(bobToasts.payloads).toHaveLength(1);
  });
});

describe("the re-read of an event's rows (unlock, achievement and level are non-null)", () => {
  it("shows a hidden achievement to the subscriber who unlocked it, with their unlock", async () => {
    const user = newUserId();
    const hidden = `hidden_toast_${user.slice(0, 8)}`;
    // A hidden achievement of 0 points (no leaderboard rows), unlocked by its own action; removed at the end.
    await root.query("insert into status_public.actions (name) values ($1)", [hidden]);
    await root.query("insert into status_public.achievements (id, name, points, hidden) values ($1, $1, 0, true)", [hidden]);
    await root.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ($1, 'count', $1, 1)", [hidden]);
    try {
      const userToken = await tokenFor(user);
      const toasts = new Subscription(connect(server.url, `Bearer ${userToken}`), ACHIEVEMENT_UNLOCKED);
      await waitUntilListening(root, user);
      await recordSteps(server.url, user, hidden, 1);
      await toasts.waitForPayloads(1);
      const unlock = await myUnlock(server.url, userToken, hidden);
      expect(toasts.events("achievementUnlocked")).toEqual([
        { cursor: unlock.cursor, unlock, achievement: { id: hidden, name: hidden, points: 0 }, pointsAwarded: 0, totalPoints: 0, tier: BEGINNER },
      ]);
    } finally {
      await removeUsers(root, [user]);
      await root.query("delete from status_public.achievements where id = $1", [hidden]);
      await root.query("delete from status_public.actions where name = $1", [hidden]);
    }
  });

  it("nulls the whole event, with an error, when its row is gone by the time it is read again (deleted since the commit)", async () => {
    const user = newUserId();
    const client = connect(server.url, `Bearer ${await tokenFor(user)}`);
    const unlocks = new Subscription(client, ACHIEVEMENT_UNLOCKED);
    const levels = new Subscription(client, LEVEL_ACHIEVED);
    await waitUntilListening(root, user);
    await sleep(300); // the second subscription attaches to the channel without a statement
    // What status_private.notify_user sends after a commit, for rows that no longer exist.
    for (const event of [
      { event: "achievement_unlocked", id: "00000000-0000-4000-8000-000000000000" },
      { event: "level_achieved", id: "no_such_level" },
    ]) {
      await root.query("select pg_notify($1, $2)", [`achievements:${user}`, JSON.stringify(event)]);
    }
    await unlocks.waitForPayloads(1);
    await levels.waitForPayloads(1);
    for (const [field, subscription] of [["achievementUnlocked", unlocks], ["levelAchieved", levels]] as const) {
      // The first non-null field of the event that finds no row (cursor, or level / achievedAt) nulls it.
      expect({ field, payloads: subscription.payloads }).toEqual({
        field,
        payloads: [{ data: { [field]: null }, errors: [expect.objectContaining({ message: expect.stringMatching(/^Cannot return null for non-nullable field /), path: [field, expect.any(String)] })] }],
      });
    }
  });
});

describe("tierChanged and levelAchieved", () => {
  it("arrive for the signed-in user, each subscription receiving its own kind of event only", async () => {
    const carol = newUserId();
    const carolToken = await tokenFor(carol);
    const client = connect(server.url, `Bearer ${carolToken}`);
    const unlocks = new Subscription(client, ACHIEVEMENT_UNLOCKED);
    const tiers = new Subscription(client, TIER_CHANGED);
    const levels = new Subscription(client, LEVEL_ACHIEVED);
    await waitUntilListening(root, carol);
    // The first of the three LISTENs on the channel; the other two attach to it without a statement.
    await sleep(300);

    // 10 tasks: three achievements (10 + 100 + 75 points) in one transaction, Beginner -> Student.
    const firstUnlocked = await completeTasks(server.url, carolToken, 10);
    expect(firstUnlocked.sort()).toEqual(["launch_sprint", "tasks_completed_1", "tasks_completed_10"]);
    await unlocks.waitForPayloads(3);
    await tiers.waitForPayloads(1);
    expect(tiers.events("tierChanged")).toEqual([{ tier: STUDENT, points: 185 }]);
    const pointsOf: Record<string, number> = { tasks_completed_1: 10, tasks_completed_10: 100, launch_sprint: 75 };
    const firstToasts = unlocks.events("achievementUnlocked");
    expect(firstToasts.map((toast) => toast.achievement.id).sort()).toEqual(firstUnlocked);
    for (const toast of firstToasts) {
      const unlock = await myUnlock(server.url, carolToken, toast.achievement.id);
      expect(toast).toEqual({
        cursor: unlock.cursor,
        unlock,
        achievement: { id: toast.achievement.id, name: expect.any(String), points: pointsOf[toast.achievement.id] },
        pointsAwarded: pointsOf[toast.achievement.id],
        totalPoints: 185,
        tier: STUDENT,
      });
    }

    // The reference API's level "beginner": complete_profile x1 and make_post x3, counted by the service.
    await recordSteps(server.url, carol, "make_post", 3);
    await recordSteps(server.url, carol, "complete_profile", 1);
    await levels.waitForPayloads(1);
    const achieved = await graphql(server.url, carolToken, `{ allUserLevels { nodes { level achievedAt } } }`);
    expect(achieved.allUserLevels.nodes).toEqual([{ level: "beginner", achievedAt: expect.any(String) }]);
    expect(levels.events("levelAchieved")).toEqual([{ level: { name: "beginner" }, achievedAt: achieved.allUserLevels.nodes[0].achievedAt }]);

    // 40 more tasks: "50 tasks" (500 points) and Student -> Expert, after the level event on the channel.
    for (let call = 0; call < 3; call++) expect(await completeTasks(server.url, carolToken, 10)).toEqual([]);
    expect(await completeTasks(server.url, carolToken, 10)).toEqual(["tasks_completed_50"]);
    await unlocks.waitForPayloads(4);
    await tiers.waitForPayloads(2);
    // Then the level "pro" (make_post x50, receive_likes x100), after those events on the channel.
    await recordSteps(server.url, carol, "receive_likes", 100);
    await recordSteps(server.url, carol, "make_post", 47);
    await levels.waitForPayloads(2);
    await sleep(300);

    // Each stream holds exactly its own events: every other kind on the channel, before and after, was left out.
    const fiftyTasks = await myUnlock(server.url, carolToken, "tasks_completed_50");
    // The first three unlocks took cursors 1 to 3 (one transaction), the level "beginner" 4.
    expect(fiftyTasks.cursor).toBe(5);
    expect(unlocks.events("achievementUnlocked").slice(3)).toEqual([
      {
        cursor: 5,
        unlock: fiftyTasks,
        achievement: { id: "tasks_completed_50", name: "50 tasks", points: 500 },
        pointsAwarded: 500,
        totalPoints: 685,
        tier: EXPERT,
      },
    ]);
    expect(unlocks.payloads).toHaveLength(4);
    expect(tiers.events("tierChanged")).toEqual([
      { tier: STUDENT, points: 185 },
      { tier: EXPERT, points: 685 },
    ]);
    const allLevels = await graphql(server.url, carolToken, `{ allUserLevels { nodes { level achievedAt } } }`);
    const achievedAt = new Map(allLevels.allUserLevels.nodes.map((row: { level: string; achievedAt: string }) => [row.level, row.achievedAt]));
    expect(achievedAt.size).toBe(2);
    expect(levels.events("levelAchieved")).toEqual([
      { level: { name: "beginner" }, achievedAt: achievedAt.get("beginner") },
      { level: { name: "pro" }, achievedAt: achievedAt.get("pro") },
    ]);
  });
});

describe("refusals", () => {
  const operations = [
    ["achievementUnlocked", ACHIEVEMENT_UNLOCKED],
    ["tierChanged", TIER_CHANGED],
    ["levelAchieved", LEVEL_ACHIEVED],
  ];

  it.each(operations)("%s: an anonymous subscriber gets UNAUTHENTICATED, not a masked error", async (_, query) => {
    const { payloads, errors } = await new Subscription(connect(server.url), query).waitForEnd();
    expect({ payloads, errors }).toEqual({
      payloads: [
        {
          errors: [
            {
              message: "Sign in to subscribe to your achievements: send `authorization: Bearer <token>` in the connection parameters",
              extensions: { code: "UNAUTHENTICATED" },
              locations: expect.any(Array),
            },
          ],
        },
      ],
      errors: [],
    });
  });

  const badTokens: [string, () => Promise<string>, string][] = [
    ["signed with another key", () => signToken({ jwtSecret: "z".repeat(40), userId: newUserId() }), "The token's signature is invalid"],
    ["expired", () => signToken({ jwtSecret: testJwtSecret(), userId: newUserId(), expiresIn: Math.floor(Date.now() / 1000) - 60 }), "The token has expired"],
  ];

  it.each(badTokens)("a token %s gets UNAUTHENTICATED", async (_, makeToken, message) => {
    const { payloads, errors } = await new Subscription(connect(server.url, `Bearer ${await makeToken()}`), ACHIEVEMENT_UNLOCKED).waitForEnd();
    const received = [...payloads.flatMap((payload) => payload.errors ?? []), ...errors.flatMap((error) => (Array.isArray(error) ? error : [error]))];
    expect(received.map((error: GraphQLErrorJson) => [error.message, error.extensions?.code])).toEqual([[message, "UNAUTHENTICATED"]]);
  });
});

describe("two server processes on one database", () => {
  const started: Cli[] = [];
  let childUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    // Its own DATA_DIR, so that the development secrets file of the project's .data is left alone.
    dataDir = await mkdtemp(join(tmpdir(), "achievements-subscriptions-"));
    const port = await freePort();
    await startCli({
      env: {
        ...cleanEnvironment(),
        DATABASE_URL: testDatabaseUrl("TEST_ROOT_URL"),
        AUTH_DATABASE_URL: testDatabaseUrl("TEST_AUTH_URL"),
        ...testRoleEnvironment(),
        JWT_SECRET: testJwtSecret(),
        MIGRATE_ON_START: "false",
        PORT: String(port),
        NODE_ENV: "development",
        LOG_LEVEL: "info",
        DATA_DIR: dataDir,
      },
      started,
    });
    childUrl = `http://127.0.0.1:${port}`;
  }, 120_000);

  afterAll(async () => {
    for (const cli of started) await stopCli(cli, "SIGTERM").catch(() => undefined);
    await killAll(started);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("a subscriber on one process gets the toast for an action recorded through the other, both ways", async () => {
    expect(childUrl).not.toBe(server.url);
    for (const [subscribeThrough, recordThrough] of [
      [childUrl, server.url],
      [server.url, childUrl],
    ]) {
      const user = newUserId();
      const token = await tokenFor(user);
      const toasts = new Subscription(connect(subscribeThrough, `Bearer ${token}`), ACHIEVEMENT_UNLOCKED);
      await waitUntilListening(root, user);
      expect(await completeTasks(recordThrough, token, 1)).toEqual(["tasks_completed_1"]);
      await toasts.waitForPayloads(1);
      expect(toasts.events("achievementUnlocked")).toEqual([
        {
          cursor: 1,
          unlock: await myUnlock(recordThrough, token, "tasks_completed_1"),
          achievement: { id: "tasks_completed_1", name: "1 task", points: 10 },
          pointsAwarded: 10,
          totalPoints: 10,
          tier: BEGINNER,
        },
      ]);
    }
  }, 60_000);
});

// READ_DATABASE_URL against a real streaming replica that this file starts (test/helpers/streaming-replication.ts):
// the real command line serves with DATABASE_URL on the primary and READ_DATABASE_URL on the replica. With the
// replica's replay paused, a write shows at once in the user's own progress (the primary) and not yet on the
// leaderboard and in the rarity (the replica); a query mixing both reads the primary. With the replica
// stopped, the same reads answer from the primary, with one log line for the outage; started again, it
// serves again. The library's way (`withReadReplicas` around an app's own pgService, the preset's plugin
// routing) reads the same as the standalone server.
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { makeSchema } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { execute, hookArgs } from "postgraphile/grafast";
import { type ExecutionResult, parse } from "postgraphile/graphql";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { asRole } from "../../src/connection-strings";
import { ACHIEVEMENTS_SCHEMAS, makeAchievementsPreset, withReadReplicas } from "../../src/index";
import { createLogger } from "../../src/logger";
import { migrateDatabase, withClient } from "../../src/migrate";
import { userIdPgSettings } from "../../src/roles";
import { type Cli, cleanEnvironment, killAll, startCli } from "../helpers/cli";
import { testRoleEnvironment, testRoles } from "../helpers/db";
import { graphql, RECORD_ACTION, waitUntil } from "../helpers/graphql-client";
import { freePort } from "../helpers/ports";
import { testJwtSecret, tokenFor } from "../helpers/server";
import { startPrimary, type StreamingReplication } from "../helpers/streaming-replication";

const DATABASE = "achievements_replicas";
const TIMEOUT = 60_000;
// Two clusters, a migration and the command line's start: ~25 s here, more on a loaded machine.
const SETUP_TIMEOUT = 120_000;

const TOP_AND_RARITY = `{
  leaderboard(first: 10) { userId points }
  achievementById(id: "tasks_completed_10") { rarityPercent }
}`;
const MY_PROGRESS = `{ myRank { points } myDashboard { tier { points } } }`;

let clusters: StreamingReplication | undefined;
let baseUrl: string;
/** The authenticator's connection strings to the primary and the replica. */
let authUrls: { primary: string; replica: string };
const started: Cli[] = [];
let cli: Cli;

/** The replica has replayed everything the primary has written so far. */
async function replicaCaughtUp(): Promise<boolean> {
  const [written] = await withClient(clusters!.primary.url(), async (client) => (await client.query<{ lsn: string }>("select pg_current_wal_lsn() as lsn")).rows);
  return withClient(clusters!.replica.url(), async (client) => {
    const { rows } = await client.query<{ behind: boolean }>("select pg_wal_lsn_diff($1, pg_last_wal_replay_lsn()) > 0 as behind", [written.lsn]);
    return !rows[0].behind;
  });
}

async function pauseReplay(): Promise<void> {
  await withClient(clusters!.replica.url(), async (client) => {
    await client.query("select pg_wal_replay_pause()");
    for (;;) {
      const { rows } = await client.query<{ state: string }>("select pg_get_wal_replay_pause_state() as state");
      if (rows[0].state === "paused") return;
    }
  });
}

const resumeReplay = () => withClient(clusters!.replica.url(), (client) => client.query("select pg_wal_replay_resume()"));

const pointsOn = (top: { userId: string; points: number }[], userId: string) => top.find((entry) => entry.userId === userId)?.points;

/** An application's own PostGraphile server (Amber, Relay ids on) with our preset, and replicas on its pgService. */
async function libraryServer(userId: string) {
  const preset: GraphileConfig.Preset = {
    extends: [PostGraphileAmberPreset, makeAchievementsPreset({ subscriptions: false })],
    pgServices: [
      withReadReplicas(makePgService({ connectionString: authUrls.primary, schemas: [...ACHIEVEMENTS_SCHEMAS], pubsub: false }), {
        connectionStrings: [authUrls.replica],
        log: createLogger("silent"),
      }),
    ],
    // The app's own authentication: here, always this user.
    grafast: { context: (_requestContext, args) => ({ pgSettings: { ...args.contextValue?.pgSettings, role: testRoles().user, ...userIdPgSettings(userId) } }) },
  };
  const { schema, resolvedPreset } = await makeSchema(preset);
  return {
    async query(source: string): Promise<Record<string, any>> {
      const args = { schema, document: parse(source), resolvedPreset, requestContext: {} };
      await hookArgs(args);
      const result = (await execute(args)) as ExecutionResult;
      expect(result.errors).toBeUndefined();
      return result.data!;
    },
    release: () => Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.())),
  };
}

const outageLines = () => cli.logs.filter((line) => /^read replica .* is unreachable/.test(line.msg));
const backLines = () => cli.logs.filter((line) => /^read replica .* answers again/.test(line.msg));

beforeAll(async () => {
  clusters = await startPrimary(DATABASE);
  const authenticatorPassword = randomBytes(16).toString("hex");
  const roles = testRoles();
  // Migrated as the test run's own database is (test/global-setup.ts), demo catalog included.
  await migrateDatabase({
    databaseUrl: clusters.primary.url(DATABASE),
    authenticatorPassword,
    roles,
    includeCurrent: true,
    loadDemoCatalog: true,
    log: createLogger("warn"),
  });
  const { replica } = clusters;
  authUrls = {
    primary: asRole(clusters.primary.url(DATABASE), roles.authenticator, authenticatorPassword),
    replica: asRole(replica.url(DATABASE), roles.authenticator, authenticatorPassword),
  };
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  // The server starts while the replica is being copied: until it answers, reads go to the primary.
  [, cli] = await Promise.all([
    clusters.startReplica(),
    startCli({
      started,
      env: {
        ...cleanEnvironment(),
        NODE_ENV: "test",
        DATA_DIR: join(clusters.primary.dataDir, "..", "server-data"),
        PORT: String(port),
        LOG_LEVEL: "info",
        DATABASE_URL: clusters.primary.url(DATABASE),
        MIGRATE_ON_START: "false",
        AUTHENTICATOR_PASSWORD: authenticatorPassword,
        JWT_SECRET: testJwtSecret(),
        ...testRoleEnvironment(),
        READ_DATABASE_URL: authUrls.replica,
        // Every read tries the replica again (the default waits 5 s): the retry is then seen without waiting.
        READ_REPLICA_RETRY_MS: "0",
        WEBHOOK_DISPATCHER: "false",
      },
    }),
  ]);
}, SETUP_TIMEOUT);

afterAll(async () => {
  await killAll(started);
  await clusters?.destroy();
}, SETUP_TIMEOUT);

describe("READ_DATABASE_URL: a streaming replica for the reads that may lag", () => {
  const userId = randomUUID();
  let token: string;
  let rarityBefore: number;
  let library: Awaited<ReturnType<typeof libraryServer>>;

  beforeAll(async () => {
    token = await tokenFor(userId);
    const recorded = await graphql(baseUrl, token, RECORD_ACTION, { action: "tasks_completed", amount: 1 });
    expect(recorded.recordAction.result.totalPoints).toBe(10);
    await waitUntil(replicaCaughtUp, () => "the replica to replay the first step");
    const before = await graphql(baseUrl, token, TOP_AND_RARITY);
    expect(pointsOn(before.leaderboard, userId)).toBe(10);
    rarityBefore = before.achievementById.rarityPercent;
    library = await libraryServer(userId);
  }, TIMEOUT);

  afterAll(() => library?.release());

  it("reads the leaderboard and rarity from the replica, the user's own progress and every mutation on the primary", async () => {
    await pauseReplay();
    try {
      // A mutation: the replica is read-only (and paused), so this write is the primary's.
      const recorded = await graphql(baseUrl, token, RECORD_ACTION, { action: "tasks_completed", amount: 9 });
      expect(recorded.recordAction.result.unlocked.map((unlock: { achievementId: string }) => unlock.achievementId)).toContain("tasks_completed_10");
      const total = recorded.recordAction.result.totalPoints;
      expect(total).toBeGreaterThan(10);

      // Lag-tolerant: the replica's answer, from before the write.
      const lagging = await graphql(baseUrl, token, TOP_AND_RARITY);
      expect(pointsOn(lagging.leaderboard, userId)).toBe(10);
      expect(lagging.achievementById.rarityPercent).toBe(rarityBefore);

      // The user's own progress: the primary's, at once.
      const mine = await graphql(baseUrl, token, MY_PROGRESS);
      expect(mine.myRank.points).toBe(total);
      expect(mine.myDashboard.tier.points).toBe(total);

      // One field that may not lag puts the whole operation on the primary.
      const mixed = await graphql(baseUrl, token, `{ ${TOP_AND_RARITY.slice(1, -1)} myRank { points } }`);
      expect(pointsOn(mixed.leaderboard, userId)).toBe(total);
      expect(mixed.achievementById.rarityPercent).not.toBe(rarityBefore);
      // So does a catalog query that reaches the user's own unlocks.
      const withUnlocks = await graphql(baseUrl, token, `{ achievementById(id: "tasks_completed_10") { achievementUnlocksByAchievementId { totalCount } } }`);
      expect(withUnlocks.achievementById.achievementUnlocksByAchievementId.totalCount).toBe(1);

      // An app's own server with the preset and withReadReplicas: the same rule.
      expect(pointsOn((await library.query("{ leaderboard(first: 10) { userId points } }")).leaderboard, userId)).toBe(10);
      expect((await library.query("{ myRank { points } }")).myRank.points).toBe(total);
    } finally {
      await resumeReplay();
    }
    // Replayed: the replica catches up.
    await waitUntil(async () => pointsOn((await graphql(baseUrl, token, TOP_AND_RARITY)).leaderboard, userId) !== 10, () => "the leaderboard to catch up");
  }, TIMEOUT);

  it("falls back to the primary while the replica is down, logging the outage once, and uses it again when it is back", async () => {
    const { myRank } = await graphql(baseUrl, token, MY_PROGRESS);
    expect(outageLines()).toHaveLength(0);
    await clusters!.replica.stop();

    for (let read = 0; read < 3; read++) {
      const answer = await graphql(baseUrl, token, TOP_AND_RARITY);
      expect(pointsOn(answer.leaderboard, userId)).toBe(myRank.points);
    }
    expect(outageLines()).toHaveLength(1);
    expect(outageLines()[0]).toMatchObject({ level: 40, replica: `127.0.0.1:${clusters!.replica.port}/${DATABASE}` });

    // Back: the next read goes to it again (its replay paused, a new user's score shows on the primary only).
    await clusters!.replica.start();
    await waitUntil(replicaCaughtUp, () => "the restarted replica to catch up");
    await pauseReplay();
    try {
      const newcomer = randomUUID();
      const newcomerToken = await tokenFor(newcomer);
      await graphql(baseUrl, newcomerToken, RECORD_ACTION, { action: "tasks_completed", amount: 1 });
      const fromReplica = await graphql(baseUrl, token, TOP_AND_RARITY);
      expect(pointsOn(fromReplica.leaderboard, newcomer)).toBeUndefined();
      expect((await graphql(baseUrl, newcomerToken, MY_PROGRESS)).myRank.points).toBe(10);
      expect(backLines()).toHaveLength(1);
      expect(outageLines()).toHaveLength(1);
    } finally {
      await resumeReplay();
    }
  }, TIMEOUT);
});

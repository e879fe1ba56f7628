// Behind PgBouncer in transaction mode (README, Behind PgBouncer): the real command line serves GraphQL through a
// real PgBouncer (test/helpers/pgbouncer.ts) whose pool has two server connections, so that the server's ten
// connections to it are multiplexed onto two sessions, while subscriptions and the webhook dispatcher LISTEN on
// a direct connection (LISTEN_DATABASE_URL), and named prepared statements are off
// (DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE=0, which PgBouncer before 1.21 cannot serve). The core of the e2e
// journey runs through it: concurrent clients record actions, toasts arrive over websockets, the service's event
// stream follows, catch-up, leaderboards, idempotent retries and the rate limit.
// Everything is written to a database of the file's own, dropped at the end.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "graphql-ws";
import pg from "pg";
import { signToken } from "../../src/auth";
import { type Cli, cleanEnvironment, killAll, startCli, stopCli } from "../helpers/cli";
import { testRoleEnvironment } from "../helpers/db";
import { connect, postGraphQL, Subscription, waitUntil } from "../helpers/graphql-client";
import { type PgBouncer, startPgBouncer } from "../helpers/pgbouncer";
import { freePort } from "../helpers/ports";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { testJwtSecret } from "../helpers/server";

const TIMEOUT = 120_000;
/** PgBouncer's server connections for the server's role: fewer than its clients, so that they really share them. */
const POOL_SIZE = 2;
/** recordAction calls per user (a day's window: nothing refills during the test). */
const RATE_LIMIT = 12;

const RECORD = `mutation ($amount: Int!, $key: String) {
  recordAction(input: { action: "tasks_completed", amount: $amount, idempotencyKey: $key }) {
    result { stepId tally unlocked { unlockId achievementId } totalPoints }
  }
}`;

let database: PrivateDatabase;
let bouncer: PgBouncer;
let root: pg.Pool;
let dataDir: string;
let baseUrl: string;
const started: Cli[] = [];
const clients: Client[] = [];

const tokenFor = (userId: string, role: "user" | "service" = "user") => signToken({ jwtSecret: testJwtSecret(), userId, role });

beforeAll(async () => {
  database = await createPrivateDatabase("pgbouncer");
  root = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
  const authenticator = new URL(database.authUrl);
  bouncer = await startPgBouncer({
    connectionString: database.authUrl,
    users: { [decodeURIComponent(authenticator.username)]: decodeURIComponent(authenticator.password) },
    poolSize: POOL_SIZE,
  });
  dataDir = await mkdtemp(join(tmpdir(), "achievements-pgbouncer-server-"));
  const port = await freePort();
  await startCli({
    started,
    env: {
      ...cleanEnvironment(),
      ...testRoleEnvironment(),
      NODE_ENV: "test",
      DATA_DIR: dataDir, // its development secrets.json, unused: the secrets are given
      PORT: String(port),
      LOG_LEVEL: "info",
      DEMO: "false",
      WORKERS: "1",
      JWT_SECRET: testJwtSecret(),
      // Serve only: the database is migrated (PgBouncer would not do for graphile-migrate's session lock anyway).
      MIGRATE_ON_START: "false",
      AUTH_DATABASE_URL: bouncer.through(database.authUrl),
      LISTEN_DATABASE_URL: database.authUrl,
      DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE: "0",
      RECORD_ACTION_RATE_LIMIT: String(RATE_LIMIT),
      RECORD_ACTION_RATE_WINDOW_SECONDS: "86400",
    },
  });
  baseUrl = `http://127.0.0.1:${port}`;
}, TIMEOUT);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  const [cli] = started;
  if (cli && cli.child.exitCode === null) await stopCli(cli, "SIGTERM").catch(() => undefined);
  await killAll(started);
  await bouncer?.stop();
  await root?.end();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, TIMEOUT);

function subscribe(token: string, query: string): Subscription {
  const client = connect(baseUrl, `Bearer ${token}`);
  clients.push(client);
  return new Subscription(client, query);
}

/** Until the server has run `LISTEN "<channel>"` (a subscription is live once it has). */
async function waitUntilListening(channel: string): Promise<void> {
  const statement = `LISTEN "${channel}"`;
  await waitUntil(
    async () => (await root.query("select 1 from pg_stat_activity where datname = current_database() and query = $1", [statement])).rows.length > 0,
    () => `the server to run ${statement}`,
  );
}

/** A recordAction that must succeed. */
async function record(token: string, amount: number, key: string) {
  const { status, body } = await postGraphQL(baseUrl, token, RECORD, { amount, key });
  if (status !== 200 || body.errors) throw new Error(`recordAction failed (HTTP ${status}): ${JSON.stringify(body.errors)}\nPgBouncer:\n${bouncer.output()}`);
  return body.data!.recordAction.result as { stepId: string; tally: number; unlocked: { unlockId: string; achievementId: string }[]; totalPoints: number };
}

/** PgBouncer's clients and server connections for the database served. */
async function connectionsToDatabase(what: "clients" | "servers"): Promise<number> {
  const rows = await bouncer.show(what);
  return rows.filter((row) => row.database === new URL(database.authUrl).pathname.slice(1)).length;
}

describe("behind PgBouncer in transaction mode", () => {
  // Total tasks per user, and what the demo catalog awards for them: distinct points, so distinct ranks.
  const TASKS = [1, 5, 10, 50, 100];
  const UNLOCKS: Record<number, string[]> = {
    1: ["tasks_completed_1"],
    5: ["tasks_completed_1", "launch_sprint"],
    10: ["tasks_completed_1", "tasks_completed_10", "launch_sprint"],
    50: ["tasks_completed_1", "tasks_completed_10", "launch_sprint", "tasks_completed_50"],
    100: ["tasks_completed_1", "tasks_completed_10", "launch_sprint", "tasks_completed_50", "tasks_completed_100"],
  };
  const POINTS: Record<number, number> = { 1: 10, 5: 85, 10: 185, 50: 685, 100: 1685 };
  const users = TASKS.map((tasks) => ({ id: randomUUID(), tasks }));

  it(
    "concurrent clients record actions through two server connections; toasts, the service's stream, catch-up and leaderboards follow",
    async () => {
      const service = await tokenFor(randomUUID(), "service");
      const stream = subscribe(service, `subscription { achievementEvents(afterPosition: "0") { position kind userId payload } }`);
      await waitUntilListening("achievements:outbox_published");
      const tokens = await Promise.all(users.map((user) => tokenFor(user.id)));
      // One at a time: pg_stat_activity shows the listening connection's last statement only.
      const toasts: Subscription[] = [];
      for (const [u, user] of users.entries()) {
        toasts.push(subscribe(tokens[u], `subscription { achievementUnlocked { cursor unlock { id achievementId } totalPoints } }`));
        await waitUntilListening(`achievements:${user.id}`);
      }

      // Every call of every user at once (at most 10 tasks a call): 18 requests on the server's pool of 10
      // connections to PgBouncer, which has two sessions to PostgreSQL for all of them.
      const replies = await Promise.all(
        users.map((user, u) => {
          const amounts = Array.from({ length: Math.ceil(user.tasks / 10) }, (_, call) => Math.min(10, user.tasks - call * 10));
          return Promise.all(amounts.map((amount, call) => record(tokens[u], amount, `task-${call}`)));
        }),
      );
      // More of the server's connections than PgBouncer has sessions (beside the GraphQL pool's: the leaderboard
      // folder's one and the dispatcher's two, also through PgBouncer), on at most POOL_SIZE sessions.
      expect(await connectionsToDatabase("clients")).toBeGreaterThan(POOL_SIZE + 3);
      expect(await connectionsToDatabase("servers")).toBeLessThanOrEqual(POOL_SIZE);

      for (const [u, user] of users.entries()) {
        const unlocked = replies[u].flatMap((reply) => reply.unlocked);
        expect(unlocked.map((unlock) => unlock.achievementId).sort()).toEqual([...UNLOCKS[user.tasks]].sort());
        expect(Math.max(...replies[u].map((reply) => reply.tally))).toBe(user.tasks);
        expect(Math.max(...replies[u].map((reply) => reply.totalPoints))).toBe(POINTS[user.tasks]);

        // A toast per unlock, over the websocket, in the order of their cursors.
        await toasts[u].waitForPayloads(unlocked.length);
        const events = toasts[u].events("achievementUnlocked") as { cursor: number; unlock: { id: string; achievementId: string }; totalPoints: number }[];
        expect(events.map((event) => event.unlock.id).sort()).toEqual(unlocked.map((unlock) => unlock.unlockId).sort());
        expect(events.map((event) => event.cursor)).toEqual([...events.map((event) => event.cursor)].sort((a, b) => a - b));

        // A client that saw only the first toast catches up on the rest.
        const since = await postGraphQL(baseUrl, tokens[u], `query ($cursor: Int!) { myUnlocksSince(cursor: $cursor) { nodes { id cursor } } }`, {
          cursor: events[0].cursor,
        });
        expect(since.body).toEqual({ data: { myUnlocksSince: { nodes: events.slice(1).map((event) => ({ id: event.unlock.id, cursor: event.cursor })) } } });
      }

      // The service's stream: each unlock once, in position order (published by the dispatcher, woken on its own LISTEN).
      const unlockCount = users.reduce((sum, user) => sum + UNLOCKS[user.tasks].length, 0);
      await waitUntil(
        () => stream.payloads.filter((payload) => payload.data?.achievementEvents?.kind === "achievement_unlocked").length >= unlockCount || stream.ended,
        () => `${unlockCount} unlocks on the service's stream; received ${JSON.stringify(stream.payloads)}`,
      );
      const streamed = stream.events("achievementEvents") as { position: string; kind: string; userId: string; payload: { unlockId?: string } }[];
      const positions = streamed.map((event) => BigInt(event.position));
      expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
      expect(streamed.filter((event) => event.kind === "achievement_unlocked").map((event) => event.payload.unlockId).sort()).toEqual(
        replies.flat().flatMap((reply) => reply.unlocked.map((unlock) => unlock.unlockId)).sort(),
      );

      // The leaderboard of the database (these users only): by points, ranks 1 to 5; and each user's own rank.
      const byPoints = [...users].sort((a, b) => POINTS[b.tasks] - POINTS[a.tasks]);
      const board = await postGraphQL(baseUrl, service, `{ leaderboard(first: 10) { rank userId points } }`);
      expect(board.body).toEqual({ data: { leaderboard: byPoints.map((user, i) => ({ rank: i + 1, userId: user.id, points: POINTS[user.tasks] })) } });
      for (const [u, user] of users.entries()) {
        const mine = await postGraphQL(baseUrl, tokens[u], `{ myRank { rank points } }`);
        expect(mine.body).toEqual({ data: { myRank: { rank: byPoints.indexOf(user) + 1, points: POINTS[user.tasks] } } });
      }
    },
    TIMEOUT,
  );

  it(
    "a retry with the same idempotency key counts once, even sent while the first is running",
    async () => {
      const user = randomUUID();
      const token = await tokenFor(user);
      // The same call three times at once (a client retrying before the first answer): one step, one answer.
      const retries = await Promise.all([1, 2, 3].map(() => record(token, 2, "retried")));
      expect(new Set(retries.map((reply) => reply.stepId)).size).toBe(1);
      expect(retries.map((reply) => reply.tally)).toEqual([2, 2, 2]);
      const { rows } = await root.query("select count, idempotency_key from status_public.user_steps where user_id = $1", [user]);
      expect(rows).toEqual([{ count: 2, idempotency_key: "retried" }]);
    },
    TIMEOUT,
  );

  it(
    "the rate limit holds under concurrent calls, and a retry is answered once the allowance is spent",
    async () => {
      const user = randomUUID();
      const token = await tokenFor(user);
      // The whole allowance and two more, at once: exactly the allowance is recorded, the rest is RATE_LIMITED.
      const answers = await Promise.all(Array.from({ length: RATE_LIMIT + 2 }, (_, call) => postGraphQL(baseUrl, token, RECORD, { amount: 1, key: `call-${call}` })));
      const refused = answers.filter((answer) => answer.status === 429);
      expect(refused.map((answer) => answer.body.errors?.map((error) => error.extensions?.code))).toEqual([["RATE_LIMITED"], ["RATE_LIMITED"]]);
      const recorded = answers.filter((answer) => answer.status === 200 && !answer.body.errors);
      expect(recorded).toHaveLength(RATE_LIMIT);
      const { rows } = await root.query<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [user]);
      expect(rows[0].n).toBe(RATE_LIMIT);

      // Spent: a new call is refused; a retry of one recorded gets its stored result.
      expect((await postGraphQL(baseUrl, token, RECORD, { amount: 1, key: "one-more" })).status).toBe(429);
      const first = answers.findIndex((answer) => answer.status === 200);
      expect((await record(token, 1, `call-${first}`)).stepId).toBe(answers[first].body.data!.recordAction.result.stepId);
    },
    TIMEOUT,
  );

  it(
    "SIGTERM stops the server: exit code 0, its direct LISTEN connection and its PgBouncer clients closed",
    async () => {
      await Promise.all(clients.map((client) => client.dispose())); // the websockets first, as clients leave
      const exit = await stopCli(started[0], "SIGTERM");
      expect(exit).toMatchObject({ code: 0, signal: null });
      await waitUntil(
        async () => (await root.query("select 1 from pg_stat_activity where datname = current_database() and query ilike 'listen %'")).rows.length === 0,
        () => "the stopped server's LISTEN connections to end",
      );
      await waitUntil(async () => (await connectionsToDatabase("clients")) === 0, () => "PgBouncer to see the stopped server's clients leave");
    },
    TIMEOUT,
  );
});

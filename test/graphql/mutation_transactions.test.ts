// What the running server sends to PostgreSQL for one GraphQL request: a recordAction / recordActionFor
// mutation is one transaction (begin, the request's settings, the function's select, commit), with its
// `unlocked` list read from the function's own result (plugins/inline-composite-arrays.ts), not re-read in a
// second transaction. The server connects through a small TCP proxy of this file that records every
// statement its connections execute (simple queries, and Bind of a parsed or prepared statement), on which
// connection, so the count is exact: no statistics delay, no server-side statement log, no other session
// counted.
import { randomUUID } from "node:crypto";
import net from "node:net";
import { makeSchema } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { execute, hookArgs } from "postgraphile/grafast";
import { type ExecutionResult, parse } from "postgraphile/graphql";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { signToken } from "../../src/auth";
import { ACHIEVEMENTS_SCHEMAS, makeAchievementsPreset } from "../../src/preset";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { middayTimeZone, roles, rootPool, testDatabaseUrl } from "../helpers/db";
import { graphql } from "../helpers/graphql-client";
import { startTestServer, testJwtSecret, tokenFor } from "../helpers/server";

/** One statement a client executed, and on which of the proxy's connections. */
interface Statement {
  connection: number;
  text: string;
}

/** A statement a client parsed (extended protocol): named (prepared, kept by the connection) or unnamed (""). */
interface Parse {
  connection: number;
  name: string;
  text: string;
}

/** A TCP proxy in front of PostgreSQL that records the statements its clients execute, in order. */
class StatementRecorder {
  readonly statements: Statement[] = [];
  readonly parses: Parse[] = [];
  private connections = 0;
  private readonly server = net.createServer((client) => this.relay(client));
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async listen(): Promise<number> {
    await new Promise<void>((ready) => this.server.listen(0, "127.0.0.1", ready));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  /** The statements recorded while `action` ran. */
  async during(action: () => Promise<unknown>): Promise<Statement[]> {
    const from = this.statements.length;
    await action();
    return this.statements.slice(from);
  }

  private relay(client: net.Socket): void {
    const connection = ++this.connections;
    const upstream = net.connect(this.targetPort, this.targetHost);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
      socket.on("error", () => undefined); // the other side's close ends both
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    upstream.pipe(client);

    // The frontend's side of the protocol: untyped startup packets (an SSLRequest, answered "N" here, then
    // the StartupMessage), then typed messages: 'Q' simple query, 'P' parse (a statement name and its text),
    // 'B' bind (runs a parsed statement, named or unnamed, once).
    const parsed = new Map<string, string>();
    let buffer = Buffer.alloc(0);
    let startup = true;
    const cString = (body: Buffer, at: number): [string, number] => {
      const end = body.indexOf(0, at);
      return [body.toString("utf8", at, end), end + 1];
    };
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (startup) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          buffer = buffer.subarray(length);
          if (code !== 80877103 && code !== 80877104) startup = false; // not an SSL or GSS encryption request
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0]);
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) return;
        const body = buffer.subarray(5, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (type === "Q") this.statements.push({ connection, text: cString(body, 0)[0] });
        if (type === "P") {
          const [name, next] = cString(body, 0);
          const [text] = cString(body, next);
          parsed.set(name, text);
          this.parses.push({ connection, name, text });
        }
        if (type === "B") {
          const [, next] = cString(body, 0); // the portal
          const [statement] = cString(body, next);
          this.statements.push({ connection, text: parsed.get(statement) ?? `<unknown prepared statement ${statement}>` });
        }
      }
    });
  }
}

/**
 * Groups statements into transactions, connection by connection: begin ... commit/rollback, and every
 * statement outside one on its own. In the order they started.
 */
function transactionsOf(statements: readonly Statement[]): string[][] {
  const transactions: string[][] = [];
  const open = new Map<number, string[]>();
  for (const { connection, text } of statements) {
    const keyword = text.trim().toLowerCase();
    const transaction = open.get(connection);
    if (transaction) {
      transaction.push(text);
      if (keyword === "commit" || keyword === "rollback") open.delete(connection);
    } else if (keyword === "begin") {
      open.set(connection, [text]);
      transactions.push(open.get(connection)!);
    } else {
      transactions.push([text]);
    }
  }
  return transactions;
}

/**
 * Not part of any request: a new pooled connection's setup (@dataplan/pg's adaptor), the server's
 * leaderboard folding (src/leaderboard-folding.ts), which runs this one statement every second on a
 * connection of its own, the webhook dispatcher's publish and claim (src/webhook-dispatcher.ts) and the backfill
 * worker's claim (src/backfill-worker.ts), each on its own.
 */
const BACKGROUND = new Set([
  "set jit_optimize_above_cost = -1;",
  "select status_private.fold_leaderboard_deltas() as folded",
  "select status_private.publish_outbox_events($1) as n, status_private.relays_notifications() as relaying",
  "select * from status_private.claim_webhook_deliveries($1, $2, $3)",
  "select * from status_private.work_on_backfill(null, $1)",
]);
// And the workers' LISTENs, whenever their connections open (no request runs one).
const withoutBackground = (statements: readonly Statement[]) =>
  statements.filter((statement) => !BACKGROUND.has(statement.text) && !/^(un)?listen /i.test(statement.text));

/** @dataplan/pg's statement that sets a transaction's settings. */
const SET_CONFIG = "select set_config(el->>0, el->>1, true) from json_array_elements($1::json) el";

/** begin, set_config of the request's settings, `select ... from <function>(...)` (PostGraphile's SQL, or `call`), commit. */
function expectOneTransactionCalling(statements: readonly Statement[], fn: string, call = new RegExp(`^select .* from "status_public"\\."${fn}"\\(`)): void {
  const oneLine = (statement: string) => statement.replace(/\s+/g, " ").trim();
  expect(transactionsOf(withoutBackground(statements)).map((transaction) => transaction.map(oneLine))).toEqual([["begin", SET_CONFIG, expect.stringMatching(call), "commit"]]);
}

const users = new TrackedUsers();
let recorder: StatementRecorder;
let server: RunningServer;
let serviceToken: string;
/** The authenticator's connection string, through the recorder. */
let proxiedAuthUrl: string;

beforeAll(async () => {
  const target = new URL(testDatabaseUrl("TEST_AUTH_URL"));
  recorder = new StatementRecorder(target.hostname, Number(target.port || 5432));
  const proxied = new URL(target);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(await recorder.listen());
  proxiedAuthUrl = proxied.toString();
  server = await startTestServer({ connectionString: proxiedAuthUrl });
  serviceToken = await signToken({ jwtSecret: testJwtSecret(), userId: users.make(), role: "service" });
  // A first request plans the operation and opens the pool's connection: the tests count the next ones.
  await graphql(server.url, serviceToken, RECORD_ACTION_FOR, { userId: users.make(), action: "logins", amount: 1 });
});
afterAll(async () => {
  await server?.close();
  await recorder?.close();
  await removeUsersAndEnd(rootPool(2), users.ids);
});

const RECORD_ACTION_FOR = `mutation ($userId: UUID!, $action: String!, $amount: Int) {
  recordActionFor(input: { userId: $userId, action: $action, amount: $amount }) {
    result { userId action amount tally unlocked { unlockId achievementId name points } pointsAwarded totalPoints tierBefore tierAfter currentStreak levelsAchieved }
  }
}`;

describe("one mutation, one transaction", () => {
  it("runs recordActionFor and reads its unlocked list in one transaction", async () => {
    const user = users.make();
    let data: Record<string, any> = {};
    const statements = await recorder.during(async () => {
      data = await graphql(server.url, serviceToken, RECORD_ACTION_FOR, { userId: user, action: "tasks_completed", amount: 10 });
    });
    expectOneTransactionCalling(statements, "record_action_for");

    const result = data.recordActionFor.result;
    expect(result).toEqual({
      userId: user,
      action: "tasks_completed",
      amount: 10,
      tally: 10,
      unlocked: [
        { unlockId: expect.any(String), achievementId: "tasks_completed_1", name: "1 task", points: 10 },
        { unlockId: expect.any(String), achievementId: "tasks_completed_10", name: "10 tasks", points: 100 },
        { unlockId: expect.any(String), achievementId: "launch_sprint", name: "Launch Sprint", points: 75 },
      ],
      pointsAwarded: 185,
      totalPoints: 185,
      tierBefore: "Beginner",
      tierAfter: "Student",
      currentStreak: 1,
      levelsAchieved: [],
    });
    // The unlock ids are the rows the function wrote, as the user reads them.
    const unlocks = await graphql(server.url, await tokenFor(user), `query ($user: UUID!) { allAchievementUnlocks(condition: { userId: $user }) { nodes { id achievementId } } }`, { user });
    expect(new Set(unlocks.allAchievementUnlocks.nodes.map((unlock: { id: string; achievementId: string }) => `${unlock.id} ${unlock.achievementId}`))).toEqual(
      new Set(result.unlocked.map((unlock: { unlockId: string; achievementId: string }) => `${unlock.unlockId} ${unlock.achievementId}`)),
    );
  });

  it("runs recordAction in one transaction too, with an empty unlocked list and with aliases", async () => {
    const user = users.make();
    // A login that unlocks nothing at any hour (no early_bird or night_owl).
    const root = rootPool(1);
    await root.query("insert into status_public.user_profiles (user_id, time_zone) values ($1, $2)", [user, middayTimeZone()]).finally(() => root.end());
    const token = await tokenFor(user);
    const query = `mutation ($key: String!) {
      first: recordAction(input: { action: "logins", idempotencyKey: $key }) { result { tally unlocked { achievementId } again: unlocked { points } } }
    }`;
    let data: Record<string, any> = {};
    const statements = await recorder.during(async () => {
      data = await graphql(server.url, token, query, { key: randomUUID() });
    });
    expectOneTransactionCalling(statements, "record_action");
    expect(data).toEqual({ first: { result: { tally: 1, unlocked: [], again: [] } } });
  });

  it("is in the library preset too: an app's own server (Amber, Relay ids on) runs recordActionFor in one transaction", async () => {
    const caller = users.make();
    const { schema, resolvedPreset } = await makeSchema({
      extends: [PostGraphileAmberPreset, makeAchievementsPreset({ subscriptions: false })],
      pgServices: [makePgService({ connectionString: proxiedAuthUrl, schemas: [...ACHIEVEMENTS_SCHEMAS] })],
      // The app's own authentication: here, always our service role and its user id, as our migrations read them.
      grafast: { context: () => ({ pgSettings: { role: roles.service, "jwt.claims.user_id": caller } }) },
    });
    try {
      const user = users.make();
      const args = await hookArgs({ schema, document: parse(RECORD_ACTION_FOR), variableValues: { userId: user, action: "tasks_completed", amount: 1 }, resolvedPreset, requestContext: {} });
      let result: ExecutionResult = {};
      const statements = await recorder.during(async () => {
        result = (await execute(args)) as ExecutionResult;
      });
      expect(result.errors).toBeUndefined();
      expectOneTransactionCalling(statements, "record_action_for");
      expect((result.data as Record<string, any>).recordActionFor.result).toMatchObject({
        tally: 1,
        unlocked: [{ unlockId: expect.any(String), achievementId: "tasks_completed_1", name: "1 task", points: 10 }],
      });
    } finally {
      await Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.()));
    }
  });

  it("prepares the settings statement and the leaderboard's once per connection, then only binds them", async () => {
    const token = await tokenFor(users.make());
    const leaderboard = `{ leaderboard(first: 3) { rank userId points } }`;
    const from = recorder.parses.length;
    for (let request = 0; request < 4; request++) {
      const statements = await recorder.during(() => graphql(server.url, token, leaderboard));
      expectOneTransactionCalling(statements, "leaderboard", /^select \* from status_public\.leaderboard\(\$1, \$2, \$3\)$/);
    }
    const parsesOf = (text: string) => recorder.parses.filter((parse) => parse.text === text);
    // The beforeAll's request prepared the settings statement on its connection: none of these parsed it again.
    expect(parsesOf(SET_CONFIG).slice(0, 1)).toEqual([{ connection: expect.any(Number), name: expect.stringMatching(/.+/), text: SET_CONFIG }]);
    expect(recorder.parses.slice(from).filter((parse) => parse.text === SET_CONFIG)).toEqual([]);
    // The first of these requests prepared the leaderboard's statement, the next three only bound it.
    expect(parsesOf("select * from status_public.leaderboard($1, $2, $3)")).toEqual([
      { connection: expect.any(Number), name: expect.stringMatching(/.+/), text: "select * from status_public.leaderboard($1, $2, $3)" },
    ]);
  });

  it("leaves a query's composite arrays, nested ones too, in its one select", async () => {
    const user = users.make();
    await graphql(server.url, serviceToken, RECORD_ACTION_FOR, { userId: user, action: "tasks_completed", amount: 1 });
    const token = await tokenFor(user);
    let data: Record<string, any> = {};
    const statements = await recorder.during(async () => {
      data = await graphql(server.url, token, `{ myDashboard { unlocked { achievementId unlockedAt criteria { action current } } tallies { name count } } }`);
    });
    expectOneTransactionCalling(statements, "my_dashboard");
    expect(data.myDashboard).toEqual({
      unlocked: [
        { achievementId: "tasks_completed_1", unlockedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d$/), criteria: [{ action: "tasks_completed", current: 1 }] },
      ],
      tallies: [{ name: "tasks_completed", count: 1 }],
    });
  });
});

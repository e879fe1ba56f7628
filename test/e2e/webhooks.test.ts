// Webhooks (src/webhook-dispatcher.ts, migration 000009, 7-outbox.sql) against a real receiving HTTP server, on
// a database of the file's own (no other file's dispatcher may claim its deliveries): an admin registers an
// endpoint through GraphQL and its requests carry a Standard Webhooks signature that verifies; a failing
// endpoint is retried with backoff, then dead, visible to admins, who retry it; a dispatcher SIGKILLed while
// the receiver holds its requests open loses nothing: another delivers every event, a duplicate with the same
// delivery id.
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import pg from "pg";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { graphql, postGraphQL, waitUntil } from "../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { startTestServer, testJwtSecret } from "../helpers/server";

const ROOT = resolve(__dirname, "../..");
const NODE = join(ROOT, "node_modules", ".bin", "node");

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How the receiver answers a path: 200, 500, or never (the request is held open). */
type Answer = "ok" | "fail" | "hold";

/** The receiving server: records every request, answers each path as told. */
class Receiver {
  readonly received: Received[] = [];
  readonly held: ServerResponse[] = [];
  readonly answers = new Map<string, Answer>();
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = "";
      request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      request.on("end", () => {
        const path = request.url ?? "/";
        this.received.push({ path, headers: request.headers, body, at: Date.now() });
        const answer = this.answers.get(path) ?? "ok";
        if (answer === "hold") this.held.push(response);
        else response.writeHead(answer === "ok" ? 200 : 500).end();
      });
    });
    await new Promise<void>((listening) => this.server!.listen(0, "127.0.0.1", listening));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  at(path: string): Received[] {
    return this.received.filter((request) => request.path === path);
  }

  async stop(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((closed) => (this.server ? this.server.close(() => closed()) : closed()));
  }
}

/** Standard Webhooks verification, written here from the specification (not the dispatcher's code). */
function verifies(secret: string, request: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const signed = `${request.headers["webhook-id"]}.${request.headers["webhook-timestamp"]}.${request.body}`;
  const expected = createHmac("sha256", key).update(signed).digest("base64");
  return String(request.headers["webhook-signature"]).split(" ").includes(`v1,${expected}`);
}

const dataOf = (request: Received) => (JSON.parse(request.body) as { data: Record<string, unknown> }).data;

let database: PrivateDatabase;
let root: pg.Pool;
const receiver = new Receiver();

beforeAll(async () => {
  database = await createPrivateDatabase("webhooks");
  root = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
  await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
  await root?.end();
  await database?.drop();
});

/** A user completes `amount` tasks (committed): with the demo catalog, 10 unlock three achievements and a tier. */
async function completeTasks(userId: string, amount: number): Promise<void> {
  await root.query("select status_private.record_action($1, 'tasks_completed', $2, null, null)", [userId, amount]);
}

async function deliveriesOf(endpointId: string): Promise<{ id: string; state: string; attempts: number; last_error: string | null; event_id: string }[]> {
  const { rows } = await root.query(
    "select id, state::text as state, attempts, last_error, event_id::text as event_id from status_public.webhook_deliveries where endpoint_id = $1 order by event_id",
    [endpointId],
  );
  return rows;
}

describe("webhooks from the server's dispatcher", () => {
  let server: RunningServer;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer({
      connectionString: database.authUrl,
      webhooks: { timeoutMs: 2_000, maxAttempts: 3, retryBaseMs: 200, pollIntervalMs: 50 },
    });
    adminToken = await signToken({ jwtSecret: testJwtSecret(), userId: randomUUID(), role: "admin" });
  });

  afterAll(async () => {
    await server?.close();
    await root.query("delete from status_public.webhook_endpoints");
  });

  const createEndpoint = async (token: string, path: string, kinds: string[]) =>
    postGraphQL(
      server.url,
      token,
      `mutation ($url: String!, $kinds: [AchievementEventKind]) { createWebhookEndpoint(input: { url: $url, kinds: $kinds }) { result { endpointId secret } } }`,
      { url: `${receiver.url}${path}`, kinds },
    );

  it("an admin registers an endpoint; each event arrives signed, with a delivery id the admin sees delivered", async () => {
    const { body } = await createEndpoint(adminToken, "/signed", ["achievement_unlocked", "level_achieved"]);
    const { endpointId, secret } = body.data!.createWebhookEndpoint.result as { endpointId: string; secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    // The secret is never readable again: a hint only.
    const listed = await graphql(server.url, adminToken, `{ allWebhookEndpoints { nodes { id url kinds enabled secretHint } } }`);
    expect(listed.allWebhookEndpoints.nodes).toEqual([
      { id: endpointId, url: `${receiver.url}/signed`, kinds: ["achievement_unlocked", "level_achieved"], enabled: true, secretHint: `${secret.slice(0, 12)}…` },
    ]);
    const secretRead = await postGraphQL(server.url, adminToken, `{ allWebhookEndpoints { nodes { secret } } }`);
    expect(secretRead.body.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");

    const user = randomUUID();
    await completeTasks(user, 10);
    await waitUntil(() => receiver.at("/signed").length >= 3, () => `3 requests at /signed; got ${receiver.at("/signed").length}`);
    await waitUntil(async () => (await deliveriesOf(endpointId)).every((delivery) => delivery.state === "delivered"), () => "the deliveries to be marked delivered");

    const requests = receiver.at("/signed");
    expect(requests).toHaveLength(3); // the tier change is not among its kinds
    for (const request of requests) {
      expect(verifies(secret, request)).toBe(true);
      expect(verifies(secret, { ...request, body: `${request.body} ` })).toBe(false);
      expect(request.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(request.body)).toMatchObject({ type: "achievement_unlocked", data: { userId: user } });
    }
    expect(requests.map((request) => dataOf(request).achievementId).sort()).toEqual(["launch_sprint", "tasks_completed_1", "tasks_completed_10"]);
    const seen = await graphql(
      server.url,
      adminToken,
      `query ($id: UUID!) { allWebhookDeliveries(condition: { endpointId: $id }) { nodes { id state attempts kind payload } } }`,
      { id: endpointId },
    );
    expect(seen.allWebhookDeliveries.nodes.map((delivery: { id: string }) => delivery.id).sort()).toEqual(requests.map((request) => request.headers["webhook-id"]).sort());
    for (const delivery of seen.allWebhookDeliveries.nodes) expect(delivery).toMatchObject({ state: "delivered", attempts: 1, kind: "achievement_unlocked", payload: { userId: user } });
  });

  it("refuses a user who registers an endpoint (FORBIDDEN) and writes nothing", async () => {
    const userToken = await signToken({ jwtSecret: testJwtSecret(), userId: randomUUID() });
    const { body } = await createEndpoint(userToken, "/mine", ["tier_changed"]);
    expect(body.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const { rows } = await root.query("select count(*)::int as n from status_public.webhook_endpoints where url like '%/mine'");
    expect(rows[0].n).toBe(0);
  });

  it("retries a failing endpoint with backoff, then marks it dead; an admin sees the dead letter and retries it", async () => {
    receiver.answers.set("/failing", "fail");
    const { body } = await createEndpoint(adminToken, "/failing", ["tier_changed"]);
    const { endpointId } = body.data!.createWebhookEndpoint.result as { endpointId: string };
    await completeTasks(randomUUID(), 10); // Beginner -> Student

    const deadLetters = async () =>
      (
        await graphql(
          server.url,
          adminToken,
          `query ($id: UUID!) { allWebhookDeliveries(condition: { endpointId: $id, state: dead }) { nodes { id attempts lastError kind } } }`,
          { id: endpointId },
        )
      ).allWebhookDeliveries.nodes;
    await waitUntil(async () => (await deadLetters()).length === 1, () => `a dead letter; requests at /failing: ${receiver.at("/failing").length}`);
    const [dead] = await deadLetters();
    expect(dead).toMatchObject({ attempts: 3, lastError: "HTTP 500", kind: "tier_changed" });
    const attempts = receiver.at("/failing");
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((request) => request.headers["webhook-id"]))).toEqual(new Set([dead.id]));
    // Backoff: the first retry waits at least half of 200 ms, the second at least half of 400 ms (full jitter).
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(100);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(200);

    receiver.answers.set("/failing", "ok");
    const retried = await graphql(
      server.url,
      adminToken,
      `mutation ($id: UUID!) { retryWebhookDelivery(input: { deliveryId: $id }) { result { id state attempts } } }`,
      { id: dead.id },
    );
    expect(retried.retryWebhookDelivery.result).toEqual({ id: dead.id, state: "pending", attempts: 0 });
    await waitUntil(async () => (await deliveriesOf(endpointId))[0].state === "delivered", () => "the retried delivery to be delivered");
    expect(receiver.at("/failing").map((request) => request.headers["webhook-id"])).toEqual([dead.id, dead.id, dead.id, dead.id]);

    // Only a dead delivery is retried.
    const again = await postGraphQL(server.url, adminToken, `mutation ($id: UUID!) { retryWebhookDelivery(input: { deliveryId: $id }) { result { id } } }`, { id: dead.id });
    expect(again.body.errors?.[0].extensions?.code).toBe("CONFLICT");
  });
});

describe("a dispatcher killed mid-delivery", () => {
  const children: ChildProcess[] = [];

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  async function startDispatcher(): Promise<ChildProcess> {
    // Requests time out after 4 s: the first dispatcher is killed long before; its leases end 5 s after its claim.
    const options = { connectionString: database.authUrl, timeoutMs: 4_000, pollIntervalMs: 50, retryBaseMs: 100 };
    const child = spawn(NODE, ["--import", "tsx", "test/helpers/webhook-dispatcher-child.ts"], {
      cwd: ROOT,
      env: { ...process.env, WEBHOOK_DISPATCHER_OPTIONS: JSON.stringify(options) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    await new Promise<void>((started, failed) => {
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("dispatching")) started();
      });
      child.once("exit", (code) => failed(new Error(`the dispatcher exited (${code}): ${output}`)));
    });
    return child;
  }

  it("loses nothing: every event arrives, the one held open again with the same delivery id", async () => {
    const { rows } = await root.query<{ endpoint_id: string }>(
      "select endpoint_id from status_public.create_webhook_endpoint($1, '{achievement_unlocked}')",
      [`${receiver.url}/held`],
    );
    const endpointId = rows[0].endpoint_id;
    receiver.answers.set("/held", "hold");
    // Committed before the dispatcher starts, so that its first claim takes all nine.
    for (const user of [randomUUID(), randomUUID(), randomUUID()]) await completeTasks(user, 10); // 3 unlocks each
    const first = await startDispatcher();
    await waitUntil(() => receiver.held.length === 9, () => `9 requests held open; got ${receiver.held.length}`);
    const exited = new Promise((done) => first.once("exit", done));
    first.kill("SIGKILL");
    await exited;
    receiver.answers.set("/held", "ok");
    await startDispatcher();

    await waitUntil(async () => (await deliveriesOf(endpointId)).every((delivery) => delivery.state === "delivered"), () => "every delivery to be delivered", 30_000);
    const deliveries = await deliveriesOf(endpointId);
    expect(deliveries).toHaveLength(9);
    const requests = receiver.at("/held");
    // Every event at least once, and each event's requests all carry its delivery's id.
    const { rows: events } = await root.query<{ unlock_id: string; delivery_id: string }>(
      `select event.payload ->> 'unlockId' as unlock_id, delivery.id::text as delivery_id
       from status_public.webhook_deliveries as delivery join status_private.outbox_events as event on event.id = delivery.event_id
       where delivery.endpoint_id = $1`,
      [endpointId],
    );
    for (const event of events) {
      const ofEvent = requests.filter((request) => dataOf(request).unlockId === event.unlock_id);
      expect(ofEvent.length).toBeGreaterThanOrEqual(1);
      expect(new Set(ofEvent.map((request) => request.headers["webhook-id"]))).toEqual(new Set([event.delivery_id]));
    }
    // The 9 held requests were sent again (the killed dispatcher never heard an answer): 18 in all, in pairs.
    expect(requests).toHaveLength(18);
    expect(deliveries.every((delivery) => delivery.attempts === 2)).toBe(true);
  });
});

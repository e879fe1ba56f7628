// The service's stream of every user's events (plugins/achievement-events.ts) over real websockets, against the
// real server on a database of its own (positions are global: no neighbour's events): catch-up from a position
// then live events, in order; a resumed subscription gets exactly what it missed; other roles are refused.
import { randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import pg from "pg";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { connect as connectClient, graphql, Subscription, waitUntil } from "../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { startTestServer, testJwtSecret } from "../helpers/server";

/** The subscription from `position` (exclusive). */
const eventsAfter = (position: string) =>
  `subscription { achievementEvents(afterPosition: "${position}") { position kind userId occurredAt payload } }`;

interface StreamedEvent {
  position: string;
  kind: string;
  userId: string;
  occurredAt: string;
  payload: Record<string, unknown>;
}

let database: PrivateDatabase;
let root: pg.Pool;
let server: RunningServer;
const clients: Client[] = [];

beforeAll(async () => {
  database = await createPrivateDatabase("achievement_events");
  root = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
  server = await startTestServer({ connectionString: database.authUrl });
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
  await root?.end();
  await database?.drop();
});

function connect(authorization: string): Client {
  const client = connectClient(server.url, authorization);
  clients.push(client);
  return client;
}

const serviceToken = () => signToken({ jwtSecret: testJwtSecret(), userId: randomUUID(), role: "service" });

/** A user completes `amount` tasks (committed): with the demo catalog, 10 unlock three achievements and a tier. */
async function completeTasks(userId: string, amount: number): Promise<void> {
  await root.query("select status_private.record_action($1, 'tasks_completed', $2, null, null)", [userId, amount]);
}

/** Every published event in the database, in position order, as the stream shows them. */
async function publishedEvents(): Promise<{ position: string; kind: string; userId: string }[]> {
  const { rows } = await root.query<{ position: string; kind: string; userId: string }>(
    `select position::text as position, kind::text as kind, user_id::text as "userId" from status_private.outbox_events
     where position is not null order by outbox_events.position`,
  );
  return rows;
}

const summary = (event: StreamedEvent) => ({ position: event.position, kind: event.kind, userId: event.userId });

describe("achievementEvents", () => {
  it("streams every user's events in order: what was published before it started, then each new one", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    await completeTasks(alice, 10);
    await waitUntil(async () => (await publishedEvents()).length === 4, () => "the server's dispatcher to publish alice's 4 events");

    const stream = new Subscription(connect(`Bearer ${await serviceToken()}`), eventsAfter("0"));
    await stream.waitForPayloads(4);
    await completeTasks(bob, 10);
    await stream.waitForPayloads(8);

    const events: StreamedEvent[] = stream.events("achievementEvents");
    expect(events.map(summary)).toEqual(await publishedEvents());
    expect(events.map((event) => event.kind)).toEqual([...Array(3).fill("achievement_unlocked"), "tier_changed", ...Array(3).fill("achievement_unlocked"), "tier_changed"]);
    expect(events[4].userId).toBe(bob);
    expect(events[0].payload).toMatchObject({ userId: alice, achievementId: "tasks_completed_1", points: 10, cursor: 1 });
    expect(events[3].payload).toEqual({ userId: alice, tier: "Student", previousTier: "Beginner", points: 185 });
    stream.stop();
  });

  it("resumes after the last position received: exactly what it missed, then live events, with no gap", async () => {
    const first = new Subscription(connect(`Bearer ${await serviceToken()}`), eventsAfter("0"));
    const before = (await publishedEvents()).length;
    await first.waitForPayloads(before);
    first.stop();
    const last: StreamedEvent = first.events("achievementEvents").at(-1);

    // Missed while disconnected:
    const carol = randomUUID();
    await completeTasks(carol, 10);
    await waitUntil(async () => (await publishedEvents()).length === before + 4, () => "carol's events to be published");

    const resumed = new Subscription(connect(`Bearer ${await serviceToken()}`), eventsAfter(last.position));
    await resumed.waitForPayloads(4);
    const dave = randomUUID();
    await completeTasks(dave, 1);
    await resumed.waitForPayloads(5);

    const all = [...first.events("achievementEvents"), ...resumed.events("achievementEvents")].map(summary);
    expect(all).toEqual(await publishedEvents());
    expect(resumed.events("achievementEvents").map((event: StreamedEvent) => event.userId)).toEqual([carol, carol, carol, carol, dave]);
    resumed.stop();
  });

  it("is polled with the query of the same name", async () => {
    const events = (await publishedEvents()).slice(1, 3);
    const data = await graphql(server.url, await serviceToken(), `{ achievementEvents(afterPosition: "1", maxEvents: 2) { position kind userId } }`);
    expect(data.achievementEvents).toEqual(events);
  });

  it.each(["user", "admin"] as const)("refuses a %s with FORBIDDEN", async (role) => {
    const token = await signToken({ jwtSecret: testJwtSecret(), userId: randomUUID(), role });
    const refused = new Subscription(connect(`Bearer ${token}`), eventsAfter("0"));
    const { payloads, errors } = await refused.waitForEnd();
    const codes = [...payloads.flatMap((payload) => payload.errors ?? []), ...(Array.isArray(errors[0]) ? errors[0] : [])].map((error) => error.extensions?.code);
    expect(codes).toContain("FORBIDDEN");
    expect(payloads.every((payload) => !payload.data?.achievementEvents)).toBe(true);
  });

  it("refuses an anonymous subscriber with FORBIDDEN", async () => {
    const refused = new Subscription(connectClient(server.url), eventsAfter("0"));
    const { payloads, errors } = await refused.waitForEnd();
    const codes = [...payloads.flatMap((payload) => payload.errors ?? []), ...(Array.isArray(errors[0]) ? errors[0] : [])].map((error) => error.extensions?.code);
    expect(codes).toContain("FORBIDDEN");
  });
});

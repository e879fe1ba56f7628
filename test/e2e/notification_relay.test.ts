// Toasts relayed by the outbox publisher (NOTIFICATION_RELAY; migration 000018), over
// real websockets against the real server: its transactions leave the users' notifications to the outbox, and
// its dispatcher's poll publishes them; the subscriber gets the same toasts as without the relay. And a dispatcher
// on a database whose writers relay (`alter database … set achievements.notification_relay`) polls for their
// events by itself: on a database of its own, so that no other file's dispatcher publishes them.
import { randomUUID } from "node:crypto";
import type { Client } from "graphql-ws";
import pg from "pg";
import type { RunningServer } from "../../src/server";
import { startWebhookDispatcher } from "../../src/webhook-dispatcher";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";
import { connect as connectClient, graphql, RECORD_ACTION, Subscription, waitUntil, waitUntilListening } from "../helpers/graphql-client";
import { createPrivateDatabase } from "../helpers/private-database";
import { startTestServer, tokenFor } from "../helpers/server";

const users = new TrackedUsers();
let server: RunningServer;
let root: pg.Pool;
let client: Client | undefined;

beforeAll(async () => {
  server = await startTestServer({ notificationRelay: true, webhooks: { relayIntervalMs: 20 } });
  root = rootPool(2);
});

afterAll(async () => {
  await client?.dispose();
  await server?.close();
  await removeUsersAndEnd(root, users.ids);
});

describe("NOTIFICATION_RELAY", () => {
  it("delivers the toasts of a recordAction through the outbox publisher", async () => {
    const user = users.make();
    const token = await tokenFor(user);
    client = connectClient(server.url, `Bearer ${token}`);
    const toasts = new Subscription(client, "subscription { achievementUnlocked { unlock { id achievementId } pointsAwarded } }");
    await waitUntilListening(root, user);

    const data = await graphql(server.url, token, RECORD_ACTION, { action: "tasks_completed", amount: 10 });
    const unlocked: { unlockId: string; achievementId: string }[] = data.recordAction.result.unlocked;
    expect(unlocked.map((unlock) => unlock.achievementId)).toContain("tasks_completed_10");
    // The request's transaction wrote its events for the publisher to tell.
    const { rows } = await root.query<{ kind: string; relayed: boolean }>(
      "select event.kind::text as kind, event.relay_notification as relayed from status_private.outbox_events as event where event.user_id = $1 order by event.id",
      [user],
    );
    expect(rows).toEqual([...unlocked.map(() => ({ kind: "achievement_unlocked", relayed: true })), { kind: "tier_changed", relayed: true }]);

    await toasts.waitForPayloads(unlocked.length);
    expect(toasts.events("achievementUnlocked")).toEqual(
      unlocked.map((unlock) => ({ unlock: { id: unlock.unlockId, achievementId: unlock.achievementId }, pointsAwarded: expect.any(Number) })),
    );
  });
});

describe("a dispatcher on a database whose writers relay", () => {
  it("polls for their events by itself and sends the users' notifications", async () => {
    const database = await createPrivateDatabase("notification_relay");
    const name = new URL(database.rootUrl).pathname.slice(1);
    const setup = new pg.Client({ connectionString: database.rootUrl });
    await setup.connect();
    // For the sessions that start from now on: the writer's and the dispatcher's.
    await setup.query(`alter database "${name}" set achievements.notification_relay = 'on'`);
    await setup.end();
    // Its base poll far beyond the test's wait: only the relay's poll can publish in time.
    const dispatcher = startWebhookDispatcher({ connectionString: database.authUrl, pollIntervalMs: 600_000, relayIntervalMs: 20 });
    const listener = new pg.Client({ connectionString: database.rootUrl });
    const writer = new pg.Client({ connectionString: database.rootUrl });
    try {
      await Promise.all([listener.connect(), writer.connect()]);
      const user = randomUUID();
      const received: string[] = [];
      listener.on("notification", (message) => received.push(message.payload ?? ""));
      await listener.query(`listen "achievements:${user}"`);
      await writer.query("select status_private.record_action($1, 'tasks_completed', 1, null, null)", [user]);
      const { rows: unlocks } = await writer.query<{ id: string }>("select id::text from status_public.achievement_unlocks where user_id = $1", [user]);
      expect(unlocks).toHaveLength(1);

      await waitUntil(() => received.length > 0, () => "the relayed notification");
      expect(received.map((payload) => JSON.parse(payload))).toEqual([{ event: "achievement_unlocked", id: unlocks[0].id }]);
      const { rows: events } = await writer.query<{ relayed: boolean; published: boolean }>(
        "select event.relay_notification as relayed, event.position is not null as published from status_private.outbox_events as event where event.user_id = $1",
        [user],
      );
      expect(events).toEqual([{ relayed: true, published: true }]);
    } finally {
      await Promise.all([listener.end().catch(() => undefined), writer.end().catch(() => undefined)]);
      await dispatcher.stop();
      await database.drop();
    }
  });
});

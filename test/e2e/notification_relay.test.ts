// Toasts relayed by the outbox publisher (NOTIFICATION_RELAY; migration 000018), over
// real websockets against the real server: its transactions leave the users' notifications to the outbox, and
// its dispatcher's poll publishes them; the subscriber gets the same toasts as without the relay.
import type { Client } from "graphql-ws";
import type pg from "pg";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";
import { connect as connectClient, graphql, RECORD_ACTION, Subscription, waitUntilListening } from "../helpers/graphql-client";
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

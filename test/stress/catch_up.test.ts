// A subscriber that was disconnected (a network drop, or a PostgreSQL restart, which ends every
// subscription) catches up after reconnecting: `myUnlocksSince(cursor: <cursor of the last toast it
// saw>)` (status_public.my_unlocks_since, migration 000005) returns exactly the unlocks it
// missed, in commit order, and none of another user's; the new subscription then receives the next ones live.
// (test/db/status_public/my_unlocks_since.test.ts shows the commit-order case that a timestamp missed.)
import type pg from "pg";
import type { Client } from "graphql-ws";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";
import { connect, graphql, RECORD_ACTION, Subscription, waitUntilListening } from "../helpers/graphql-client";
import { startTestServer, tokenFor } from "../helpers/server";

let server: RunningServer;
let root: pg.Pool;
const clients: Client[] = [];
// The users' steps, unlocks, points and scores are committed: every trace of them goes at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

beforeAll(async () => {
  server = await startTestServer();
  root = rootPool(2);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
  await removeUsersAndEnd(root, users.ids);
});

const ACHIEVEMENT_UNLOCKED = `subscription { achievementUnlocked { cursor unlock { id achievementId points unlockedAt } pointsAwarded } }`;
const MY_UNLOCKS_SINCE = `query ($cursor: Int!) { myUnlocksSince(cursor: $cursor) { nodes { id achievementId points cursor } } }`;

describe("myUnlocksSince", () => {
  it("gives a reconnecting subscriber exactly the unlocks it missed", async () => {
    const [user, other] = [newUserId(), newUserId()];
    const [token, otherToken] = await Promise.all([tokenFor(user), tokenFor(other)]);
    const record = async (userToken: string, amount: number) =>
      (await graphql(server.url, userToken, RECORD_ACTION, { action: "tasks_completed", amount, key: null })).recordAction.result;

    const firstClient = connect(server.url, `Bearer ${token}`);
    clients.push(firstClient);
    const first = new Subscription(firstClient, ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(root, user);
    await record(token, 1); // tasks_completed_1
    await first.waitForPayloads(1);
    const [lastSeen] = first.events("achievementUnlocked");
    expect(lastSeen.unlock.achievementId).toBe("tasks_completed_1");

    // The subscriber drops; meanwhile two more unlocks for them, and one for somebody else.
    await firstClient.dispose();
    const missed = [...(await record(token, 4)).unlocked, ...(await record(token, 5)).unlocked]; // launch_sprint, then tasks_completed_10
    expect(missed.map((u: { achievementId: string }) => u.achievementId)).toEqual(["launch_sprint", "tasks_completed_10"]);
    await record(otherToken, 10);

    // Reconnect: subscribe first (so nothing falls between), then fetch what was missed.
    const secondClient = connect(server.url, `Bearer ${token}`);
    clients.push(secondClient);
    const second = new Subscription(secondClient, ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(root, user);
    const caughtUp = (await graphql(server.url, token, MY_UNLOCKS_SINCE, { cursor: lastSeen.cursor })).myUnlocksSince.nodes;
    expect(caughtUp.map((u: { id: string }) => u.id)).toEqual(missed.map((u: { unlockId: string }) => u.unlockId));
    expect(caughtUp.map((u: { achievementId: string; points: number }) => [u.achievementId, u.points])).toEqual([
      ["launch_sprint", 75],
      ["tasks_completed_10", 100],
    ]);
    // In cursor order, and the cursor is exclusive: the last toast seen is not repeated.
    expect(caughtUp.map((u: { cursor: number }) => u.cursor)).toEqual([lastSeen.cursor + 1, lastSeen.cursor + 2]);
    const all = (await graphql(server.url, token, MY_UNLOCKS_SINCE, { cursor: 0 })).myUnlocksSince.nodes;
    expect(all.map((u: { achievementId: string }) => u.achievementId)).toEqual(["tasks_completed_1", "launch_sprint", "tasks_completed_10"]);

    // And the new subscription is live.
    for (let call = 0; call < 4; call++) await record(token, 10); // 50 tasks: tasks_completed_50
    await second.waitForPayloads(1);
    expect(second.events("achievementUnlocked").map((event) => event.unlock.achievementId)).toEqual(["tasks_completed_50"]);
    expect(first.payloads).toHaveLength(1);
  });
});

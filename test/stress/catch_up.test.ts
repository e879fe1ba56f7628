// A subscriber that was disconnected (a network drop, or a PostgreSQL restart, which ends every
// subscription) catches up after reconnecting: `myUnlocksSince(since: <unlockedAt of the last toast it
// saw>)` (status_public.my_unlocks_since, migrations/current.sql) returns exactly the unlocks it missed,
// oldest first, and none of another user's; the new subscription then receives the next ones live.
import type pg from "pg";
import type { Client } from "graphql-ws";
import type { RunningServer } from "../../src/server";
import { newUserId, rootPool } from "../helpers/db";
import { ACHIEVEMENT_UNLOCKED, connect, graphql, RECORD_ACTION, Subscription, waitUntil } from "../helpers/graphql-client";
import { startTestServer, tokenFor } from "../helpers/server";

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
  await root?.end();
});

/** Until the server runs `LISTEN "achievements:<user>"` (started asynchronously by the subscription). */
async function waitUntilListening(userId: string): Promise<void> {
  const statement = `LISTEN "achievements:${userId}"`;
  await waitUntil(
    async () => (await root.query("select 1 from pg_stat_activity where datname = current_database() and query = $1", [statement])).rows.length > 0,
    () => `the server to run ${statement}`,
  );
}

const MY_UNLOCKS_SINCE = `query ($since: Datetime!) { myUnlocksSince(since: $since) { nodes { id achievementId points unlockedAt } } }`;

describe("myUnlocksSince", () => {
  it("gives a reconnecting subscriber exactly the unlocks it missed", async () => {
    const [user, other] = [newUserId(), newUserId()];
    const [token, otherToken] = await Promise.all([tokenFor(user), tokenFor(other)]);
    const record = async (userToken: string, amount: number) =>
      (await graphql(server.url, userToken, RECORD_ACTION, { action: "tasks_completed", amount, key: null })).recordAction.result;

    const firstClient = connect(server.url, `Bearer ${token}`);
    clients.push(firstClient);
    const first = new Subscription(firstClient, ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(user);
    await record(token, 1); // tasks_completed_1
    await first.waitForPayloads(1);
    const lastSeen = first.events("achievementUnlocked")[0].unlock;
    expect(lastSeen.achievementId).toBe("tasks_completed_1");

    // The subscriber drops; meanwhile two more unlocks for them, and one for somebody else.
    await firstClient.dispose();
    const missed = [...(await record(token, 4)).unlocked, ...(await record(token, 5)).unlocked]; // launch_sprint, then tasks_completed_10
    expect(missed.map((u: { achievementId: string }) => u.achievementId)).toEqual(["launch_sprint", "tasks_completed_10"]);
    await record(otherToken, 10);

    // Reconnect: subscribe first (so nothing falls between), then fetch what was missed.
    const secondClient = connect(server.url, `Bearer ${token}`);
    clients.push(secondClient);
    const second = new Subscription(secondClient, ACHIEVEMENT_UNLOCKED);
    await waitUntilListening(user);
    const caughtUp = (await graphql(server.url, token, MY_UNLOCKS_SINCE, { since: lastSeen.unlockedAt })).myUnlocksSince.nodes;
    expect(caughtUp.map((u: { id: string }) => u.id)).toEqual(missed.map((u: { unlockId: string }) => u.unlockId));
    expect(caughtUp.map((u: { achievementId: string; points: number }) => [u.achievementId, u.points])).toEqual([
      ["launch_sprint", 75],
      ["tasks_completed_10", 100],
    ]);
    // Oldest first, and `since` is exclusive: the last toast seen is not repeated.
    expect(caughtUp.map((u: { unlockedAt: string }) => u.unlockedAt)).toEqual([...caughtUp.map((u: { unlockedAt: string }) => u.unlockedAt)].sort());
    const all = (await graphql(server.url, token, MY_UNLOCKS_SINCE, { since: "1970-01-01T00:00:00Z" })).myUnlocksSince.nodes;
    expect(all.map((u: { achievementId: string }) => u.achievementId)).toEqual(["tasks_completed_1", "launch_sprint", "tasks_completed_10"]);

    // And the new subscription is live.
    for (let call = 0; call < 4; call++) await record(token, 10); // 50 tasks: tasks_completed_50
    await second.waitForPayloads(1);
    expect(second.events("achievementUnlocked").map((event) => event.unlock.achievementId)).toEqual(["tasks_completed_50"]);
    expect(first.payloads).toHaveLength(1);
  });
});

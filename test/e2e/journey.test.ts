// A user's journey through the running server, with real tokens: set a time zone, log in on seven
// consecutive local days (recorded by the backend, once before 6 AM), complete 100 tasks, and cross the
// tiers: the tutorial's results, end to end over HTTP.
import { signToken } from "../../src/auth";
import { startTestServer, testJwtSecret, tokenFor } from "../helpers/server";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";

// Users this file makes are committed to the shared database: every trace of them is removed at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
  await removeUsersAndEnd(rootPool(2), users.ids);
});

async function graphql(token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data;
}

describe("a user's journey", () => {
  it("gives the tutorial's results: milestones, streaks, an early bird, and the tiers", async () => {
    const user = newUserId();
    const userToken = await tokenFor(user);
    const serviceToken = await signToken({ jwtSecret: testJwtSecret(), userId: newUserId(), role: "service" });

    await graphql(userToken, `mutation { setMyProfile(input: { displayName: "Kenji", timeZone: "Asia/Tokyo" }) { result { timeZone } } }`);

    // Seven consecutive days in Tokyo, logged in by the backend; the third at 05:30 local time.
    const logins = [];
    for (let day = 1; day <= 7; day++) {
      const at = `2026-02-0${day}T${day === 3 ? "05:30" : "20:00"}:00+09:00`;
      const data = await graphql(
        serviceToken,
        `mutation ($userId: UUID!, $at: Datetime!) { recordActionFor(input: { userId: $userId, action: "logins", occurredAt: $at }) { result { currentStreak unlocked { achievementId points } } } }`,
        { userId: user, at },
      );
      logins.push(data.recordActionFor.result);
    }
    expect(logins.map((login) => login.currentStreak)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // Day 3 brings the 3-day streak and, at 05:30, the early bird (listed in catalog order).
    expect(logins.map((login) => login.unlocked)).toEqual([
      [],
      [],
      [
        { achievementId: "streak_3", points: 30 },
        { achievementId: "early_bird", points: 50 },
      ],
      [],
      [],
      [],
      [{ achievementId: "streak_7", points: 70 }],
    ]);

    // 100 tasks, 10 per call (the action's maximum), reported by the user's own client.
    const tiers: string[] = [];
    const unlocked: string[] = [];
    for (let call = 0; call < 10; call++) {
      const data = await graphql(
        userToken,
        `mutation ($key: String!) { recordAction(input: { action: "tasks_completed", amount: 10, idempotencyKey: $key }) { result { tally tierBefore tierAfter unlocked { achievementId } } } }`,
        { key: `task-batch-${call}` },
      );
      const result = data.recordAction.result;
      if (result.tierBefore !== result.tierAfter) tiers.push(`${result.tierBefore} -> ${result.tierAfter}`);
      unlocked.push(...result.unlocked.map((unlock: { achievementId: string }) => unlock.achievementId));
    }
    expect(unlocked).toEqual(["tasks_completed_1", "tasks_completed_10", "launch_sprint", "tasks_completed_50", "tasks_completed_100"]);
    expect(tiers).toEqual(["Student -> Expert", "Expert -> Master"]);

    const { myDashboard } = await graphql(
      userToken,
      `{ myDashboard { tier { points tier badge nextTier nextBadge percent } unlocked { achievementId } hiddenLockedCount longestStreak tallies { name count } } }`,
    );
    // 10 + 100 + 500 + 1000 (tasks) + 75 (launch sprint) + 30 + 70 (streaks) + 50 (early bird) = 1835.
    expect(myDashboard.tier).toEqual({ points: 1835, tier: "Master", badge: "💎", nextTier: "Legend", nextBadge: "👑", percent: 20.9 });
    expect(myDashboard.unlocked).toHaveLength(8);
    expect(myDashboard.hiddenLockedCount).toBe(1);
    expect(myDashboard.longestStreak).toBe(7);
    expect(myDashboard.tallies).toEqual([
      { name: "logins", count: 7 },
      { name: "tasks_completed", count: 100 },
    ]);
  });
});

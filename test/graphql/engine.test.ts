// The engine through GraphQL: recordAction and its payload, progress, hidden achievements, rarity,
// the dashboard, profiles and coded errors, as real roles in rolled-back transactions.
import { anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../helpers/db";
import { errorsOf, type GraphQLRunner, makeGraphQLRunner, ok } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const RECORD_ACTION = `mutation ($action: String!, $amount: Int, $key: String) {
  recordAction(input: { action: $action, amount: $amount, idempotencyKey: $key }) {
    result { action amount tally unlocked { achievementId name points } pointsAwarded totalPoints tierBefore tierAfter currentStreak levelsAchieved }
  }
}`;

const RECORD_ACTION_FOR = `mutation ($userId: UUID!, $action: String!, $at: Datetime) {
  recordActionFor(input: { userId: $userId, action: $action, occurredAt: $at }) { result { unlocked { achievementId } currentStreak } }
}`;

/** The data of a result that must have no errors. */


const record = (tx: TestTransaction, user: string, action: string, amount = 1, key?: string) =>
  ok(graphql.run(tx, asUser(user), RECORD_ACTION, { action, amount, key }));

describe("recordAction", () => {
  it("returns what changed", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await record(tx, user, "tasks_completed", 9);
      expect(await record(tx, user, "tasks_completed")).toEqual({
        recordAction: {
          result: {
            action: "tasks_completed",
            amount: 1,
            tally: 10,
            unlocked: [{ achievementId: "tasks_completed_10", name: "10 tasks", points: 100 }],
            pointsAwarded: 100,
            totalPoints: 185,
            tierBefore: "Beginner",
            tierAfter: "Student",
            currentStreak: 1,
            levelsAchieved: [],
          },
        },
      });
    }));

  it("answers a retry with the original result", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const first = await record(tx, user, "tasks_completed", 1, "tap-7");
      expect(await record(tx, user, "tasks_completed", 1, "tap-7")).toEqual(first);
      expect(errorsOf(await graphql.run(tx, asUser(user), RECORD_ACTION, { action: "tasks_completed", amount: 2, key: "tap-7" }))).toEqual([
        ["CONFLICT", 'The idempotency key "tap-7" was already used for 1 x "tasks_completed"'],
      ]);
    }));

  it.each([
    [asUser(newUserId()), { action: "teleport" }, ["NOT_FOUND", 'Unknown action "teleport"']],
    [asUser(newUserId()), { action: "lessons_finished" }, ["FORBIDDEN", 'The action "lessons_finished" cannot be reported by a client']],
    [asUser(newUserId()), { action: "tasks_completed", amount: 0 }, ["BAD_USER_INPUT", 'The amount must be a whole number from 1 to 10 for "tasks_completed", got 0']],
    [anonymous, { action: "tasks_completed" }, ["UNAUTHENTICATED", "Sign in to record an action"]],
  ])("refuses bad input with a coded error (%#)", (actor, variables, expected) =>
    withTransaction(async (tx) => {
      expect(errorsOf(await graphql.run(tx, actor, RECORD_ACTION, variables))).toEqual([expected]);
      // Nothing written for the caller (an anonymous caller has no user to write for).
      const steps = await tx.root("select count(*)::int as n from status_public.user_steps where user_id = $1", [actor.userId ?? null]);
      expect(steps).toEqual([{ n: 0 }]);
    }));

  it("lets only the service record for another user, at a given time", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const variables = { userId: user, action: "logins", at: "2026-01-05T04:00:00Z" };
      expect(errorsOf(await graphql.run(tx, asUser(user), RECORD_ACTION_FOR, variables))).toEqual([
        ["FORBIDDEN", "permission denied for function record_action_for"],
      ]);
      const data = await ok(graphql.run(tx, asService(), RECORD_ACTION_FOR, variables));
      expect(data).toEqual({ recordActionFor: { result: { unlocked: [{ achievementId: "early_bird" }], currentStreak: 1 } } });
    }));
});

describe("progress", () => {
  it("hides a hidden achievement's name until it is unlocked, and counts the hidden ones still locked", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const query = `{
        allAchievements { nodes { id name description hidden } }
        myAchievements { nodes { achievementId } }
        myDashboard { hiddenLockedCount }
      }`;
      const hiddenOnes = (data: Record<string, any>) =>
        data.allAchievements.nodes.filter((node: { hidden: boolean }) => node.hidden).map(({ id, name, description }: Record<string, string>) => ({ id, name, description }));
      const before = await ok(graphql.run(tx, asUser(user), query));
      expect(hiddenOnes(before)).toEqual([]);
      expect(before.myAchievements.nodes.map((node: { achievementId: string }) => node.achievementId)).not.toContain("insomniac");
      expect(before.myDashboard.hiddenLockedCount).toBe(1);

      for (const at of ["2026-06-01T12:00:00Z", "2026-06-02T12:00:00Z", "2026-06-03T03:15:00Z"]) {
        await ok(graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "logins", at }));
      }
      const after = await ok(graphql.run(tx, asUser(user), query));
      expect(hiddenOnes(after)).toEqual([{ id: "insomniac", name: "Insomniac", description: "Log in at 3 AM on the third day of a streak" }]);
      expect(after.myAchievements.nodes.map((node: { achievementId: string }) => node.achievementId)).toContain("insomniac");
      expect(after.myDashboard.hiddenLockedCount).toBe(0);
      // Others still do not see it.
      expect(hiddenOnes(await ok(graphql.run(tx, asUser(newUserId()), query)))).toEqual([]);
      expect(hiddenOnes(await ok(graphql.run(tx, anonymous, `{ allAchievements { nodes { id name description hidden } } }`)))).toEqual([]);
    }));

  it("gives percentages per achievement and per criterion, 100 only when unlocked", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.actions (name, client_reportable) values ('t_read', true), ('t_write', true);
        insert into status_public.achievements (id, name, points) values ('t_scholar', 'Scholar', 40);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
          ('t_scholar', 'count', 't_read', 4), ('t_scholar', 'count', 't_write', 2)`);
      const user = newUserId();
      const progress = async () => {
        const data = await ok(graphql.run(tx, asUser(user), `{ myAchievements { nodes { achievementId percent unlocked criteria { action current remaining percent } } } }`));
        return data.myAchievements.nodes.find((node: { achievementId: string }) => node.achievementId === "t_scholar");
      };
      expect(await progress()).toEqual({
        achievementId: "t_scholar",
        percent: 0,
        unlocked: false,
        criteria: [
          { action: "t_read", current: 0, remaining: 4, percent: 0 },
          { action: "t_write", current: 0, remaining: 2, percent: 0 },
        ],
      });
      await record(tx, user, "t_read", 3); // 75% and 0%: mean 37
      expect((await progress()).percent).toBe(37);
      await record(tx, user, "t_read", 5); // capped at 100% and 0%: 50
      await record(tx, user, "t_write", 1); // 100% and 50%: 75
      expect(await progress()).toMatchObject({ percent: 75, criteria: [{ remaining: 0, percent: 100 }, { remaining: 1, percent: 50 }] });
      await record(tx, user, "t_write", 1);
      expect(await progress()).toMatchObject({ percent: 100, unlocked: true });
    }));

  it("shows the dashboard in one query: tier, next tier, achievements, tallies, streaks", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await record(tx, user, "tasks_completed", 10);
      // The login at noon UTC of the transaction's day: a login "now" would unlock Early Bird between 00:00 and
      // 06:00 UTC and Night Owl from 23:00, and the dashboard reads streaks as of that same day.
      const [{ noon }] = await tx.root<{ noon: Date }>("select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' + interval '12 hours' as noon");
      await ok(graphql.run(tx, asService(), RECORD_ACTION_FOR, { userId: user, action: "logins", at: noon.toISOString() }));
      const data = await ok(
        graphql.run(
          tx,
          asUser(user),
          `{ myDashboard {
            tier { points tier badge nextTier nextBadge nextTierMinPoints percent }
            unlocked { achievementId unlockedAt }
            locked { achievementId percent }
            hiddenLockedCount
            tallies { name count }
            currentStreak longestStreak
            streaks { action current longest }
          } }`,
        ),
      );
      const dashboard = data.myDashboard;
      expect(dashboard.tier).toEqual({ points: 185, tier: "Student", badge: "🥈", nextTier: "Expert", nextBadge: "🥇", nextTierMinPoints: 500, percent: 21.3 });
      expect(dashboard.unlocked.map((a: { achievementId: string }) => a.achievementId)).toEqual(["tasks_completed_1", "tasks_completed_10", "launch_sprint"]);
      expect(dashboard.locked.find((a: { achievementId: string }) => a.achievementId === "tasks_completed_50")).toEqual({ achievementId: "tasks_completed_50", percent: 20 });
      expect(dashboard.hiddenLockedCount).toBe(1);
      expect(dashboard.tallies).toEqual([
        { name: "logins", count: 1 },
        { name: "tasks_completed", count: 10 },
      ]);
      expect([dashboard.currentStreak, dashboard.longestStreak]).toEqual([1, 1]);
      expect(dashboard.streaks).toEqual([
        { action: null, current: 1, longest: 1 },
        { action: "logins", current: 1, longest: 1 },
        { action: "tasks_completed", current: 1, longest: 1 },
      ]);
    }));

  it("tells each achievement's rarity among active users", () =>
    withTransaction(async (tx) => {
      // One snapshot for the answer and the count of active users before: other test files commit theirs meanwhile.
      await tx.root("set transaction isolation level repeatable read");
      await tx.as(asAdmin(), `
        insert into status_public.actions (name, client_reportable) values ('t_rare', true);
        insert into status_public.achievements (id, name, points) values ('t_rare_2', 'Rare', 0);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('t_rare_2', 'count', 't_rare', 2)`);
      const rarity = async () => (await ok(graphql.run(tx, anonymous, `{ achievementById(id: "t_rare_2") { rarityPercent } }`))).achievementById.rarityPercent;
      const [{ active }] = await tx.root<{ active: number }>("select count(*)::int as active from status_public.user_scores");
      expect(await rarity()).toBe(active === 0 ? null : 0); // NULL while nobody is active
      // Four new active users, one of whom unlocks it; a fifth user with a profile but no step is not active.
      const users = [newUserId(), newUserId(), newUserId(), newUserId()];
      await record(tx, users[0], "t_rare", 2);
      await record(tx, users[1], "t_rare", 1);
      for (const user of users.slice(2)) await record(tx, user, "tasks_completed");
      await tx.as(asUser(newUserId()), "select status_public.set_my_profile(display_name => 'Idle')");
      expect(await rarity()).toBe(Math.round((1000 * 1) / (active + 4)) / 10);
      await record(tx, users[1], "t_rare", 1);
      expect(await rarity()).toBe(Math.round((1000 * 2) / (active + 4)) / 10);
    }));
});

describe("setMyProfile", () => {
  it("creates and updates the signed-in user's profile, keeping what is left out", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const set = (input: Record<string, unknown>) =>
        graphql.run(tx, asUser(user), `mutation ($input: SetMyProfileInput!) { setMyProfile(input: $input) { result { userId displayName timeZone leaderboardOptOut } } }`, { input });
      expect((await ok(set({ displayName: "Ada", timeZone: "Europe/Paris" }))).setMyProfile.result).toEqual({
        userId: user,
        displayName: "Ada",
        timeZone: "Europe/Paris",
        leaderboardOptOut: false,
      });
      expect((await ok(set({ leaderboardOptOut: true }))).setMyProfile.result).toMatchObject({ displayName: "Ada", timeZone: "Europe/Paris", leaderboardOptOut: true });
      expect(errorsOf(await set({ timeZone: "Nowhere/Special" }))).toEqual([["BAD_USER_INPUT", 'Unknown time zone "Nowhere/Special"']]);
    }));
});

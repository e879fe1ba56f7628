// The admin's catalog mutations (create, update, delete of actions, achievements, criteria and tiers), who
// else is refused them, and the single-row lookups the schema exposes, as real roles in rolled-back
// transactions. Times are explicit (occurredAt), so nothing depends on when the suite runs.
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const ok = (tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) => graphql.data(tx, actor, query, variables);
const codesOf = (tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) => graphql.errorCodes(tx, actor, query, variables);

const CREATE = `mutation {
  createAction(input: { action: { name: "t_quiz", description: "Finish a quiz", clientReportable: true, maxAmount: 3 } }) { action { name description clientReportable maxAmount } }
  createAchievement(input: { achievement: { id: "t_quizzer", name: "Quizzer", points: 40, icon: "❓", kind: challenge, position: 7 } }) { achievement { id name points icon kind hidden position } }
  createAchievementCriterion(input: { achievementCriterion: { achievementId: "t_quizzer", kind: count, action: "t_quiz", threshold: 2 } }) { achievementCriterion { id achievementId kind action threshold } }
  createTier(input: { tier: { name: "T-Quiz master", minPoints: 2500000, badge: "🧠" } }) { tier { name minPoints badge } }
}`;

const LOOKUPS = `query ($criterion: UUID!) {
  actionByName(name: "t_quiz") { name description maxAmount }
  achievementById(id: "t_quizzer") { id name points }
  achievementCriterionById(id: $criterion) { achievementId threshold }
  tierByName(name: "T-Quiz master") { name minPoints badge }
  tierByMinPoints(minPoints: 2500000) { name }
}`;

describe("the catalog, as an admin", () => {
  it("creates, reads back, updates and deletes actions, achievements, criteria and tiers", () =>
    withTransaction(async (tx) => {
      const admin = asAdmin();
      const created = await ok(tx, admin, CREATE);
      expect(created).toEqual({
        createAction: { action: { name: "t_quiz", description: "Finish a quiz", clientReportable: true, maxAmount: 3 } },
        createAchievement: { achievement: { id: "t_quizzer", name: "Quizzer", points: 40, icon: "❓", kind: "challenge", hidden: false, position: 7 } },
        createAchievementCriterion: { achievementCriterion: { id: expect.any(String), achievementId: "t_quizzer", kind: "count", action: "t_quiz", threshold: 2 } },
        createTier: { tier: { name: "T-Quiz master", minPoints: 2500000, badge: "🧠" } },
      });
      const criterion = created.createAchievementCriterion.achievementCriterion.id;
      expect(await ok(tx, anonymous, LOOKUPS, { criterion })).toEqual({
        actionByName: { name: "t_quiz", description: "Finish a quiz", maxAmount: 3 },
        achievementById: { id: "t_quizzer", name: "Quizzer", points: 40 },
        achievementCriterionById: { achievementId: "t_quizzer", threshold: 2 },
        tierByName: { name: "T-Quiz master", minPoints: 2500000, badge: "🧠" },
        tierByMinPoints: { name: "T-Quiz master" },
      });

      // What the engine does with it: two quizzes unlock the new achievement, with its points.
      const user = newUserId();
      const record = `mutation ($u: UUID!) { recordActionFor(input: { userId: $u, action: "t_quiz", amount: 1, occurredAt: "2026-03-01T12:00:00Z" }) { result { unlocked { achievementId points } } } }`;
      expect((await ok(tx, asService(), record, { u: user })).recordActionFor.result.unlocked).toEqual([]);

      expect(
        await ok(
          tx,
          admin,
          `mutation ($criterion: UUID!) {
            updateActionByName(input: { name: "t_quiz", actionPatch: { description: "Finish any quiz", maxAmount: 5 } }) { action { name description maxAmount } }
            updateAchievementById(input: { id: "t_quizzer", achievementPatch: { name: "Quiz whiz", points: 45 } }) { achievement { id name points } }
            updateAchievementCriterionById(input: { id: $criterion, achievementCriterionPatch: { threshold: 3 } }) { achievementCriterion { threshold } }
            updateTierByName(input: { name: "T-Quiz master", tierPatch: { badge: "🎓", minPoints: 2600000 } }) { tier { name minPoints badge } }
          }`,
          { criterion },
        ),
      ).toEqual({
        updateActionByName: { action: { name: "t_quiz", description: "Finish any quiz", maxAmount: 5 } },
        updateAchievementById: { achievement: { id: "t_quizzer", name: "Quiz whiz", points: 45 } },
        updateAchievementCriterionById: { achievementCriterion: { threshold: 3 } },
        updateTierByName: { tier: { name: "T-Quiz master", minPoints: 2600000, badge: "🎓" } },
      });
      // The second quiz no longer reaches the raised threshold; the third does, with the updated points.
      expect((await ok(tx, asService(), record, { u: user })).recordActionFor.result.unlocked).toEqual([]);
      expect((await ok(tx, asService(), record, { u: user })).recordActionFor.result.unlocked).toEqual([{ achievementId: "t_quizzer", points: 45 }]);
      expect((await ok(tx, anonymous, `{ tierByMinPoints(minPoints: 2500000) { name } }`)).tierByMinPoints).toBeNull();

      // An action that a criterion names cannot go while the criterion is there (on delete restrict).
      expect(await codesOf(tx, admin, `mutation { deleteActionByName(input: { name: "t_quiz" }) { action { name } } }`)).toEqual(["BAD_USER_INPUT"]);
      expect(
        await ok(
          tx,
          admin,
          `mutation ($criterion: UUID!) {
            deleteAchievementCriterionById(input: { id: $criterion }) { achievementCriterion { threshold } }
            deleteAchievementById(input: { id: "t_quizzer" }) { achievement { id } }
            deleteActionByName(input: { name: "t_quiz" }) { action { name } }
            deleteTierByName(input: { name: "T-Quiz master" }) { tier { name } }
          }`,
          { criterion },
        ),
      ).toEqual({
        deleteAchievementCriterionById: { achievementCriterion: { threshold: 3 } },
        deleteAchievementById: { achievement: { id: "t_quizzer" } },
        deleteActionByName: { action: { name: "t_quiz" } },
        deleteTierByName: { tier: { name: "T-Quiz master" } },
      });
      expect(await ok(tx, anonymous, LOOKUPS, { criterion })).toEqual({
        actionByName: null,
        achievementById: null,
        achievementCriterionById: null,
        tierByName: null,
        tierByMinPoints: null,
      });
      // Deleting the achievement took its unlock with it.
      expect(await tx.root("select count(*)::int as n from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([{ n: 0 }]);
    }));

  it("refuses a duplicate and a bad value with coded errors", () =>
    withTransaction(async (tx) => {
      const admin = asAdmin();
      expect(await codesOf(tx, admin, `mutation { createTier(input: { tier: { name: "Student", minPoints: 3000000 } }) { tier { name } } }`)).toEqual(["CONFLICT"]);
      expect(await codesOf(tx, admin, `mutation { createAction(input: { action: { name: "Not A Name" } }) { action { name } } }`)).toEqual(["BAD_USER_INPUT"]);
      expect(await codesOf(tx, admin, `mutation { createAchievement(input: { achievement: { id: "t_neg", name: "Negative", points: -1 } }) { achievement { id } } }`)).toEqual([
        "BAD_USER_INPUT",
      ]);
      expect(
        await codesOf(tx, admin, `mutation { createAchievementCriterion(input: { achievementCriterion: { achievementId: "streak_3", kind: time_of_day, action: "logins" } }) { achievementCriterion { id } } }`),
      ).toEqual(["BAD_USER_INPUT"]);
    }));
});

describe("the catalog, as anyone but an admin", () => {
  it.each([
    ["anonymous", anonymous],
    ["a user", asUser(newUserId())],
    ["the service", asService()],
  ])("is refused to %s (FORBIDDEN), with nothing written", (_, actor) =>
    withTransaction(async (tx) => {
      for (const mutation of [
        `mutation { createAction(input: { action: { name: "t_forged" } }) { action { name } } }`,
        `mutation { createAchievement(input: { achievement: { id: "t_forged", name: "Forged", points: 1000000 } }) { achievement { id } } }`,
        `mutation { createTier(input: { tier: { name: "T-Forged", minPoints: 1 } }) { tier { name } } }`,
        `mutation { updateAchievementById(input: { id: "tasks_completed_1", achievementPatch: { points: 1000000 } }) { achievement { points } } }`,
        `mutation { updateTierByName(input: { name: "Legend", tierPatch: { minPoints: 1 } }) { tier { name } } }`,
        `mutation { deleteAchievementById(input: { id: "tasks_completed_1" }) { achievement { id } } }`,
        `mutation { deleteActionByName(input: { name: "lessons_finished" }) { action { name } } }`,
      ]) {
        expect({ mutation, codes: await codesOf(tx, actor, mutation) }).toEqual({ mutation, codes: ["FORBIDDEN"] });
      }
      expect(
        await tx.root(`
          select (select count(*)::int from status_public.actions where name = 't_forged') as actions,
                 (select points from status_public.achievements where id = 'tasks_completed_1') as points,
                 (select min_points from status_public.tiers where name = 'Legend') as legend`),
      ).toEqual([{ actions: 0, points: 10, legend: 5000 }]);
    }));
});

describe("single-row lookups of a user's rows", () => {
  it("find the user's own rows, and nobody else's", () =>
    withTransaction(async (tx) => {
      const [me, other] = [newUserId(), newUserId()];
      await tx.as(asUser(me), "select status_public.set_my_profile(display_name => 'Mia')");
      await tx.as(asAdmin(), `
        insert into status_public.levels (name) values ('t-lookup');
        insert into status_public.level_requirements (name, level, required_count) values ('tasks_completed', 't-lookup', 1)`);
      const [step] = await tx.as<{ step_id: string }>(asService(), "select step_id from status_public.record_action_for($1, 'tasks_completed', 1, 'look-1', '2026-03-01T12:00:00Z')", [me]);
      const [ids] = await tx.root<Record<string, string>>(
        `select (select id from status_public.achievement_unlocks where user_id = $1) as unlock,
                (select id from status_public.points_ledger where user_id = $1) as ledger,
                (select id from status_public.user_achievements where user_id = $1) as tally,
                (select id from status_public.user_streaks where user_id = $1 and action = 'tasks_completed') as streak,
                (select id from status_public.level_requirements where level = 't-lookup') as requirement`,
        [me],
      );
      const query = `query ($me: UUID!, $step: UUID!, $unlock: UUID!, $ledger: UUID!, $tally: UUID!, $streak: UUID!, $requirement: UUID!) {
        userStepById(id: $step) { name count idempotencyKey }
        userStepByUserIdAndIdempotencyKey(userId: $me, idempotencyKey: "look-1") { name }
        achievementUnlockById(id: $unlock) { achievementId points }
        achievementUnlockByUserIdAndAchievementId(userId: $me, achievementId: "tasks_completed_1") { points }
        pointsLedgerById(id: $ledger) { points }
        userAchievementById(id: $tally) { name count }
        userAchievementByUserIdAndName(userId: $me, name: "tasks_completed") { count }
        userStreakById(id: $streak) { currentLength lastDay }
        userStreakByUserIdAndAction(userId: $me, action: "tasks_completed") { longestLength }
        userLevelByUserIdAndLevel(userId: $me, level: "t-lookup") { level }
        userProfileByUserId(userId: $me) { displayName timeZone }
        userScoreByUserId(userId: $me) { points tier }
        levelByName(name: "t-lookup") { name }
        levelRequirementById(id: $requirement) { requiredCount }
        levelRequirementByNameAndLevel(name: "tasks_completed", level: "t-lookup") { requiredCount }
      }`;
      const variables = { me, step: step.step_id, ...ids };
      const mine = {
        userStepById: { name: "tasks_completed", count: 1, idempotencyKey: "look-1" },
        userStepByUserIdAndIdempotencyKey: { name: "tasks_completed" },
        achievementUnlockById: { achievementId: "tasks_completed_1", points: 10 },
        achievementUnlockByUserIdAndAchievementId: { points: 10 },
        pointsLedgerById: { points: 10 },
        userAchievementById: { name: "tasks_completed", count: 1 },
        userAchievementByUserIdAndName: { count: 1 },
        userStreakById: { currentLength: 1, lastDay: "2026-03-01" },
        userStreakByUserIdAndAction: { longestLength: 1 },
        userLevelByUserIdAndLevel: { level: "t-lookup" },
        userProfileByUserId: { displayName: "Mia", timeZone: "UTC" },
        userScoreByUserId: { points: 10, tier: "Beginner" },
        levelByName: { name: "t-lookup" },
        levelRequirementById: { requiredCount: 1 },
        levelRequirementByNameAndLevel: { requiredCount: 1 },
      };
      expect(await ok(tx, asUser(me), query, variables)).toEqual(mine);
      expect(await ok(tx, asService(), query, variables)).toEqual(mine);
      // Another user finds the catalog rows only.
      const theirs = Object.fromEntries(Object.keys(mine).map((field) => [field, null]));
      expect(await ok(tx, asUser(other), query, variables)).toEqual({
        ...theirs,
        levelByName: mine.levelByName,
        levelRequirementById: mine.levelRequirementById,
        levelRequirementByNameAndLevel: mine.levelRequirementByNameAndLevel,
      });
    }));
});

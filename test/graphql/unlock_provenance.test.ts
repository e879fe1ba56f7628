// unlockProvenance over GraphQL (migration 000009, 8-provenance.sql): "why do I have this, since when, under
// which rules", for the signed-in user's own unlocks, and for anyone's as an admin, as real roles in rolled-back
// transactions.
import { anonymous, asAdmin, asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const PROVENANCE = `query ($achievementId: String!, $userId: UUID) {
  unlockProvenance(achievementId: $achievementId, userId: $userId) {
    userId points ruleVersion criteriaValues
    rules { version points criteria achievement { name } }
    userStepByStepId { name count }
  }
}`;

describe("unlockProvenance", () => {
  it("explains an unlock: the rules' version and criteria, the completing step and the values then", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 3)", [user]);
      const [{ version }] = await tx.root<{ version: number }>(
        "select max(version) as version from status_public.achievement_rule_versions where achievement_id = 'tasks_completed_1'");
      const result = await graphql.run(tx, asUser(user), PROVENANCE, { achievementId: "tasks_completed_1" });
      expect(result.errors).toBeUndefined();
      const criterion = { kind: "count", action: "tasks_completed", threshold: 1, hourFrom: null, hourUntil: null };
      expect(result.data).toEqual({
        unlockProvenance: {
          userId: user,
          points: 10,
          ruleVersion: version,
          criteriaValues: [{ ...criterion, current: 3, target: 1 }],
          rules: { version, points: 10, criteria: [criterion], achievement: { name: "1 task" } },
          userStepByStepId: { name: "tasks_completed", count: 3 },
        },
      });
      // An admin asks about the user; the user may not ask about someone else; a visitor must sign in.
      const asAdminResult = await graphql.run(tx, asAdmin(), PROVENANCE, { achievementId: "tasks_completed_1", userId: user });
      expect(asAdminResult.data).toEqual(result.data);
      const other = await graphql.run(tx, asUser(newUserId()), PROVENANCE, { achievementId: "tasks_completed_1", userId: user });
      expect(other.errors?.map((error) => error.extensions.code)).toEqual(["FORBIDDEN"]);
      const visitor = await graphql.run(tx, anonymous, `{ unlockProvenance(achievementId: "tasks_completed_1") { points ruleVersion } }`);
      expect(visitor.errors?.map((error) => error.extensions.code)).toEqual(["UNAUTHENTICATED"]);
    }));
});

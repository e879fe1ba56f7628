// The API as GraphQL: the same questions as the database tests, through the real schema, as real roles.
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const RECORD_STEP = `mutation ($userId: UUID!, $name: String!, $count: Int) {
  createUserStep(input: { userStep: { userId: $userId, name: $name, count: $count } }) { userStep { userId name count } }
}`;

async function recordStep(tx: TestTransaction, userId: string, name: string, count = 1) {
  const result = await graphql.run(tx, asService(), RECORD_STEP, { userId, name, count });
  expect(result.errors).toBeUndefined();
}

const codesOf = (result: { errors?: readonly { extensions: Record<string, unknown> }[] }) => result.errors?.map((error) => error.extensions.code);

describe("GraphQL API", () => {
  it("answers stepsRequired and userAchieved for the signed-in user", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordStep(tx, user, "make_post", 2);
      const result = await graphql.run(tx, asUser(user), `{
        stepsRequired(level: "beginner") { nodes { name level requiredCount } }
        userAchieved(level: "beginner")
      }`);
      expect(result).toEqual({
        data: {
          stepsRequired: {
            nodes: [
              { name: "complete_profile", level: "beginner", requiredCount: 1 },
              { name: "make_post", level: "beginner", requiredCount: 1 },
            ],
          },
          userAchieved: false,
        },
        errors: undefined,
      });
      await recordStep(tx, user, "make_post");
      await recordStep(tx, user, "complete_profile");
      expect((await graphql.run(tx, asUser(user), `{ userAchieved(level: "beginner") }`)).data).toEqual({ userAchieved: true });
    }));

  it("reports an unknown level as NOT_FOUND, with the level's name", () =>
    withTransaction(async (tx) => {
      const result = await graphql.run(tx, asUser(newUserId()), `{ userAchieved(level: "legendary") }`);
      expect(result.errors?.map((error) => [error.message, error.extensions.code])).toEqual([['Unknown level "legendary"', "NOT_FOUND"]]);
    }));

  it("forbids asking about another user, but lets the service do it", () =>
    withTransaction(async (tx) => {
      const other = newUserId();
      await recordStep(tx, other, "complete_profile");
      const query = `query ($userId: UUID!) { stepsRequired(level: "newbie", userId: $userId) { nodes { name } } }`;
      expect(codesOf(await graphql.run(tx, asUser(newUserId()), query, { userId: other }))).toEqual(["FORBIDDEN"]);
      const asTheService = await graphql.run(tx, asService(), query, { userId: other });
      expect(asTheService.data).toEqual({ stepsRequired: { nodes: [{ name: "upload_photo" }, { name: "make_first_post" }] } });
    }));

  it("shows users only their own steps and tallies", () =>
    withTransaction(async (tx) => {
      const [alice, bob] = [newUserId(), newUserId()];
      await recordStep(tx, alice, "make_post", 3);
      await recordStep(tx, bob, "make_post", 1);
      const result = await graphql.run(tx, asUser(alice), `{
        allUserSteps { nodes { userId name count } }
        allUserAchievements { nodes { userId name count } }
      }`);
      expect(result.data).toEqual({
        allUserSteps: { nodes: [{ userId: alice, name: "make_post", count: 3 }] },
        allUserAchievements: { nodes: [{ userId: alice, name: "make_post", count: 3 }] },
      });
    }));

  it("reports a retried step (same idempotency key) as CONFLICT and counts it once", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const record = `mutation ($userId: UUID!) {
        createUserStep(input: { userStep: { userId: $userId, name: "make_post", idempotencyKey: "post-42" } }) { userStep { count } }
      }`;
      expect((await graphql.run(tx, asService(), record, { userId: user })).errors).toBeUndefined();
      expect(codesOf(await graphql.run(tx, asService(), record, { userId: user }))).toEqual(["CONFLICT"]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [user])).toEqual([{ count: 1 }]);
    }));

  it("has no mutation that writes tallies", () => {
    const mutations = Object.keys(graphql.schema.getMutationType()?.getFields() ?? {});
    expect(mutations.filter((name) => /UserAchievement/.test(name))).toEqual([]);
    expect(mutations).toContain("createUserStep");
  });

  it.each<[string, Actor]>([
    ["a user", asUser(newUserId())],
    ["anonymous", anonymous],
  ])("refuses to let %s record steps (FORBIDDEN), and writes nothing", (_, actor) =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const result = await graphql.run(tx, actor, RECORD_STEP, { userId: user, name: "make_post", count: 100 });
      expect(codesOf(result)).toEqual(["FORBIDDEN"]);
      expect(await tx.root("select * from status_public.user_steps where user_id = $1", [user])).toEqual([]);
    }));

  it("lets admins, and only admins, manage levels and requirements", () =>
    withTransaction(async (tx) => {
      const createLevel = `mutation { createLevel(input: { level: { name: "t-diamond" } }) { level { name } } }`;
      expect(codesOf(await graphql.run(tx, asUser(newUserId()), createLevel))).toEqual(["FORBIDDEN"]);
      expect(codesOf(await graphql.run(tx, asService(), createLevel))).toEqual(["FORBIDDEN"]);
      expect((await graphql.run(tx, asAdmin(), createLevel)).data).toEqual({ createLevel: { level: { name: "t-diamond" } } });
      const createRequirement = `mutation ($count: Int!) {
        createLevelRequirement(input: { levelRequirement: { name: "make_post", level: "t-diamond", requiredCount: $count } }) {
          levelRequirement { name requiredCount levelByLevel { name } }
        }
      }`;
      expect((await graphql.run(tx, asAdmin(), createRequirement, { count: 500 })).data).toEqual({
        createLevelRequirement: { levelRequirement: { name: "make_post", requiredCount: 500, levelByLevel: { name: "t-diamond" } } },
      });
      expect(codesOf(await graphql.run(tx, asAdmin(), createRequirement, { count: 0 }))).toEqual(["BAD_USER_INPUT"]);
      expect(codesOf(await graphql.run(tx, asAdmin(), createLevel))).toEqual(["CONFLICT"]);
    }));

  it("lists everyone the catalog, in a stable order", () =>
    withTransaction(async (tx) => {
      const result = await graphql.run(tx, anonymous, `{ allLevels { nodes { name } } }`);
      expect(result.data).toEqual({
        allLevels: { nodes: ["beginner", "expert", "intermediate", "newbie", "pro"].map((name) => ({ name })) },
      });
    }));
});

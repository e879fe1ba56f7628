// Which operations may read from a replica (src/read-replicas.ts `readsMayLag`), on the real schema: queries
// whose every field is on the lists, and nothing else. The lists name fields and types that exist, so that a
// rename cannot quietly send the catalog back to the primary.
import { makeSchema } from "postgraphile";
import { type GraphQLSchema, isObjectType, parse } from "postgraphile/graphql";
import { makePreset } from "../../src/preset";
import { LAG_TOLERANT_QUERY_FIELDS, LAG_TOLERANT_TYPES, readsMayLag } from "../../src/read-replicas";
import { testDatabaseUrl } from "../helpers/db";

let schema: GraphQLSchema;
let release: () => Promise<void>;

beforeAll(async () => {
  const built = await makeSchema(
    makePreset({ connectionString: testDatabaseUrl("TEST_AUTH_URL"), graphiql: false, authenticate: async () => ({ role: "anonymous", userId: null }) }),
  );
  schema = built.schema;
  release = async () => void (await Promise.all((built.resolvedPreset.pgServices ?? []).map((service) => service.release?.())));
});
afterAll(() => release());

const mayLag = (source: string, operationName?: string) => readsMayLag(schema, parse(source), operationName);

describe("readsMayLag", () => {
  it("lists Query fields and object types that the schema has", () => {
    const queryFields = Object.keys(schema.getQueryType()!.getFields());
    expect(queryFields).toEqual(expect.arrayContaining([...LAG_TOLERANT_QUERY_FIELDS]));
    for (const name of LAG_TOLERANT_TYPES) expect(isObjectType(schema.getType(name))).toBe(true);
  });

  it("sends the catalog, rarity and the top of the leaderboards to a replica, through fragments and the `query` field too", () => {
    expect(mayLag("{ allAchievements { nodes { id name rarityPercent achievementCriteriaByAchievementId { nodes { kind threshold } } } pageInfo { hasNextPage } totalCount } }")).toBe(true);
    expect(mayLag("{ leaderboard(first: 10, period: WEEK) { rank userId displayName points medal } allTiers { nodes { name minPoints } } __typename }")).toBe(true);
    expect(mayLag("query Top { ...top } fragment top on Query { query { leaderboard { ...entry } } } fragment entry on LeaderboardEntry { userId points }")).toBe(true);
    expect(mayLag("{ allLevels { nodes { name levelRequirementsByLevel { nodes { name requiredCount } } } } activePointsMultiplier { multiplier } }")).toBe(true);
    expect(mayLag('{ actionLeaderboard(action: "tasks_completed", period: WEEK) { rank userId displayName tally } }')).toBe(true);
  });

  it("keeps the user's own progress, anything else, mutations and subscriptions on the primary", () => {
    for (const field of ["myDashboard { hiddenLockedCount }", "myRank { points }", "leaderboardAroundMe { userId }", 'actionLeaderboardAroundMe(action: "tasks_completed") { userId }', 'myActionRank(action: "tasks_completed") { tally }', "allUserScores { nodes { points } }", "userAchieved(level: \"beginner\")"]) {
      expect(mayLag(`{ ${field} }`)).toBe(false);
      expect(mayLag(`{ leaderboard { points } ${field} }`)).toBe(false);
    }
    // A catalog field that reaches the user's own rows (unlocks, levels).
    expect(mayLag("{ allAchievements { nodes { id achievementUnlocksByAchievementId { totalCount } } } }")).toBe(false);
    expect(mayLag("{ allLevels { nodes { userLevelsByLevel { totalCount } } } }")).toBe(false);
    expect(mayLag("query Top { ...mine } fragment mine on Query { leaderboard { points } myTier { points } }")).toBe(false);
    expect(mayLag('mutation { recordAction(input: { action: "logins" }) { result { totalPoints } } }')).toBe(false);
    expect(mayLag("subscription { achievementUnlocked { pointsAwarded } }")).toBe(false);
  });

  it("decides for the operation asked for, in a document with several", () => {
    const document = "query Top { leaderboard { points } } query Mine { myRank { points } }";
    expect(mayLag(document, "Top")).toBe(true);
    expect(mayLag(document, "Mine")).toBe(false);
  });
});

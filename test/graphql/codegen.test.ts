// Generated client types: GraphQL Code Generator (its typescript-operations plugin, which since v6 emits
// the enums and scalars it needs itself) runs on the schema printed from the live build, for the
// operations of test/graphql/codegen/operations.graphql, and the
// TypeScript compiler checks client code against the types under strict null checks: codegen/client.ts
// reads the fields the SQL guarantees without null checks and must compile; codegen/nullable.ts reads
// fields that can be null and must fail exactly on its marked lines. (schema.test.ts checks that the
// committed schema.graphql is this same schema.)
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildSchema,
  getNullableType,
  type GraphQLField,
  type GraphQLSchema,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  print,
} from "postgraphile/graphql";
import ts from "typescript";
import { buildSchemaSDL } from "../../src/schema-sdl";
import { type Actor, anonymous, asService, asUser, newUserId, testDatabaseUrl, withTransaction } from "../helpers/db";
import { makeGraphQLRunner } from "../helpers/graphql";

const FIXTURES = join(__dirname, "codegen");

/** The codegen configuration the README recommends: how PostGraphile's scalars arrive in JSON. */
const CODEGEN_CONFIG = {
  strictScalars: true, // a new scalar without a mapping fails here instead of becoming `any`
  scalars: {
    UUID: "string",
    Datetime: "string", // ISO 8601 with time zone: 2026-11-20T05:30:00+00:00
    Date: "string", // YYYY-MM-DD
    Cursor: "string", // opaque
    BigInt: "string", // 64-bit integers are strings, not to lose precision in JavaScript
    BigFloat: "string", // numeric: a string, for the same reason
    JSON: "unknown",
  },
  enumsAsTypes: true,
};

let sdl: string;
let schema: GraphQLSchema;
let workDir: string;
beforeAll(async () => {
  sdl = await buildSchemaSDL(testDatabaseUrl("TEST_AUTH_URL"));
  schema = buildSchema(sdl);
  workDir = await mkdtemp(join(tmpdir(), "achievements-codegen-"));
});
afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function generateTypes(): Promise<string> {
  // ES modules only (loaded natively: jest runs with --experimental-vm-modules).
  const { codegen } = await import("@graphql-codegen/core");
  const typescriptOperations = await import("@graphql-codegen/typescript-operations");
  return codegen({
    filename: "generated.ts",
    schema: parse(sdl),
    documents: [{ location: "operations.graphql", document: parse(await readFile(join(FIXTURES, "operations.graphql"), "utf8")) }],
    plugins: [{ typescriptOperations: {} }],
    pluginMap: { typescriptOperations },
    config: CODEGEN_CONFIG,
  });
}

/** Type-checks the fixtures (without their `@ts-nocheck` line) next to the generated types, strictly. */
async function typeCheck(generated: string, fixtures: string[]): Promise<ts.Diagnostic[]> {
  await writeFile(join(workDir, "generated.ts"), generated);
  const files = [];
  for (const fixture of fixtures) {
    const source = (await readFile(join(FIXTURES, fixture), "utf8")).replace(/^\/\/ @ts-nocheck.*\n/, "");
    await writeFile(join(workDir, fixture), source);
    files.push(join(workDir, fixture));
  }
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2023.d.ts"],
    types: [],
    skipLibCheck: true,
  });
  return [...ts.getPreEmitDiagnostics(program)];
}

const describeDiagnostic = (diagnostic: ts.Diagnostic) => {
  const where = diagnostic.file ? `${diagnostic.file.fileName.slice(workDir.length + 1)}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start!).line + 1}` : "";
  return `${where} TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, " ")}`;
};

describe("generated client types (GraphQL Code Generator)", () => {
  let generated: string;
  beforeAll(async () => {
    generated = await generateTypes();
  });

  it("compile client code that reads the guaranteed fields without null checks (strict)", async () => {
    expect((await typeCheck(generated, ["client.ts"])).map(describeDiagnostic)).toEqual([]);
  });

  it("keep nullable what can be null: each unchecked read of one is an error", async () => {
    const diagnostics = await typeCheck(generated, ["nullable.ts"]);
    const source = await readFile(join(FIXTURES, "nullable.ts"), "utf8");
    const marked = source.split("\n").flatMap((line, index) => (line.endsWith("// null") ? [index] : []));
    // Line numbers in the checked copy, whose first line (@ts-nocheck) is gone.
    const failing = new Set(diagnostics.map((diagnostic) => diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start!).line + 1));
    expect(marked.length).toBe(9);
    expect([...failing].sort((a, b) => a - b)).toEqual(marked);
    // All of them "possibly null / undefined", not some other mistake.
    expect(diagnostics.filter((diagnostic) => ![2531, 2532, 2533, 18047, 18048, 18049].includes(diagnostic.code)).map(describeDiagnostic)).toEqual([]);
  });
});

describe("nullability in the schema", () => {
  const field = (type: string, name: string): GraphQLField<unknown, unknown> => {
    const object = schema.getType(type);
    if (!isObjectType(object)) throw new Error(`no object type ${type}`);
    const found = object.getFields()[name];
    if (!found) throw new Error(`no field ${type}.${name}`);
    return found;
  };
  const nullableFieldsOf = (type: string) => {
    const object = schema.getType(type);
    if (!isObjectType(object)) throw new Error(`no object type ${type}`);
    return Object.values(object.getFields())
      .filter((candidate) => !isNonNullType(candidate.type))
      .map((candidate) => candidate.name)
      .sort();
  };

  it("leaves nullable, in the types of our functions and plugins, only what the SQL can leave NULL", () => {
    const types = [
      ...["Dashboard", "TierProgress", "AchievementProgress", "CriterionProgress", "StreakSummary", "Tally", "RecordActionResult", "UnlockedAchievement"],
      ...["LeaderboardEntry", "LeaderboardRank", "AchievementCriterion", "AchievementUnlock", "LevelRequirement", "UserLevel"],
    ];
    expect(Object.fromEntries(types.map((type) => [type, nullableFieldsOf(type)]))).toEqual({
      Dashboard: [],
      TierProgress: ["badge", "nextBadge", "nextTier", "nextTierMinPoints", "tier"], // below the lowest tier, at the top
      AchievementProgress: ["availableFrom", "availableUntil", "icon", "unlockedAt"],
      CriterionProgress: ["action", "hourFrom", "hourUntil", "threshold"], // by criterion kind
      StreakSummary: ["action"], // the streak of any activity
      Tally: [],
      RecordActionResult: ["tierAfter", "tierBefore"],
      UnlockedAchievement: [],
      LeaderboardEntry: ["badge", "displayName", "medal", "tier"],
      LeaderboardRank: [],
      // Relations: nullable only through a nullable foreign key.
      AchievementCriterion: ["action", "actionByAction", "hourFrom", "hourUntil", "threshold"],
      // Provenance: NULL for unlocks made before rule versions were recorded; no multiplier in force.
      AchievementUnlock: ["criteriaValues", "pointsMultiplier", "ruleVersion", "rules"],
      LevelRequirement: [],
      UserLevel: ["stepId", "userStepByStepId"],
    });
  });

  it("has no list with nullable items", () => {
    const nullableItems = Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && !type.name.startsWith("__"))
      .flatMap((type) => Object.values((type as { getFields(): Record<string, GraphQLField<unknown, unknown>> }).getFields()).map((field) => ({ type: type.name, field })))
      .filter(({ field }) => {
        const list = getNullableType(field.type);
        return isListType(list) && !isNonNullType(list.ofType);
      })
      .map(({ type, field }) => `${type}.${field.name}: ${String(field.type)}`);
    expect(nullableItems).toEqual([]);
  });

  it("gives every mutation that returns or raises a non-null result", () => {
    expect(["RecordActionPayload", "RecordActionForPayload", "SetMyProfilePayload"].map((payload) => String(field(payload, "result").type))).toEqual([
      "RecordActionResult!",
      "RecordActionResult!",
      "UserProfile!",
    ]);
  });

  it("keeps the fields about the signed-in user nullable at the root, so that one failing does not wipe the others", () => {
    const personal = ["myDashboard", "myTier", "myRank", "leaderboardAroundMe", "myAchievements", "hiddenLockedCount", "myUnlocksSince"];
    expect(personal.filter((name) => isNonNullType(field("Query", name).type))).toEqual([]);
    expect(String(field("Query", "leaderboardAroundMe").type)).toBe("[LeaderboardEntry!]");
  });

  it("keeps every root field nullable, public ones too (leaderboard fails on a bad `first`), but Relay's `query`", () => {
    const query = schema.getQueryType()!;
    const nonNull = Object.values(query.getFields()).filter((candidate) => isNonNullType(candidate.type)).map((candidate) => candidate.name);
    expect(nonNull).toEqual(["query"]);
    expect(String(field("Query", "leaderboard").type)).toBe("[LeaderboardEntry!]");
  });
});

describe("the non-null promises at run time", () => {
  it("hold for every operation of the fixture, run as a user with unlocks (a hidden one too), levels and a replayed result, and as a visitor", async () => {
    const runner = await makeGraphQLRunner();
    const operations = parse(await readFile(join(FIXTURES, "operations.graphql"), "utf8")).definitions.flatMap((definition) =>
      definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [[definition.name.value, print(definition)] as const] : [],
    );
    const source = Object.fromEntries(operations);
    try {
      await withTransaction(async (tx) => {
        const user = newUserId();
        const recordFor = `mutation ($u: UUID!, $action: String!, $at: Datetime) { recordActionFor(input: { userId: $u, action: $action, occurredAt: $at }) { clientMutationId } }`;
        // Logins at 03:30 UTC three days running: early_bird, streak_3 and the hidden insomniac.
        for (const day of ["2026-11-18", "2026-11-19", "2026-11-20"]) {
          const recorded = await runner.run(tx, asService(), recordFor, { u: user, action: "logins", at: `${day}T03:30:00Z` });
          expect(recorded.errors).toBeUndefined();
        }
        await tx.root(`insert into status_public.user_steps (user_id, name) values ($1, 'complete_profile'), ($1, 'make_post'), ($1, 'make_post'), ($1, 'make_post')`, [user]);
        const levels = await tx.root<{ count: number }>(`select count(*)::int as count from status_public.user_levels where user_id = $1`, [user]);
        const unlocks = await tx.root<{ achievement_id: string }>(`select achievement_id from status_public.achievement_unlocks where user_id = $1 order by 1`, [user]);
        expect(levels[0].count).toBeGreaterThan(0);
        expect(unlocks.map((unlock) => unlock.achievement_id)).toEqual(expect.arrayContaining(["early_bird", "insomniac", "streak_3"]));

        const run = async (actor: Actor, name: string, variables?: Record<string, unknown>) => {
          const result = await runner.run(tx, actor, source[name], variables);
          expect({ name, errors: result.errors?.map((error) => error.message) }).toEqual({ name, errors: undefined });
          return result.data!;
        };
        const record = { action: "tasks_completed", amount: 1, key: "codegen-test" };
        const first = await run(asUser(user), "RecordAction", record);
        expect(first.recordAction.result.unlocked).toEqual([expect.objectContaining({ achievementId: "tasks_completed_1" })]);
        expect((await run(asUser(user), "RecordAction", record)).recordAction.result).toEqual(first.recordAction.result); // replayed from its stored JSON
        await run(asUser(user), "SetMyProfile", { displayName: "Codegen" });
        const dashboard = await run(asUser(user), "Dashboard");
        expect(dashboard.myDashboard.unlocked.map((unlocked: { achievementId: string }) => unlocked.achievementId)).toEqual(expect.arrayContaining(["insomniac"]));
        const mine = await run(asUser(user), "MyUnlocks");
        expect(mine.allAchievementUnlocks.nodes.find((unlock: { achievementByAchievementId: { id: string } }) => unlock.achievementByAchievementId.id === "insomniac")).toBeDefined();
        await run(asUser(user), "Catalog");
        await run(asUser(user), "Leaderboard", { period: "ALL_TIME" });
        await run(anonymous, "Catalog");
        await run(asService(), "MyUnlocks"); // every user's unlocks and levels
      });
    } finally {
      await runner.release();
    }
  });
});

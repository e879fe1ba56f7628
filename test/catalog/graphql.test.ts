// planCatalog and applyCatalog through the real schema, as real roles with real claims, in rolled-back
// transactions: the same code as the CLI, run with the admin's grants and RLS.
import { exportedCatalog } from "../helpers/catalog";
import { asAdmin, asService, asUser, newUserId, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const PLAN = `query ($catalog: JSON!) {
  planCatalog(catalog: $catalog) { applied changes { object id change fields { field from to } holders qualifying points refused } tierMoves { fromTier toTier users } summary }
}`;
const APPLY = `mutation ($catalog: JSON!, $held: CatalogHeldAchievements) {
  applyCatalog(input: { catalog: $catalog, heldAchievements: $held }) { plan { applied changes { id change } summary } }
}`;

/** The exported file with one more achievement (a text edit, as a person makes it). */
const withQuizzer = (text: string) =>
  text
    .replace("  actions: {\n", "  actions: {\n    t_cat_quiz: { clientReportable: true },\n")
    .replace("  achievements: {\n", "  achievements: {\n    t_cat_quizzer: { name: 'Quizzer', points: 40, criteria: [{ kind: 'count', action: 't_cat_quiz', threshold: 2 }] },\n");

describe("planCatalog and applyCatalog", () => {
  it("plan a JSON5 text as an admin, and apply it once", () =>
    withTransaction(async (tx) => {
      const text = withQuizzer(await exportedCatalog(tx));
      const planned = await graphql.run(tx, asAdmin(), PLAN, { catalog: text });
      expect(planned.errors).toBeUndefined();
      expect(planned.data!.planCatalog).toMatchObject({
        applied: false,
        changes: [
          { object: "ACTION", id: "t_cat_quiz", change: "ADDED", refused: false },
          { object: "ACHIEVEMENT", id: "t_cat_quizzer", change: "ADDED", holders: 0, qualifying: 0, points: 0, refused: false },
        ],
        tierMoves: [],
      });
      expect(planned.data!.planCatalog.changes[1].fields).toContainEqual({ field: "criteria[count t_cat_quiz]", from: null, to: "count t_cat_quiz >= 2" });
      expect(planned.data!.planCatalog.summary).toContain("+ t_cat_quizzer:");
      expect(await tx.root("select from status_public.achievements where id = 't_cat_quizzer'")).toEqual([]);

      const applied = await graphql.run(tx, asAdmin(), APPLY, { catalog: text });
      expect(applied.errors).toBeUndefined();
      expect(applied.data!.applyCatalog.plan).toMatchObject({ applied: true, changes: [{ id: "t_cat_quiz", change: "ADDED" }, { id: "t_cat_quizzer", change: "ADDED" }] });
      expect(await tx.root("select points from status_public.achievements where id = 't_cat_quizzer'")).toEqual([{ points: 40 }]);
      const again = await graphql.run(tx, asAdmin(), APPLY, { catalog: text });
      expect(again.data!.applyCatalog.plan).toEqual({ applied: true, changes: [], summary: "Applied: no changes (the catalog was already as the file says).\n" });
    }));

  it("answers CATALOG_INVALID with every problem, with lines and columns for text", () =>
    withTransaction(async (tx) => {
      const text = withQuizzer(await exportedCatalog(tx)).replace("action: 't_cat_quiz', threshold: 2", "action: 't_cat_quizz', threshold: 2");
      const { data, errors } = await graphql.run(tx, asAdmin(), PLAN, { catalog: text });
      expect(data?.planCatalog).toBeNull();
      expect(errors?.map((error) => error.extensions)).toEqual([
        {
          code: "CATALOG_INVALID",
          problems: [{ path: "achievements.t_cat_quizzer.criteria[0].action", line: 22, column: 87, message: 'achievement t_cat_quizzer: unknown action "t_cat_quizz" (declare it under actions)' }],
        },
      ]);
      const value = await graphql.run(tx, asAdmin(), PLAN, { catalog: { tiers: { T: { minPoints: "ten" } } } });
      expect(value.errors?.[0].extensions).toEqual({ code: "CATALOG_INVALID", problems: [{ path: "tiers.T.minPoints", message: "must be integer" }] });
    }));

  it("refuses to remove what users hold unless told to retire it", () =>
    withTransaction(async (tx) => {
      const text = withQuizzer(await exportedCatalog(tx));
      expect((await graphql.run(tx, asAdmin(), APPLY, { catalog: text })).errors).toBeUndefined();
      await tx.as(asService(), "select status_public.record_action_for($1, 't_cat_quiz', 2)", [newUserId()]);
      const without = (await exportedCatalog(tx)).replace(/\n {4}t_cat_quizzer: \{[\s\S]*?\n {4}\},/, "");
      const refused = await graphql.run(tx, asAdmin(), APPLY, { catalog: without });
      expect(refused.errors?.map((error) => error.extensions.code)).toEqual(["CATALOG_DESTRUCTIVE_CHANGE"]);
      expect(await tx.root("select retired_at from status_public.achievements where id = 't_cat_quizzer'")).toEqual([{ retired_at: null }]);
      const retired = await graphql.run(tx, asAdmin(), APPLY, { catalog: without, held: "RETIRE" });
      expect(retired.data!.applyCatalog.plan.changes).toEqual([{ id: "t_cat_quizzer", change: "RETIRED" }]);
    }));

  it("is for admins only", () =>
    withTransaction(async (tx) => {
      const text = await exportedCatalog(tx);
      for (const actor of [asUser(newUserId()), asService()]) {
        for (const [query, variables] of [[PLAN, { catalog: text }], [APPLY, { catalog: text }]] as const) {
          const { errors } = await graphql.run(tx, actor, query, variables);
          expect(errors?.map((error) => error.extensions.code)).toEqual(["FORBIDDEN"]);
        }
      }
    }));
});

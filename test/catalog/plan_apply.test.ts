// Plan, apply and export against the real database, as the admin role, in rolled-back transactions. The
// catalog starts as the demo catalog; each test adds objects of its own (t_cat_*), recorded for users of its own.
import { readFileSync } from "node:fs";
import { applyCatalog } from "../../src/catalog/apply";
import { exportCatalog } from "../../src/catalog/export";
import { type Catalog, CatalogError, CATALOG_SCHEMA_PATH, parseCatalogText } from "../../src/catalog/file";
import { type CatalogDatabase, readLiveCatalog } from "../../src/catalog/live";
import { type CatalogChange, planCatalog } from "../../src/catalog/plan";
import { formatPlan } from "../../src/catalog/report";
import { newUserId, roles, type TestTransaction, withTransaction } from "../helpers/db";

/** The test's client as the admin role (as the CLI and GraphQL run it); back to the superuser after. */
async function asAdmin<T>(tx: TestTransaction, work: (db: CatalogDatabase) => Promise<T>): Promise<T> {
  await tx.client.query("select set_config('role', $1, true)", [roles.admin]);
  try {
    return await work({ query: async <Row>(text: string, values?: unknown[]) => (await tx.client.query(text, values)).rows as Row[] });
  } finally {
    await tx.resetActor();
  }
}

const liveCatalog = (tx: TestTransaction) => asAdmin(tx, async (db) => (await readLiveCatalog(db)).catalog);

/** The live catalog with the test's own quiz action and achievement. */
async function withQuiz(tx: TestTransaction, threshold: number, points = 40): Promise<Catalog> {
  const catalog = structuredClone(await liveCatalog(tx));
  catalog.actions.t_cat_quiz = { description: "Finish a quiz", clientReportable: true, maxAmount: 10, ranked: false };
  catalog.achievements.t_cat_quizzer = {
    name: "Quizzer",
    description: "",
    points,
    icon: null,
    kind: "milestone",
    hidden: false,
    availableFrom: null,
    availableUntil: null,
    position: 900,
    criteria: [{ kind: "count", action: "t_cat_quiz", threshold, hourFrom: null, hourUntil: null }],
  };
  return catalog;
}

async function record(tx: TestTransaction, userId: string, action: string, amount: number): Promise<void> {
  await tx.as({ role: "service", userId: newUserId() }, "select status_public.record_action_for($1, $2, $3)", [userId, action, amount]);
}

/** Every catalog row with its xmin: any write shows, even one that changes no value. */
const catalogRows = (tx: TestTransaction) =>
  tx.root(`
    select 'action' as t, name as id, xmin::text from status_public.actions
    union all select 'achievement', id, xmin::text from status_public.achievements
    union all select 'criterion', id::text, xmin::text from status_public.achievement_criteria
    union all select 'tier', name, xmin::text from status_public.tiers
    union all select 'level', name, xmin::text from status_public.levels
    union all select 'requirement', id::text, xmin::text from status_public.level_requirements
    order by 1, 2`);

const changeOf = (changes: CatalogChange[], id: string) => changes.find((change) => change.id === id);

describe("catalog as code", () => {
  it("exports the live catalog as a file that plans as no changes", () =>
    withTransaction(async (tx) => {
      const text = await asAdmin(tx, (db) => exportCatalog(db));
      expect(text).toContain("streak_7");
      const plan = await asAdmin(tx, (db) => planCatalog(db, parseCatalogText(text)));
      expect(plan).toEqual({ applied: false, changes: [], tierMoves: [] });
      expect(formatPlan(plan)).toBe("No changes: the catalog is as the file says.\n");
    }));

  it("plans without writing anything, and applies the same changes once: a second apply writes nothing", () =>
    withTransaction(async (tx) => {
      const wanted = await withQuiz(tx, 3);
      wanted.achievements.streak_7.criteria[0].threshold = 5;
      wanted.tiers["T-cat top"] = { minPoints: 3_000_000, badge: "🏔" };
      wanted.levels.t_cat_quizmaster = { requirements: { t_cat_quiz: { requiredCount: 2, priority: 1 } } };
      delete wanted.levels.pro;
      wanted.levels.newbie.requirements.upload_photo.requiredCount = 2;

      const before = await catalogRows(tx);
      const plan = await asAdmin(tx, (db) => planCatalog(db, wanted));
      expect(await catalogRows(tx)).toEqual(before);
      expect(plan.changes.map(({ object, id, change }) => `${change} ${object} ${id}`)).toEqual([
        "added action t_cat_quiz",
        "changed achievement streak_7",
        "added achievement t_cat_quizzer",
        "added tier T-cat top",
        "changed level newbie",
        "added level t_cat_quizmaster",
        "removed level pro",
      ]);
      expect(changeOf(plan.changes, "streak_7")!.fields).toEqual([{ field: "criteria[streak logins].threshold", from: 7, to: 5 }]);
      expect(changeOf(plan.changes, "newbie")!.fields).toEqual([{ field: "requirements.upload_photo.requiredCount", from: 1, to: 2 }]);

      const applied = await asAdmin(tx, (db) => applyCatalog(db, wanted));
      expect(applied.changes).toEqual(plan.changes);
      expect(await tx.root("select threshold from status_public.achievement_criteria where achievement_id = 'streak_7'")).toEqual([{ threshold: 5 }]);
      expect(await tx.root("select name, required_count from status_public.level_requirements where level = 't_cat_quizmaster'")).toEqual([
        { name: "t_cat_quiz", required_count: 2 },
      ]);
      expect(await tx.root("select from status_public.levels where name = 'pro'")).toEqual([]);
      // The criterion was updated in place (its id kept), not replaced.
      const after = await catalogRows(tx);
      const criterionIds = (rows: Record<string, unknown>[]) => rows.filter((row) => row.t === "criterion").map((row) => row.id);
      expect(criterionIds(after)).toEqual(expect.arrayContaining(criterionIds(before)));

      const again = await asAdmin(tx, (db) => applyCatalog(db, wanted));
      expect(again).toEqual({ applied: true, changes: [], tierMoves: [] });
      expect(await catalogRows(tx)).toEqual(after);
      // And the exported file of the new catalog plans as no changes.
      const text = await asAdmin(tx, (db) => exportCatalog(db));
      expect((await asAdmin(tx, (db) => planCatalog(db, parseCatalogText(text)))).changes).toEqual([]);
    }));

  it("ranks an action by its tally (ranked): plan, apply (its boards filled from the step history), export, and back off", () =>
    withTransaction(async (tx) => {
      const start = await withQuiz(tx, 50);
      await asAdmin(tx, (db) => applyCatalog(db, start));
      const [busy, idle] = [newUserId(), newUserId()];
      await record(tx, busy, "t_cat_quiz", 3);
      await record(tx, idle, "t_cat_quiz", 1);
      expect(await tx.root("select count(*)::int as n from status_public.leaderboard_scores where action = 't_cat_quiz'")).toEqual([{ n: 0 }]);

      const ranked = structuredClone(start);
      ranked.actions.t_cat_quiz.ranked = true;
      const plan = await asAdmin(tx, (db) => planCatalog(db, ranked));
      expect(plan.changes).toEqual([expect.objectContaining({ object: "action", id: "t_cat_quiz", change: "changed", fields: [{ field: "ranked", from: false, to: true }] })]);
      expect(formatPlan(plan)).toContain("t_cat_quiz: ranked false -> true");
      await asAdmin(tx, (db) => applyCatalog(db, ranked));
      // Filled from the history: each user's tally on the four boards of now.
      expect(
        await tx.root(
          `select score.period::text, score.user_id::text, score.points from status_public.leaderboard_scores as score
           where score.action = 't_cat_quiz' and score.period_start = status_private.period_start(score.period, now()) order by score.period, score.points desc`,
        ),
      ).toEqual(["ALL_TIME", "MONTH", "WEEK", "DAY"].flatMap((period) => [{ period, user_id: busy, points: 3 }, { period, user_id: idle, points: 1 }]));
      const text = await asAdmin(tx, (db) => exportCatalog(db));
      expect(text).toMatch(/t_cat_quiz: \{[^}]*ranked: true/);
      expect((await asAdmin(tx, (db) => planCatalog(db, parseCatalogText(text)))).changes).toEqual([]);

      // Back off: the boards go (and the histogram with them).
      await asAdmin(tx, (db) => applyCatalog(db, start));
      expect(await tx.root("select count(*)::int as n from status_public.leaderboard_scores where action = 't_cat_quiz'")).toEqual([{ n: 0 }]);
      expect(await tx.root("select coalesce(sum(users), 0)::int as n from status_private.leaderboard_count_deltas where action = 't_cat_quiz'")).toEqual([{ n: 0 }]);
      expect(await asAdmin(tx, (db) => exportCatalog(db))).not.toContain("ranked");
    }));

  it("counts the users who would unlock a lowered threshold now, with the points, through the engine's criteria", () =>
    withTransaction(async (tx) => {
      await asAdmin(tx, async (db) => applyCatalog(db, await withQuiz(tx, 10)));
      const [three, five, one] = [newUserId(), newUserId(), newUserId()];
      await record(tx, three, "t_cat_quiz", 3);
      await record(tx, five, "t_cat_quiz", 5);
      await record(tx, one, "t_cat_quiz", 1);
      const plan = await asAdmin(tx, async (db) => planCatalog(db, await withQuiz(tx, 3)));
      expect(plan.changes).toEqual([
        {
          object: "achievement",
          id: "t_cat_quizzer",
          change: "changed",
          fields: [{ field: "criteria[count t_cat_quiz].threshold", from: 10, to: 3 }],
          holders: 0,
          qualifying: 2,
          points: 80,
        },
      ]);
      expect(formatPlan(plan)).toContain("~ t_cat_quizzer: criteria[count t_cat_quiz].threshold 10 -> 3; 2 users would unlock it now (+80 points)");
      expect(formatPlan(plan)).toContain("or `npm run backfill` after it: that awards the users counted above");
      // A new achievement is measured the same way; nobody was awarded anything.
      const added = await withQuiz(tx, 10);
      added.achievements.t_cat_quiz_1 = { ...added.achievements.t_cat_quizzer, name: "First quiz", points: 5, criteria: [{ ...added.achievements.t_cat_quizzer.criteria[0], threshold: 1 }] };
      expect(changeOf((await asAdmin(tx, (db) => planCatalog(db, added))).changes, "t_cat_quiz_1")).toMatchObject({ change: "added", qualifying: 3, points: 15 });
      expect(await tx.root("select from status_public.achievement_unlocks where user_id = any($1)", [[three, five, one]])).toEqual([]);
    }));

  it("reports the users whose tier a moved boundary changes", () =>
    withTransaction(async (tx) => {
      const start = await withQuiz(tx, 1, 1_000_000);
      start.tiers["T-cat top"] = { minPoints: 1_000_000, badge: "" };
      await asAdmin(tx, (db) => applyCatalog(db, start));
      const [a, b] = [newUserId(), newUserId()];
      await record(tx, a, "t_cat_quiz", 1);
      await record(tx, b, "t_cat_quiz", 1);
      expect(await tx.root("select tier from status_public.user_scores where user_id = any($1)", [[a, b]])).toEqual([{ tier: "T-cat top" }, { tier: "T-cat top" }]);
      const moved = structuredClone(start);
      moved.tiers["T-cat top"].minPoints = 1_000_001;
      const plan = await asAdmin(tx, (db) => planCatalog(db, moved));
      expect(plan.changes).toEqual([{ object: "tier", id: "T-cat top", change: "changed", fields: [{ field: "minPoints", from: 1_000_000, to: 1_000_001 }] }]);
      expect(plan.tierMoves).toEqual([{ fromTier: "T-cat top", toTier: "Legend", users: 2 }]);
      expect(formatPlan(plan)).toContain("2 users: T-cat top -> Legend");
    }));

  it("refuses to remove an achievement users hold, and retires it (keeping their unlocks) when told to", () =>
    withTransaction(async (tx) => {
      const start = await withQuiz(tx, 1);
      await asAdmin(tx, (db) => applyCatalog(db, start));
      const holder = newUserId();
      await record(tx, holder, "t_cat_quiz", 1);
      const without = structuredClone(start);
      delete without.achievements.t_cat_quizzer;

      const plan = await asAdmin(tx, (db) => planCatalog(db, without));
      expect(plan.changes).toEqual([expect.objectContaining({ id: "t_cat_quizzer", change: "removed", holders: 1, refused: true })]);
      const before = await catalogRows(tx);
      const refusal = await asAdmin(tx, (db) => applyCatalog(db, without)).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(CatalogError);
      expect((refusal as CatalogError).code).toBe("CATALOG_DESTRUCTIVE_CHANGE");
      expect((refusal as CatalogError).problems).toEqual([{ path: "achievements.t_cat_quizzer", message: expect.stringContaining("1 users hold it") }]);
      expect(await catalogRows(tx)).toEqual(before);

      const retired = await asAdmin(tx, (db) => applyCatalog(db, without, { heldAchievements: "retire" }));
      expect(retired.changes).toEqual([expect.objectContaining({ id: "t_cat_quizzer", change: "retired", holders: 1 })]);
      expect(await tx.root("select hidden, retired_at is not null as retired from status_public.achievements where id = 't_cat_quizzer'")).toEqual([{ hidden: true, retired: true }]);
      expect(await tx.root("select points from status_public.achievement_unlocks where user_id = $1", [holder])).toEqual([{ points: 40 }]);
      expect(await tx.root("select points from status_public.user_scores where user_id = $1", [holder])).toEqual([{ points: 40 }]);
      // It no longer unlocks; its holder still sees it, nobody else does, and it is no secret left to find.
      const newcomer = newUserId();
      await record(tx, newcomer, "t_cat_quiz", 1);
      expect(await tx.root("select from status_public.achievement_unlocks where user_id = $1", [newcomer])).toEqual([]);
      const mine = (userId: string) => tx.as({ role: "user", userId }, "select achievement_id, unlocked from status_public.my_achievements() where achievement_id = 't_cat_quizzer'");
      expect(await mine(holder)).toEqual([{ achievement_id: "t_cat_quizzer", unlocked: true }]);
      expect(await mine(newcomer)).toEqual([]);
      const hiddenLocked = await tx.as<{ n: number }>({ role: "user", userId: newcomer }, "select status_public.hidden_locked_count() as n");
      expect(hiddenLocked).toEqual([{ n: 1 }]); // the demo's insomniac only
      // Retired is not part of the catalog: the same file again changes nothing, and export leaves it out.
      expect((await asAdmin(tx, (db) => applyCatalog(db, without))).changes).toEqual([]);
      expect(await asAdmin(tx, (db) => exportCatalog(db))).not.toContain("t_cat_quizzer");
      // Declared again, it is revived with its criteria.
      const revived = await asAdmin(tx, (db) => applyCatalog(db, start));
      expect(revived.changes).toEqual([expect.objectContaining({ id: "t_cat_quizzer", change: "revived", holders: 1, qualifying: 1 })]);
      expect(await tx.root("select hidden, retired_at from status_public.achievements where id = 't_cat_quizzer'")).toEqual([{ hidden: false, retired_at: null }]);
    }));

  it("refuses to remove a level users achieved", () =>
    withTransaction(async (tx) => {
      const start = structuredClone(await liveCatalog(tx));
      start.actions.t_cat_quiz = { description: "", clientReportable: false, maxAmount: 10, ranked: false };
      start.levels.t_cat_level = { requirements: { t_cat_quiz: { requiredCount: 1, priority: 1 } } };
      await asAdmin(tx, (db) => applyCatalog(db, start));
      await record(tx, newUserId(), "t_cat_quiz", 1);
      const without = structuredClone(start);
      delete without.levels.t_cat_level;
      const error = await asAdmin(tx, (db) => applyCatalog(db, without, { heldAchievements: "retire" })).catch((e: unknown) => e);
      expect((error as CatalogError).code).toBe("CATALOG_DESTRUCTIVE_CHANGE");
      expect((error as CatalogError).problems[0].path).toBe("levels.t_cat_level");
    }));

  it("has the database's achievement and criterion kinds in catalog.schema.json", () =>
    withTransaction(async (tx) => {
      const schema = JSON.parse(readFileSync(CATALOG_SCHEMA_PATH, "utf8"));
      const [kinds] = await tx.root<{ achievement: string[]; criterion: string[] }>(
        "select enum_range(null::status_public.achievement_kind)::text[] as achievement, enum_range(null::status_public.criterion_kind)::text[] as criterion",
      );
      expect(schema.definitions.achievement.properties.kind.enum).toEqual(kinds.achievement);
      expect(schema.definitions.criterion.properties.kind.enum).toEqual(kinds.criterion);
      expect(schema.definitions.criterion.oneOf.map((branch: { properties: { kind: { const: string } } }) => branch.properties.kind.const)).toEqual(kinds.criterion);
    }));

  it("is the admin's alone: other roles cannot even lock the catalog", () =>
    withTransaction(async (tx) => {
      for (const role of ["user", "service"] as const) {
        const error = await tx.expectError({ role, userId: newUserId() }, "lock table status_public.achievements in share row exclusive mode");
        expect(error.code).toBe("42501");
        expect((await tx.expectError({ role, userId: newUserId() }, "select * from status_public.catalog_unlock_impact(array['streak_7'])")).code).toBe("42501");
      }
    }));
});

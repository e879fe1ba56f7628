// Backfills for admins over GraphQL (issue 11, migration 000012, 3-backfill-admin.sql): startBackfill, the runs
// (allBackfillRuns, backfillRunById), applyCatalog's backfill option, the coded errors, and every other role
// refused, in rolled-back transactions. Running the batches (the server's worker) is test/e2e/backfill_worker.test.ts.
import { exportedCatalog } from "../helpers/catalog";
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../helpers/db";
import { type GraphQLRunner, makeGraphQLRunner } from "../helpers/graphql";

let graphql: GraphQLRunner;
beforeAll(async () => {
  graphql = await makeGraphQLRunner();
});
afterAll(() => graphql.release());

const ok = (tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) => graphql.data(tx, actor, query, variables);
const codesOf = (tx: TestTransaction, actor: Actor, query: string, variables: Record<string, unknown> = {}) => graphql.errorCodes(tx, actor, query, variables);

const RUN_FIELDS = "id achievementIds levels notify batchSize state usersTotal usersChecked unlocks points levelsAchieved retiered finishedAt lastError";
const START = `mutation ($ids: [String], $levels: [String], $notify: Boolean, $size: Int) {
  startBackfill(input: { achievementIds: $ids, levels: $levels, notify: $notify, batchSize: $size }) { result { ${RUN_FIELDS} } }
}`;
const RUN = `query ($id: BigInt!) { backfillRunById(id: $id) { ${RUN_FIELDS} } }`;

async function readerCatalog(tx: TestTransaction, users: string[]) {
  await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('g_read', true, 10)");
  for (const [i, user] of users.entries()) {
    await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 'g_read', $2, '2026-01-05')", [user, i + 1]);
  }
  await tx.as(asAdmin(), `insert into status_public.achievements (id, name, points) values ('g_reader_2', 'Reader', 30);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('g_reader_2', 'count', 'g_read', 2)`);
}

describe("startBackfill", () => {
  it("starts a pending run that the admin reads back, and batches then award it", () =>
    withTransaction(async (tx) => {
      // In uuid order, as batches take them: the first (1 step, short of the threshold) and the second are batch one.
      const users = [newUserId(), newUserId(), newUserId()].sort();
      await readerCatalog(tx, users);
      const admin = asAdmin();
      const { startBackfill } = await ok(tx, admin, START, { ids: ["g_reader_2"], levels: [], size: 2 });
      expect(startBackfill.result).toEqual({
        id: expect.any(String),
        achievementIds: ["g_reader_2"],
        levels: [],
        notify: false,
        batchSize: 2,
        state: "pending",
        usersTotal: 3,
        usersChecked: 0,
        unlocks: 0,
        points: 0,
        levelsAchieved: 0,
        retiered: 0,
        finishedAt: null,
        lastError: null,
      });
      const id = startBackfill.result.id;
      // The worker's batches (here in the test's transaction): the run's progress as admins read it.
      await tx.root("select status_private.backfill_batch($1)", [id]);
      expect((await ok(tx, admin, RUN, { id })).backfillRunById).toMatchObject({ state: "awarding", usersChecked: 2, unlocks: 1, points: 30 });
      while ((await tx.root<{ more: boolean }>("select status_private.backfill_batch($1, 1000) as more", [id]))[0].more);
      expect((await ok(tx, admin, RUN, { id })).backfillRunById).toMatchObject({ state: "finished", usersChecked: 3, unlocks: 2, points: 60, finishedAt: expect.any(String) });
      const listed = await ok(tx, admin, `{ allBackfillRuns(orderBy: ID_DESC, first: 1) { nodes { id state } } }`);
      expect(listed.allBackfillRuns.nodes).toEqual([{ id, state: "finished" }]);
    }));

  it("answers mistakes with coded errors", () =>
    withTransaction(async (tx) => {
      const admin = asAdmin();
      expect(await codesOf(tx, admin, START, { ids: ["g_nope"] })).toEqual(["NOT_FOUND"]);
      expect(await codesOf(tx, admin, START, { levels: ["g_nope"] })).toEqual(["NOT_FOUND"]);
      expect(await codesOf(tx, admin, START, { size: 0 })).toEqual(["BAD_USER_INPUT"]);
      expect(await codesOf(tx, admin, START, { size: 10001 })).toEqual(["BAD_USER_INPUT"]);
    }));

  it.each([
    ["anonymous", anonymous],
    ["a user", asUser(newUserId())],
    ["the service", asService()],
  ])("is refused to %s, and so are the runs", (_, actor) =>
    withTransaction(async (tx) => {
      expect(await codesOf(tx, actor, START, { ids: [] })).toEqual(["FORBIDDEN"]);
      expect(await codesOf(tx, actor, `{ allBackfillRuns { nodes { id } } }`)).toEqual(["FORBIDDEN"]);
      expect(await codesOf(tx, actor, RUN, { id: "1" })).toEqual(["FORBIDDEN"]);
    }));
});

describe("applyCatalog with backfill", () => {
  const APPLY = `mutation ($catalog: JSON!, $backfill: Boolean, $notify: Boolean) {
    applyCatalog(input: { catalog: $catalog, backfill: $backfill, notify: $notify, batchSize: 50 }) {
      plan { changes { object id change qualifying } summary }
      backfillRun { achievementIds levels notify batchSize state usersTotal }
    }
  }`;

  /** The exported file with an achievement and a level of g_cat_read (a text edit, as a person makes it). */
  const withReader = (text: string) =>
    text
      .replace("  achievements: {\n", "  achievements: {\n    g_cat_reader: { name: 'Reader', points: 25, criteria: [{ kind: 'count', action: 'g_cat_read', threshold: 2 }] },\n")
      .replace("  levels: {\n", "  levels: {\n    g_cat_level: { requirements: { g_cat_read: { requiredCount: 3 } } },\n");

  it("starts a run of what the apply added, committed with it, that awards what the plan counted; none without the option", () =>
    withTransaction(async (tx) => {
      const users = [newUserId(), newUserId(), newUserId()];
      await tx.root("insert into status_public.actions (name, client_reportable, max_amount) values ('g_cat_read', true, 10)");
      for (const [i, user] of users.entries()) {
        await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 'g_cat_read', $2, '2026-01-05')", [user, i + 1]);
      }
      const text = await exportedCatalog(tx);
      const admin = asAdmin();
      // The file as it is: nothing to backfill, no run.
      expect((await ok(tx, admin, APPLY, { catalog: text, backfill: true })).applyCatalog.backfillRun).toBeNull();

      const applied = (await ok(tx, admin, APPLY, { catalog: withReader(text), backfill: true, notify: true })).applyCatalog;
      expect(applied.plan.changes).toEqual([
        { object: "ACHIEVEMENT", id: "g_cat_reader", change: "ADDED", qualifying: 2 },
        { object: "LEVEL", id: "g_cat_level", change: "ADDED", qualifying: 1 },
      ]);
      expect(applied.backfillRun).toEqual({ achievementIds: ["g_cat_reader"], levels: ["g_cat_level"], notify: true, batchSize: 50, state: "pending", usersTotal: 3 });
      expect(applied.plan.summary).toMatch(/Backfill \d+ started/);
      const [{ id }] = await tx.root<{ id: string }>("select max(id)::text as id from status_private.backfill_runs");
      while ((await tx.root<{ more: boolean }>("select status_private.backfill_batch($1, 1000) as more", [id]))[0].more);
      expect(await tx.root("select unlocks, levels_achieved from status_public.backfill_runs where id = $1", [id])).toEqual([{ unlocks: 2, levels_achieved: 1 }]);

      // Without the option (the default): the catalog only.
      const plain = (await ok(tx, admin, APPLY, { catalog: withReader(text).replace("  achievements: {\n", "  achievements: {\n    g_cat_other: { name: 'Other', criteria: [{ kind: 'count', action: 'g_cat_read', threshold: 1 }] },\n") })).applyCatalog;
      expect(plain.backfillRun).toBeNull();
      expect(plain.plan.summary).toContain("Applying changes the catalog only, unless with a backfill");
    }));
});

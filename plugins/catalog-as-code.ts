// Catalog as code over GraphQL: `planCatalog` and `applyCatalog` for admins, the same code as
// `npm run catalog` (src/catalog/), on the request's own connection: the admin's role, claims, grants and RLS.
// Other roles cannot run it: the plan's statements and the impact functions are the admin's alone.
// `applyCatalog(input: { backfill: true })` also starts a backfill in the apply's transaction (run afterwards by
// the server's backfill worker, src/backfill-worker.ts) and returns it as `backfillRun` (startBackfill's type).
import { type PgClient, sideEffectWithPgClientTransaction } from "postgraphile/@dataplan/pg";
import { access, type FieldArgs, object, SafeError } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { achievementsExecutor, achievementsResource } from "../src/achievements-schema";
import { applyCatalog } from "../src/catalog/apply";
import { CatalogError, parseCatalog } from "../src/catalog/file";
import { type CatalogDatabase, lockCatalog } from "../src/catalog/live";
import { type CatalogOptions, type CatalogPlan, planCatalog } from "../src/catalog/plan";
import { formatPlan } from "../src/catalog/report";

const asCatalogDatabase = (client: PgClient): CatalogDatabase => ({
  query: async <Row>(text: string, values: unknown[] = []) => [...(await client.query<Row & object>({ text, values })).rows],
});

/** A catalog that cannot be applied, as a coded error that lists every problem (path, line, column). */
function codedError(error: unknown): unknown {
  if (!(error instanceof CatalogError)) return error;
  return new SafeError(error.message, { code: error.code, problems: error.problems });
}

/** The plan as GraphQL returns it: enums in upper case, values as JSON, and the CLI's text. */
const planResult = (plan: CatalogPlan) => ({
  applied: plan.applied,
  changes: plan.changes.map((change) => ({ ...change, object: change.object.toUpperCase(), change: change.change.toUpperCase(), refused: change.refused ?? false })),
  tierMoves: plan.tierMoves,
  summary: formatPlan(plan),
  backfillRun: plan.backfillRun ?? null,
});

interface Args {
  catalog: unknown;
  heldAchievements?: "REFUSE" | "RETIRE" | null;
  backfill?: boolean | null;
  notify?: boolean | null;
  batchSize?: number | null;
}

export const CatalogAsCodePlugin = extendSchema((build) => {
  const executor = achievementsExecutor(build.input.pgRegistry, "CatalogAsCodePlugin");
  const backfillRuns = achievementsResource(build.input.pgRegistry, "backfill_runs", "CatalogAsCodePlugin");
  // In one transaction of the request's connection. The lock comes first: it needs the admin's DELETE grant on
  // the catalog tables, so any other role is refused (FORBIDDEN) before its catalog is even read.
  const run = (work: (db: CatalogDatabase, wanted: ReturnType<typeof parseCatalog>, options: CatalogOptions) => Promise<CatalogPlan>) =>
    async (client: PgClient, args: Args) => {
      const db = asCatalogDatabase(client);
      await lockCatalog(db);
      try {
        const wanted = parseCatalog(args.catalog);
        const options: CatalogOptions = {
          heldAchievements: args.heldAchievements === "RETIRE" ? "retire" : "refuse",
          backfill: args.backfill ? { notify: args.notify ?? false, batchSize: args.batchSize ?? 500 } : undefined,
        };
        return planResult(await work(db, wanted, options));
      } catch (error) {
        throw codedError(error);
      }
    };
  const argsOf = (fieldArgs: FieldArgs, path: string[] = [], backfill = false) => ({
    catalog: fieldArgs.getRaw([...path, "catalog"]),
    heldAchievements: fieldArgs.getRaw([...path, "heldAchievements"]),
    ...(backfill
      ? { backfill: fieldArgs.getRaw([...path, "backfill"]), notify: fieldArgs.getRaw([...path, "notify"]), batchSize: fieldArgs.getRaw([...path, "batchSize"]) }
      : {}),
  });

  return {
    typeDefs: gql`
      "What a catalog file declares."
      enum CatalogObject {
        ACTION
        ACHIEVEMENT
        TIER
        LEVEL
      }

      enum CatalogChangeKind {
        ADDED
        CHANGED
        REMOVED
        "Removed from the file while users hold it: kept (with their unlocks), no longer unlocking, seen only by its holders."
        RETIRED
        "A retired achievement declared again."
        REVIVED
      }

      "What to do with an achievement the catalog removes while users hold it."
      enum CatalogHeldAchievements {
        "Refuse the apply (CATALOG_DESTRUCTIVE_CHANGE)."
        REFUSE
        "Retire it: the unlocks and their points stay, it no longer unlocks, only its holders see it."
        RETIRE
      }

      type CatalogFieldChange {
        "The field: name, points, criteria[streak logins].threshold, requirements.make_post.requiredCount, ..."
        field: String!
        "Before (null: not there)."
        from: JSON
        "After (null: removed)."
        to: JSON
      }

      type CatalogChange {
        object: CatalogObject!
        "The object's id: an action's or tier's or level's name, an achievement's id."
        id: String!
        change: CatalogChangeKind!
        fields: [CatalogFieldChange!]!
        "Achievements: users who hold it; levels: users who achieved it."
        holders: Int
        "Users who do not hold it and whose past steps met it (in its availability window; a level's requirements): what a backfill awards them, counted by the backfill's own functions."
        qualifying: Int
        "What the qualifying users would be awarded."
        points: Int
        "A removal refused: users hold it and heldAchievements is REFUSE (or it is a level)."
        refused: Boolean!
      }

      type CatalogTierMove {
        "Null: no tier."
        fromTier: String
        toTier: String
        users: Int!
      }

      type CatalogPlan {
        "True from applyCatalog: the changes were written."
        applied: Boolean!
        changes: [CatalogChange!]!
        "Users whose tier differs from what their points give under the new tiers (when tiers change)."
        tierMoves: [CatalogTierMove!]!
        "The plan as npm run catalog prints it."
        summary: String!
      }

      extend type Query {
        """
        Admins: what applying this catalog would change, and the impact on users. Nothing is written.
        catalog: the file's value, or its JSON5 text as a string (errors then carry line and column).
        An invalid catalog: error CATALOG_INVALID with extensions.problems.
        """
        planCatalog(catalog: JSON!, heldAchievements: CatalogHeldAchievements = REFUSE): CatalogPlan
      }

      input ApplyCatalogInput {
        "The file's value, or its JSON5 text as a string."
        catalog: JSON!
        heldAchievements: CatalogHeldAchievements = REFUSE
        "Also start a backfill of the achievements and levels the apply adds or changes (their qualifying users), re-tiering after; run by the server's backfill worker. Default: none (startBackfill later)."
        backfill: Boolean = false
        "With backfill: notify users of what it awards (live toasts). Default: quietly, with the run's summary only."
        notify: Boolean = false
        "With backfill: users per transaction (1 to 10000)."
        batchSize: Int = 500
      }

      type ApplyCatalogPayload {
        plan: CatalogPlan!
        "The backfill the apply started (backfill: true and something to backfill), pending until the worker runs it: poll backfillRunById."
        backfillRun: BackfillRun
      }

      extend type Mutation {
        """
        Admins: applies the catalog in one transaction (again: no changes). Removing an achievement users hold
        fails with CATALOG_DESTRUCTIVE_CHANGE unless heldAchievements is RETIRE. With backfill: true, starts a backfill
        of what it added or changed (backfillRun), committed with the apply.
        """
        applyCatalog(input: ApplyCatalogInput!): ApplyCatalogPayload
      }
    `,
    objects: {
      Query: {
        plans: {
          planCatalog(_: unknown, fieldArgs: FieldArgs) {
            return sideEffectWithPgClientTransaction(executor, argsOf(fieldArgs), run(planCatalog));
          },
        },
      },
      Mutation: {
        plans: {
          applyCatalog(_: unknown, fieldArgs: FieldArgs) {
            const $plan = sideEffectWithPgClientTransaction(executor, argsOf(fieldArgs, ["input"], true), run(applyCatalog));
            // Read after the apply's transaction, through the view's resource (the admin's grant on it).
            return object({ plan: $plan, backfillRun: backfillRuns.get({ id: access($plan, "backfillRun") }) });
          },
        },
      },
    },
  };
});

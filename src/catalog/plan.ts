// What applying a catalog would change, object by object and field by field, and what it means for real
// users: who would unlock an achievement now, who would achieve a level, who would change tier. The counts
// come from the database after the changes are made in the caller's transaction (a plan then rolls them
// back), through the engine's own functions: the backfill's (status_private.backfill_awards and
// backfill_level_awards, via status_public.catalog_unlock_impact and catalog_level_impact), so that "qualifying" is
// what a backfill then awards, and tier_for (via catalog_tier_impact). An apply may start that backfill.
import {
  type AchievementDefinition,
  type ActionDefinition,
  type Catalog,
  CatalogError,
  type CriterionDefinition,
  criterionKey,
  type LevelDefinition,
  type TierDefinition,
} from "./file";
import { type CatalogDatabase, type LiveCatalog, lockCatalog, readLiveCatalog } from "./live";
import { writeChanges } from "./write";

export type CatalogObject = "action" | "achievement" | "tier" | "level";
export type ChangeKind = "added" | "changed" | "removed" | "retired" | "revived";

export interface FieldChange {
  field: string;
  /** null: not there before (or the field's value is null). */
  from: unknown;
  to: unknown;
}

export interface CatalogChange {
  object: CatalogObject;
  id: string;
  change: ChangeKind;
  fields: FieldChange[];
  /** Achievements: the users who hold it; levels: the users who achieved it (for changes and removals). */
  holders?: number;
  /**
   * Added or revived, or criteria or availability changed: the users who do not hold it and whose past steps
   * met it (in its availability window; a level's requirements), counted by the backfill's own functions: what a
   * backfill (applyCatalog with backfill, npm run backfill) awards.
   */
  qualifying?: number;
  /** Achievements: what the qualifying users would be awarded (qualifying x points). */
  points?: number;
  /** A removal refused: users hold it and the apply did not say what to do with their unlocks. */
  refused?: boolean;
}

export interface TierMove {
  /** null: no tier (below the lowest, or the tier was removed). */
  fromTier: string | null;
  toTier: string | null;
  users: number;
}

/** What to do with an achievement that the file removes while users hold it. */
export type HeldAchievements = "refuse" | "retire";

export interface CatalogOptions {
  /** Default "refuse": the apply fails with CATALOG_DESTRUCTIVE_CHANGE; "retire" keeps the unlocks (README). */
  heldAchievements?: HeldAchievements;
  /**
   * An apply only: start a backfill (status_public.start_backfill, in the apply's transaction) of the achievements
   * and levels whose `qualifying` it measured, re-tiering after, when anything qualifies or tiers change.
   */
  backfill?: { notify?: boolean; batchSize?: number };
}

export interface CatalogPlan {
  /** Whether the catalog was written (applyCatalog) or only planned. */
  applied: boolean;
  changes: CatalogChange[];
  /** Users whose tier differs from what their points give under the new tiers (only when tiers change). */
  tierMoves: TierMove[];
  /** The backfill the apply started (options.backfill), pending until the server's worker or the CLI runs it. */
  backfillRun?: number;
}

const ACTION_FIELDS = ["description", "clientReportable", "maxAmount", "ranked"] as const satisfies (keyof ActionDefinition)[];
const ACHIEVEMENT_FIELDS = [
  "name",
  "description",
  "points",
  "icon",
  "kind",
  "hidden",
  "availableFrom",
  "availableUntil",
  "position",
] as const satisfies (keyof AchievementDefinition)[];
const TIER_FIELDS = ["minPoints", "badge"] as const satisfies (keyof TierDefinition)[];
/** Fields whose change can make users qualify who did not (or stop them): the impact is computed for these. */
const QUALIFYING_FIELDS = new Set(["availableFrom", "availableUntil"]);

function fieldChanges<T extends object>(before: T | undefined, after: T | undefined, fields: readonly (keyof T & string)[], prefix = ""): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of fields) {
    const from = before ? before[field] : null;
    const to = after ? after[field] : null;
    if (from !== to) changes.push({ field: prefix + field, from, to });
  }
  return changes;
}

/** `count tasks_completed >= 10`, `streak (any activity) >= 7 days`, `time_of_day logins in [0, 6)`. */
export function describeCriterion(criterion: CriterionDefinition): string {
  const key = criterionKey(criterion.kind, criterion.action);
  if (criterion.kind === "time_of_day") return `${key} in [${criterion.hourFrom}, ${criterion.hourUntil})`;
  return `${key} >= ${criterion.threshold}${criterion.kind === "streak" ? " days" : ""}`;
}

function criteriaChanges(before: CriterionDefinition[], after: CriterionDefinition[]): FieldChange[] {
  const changes: FieldChange[] = [];
  const byKey = (criteria: CriterionDefinition[]) => new Map(criteria.map((criterion) => [criterionKey(criterion.kind, criterion.action), criterion]));
  const old = byKey(before);
  const wanted = byKey(after);
  for (const [key, criterion] of old) if (!wanted.has(key)) changes.push({ field: `criteria[${key}]`, from: describeCriterion(criterion), to: null });
  for (const [key, criterion] of wanted) {
    const previous = old.get(key);
    if (!previous) changes.push({ field: `criteria[${key}]`, from: null, to: describeCriterion(criterion) });
    else changes.push(...fieldChanges(previous, criterion, ["threshold", "hourFrom", "hourUntil"], `criteria[${key}].`));
  }
  // Two rows of one kind and action (possible through row-by-row admin edits): the second is removed.
  if (before.length > old.size) changes.push({ field: "criteria", from: `${before.length - old.size} duplicate criteria`, to: null });
  return changes;
}

function achievementChanges(before: AchievementDefinition | undefined, after: AchievementDefinition | undefined): FieldChange[] {
  return [...fieldChanges(before, after, ACHIEVEMENT_FIELDS), ...criteriaChanges(before?.criteria ?? [], after?.criteria ?? [])];
}

function levelChanges(before: LevelDefinition | undefined, after: LevelDefinition | undefined): FieldChange[] {
  const changes: FieldChange[] = [];
  const old = before?.requirements ?? {};
  const wanted = after?.requirements ?? {};
  for (const step of Object.keys(old)) if (!(step in wanted)) changes.push({ field: `requirements.${step}`, from: old[step], to: null });
  for (const [step, requirement] of Object.entries(wanted)) {
    if (!(step in old)) changes.push({ field: `requirements.${step}`, from: null, to: requirement });
    else changes.push(...fieldChanges(old[step], requirement, ["requiredCount", "priority"], `requirements.${step}.`));
  }
  return changes;
}

/** Every difference between the live catalog and the wanted one, in the order a reader expects. */
export function diffCatalog(live: LiveCatalog, wanted: Catalog): CatalogChange[] {
  const changes: CatalogChange[] = [];
  const diff = <T>(object: CatalogObject, before: Record<string, T>, after: Record<string, T>, fieldsOf: (before?: T, after?: T) => FieldChange[]) => {
    for (const [id, definition] of Object.entries(after)) {
      const fields = fieldsOf(before[id], definition);
      if (!(id in before)) changes.push({ object, id, change: "added", fields });
      else if (fields.length > 0) changes.push({ object, id, change: "changed", fields });
    }
    for (const [id, definition] of Object.entries(before)) if (!(id in after)) changes.push({ object, id, change: "removed", fields: fieldsOf(definition, undefined) });
  };
  diff("action", live.catalog.actions, wanted.actions, (before, after) => fieldChanges(before, after, ACTION_FIELDS));
  // A retired achievement that the file declares again is revived: compared with what it was.
  const achievements = { ...live.catalog.achievements };
  for (const [id, retired] of live.retired) if (id in wanted.achievements) achievements[id] = { ...retired, criteria: [] };
  diff("achievement", achievements, wanted.achievements, achievementChanges);
  for (const change of changes) {
    if (change.object === "achievement" && change.change !== "removed" && live.retired.has(change.id)) {
      change.change = "revived";
      change.fields.push({ field: "retired", from: true, to: false });
    }
  }
  diff("tier", live.catalog.tiers, wanted.tiers, (before, after) => fieldChanges(before, after, TIER_FIELDS));
  diff("level", live.catalog.levels, wanted.levels, levelChanges);
  return changes;
}

const countsBy = async (db: CatalogDatabase, sql: string, ids: string[]): Promise<Map<string, number>> =>
  new Map((await db.query<{ id: string; n: number }>(sql, [ids])).map((row) => [row.id, row.n]));

/** Holders of the changed and removed achievements and levels: a removal of something held is refused or retires. */
async function countHolders(db: CatalogDatabase, changes: CatalogChange[], options: CatalogOptions): Promise<void> {
  const ids = (object: CatalogObject) => changes.filter((c) => c.object === object && (c.change === "changed" || c.change === "removed")).map((c) => c.id);
  const achievements = await countsBy(
    db,
    "select achievement_id as id, count(*)::integer as n from status_public.achievement_unlocks where achievement_id = any($1) group by 1",
    ids("achievement"),
  );
  const levels = await countsBy(db, "select level as id, count(*)::integer as n from status_public.user_levels where level = any($1) group by 1", ids("level"));
  for (const change of changes) {
    if (change.change !== "changed" && change.change !== "removed") continue;
    if (change.object === "achievement") change.holders = achievements.get(change.id) ?? 0;
    else if (change.object === "level") change.holders = levels.get(change.id) ?? 0;
    else continue;
    if (change.change === "removed" && change.holders! > 0) {
      // Levels have no retired state: one that users achieved stays until they are no longer wanted (README).
      if (change.object === "achievement" && options.heldAchievements === "retire") change.change = "retired";
      else change.refused = true;
    }
  }
}

/** Changes that can make users qualify: the impact is measured, and a backfill covers them. */
const qualifies = (change: CatalogChange) =>
  change.change === "added" ||
  change.change === "revived" ||
  (change.change === "changed" && change.fields.some((f) => QUALIFYING_FIELDS.has(f.field) || f.field.startsWith("criteria") || f.field.startsWith("requirements")));

/** The impact, read after the changes are written in this transaction. */
async function measureImpact(db: CatalogDatabase, wanted: Catalog, changes: CatalogChange[]): Promise<TierMove[]> {
  const achievements = changes.filter((c) => c.object === "achievement" && qualifies(c));
  if (achievements.length > 0) {
    const rows = await db.query<{ achievement_id: string; holders: number; qualifying: number }>(
      "select achievement_id, holders, qualifying from status_public.catalog_unlock_impact($1)",
      [achievements.map((c) => c.id)],
    );
    const byId = new Map(rows.map((row) => [row.achievement_id, row]));
    for (const change of achievements) {
      const row = byId.get(change.id);
      change.holders = row?.holders ?? 0;
      change.qualifying = row?.qualifying ?? 0;
      change.points = change.qualifying * wanted.achievements[change.id].points;
    }
  }
  const levels = changes.filter((c) => c.object === "level" && qualifies(c));
  if (levels.length > 0) {
    const rows = await db.query<{ level: string; holders: number; qualifying: number }>(
      "select level, holders, qualifying from status_public.catalog_level_impact($1)",
      [levels.map((c) => c.id)],
    );
    const byName = new Map(rows.map((row) => [row.level, row]));
    for (const change of levels) {
      change.holders = byName.get(change.id)?.holders ?? 0;
      change.qualifying = byName.get(change.id)?.qualifying ?? 0;
    }
  }
  if (!changes.some((c) => c.object === "tier")) return [];
  return db.query<TierMove>('select from_tier as "fromTier", to_tier as "toTier", users from status_public.catalog_tier_impact()');
}

/**
 * Reads, diffs, writes and measures, in the caller's transaction (as the admin role). With `apply` false the
 * caller rolls the writes back; with it true a refused removal throws before anything is written.
 */
export async function runCatalog(db: CatalogDatabase, wanted: Catalog, options: CatalogOptions, apply: boolean): Promise<CatalogPlan> {
  await lockCatalog(db);
  const live = await readLiveCatalog(db);
  const changes = diffCatalog(live, wanted);
  await countHolders(db, changes, options);
  const refused = changes.filter((change) => change.refused);
  if (apply && refused.length > 0) {
    throw new CatalogError(
      "CATALOG_DESTRUCTIVE_CHANGE",
      refused.map((change) => ({
        path: `${change.object === "achievement" ? "achievements" : "levels"}.${change.id}`,
        message:
          change.object === "achievement"
            ? `achievement ${change.id} is removed but ${change.holders} users hold it: keep it, or apply with heldAchievements "retire" (--held-achievements=retire) to retire it and keep their unlocks`
            : `level ${change.id} is removed but ${change.holders} users achieved it: keep it in the catalog (levels cannot be retired)`,
      })),
    );
  }
  await writeChanges(db, live, wanted, changes);
  const tierMoves = await measureImpact(db, wanted, changes);
  const plan: CatalogPlan = { applied: apply, changes, tierMoves };
  if (apply && options.backfill) plan.backfillRun = await startBackfill(db, changes, options.backfill);
  return plan;
}

/** The apply's backfill: its qualifying achievements and levels, and the tiers; none when nothing can change. */
async function startBackfill(db: CatalogDatabase, changes: CatalogChange[], backfill: NonNullable<CatalogOptions["backfill"]>): Promise<number | undefined> {
  const ids = (object: CatalogObject) => changes.filter((c) => c.object === object && qualifies(c)).map((c) => c.id);
  const [achievements, levels] = [ids("achievement"), ids("level")];
  if (achievements.length === 0 && levels.length === 0 && !changes.some((c) => c.object === "tier")) return undefined;
  const [run] = await db.query<{ id: string }>("select (status_public.start_backfill($1, $2, $3, $4)).id", [
    achievements,
    levels,
    backfill.notify ?? false,
    backfill.batchSize ?? 500,
  ]);
  return Number(run.id);
}

/** The plan: everything is written in a savepoint, measured, and rolled back. Nothing is applied. */
export async function planCatalog(db: CatalogDatabase, wanted: Catalog, options: CatalogOptions = {}): Promise<CatalogPlan> {
  await db.query("savepoint catalog_plan");
  try {
    return await runCatalog(db, wanted, options, false);
  } finally {
    await db.query("rollback to savepoint catalog_plan");
    await db.query("release savepoint catalog_plan");
  }
}

// The statements of a catalog change, as the admin role (its column grants and RLS apply): only the rows
// and columns that differ are written, so applying a catalog twice writes nothing the second time.
import type { Catalog, CriterionDefinition } from "./file";
import { criterionKey } from "./file";
import type { CatalogDatabase, LiveCatalog } from "./live";
import type { CatalogChange, CatalogObject } from "./plan";

type Columns = Record<string, unknown>;

const ACTION_COLUMNS = { description: "description", clientReportable: "client_reportable", maxAmount: "max_amount", ranked: "ranked" } as const;
const ACHIEVEMENT_COLUMNS = {
  name: "name",
  description: "description",
  points: "points",
  icon: "icon",
  kind: "kind",
  hidden: "hidden",
  availableFrom: "available_from",
  availableUntil: "available_until",
  position: '"position"',
} as const;
const TIER_COLUMNS = { minPoints: "min_points", badge: "badge" } as const;
const REQUIREMENT_COLUMNS = { requiredCount: "required_count", priority: "priority" } as const;
const CRITERION_COLUMNS = { threshold: "threshold", hourFrom: "hour_from", hourUntil: "hour_until" } as const;

/** The columns of `definition` under `names` (field -> column). */
function columnsOf<T extends object>(definition: T, names: Partial<Record<keyof T, string>>, only?: Set<string>): Columns {
  const columns: Columns = {};
  for (const [field, column] of Object.entries(names) as [keyof T & string, string][]) {
    if (!only || only.has(field)) columns[column] = definition[field];
  }
  return columns;
}

async function insert(db: CatalogDatabase, table: string, columns: Columns): Promise<void> {
  const names = Object.keys(columns);
  await db.query(`insert into ${table} (${names.join(", ")}) values (${names.map((_, i) => `$${i + 1}`).join(", ")})`, Object.values(columns));
}

async function update(db: CatalogDatabase, table: string, key: Columns, columns: Columns): Promise<void> {
  const names = Object.keys(columns);
  if (names.length === 0) return;
  const keys = Object.keys(key);
  await db.query(
    `update ${table} set ${names.map((name, i) => `${name} = $${i + 1}`).join(", ")} where ${keys.map((name, i) => `${name} = $${names.length + i + 1}`).join(" and ")}`,
    [...Object.values(columns), ...Object.values(key)],
  );
}

/** The top-level fields a change touches (`criteria[count x].threshold` counts as criteria). */
const touched = (change: CatalogChange) => new Set(change.fields.map((field) => field.field.split(/[.[]/)[0]));

async function writeCriteria(db: CatalogDatabase, live: LiveCatalog, achievementId: string, wanted: CriterionDefinition[]): Promise<void> {
  const rows = live.criteria.get(achievementId) ?? [];
  const wantedByKey = new Map(wanted.map((criterion) => [criterionKey(criterion.kind, criterion.action), criterion]));
  const kept = new Set<string>();
  for (const row of rows) {
    const key = criterionKey(row.kind, row.action);
    const criterion = wantedByKey.get(key);
    if (!criterion || kept.has(key)) {
      await db.query("delete from status_public.achievement_criteria where id = $1", [row.id]);
      continue;
    }
    kept.add(key);
    const changed = new Set((Object.keys(CRITERION_COLUMNS) as (keyof typeof CRITERION_COLUMNS)[]).filter((field) => row[field] !== criterion[field]));
    await update(db, "status_public.achievement_criteria", { id: row.id }, columnsOf(criterion, CRITERION_COLUMNS, changed));
  }
  for (const [key, criterion] of wantedByKey) {
    if (kept.has(key)) continue;
    await insert(db, "status_public.achievement_criteria", {
      achievement_id: achievementId,
      kind: criterion.kind,
      action: criterion.action,
      ...columnsOf(criterion, CRITERION_COLUMNS),
    });
  }
}

/** Writes `changes` (from diffCatalog), in an order the foreign keys and unique keys accept. */
export async function writeChanges(db: CatalogDatabase, live: LiveCatalog, wanted: Catalog, changes: CatalogChange[]): Promise<void> {
  const of = (object: CatalogObject, ...kinds: CatalogChange["change"][]) => changes.filter((c) => c.object === object && kinds.includes(c.change) && !c.refused);

  // Actions first: criteria reference them.
  for (const change of of("action", "added")) await insert(db, "status_public.actions", { name: change.id, ...columnsOf(wanted.actions[change.id], ACTION_COLUMNS) });
  for (const change of of("action", "changed")) {
    await update(db, "status_public.actions", { name: change.id }, columnsOf(wanted.actions[change.id], ACTION_COLUMNS, touched(change)));
  }

  for (const change of of("achievement", "added")) {
    await insert(db, "status_public.achievements", { id: change.id, ...columnsOf(wanted.achievements[change.id], ACHIEVEMENT_COLUMNS) });
  }
  for (const change of of("achievement", "changed", "revived")) {
    const columns = columnsOf(wanted.achievements[change.id], ACHIEVEMENT_COLUMNS, touched(change));
    await update(db, "status_public.achievements", { id: change.id }, change.change === "revived" ? { ...columns, retired_at: null } : columns);
  }
  for (const change of of("achievement", "added", "changed", "revived")) {
    if (touched(change).has("criteria")) await writeCriteria(db, live, change.id, wanted.achievements[change.id].criteria);
  }
  for (const change of of("achievement", "removed")) await db.query("delete from status_public.achievements where id = $1", [change.id]);
  // Retired: the unlocks stay; without criteria it never unlocks again; hidden, only its holders see it.
  for (const change of of("achievement", "retired")) {
    await db.query("delete from status_public.achievement_criteria where achievement_id = $1", [change.id]);
    await db.query("update status_public.achievements set hidden = true, retired_at = now() where id = $1", [change.id]);
  }
  // After the criteria that named them are gone.
  for (const change of of("action", "removed")) await db.query("delete from status_public.actions where name = $1", [change.id]);

  // Tiers: removals free their minPoints; when a changed tier takes the minPoints another one still has,
  // the changed ones step aside first (minPoints is unique and not deferrable).
  for (const change of of("tier", "removed")) await db.query("delete from status_public.tiers where name = $1", [change.id]);
  const moved = of("tier", "changed").filter((change) => touched(change).has("minPoints"));
  const movedNames = new Set(moved.map((change) => change.id));
  const taken = new Set(
    Object.entries(live.catalog.tiers)
      .filter(([name]) => name in wanted.tiers)
      .map(([, tier]) => tier.minPoints),
  );
  if (moved.some((change) => taken.has(wanted.tiers[change.id].minPoints))) {
    let aside = 2147483647;
    for (const name of movedNames) await update(db, "status_public.tiers", { name }, { min_points: aside-- });
  }
  for (const change of of("tier", "changed")) {
    await update(db, "status_public.tiers", { name: change.id }, columnsOf(wanted.tiers[change.id], TIER_COLUMNS, touched(change)));
  }
  for (const change of of("tier", "added")) await insert(db, "status_public.tiers", { name: change.id, ...columnsOf(wanted.tiers[change.id], TIER_COLUMNS) });

  for (const change of of("level", "added")) await insert(db, "status_public.levels", { name: change.id });
  for (const change of of("level", "added", "changed")) {
    const old = live.catalog.levels[change.id]?.requirements ?? {};
    const requirements = wanted.levels[change.id].requirements;
    for (const step of Object.keys(old)) {
      if (!(step in requirements)) await db.query("delete from status_public.level_requirements where level = $1 and name = $2", [change.id, step]);
    }
    for (const [step, requirement] of Object.entries(requirements)) {
      if (!(step in old)) {
        await insert(db, "status_public.level_requirements", { name: step, level: change.id, ...columnsOf(requirement, REQUIREMENT_COLUMNS) });
      } else {
        const changed = new Set((Object.keys(REQUIREMENT_COLUMNS) as (keyof typeof REQUIREMENT_COLUMNS)[]).filter((field) => old[step][field] !== requirement[field]));
        await update(db, "status_public.level_requirements", { level: change.id, name: step }, columnsOf(requirement, REQUIREMENT_COLUMNS, changed));
      }
    }
  }
  for (const change of of("level", "removed")) await db.query("delete from status_public.levels where name = $1", [change.id]);
}

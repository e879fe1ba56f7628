// The catalog as the database holds it, read as the admin role (RLS lets admins see every catalog row).
import type { AchievementDefinition, AchievementKind, Catalog, CriterionDefinition, CriterionKind } from "./file";

/**
 * A connection inside a transaction, as the admin role: the CLI's pg client (src/cli.ts) or the GraphQL
 * request's (plugins/catalog-as-code.ts). The catalog code never begins or ends the transaction itself.
 */
export interface CatalogDatabase {
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
}

export interface LiveCriterion extends CriterionDefinition {
  id: string;
}

export interface LiveCatalog {
  /** What is in play (retired achievements left out): what `export` writes. */
  catalog: Catalog;
  /** The criteria rows, by achievement id, with their ids (a change updates the row in place). */
  criteria: Map<string, LiveCriterion[]>;
  /** Retired achievements (removed while held): a file that declares one again revives it. */
  retired: Map<string, AchievementDefinition>;
}

/** The catalog tables, locked against concurrent catalog changes (not against the event path, which only reads them). */
const CATALOG_TABLES = [
  "status_public.actions",
  "status_public.achievements",
  "status_public.achievement_criteria",
  "status_public.tiers",
  "status_public.levels",
  "status_public.level_requirements",
];

/**
 * Share row exclusive: one catalog change at a time (a plan and an apply see the same catalog throughout), while
 * reads and the event path's foreign key checks (row share) go on.
 */
export async function lockCatalog(db: CatalogDatabase): Promise<void> {
  await db.query(`lock table ${CATALOG_TABLES.join(", ")} in share row exclusive mode`);
}

interface AchievementRow {
  id: string;
  name: string;
  description: string;
  points: number;
  icon: string | null;
  kind: AchievementKind;
  hidden: boolean;
  available_from: Date | null;
  available_until: Date | null;
  position: number;
  retired: boolean;
}

export async function readLiveCatalog(db: CatalogDatabase): Promise<LiveCatalog> {
  const live: LiveCatalog = { catalog: { actions: {}, achievements: {}, tiers: {}, levels: {} }, criteria: new Map(), retired: new Map() };
  const { catalog } = live;
  for (const row of await db.query<{ name: string; description: string; client_reportable: boolean; max_amount: number; ranked: boolean }>(
    "select name, description, client_reportable, max_amount, ranked from status_public.actions order by name",
  )) {
    catalog.actions[row.name] = { description: row.description, clientReportable: row.client_reportable, maxAmount: row.max_amount, ranked: row.ranked };
  }
  const criteria = await db.query<{ id: string; achievement_id: string; kind: CriterionKind; action: string | null; threshold: number | null; hour_from: number | null; hour_until: number | null }>(
    `select id, achievement_id, kind::text as kind, action, threshold, hour_from, hour_until from status_public.achievement_criteria
     order by achievement_id, kind, action nulls first, id`,
  );
  for (const row of criteria) {
    const list = live.criteria.get(row.achievement_id) ?? [];
    list.push({ id: row.id, kind: row.kind, action: row.action, threshold: row.threshold, hourFrom: row.hour_from, hourUntil: row.hour_until });
    live.criteria.set(row.achievement_id, list);
  }
  for (const row of await db.query<AchievementRow>(
    `select id, name, description, points, icon, kind::text as kind, hidden, available_from, available_until, position, retired_at is not null as retired
     from status_public.achievements order by position, id`,
  )) {
    const definition: AchievementDefinition = {
      name: row.name,
      description: row.description,
      points: row.points,
      icon: row.icon,
      kind: row.kind,
      hidden: row.hidden,
      availableFrom: row.available_from?.toISOString() ?? null,
      availableUntil: row.available_until?.toISOString() ?? null,
      position: row.position,
      criteria: (live.criteria.get(row.id) ?? []).map(({ id: _id, ...criterion }) => criterion),
    };
    if (row.retired) live.retired.set(row.id, definition);
    else catalog.achievements[row.id] = definition;
  }
  for (const row of await db.query<{ name: string; min_points: number; badge: string }>("select name, min_points, badge from status_public.tiers order by min_points")) {
    catalog.tiers[row.name] = { minPoints: row.min_points, badge: row.badge };
  }
  for (const row of await db.query<{ name: string }>("select name from status_public.levels order by name")) {
    catalog.levels[row.name] = { requirements: {} };
  }
  for (const row of await db.query<{ name: string; level: string; required_count: number; priority: number }>(
    "select name, level, required_count, priority from status_public.level_requirements order by level, priority, id",
  )) {
    catalog.levels[row.level].requirements[row.name] = { requiredCount: row.required_count, priority: row.priority };
  }
  return live;
}

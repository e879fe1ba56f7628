// Applying a catalog: the plan's changes, written in the caller's transaction (as the admin role), which the
// caller commits. A removal of something users hold is refused (CATALOG_DESTRUCTIVE_CHANGE) before anything
// is written, unless the options say what to do with their unlocks. Applying the same catalog again writes
// nothing. With `options.backfill`, a backfill of what it added or changed (awarding users who already qualify,
// re-tiering) is started in the same transaction, for the server's worker or the CLI to run (src/backfill.ts).
import type { Catalog } from "./file";
import type { CatalogDatabase } from "./live";
import { type CatalogOptions, type CatalogPlan, runCatalog } from "./plan";

export function applyCatalog(db: CatalogDatabase, wanted: Catalog, options: CatalogOptions = {}): Promise<CatalogPlan> {
  return runCatalog(db, wanted, options, true);
}

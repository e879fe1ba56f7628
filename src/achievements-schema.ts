// Where our objects live in an app's PostGraphile registry, whatever the app names its pgService, in
// whichever position `status_public` sits among its schemas, and whatever inflection it uses.
import type { PgExecutor, PgResource } from "postgraphile/@dataplan/pg";

/** The PostgreSQL schema PostGraphile exposes: add these to your pgService's `schemas`. */
export const ACHIEVEMENTS_SCHEMA = "status_public";
export const ACHIEVEMENTS_SCHEMAS: readonly string[] = [ACHIEVEMENTS_SCHEMA];

type Registry = GraphileBuild.Build["input"]["pgRegistry"];
// `any`: the registry is not typed per table here; callers use the attributes of a unique key of each.
type AnyResource = PgResource<any, any, any, any, any>;

/** The resource of our table (or function) `name`, found by its PostgreSQL schema and name. */
export function achievementsResource(registry: Registry, name: string, pluginName: string): AnyResource {
  const found = Object.values(registry.pgResources).find(
    (resource) => resource.extensions?.pg?.schemaName === ACHIEVEMENTS_SCHEMA && resource.extensions.pg.name === name,
  );
  if (!found) {
    throw new Error(`${pluginName}: no ${ACHIEVEMENTS_SCHEMA}.${name} in the schema: add ACHIEVEMENTS_SCHEMAS to your pgService's schemas`);
  }
  return found as AnyResource;
}

/** The executor (the pgService) that serves our schema. */
export function achievementsExecutor(registry: Registry, pluginName: string): PgExecutor {
  return achievementsResource(registry, "achievements", pluginName).executor;
}

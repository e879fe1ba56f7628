// The live catalog as a catalog file: what `plan` then reports as no changes. Fields at their defaults are
// left out, as a person would write the file; retired achievements are not part of the catalog.
import { randomUUID } from "node:crypto";
import { relative, sep } from "node:path";
import JSON5 from "json5";
import { type AchievementDefinition, type Catalog, CATALOG_SCHEMA_PATH, type CriterionDefinition } from "./file";
import { type CatalogDatabase, readLiveCatalog } from "./live";

/** A string no catalog holds, standing in for a criterion while the file is laid out. */
const STAND_IN = `criterion-${randomUUID()}-`;

/** Drops the entries of `value` that equal `defaults`. */
function withoutDefaults<T extends object>(value: T, defaults: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([key, field]) => defaults[key as keyof T] !== field)) as Partial<T>;
}

/** Without its null fields (a streak's null action: any activity). */
function criterionInFile(criterion: CriterionDefinition): Record<string, unknown> {
  return Object.fromEntries(Object.entries(criterion).filter(([, value]) => value !== null));
}

function achievementInFile({ criteria, ...achievement }: AchievementDefinition): Record<string, unknown> {
  const fields = withoutDefaults(achievement, { description: "", points: 0, icon: null, kind: "milestone", hidden: false, availableFrom: null, availableUntil: null, position: 0 });
  return { ...fields, criteria: criteria.map(criterionInFile) };
}

/** The file's text; `$schema` points at this package's catalog.schema.json from where the file will be. */
export function formatCatalog(catalog: Catalog, fileDirectory: string = process.cwd()): string {
  const schema = relative(fileDirectory, CATALOG_SCHEMA_PATH).split(sep).join("/");
  const file = {
    $schema: schema.startsWith(".") ? schema : `./${schema}`,
    actions: Object.fromEntries(
      Object.entries(catalog.actions).map(([name, action]) => [name, withoutDefaults(action, { description: "", clientReportable: false, maxAmount: 100, ranked: false })]),
    ),
    achievements: Object.fromEntries(Object.entries(catalog.achievements).map(([id, achievement]) => [id, achievementInFile(achievement)])),
    tiers: Object.fromEntries(Object.entries(catalog.tiers).map(([name, tier]) => [name, withoutDefaults(tier, { badge: "" })])),
    levels: Object.fromEntries(
      Object.entries(catalog.levels).map(([name, level]) => [
        name,
        { requirements: Object.fromEntries(Object.entries(level.requirements).map(([step, requirement]) => [step, withoutDefaults(requirement, { requiredCount: 1, priority: 100 })])) },
      ]),
    ),
  };
  // A criterion on one line: stand-ins first, replaced by their one-line text after the file is laid out.
  const criteria: string[] = [];
  for (const achievement of Object.values(file.achievements)) {
    achievement.criteria = (achievement.criteria as Record<string, unknown>[]).map((criterion) => {
      criteria.push(`{ ${Object.entries(criterion).map(([key, value]) => `${key}: ${JSON5.stringify(value, { quote: '"' })}`).join(", ")} }`);
      return `${STAND_IN}${criteria.length - 1}`;
    });
  }
  const text = JSON5.stringify(file, { space: 2, quote: '"' }).replace(new RegExp(`"${STAND_IN}(\\d+)"`, "g"), (_, i: string) => criteria[Number(i)]);
  return `// The achievements catalog (npm run catalog -- export). Review changes with \`npm run catalog -- plan FILE\`.\n${text}\n`;
}

/** Reads the live catalog (as the admin role) and formats it for a file in `fileDirectory`. */
export async function exportCatalog(db: CatalogDatabase, fileDirectory?: string): Promise<string> {
  return formatCatalog((await readLiveCatalog(db)).catalog, fileDirectory);
}

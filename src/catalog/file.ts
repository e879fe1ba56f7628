// The catalog file: JSON5 text (or an already parsed value, from GraphQL) checked against catalog.schema.json
// with ajv, then the checks a schema cannot make (criteria name declared actions, no duplicate ids, dates).
// Every problem names its object by path and, for text, by line and column.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv, { type ErrorObject } from "ajv";
import JSON5 from "json5";
import { PROJECT_ROOT } from "../config";
import { locateJson5, pointerOf, type Position } from "./locate";

export const CATALOG_SCHEMA_PATH = join(PROJECT_ROOT, "catalog.schema.json");

export type CriterionKind = "count" | "streak" | "time_of_day";
export type AchievementKind = "milestone" | "streak" | "challenge" | "hidden" | "time_limited";

export interface ActionDefinition {
  description: string;
  clientReportable: boolean;
  maxAmount: number;
  /** Whether the action has leaderboards ranked by its tally (status_public.actions.ranked). */
  ranked: boolean;
}

export interface CriterionDefinition {
  kind: CriterionKind;
  /** NULL: a streak of any activity. */
  action: string | null;
  threshold: number | null;
  hourFrom: number | null;
  hourUntil: number | null;
}

export interface AchievementDefinition {
  name: string;
  description: string;
  points: number;
  icon: string | null;
  kind: AchievementKind;
  hidden: boolean;
  /** ISO 8601 in UTC (toISOString), so that equal times compare equal. */
  availableFrom: string | null;
  availableUntil: string | null;
  position: number;
  criteria: CriterionDefinition[];
}

export interface TierDefinition {
  minPoints: number;
  badge: string;
}

export interface RequirementDefinition {
  requiredCount: number;
  priority: number;
}

export interface LevelDefinition {
  /** Keyed by the step (action) name. */
  requirements: Record<string, RequirementDefinition>;
}

/** A whole catalog, every field filled in (the file's defaults are the tables' defaults). */
export interface Catalog {
  actions: Record<string, ActionDefinition>;
  achievements: Record<string, AchievementDefinition>;
  tiers: Record<string, TierDefinition>;
  levels: Record<string, LevelDefinition>;
}

export interface CatalogProblem {
  /** Where, as a path into the file: `achievements.streak_7.criteria[0].threshold` ("" for the whole file). */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export type CatalogErrorCode = "CATALOG_INVALID" | "CATALOG_DESTRUCTIVE_CHANGE";

/** A catalog that cannot be applied: each problem says where and what. Nothing was written. */
export class CatalogError extends Error {
  constructor(
    readonly code: CatalogErrorCode,
    readonly problems: CatalogProblem[],
    source?: string,
  ) {
    super(`${code}: ${problems.map((problem) => formatProblem(problem, source)).join("; ")}`);
  }
}

/** `catalog.json5:12:7: achievements.streak_7.criteria[0].threshold: must be >= 1`. */
export function formatProblem(problem: CatalogProblem, source?: string): string {
  const where = [source, problem.line, problem.column].filter((part) => part !== undefined).join(":");
  return [where, problem.path, problem.message].filter((part) => part).join(": ");
}

// The file's shape as the schema guarantees it (optional fields left out).
interface CriterionInFile {
  kind: CriterionKind;
  action?: string | null;
  threshold?: number;
  hourFrom?: number;
  hourUntil?: number;
}
interface CatalogInFile {
  actions?: Record<string, Partial<ActionDefinition>>;
  achievements?: Record<string, Partial<Omit<AchievementDefinition, "criteria">> & { name: string; criteria: CriterionInFile[] }>;
  tiers?: Record<string, { minPoints: number; badge?: string }>;
  levels?: Record<string, { requirements?: Record<string, Partial<RequirementDefinition>> }>;
}

let validator: ReturnType<Ajv["compile"]> | undefined;
function validateSchema(value: unknown): ErrorObject[] {
  // allErrors: every problem at once; discriminator: a criterion's errors are those of its kind only.
  validator ??= new Ajv({ allErrors: true, discriminator: true, strict: false }).compile(JSON.parse(readFileSync(CATALOG_SCHEMA_PATH, "utf8")));
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** `/achievements/streak_7/criteria/0` as `achievements.streak_7.criteria[0]`. */
export function displayPath(pointer: string): string {
  if (pointer === "") return "";
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(part) ? (i === 0 ? part : `.${part}`) : `[${JSON.stringify(part)}]`))
    .join("");
}

/** The schema's patterns in words. */
const PATTERN_MESSAGES: Record<string, string> = {
  "^[a-z][a-z0-9_]{0,99}$": "must be lower case letters, digits and _, starting with a letter (at most 100)",
  "^\\S(.*\\S)?$": "must not start or end with a space",
  "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$": "must be an ISO 8601 time with its offset, for example 2026-12-01T00:00:00Z",
};

/** What a schema error is about: its pointer, whether that is a key (an unknown field, a bad id), and the message. */
function messageOf(error: ErrorObject): { pointer: string; key?: boolean; message: string } {
  switch (error.keyword) {
    case "pattern": {
      const pattern = (error.params as { pattern: string }).pattern;
      return { pointer: error.instancePath, message: PATTERN_MESSAGES[pattern] ?? error.message ?? "is not valid" };
    }
    case "additionalProperties": {
      const property = (error.params as { additionalProperty: string }).additionalProperty;
      return { pointer: pointerOf(error.instancePath, property), key: true, message: `unknown field "${property}"` };
    }
    case "enum":
      return { pointer: error.instancePath, message: `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}` };
    default:
      return { pointer: error.instancePath, message: error.message ?? "is not valid" };
  }
}

/** Checks a parsed catalog; `locate` gives a pointer's line and column, of its value or of its key (text only). */
function check(value: unknown, locate: (pointer: string, key?: boolean) => Position | undefined): Catalog {
  const problems: CatalogProblem[] = [];
  const report = (pointer: string, message: string, key?: boolean) => problems.push({ path: displayPath(pointer), ...locate(pointer, key), message });

  const schemaErrors = validateSchema(value);
  for (const error of schemaErrors) {
    // A bad key comes twice: as the key's own error (with propertyName) and as propertyNames: keep the first.
    if (error.keyword === "propertyNames") continue;
    const { pointer, key, message } = messageOf(error);
    const id = error.propertyName;
    if (id !== undefined) report(pointerOf(pointer, id), `the id ${JSON.stringify(id)} ${message}`, true);
    else report(pointer, message, key);
  }
  if (problems.length > 0) throw new CatalogError("CATALOG_INVALID", dedupe(problems));

  const file = value as CatalogInFile;
  const catalog: Catalog = { actions: {}, achievements: {}, tiers: {}, levels: {} };
  for (const [name, action] of Object.entries(file.actions ?? {})) {
    catalog.actions[name] = { description: action.description ?? "", clientReportable: action.clientReportable ?? false, maxAmount: action.maxAmount ?? 100, ranked: action.ranked ?? false };
  }
  for (const [id, achievement] of Object.entries(file.achievements ?? {})) {
    const at = pointerOf("/achievements", id);
    const time = (field: "availableFrom" | "availableUntil"): string | null => {
      const given = achievement[field];
      if (given === undefined || given === null) return null;
      const parsed = new Date(given);
      if (Number.isNaN(parsed.getTime())) {
        report(pointerOf(at, field), `${JSON.stringify(given)} is not a valid time`);
        return null;
      }
      return parsed.toISOString();
    };
    const availableFrom = time("availableFrom");
    const availableUntil = time("availableUntil");
    if (availableFrom && availableUntil && availableUntil <= availableFrom) {
      report(pointerOf(at, "availableUntil"), `achievement ${id}: availableUntil must be after availableFrom`);
    }
    const criteria: CriterionDefinition[] = [];
    const seen = new Map<string, number>();
    achievement.criteria.forEach((criterion, i) => {
      const action = criterion.action ?? null;
      if (action !== null && !(action in (file.actions ?? {}))) {
        report(pointerOf(pointerOf(at, "criteria"), String(i), "action"), `achievement ${id}: unknown action "${action}" (declare it under actions)`);
      }
      if (criterion.kind === "time_of_day" && criterion.hourFrom === criterion.hourUntil) {
        report(pointerOf(pointerOf(at, "criteria"), String(i), "hourUntil"), `achievement ${id}: hourFrom and hourUntil must differ`);
      }
      const key = criterionKey(criterion.kind, action);
      const first = seen.get(key);
      if (first !== undefined) {
        report(pointerOf(pointerOf(at, "criteria"), String(i)), `achievement ${id}: duplicate criterion ${key} (also criteria[${first}]): one per kind and action`);
      }
      seen.set(key, i);
      criteria.push({ kind: criterion.kind, action, threshold: criterion.threshold ?? null, hourFrom: criterion.hourFrom ?? null, hourUntil: criterion.hourUntil ?? null });
    });
    catalog.achievements[id] = {
      name: achievement.name,
      description: achievement.description ?? "",
      points: achievement.points ?? 0,
      icon: achievement.icon ?? null,
      kind: achievement.kind ?? "milestone",
      hidden: achievement.hidden ?? false,
      availableFrom,
      availableUntil,
      position: achievement.position ?? 0,
      criteria,
    };
  }
  const tierAt = new Map<number, string>();
  for (const [name, tier] of Object.entries(file.tiers ?? {})) {
    const other = tierAt.get(tier.minPoints);
    if (other !== undefined) report(pointerOf(pointerOf("/tiers", name), "minPoints"), `tier ${name}: tier ${other} starts at ${tier.minPoints} too (minPoints is unique)`);
    tierAt.set(tier.minPoints, name);
    catalog.tiers[name] = { minPoints: tier.minPoints, badge: tier.badge ?? "" };
  }
  for (const [name, level] of Object.entries(file.levels ?? {})) {
    const requirements: Record<string, RequirementDefinition> = {};
    for (const [step, requirement] of Object.entries(level.requirements ?? {})) {
      requirements[step] = { requiredCount: requirement.requiredCount ?? 1, priority: requirement.priority ?? 100 };
    }
    catalog.levels[name] = { requirements };
  }
  if (problems.length > 0) throw new CatalogError("CATALOG_INVALID", problems);
  return catalog;
}

/** How a criterion is known within its achievement: `count tasks_completed`, `streak (any activity)`. */
export function criterionKey(kind: CriterionKind, action: string | null): string {
  return `${kind} ${action ?? "(any activity)"}`;
}

function dedupe(problems: CatalogProblem[]): CatalogProblem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses and checks a catalog file's text. A syntax error, a duplicate key (JSON5 would keep the last one
 * silently), a value the schema refuses and a broken reference all come back at once as CATALOG_INVALID.
 */
export function parseCatalogText(text: string): Catalog {
  let value: unknown;
  try {
    value = JSON5.parse(text);
  } catch (error) {
    const { lineNumber, columnNumber, message } = error as SyntaxError & { lineNumber?: number; columnNumber?: number };
    throw new CatalogError("CATALOG_INVALID", [{ path: "", line: lineNumber, column: columnNumber, message: message.replace(/^JSON5: /, "").replace(/ at \d+:\d+$/, "") }]);
  }
  const { positions, keys, duplicates } = locateJson5(text);
  if (duplicates.length > 0) {
    throw new CatalogError(
      "CATALOG_INVALID",
      duplicates.map(({ pointer, first, second }) => ({
        path: displayPath(pointer),
        ...second,
        message: `duplicate id (first at line ${first.line}, column ${first.column}): JSON5 would keep only the last`,
      })),
    );
  }
  return check(value, (pointer, key) => (key ? keys : positions).get(pointer));
}

/** Checks a catalog given as a value (GraphQL's JSON argument): a string is the file's text. */
export function parseCatalog(value: unknown): Catalog {
  return typeof value === "string" ? parseCatalogText(value) : check(value, () => undefined);
}

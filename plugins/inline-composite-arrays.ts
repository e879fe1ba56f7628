// A mutation's composite array (`recordAction { result { unlocked { achievementId } } }`) is read from the
// row the mutation already fetched, so the mutation is one transaction.
//
// PostGraphile plans an attribute that is an array of a composite type with `pgSelectFromRecords`: a
// second `select ... from unnest($1::status_public.unlocked_achievement[])` fed with the array it just
// read. In a query that select is inlined into the parent's as a subquery, but @dataplan/pg never inlines
// into a mutation's select (PgSelectStep.getParentForInlining), so it ran after it as a query of its own:
// a second transaction (begin, set_config, select, commit) on every recordAction, one per alias, for data
// that was already in the first result. The array's value is decoded by its codec when the first row is
// read (each element into an object of its attributes, each by its own codec, the same values the second
// select gave), so here the elements' fields read that value. It is the function's own result: nothing is
// re-read, so no RLS check is skipped (the second select read no table either, and was `trusted`).
//
// Only where PostGraphile would not inline the second select (under a mutation's row, or under an element
// this plugin decoded), and only for status_public's composite types that nothing but their attributes
// hangs off (no table, relation or computed column): queries keep PostGraphile's plan.
import type { PgCodec, PgCodecAttribute, PgSelectSingleStep } from "postgraphile/@dataplan/pg";
import { access, each, get, lambda, Step } from "postgraphile/grafast";
import { ACHIEVEMENTS_SCHEMAS } from "../src/achievements-schema";

type DecodedRow = Record<string, unknown> | null;

/** The steps that stand for a decoded element: the element type accepts them besides a PgSelectSingleStep. */
const decodedElements = new WeakSet<Step>();

/** A composite type of ours whose GraphQL type has only its attributes as fields, read with `.get(attribute)`. */
function isDecodable(build: GraphileBuild.Build, codec: PgCodec): boolean {
  if (!codec.attributes || codec.isAnonymous || codec.arrayOfCodec || codec.polymorphism) return false;
  if (!ACHIEVEMENTS_SCHEMAS.includes(codec.extensions?.pg?.schemaName ?? "")) return false;
  const { pgResources, pgRelations } = build.input.pgRegistry;
  const resources = Object.values(pgResources);
  const isTable = resources.some((resource) => resource.codec === codec && !resource.parameters && !resource.isVirtual);
  const hasRelations = Object.keys(pgRelations[codec.name] ?? {}).length > 0;
  const hasComputedColumns = resources.some((resource) => resource.parameters?.[0]?.codec === codec);
  return !isTable && !hasRelations && !hasComputedColumns;
}

/**
 * `$row`, a composite's decoded attributes (its codec's `fromPg`), as a step its GraphQL type accepts in place of a
 * PgSelectSingleStep: the fields read its keys. For status_public's composite types that `isDecodable` only.
 */
export function decodedElement($row: Step): Step {
  const $element = access($row, []);
  decodedElements.add($element);
  return $element;
}

/** As the second select read an element: a null, or a row whose attributes are all null (SQL's `row is null`), is null. */
const nullRowsToNull = (attributeNames: readonly string[]) => (rows: readonly DecodedRow[] | null) =>
  rows?.map((row) => (row == null || attributeNames.every((name) => row[name] == null) ? null : row)) ?? null;

/** PostGraphile would not inline the second select into the parent: a mutation's row, or an element we decoded. */
function cannotInline($record: Step): boolean {
  const $row = $record as Partial<PgSelectSingleStep>;
  if (typeof $row.getClassStep !== "function") return true;
  return $row.getClassStep().mode === "mutation";
}

export const InlineCompositeArraysPlugin: GraphileConfig.Plugin = {
  name: "InlineCompositeArraysPlugin",
  version: "1.0.0",
  description: "Composite array attributes of status_public's mutation results are read from the mutation's own row, not re-selected in a second transaction",
  after: ["PgAttributesPlugin", "PgTablesPlugin"],
  schema: {
    hooks: {
      // The element's type asserts (in development) that its step is a PgSelectSingleStep: accept ours too.
      GraphQLObjectType(config, build, context) {
        const codec = context.scope.pgCodec as PgCodec | undefined;
        const assertStep = config.assertStep;
        if (!codec || !context.scope.isPgClassType || typeof assertStep !== "function" || !isDecodable(build, codec)) return config;
        if (assertStep === Step || assertStep.prototype instanceof Step) return config; // a step class: not the codec types' assertion
        const assertion = assertStep as ($step: Step) => void;
        return { ...config, assertStep: ($step: Step) => (decodedElements.has($step) ? undefined : assertion($step)) };
      },

      GraphQLObjectType_fields_field(field, build, context) {
        const attribute = context.scope.pgFieldAttribute as PgCodecAttribute | undefined;
        const parentCodec = context.scope.pgCodec as PgCodec | undefined;
        const elementCodec = attribute?.codec.arrayOfCodec as PgCodec | undefined;
        const defaultPlan = field.plan as ((...args: unknown[]) => Step) | undefined;
        if (!attribute || !parentCodec?.attributes || !elementCodec?.attributes || !defaultPlan) return field;
        if (!ACHIEVEMENTS_SCHEMAS.includes(parentCodec.extensions?.pg?.schemaName ?? "") || !isDecodable(build, elementCodec)) return field;
        const attributeName = Object.entries(parentCodec.attributes).find(([, candidate]) => candidate === attribute)?.[0];
        if (attributeName === undefined) return field;
        const toNullRows = nullRowsToNull(Object.keys(elementCodec.attributes));
        return {
          ...field,
          plan($record: Step, ...rest: unknown[]) {
            if (!cannotInline($record)) return defaultPlan($record, ...rest);
            // A PgSelectSingleStep's `.get` selects the array in the parent's row (decoded by the array's codec);
            // a decoded element's reads its key.
            const $rows = lambda(get($record, attributeName) as Step<readonly DecodedRow[] | null>, toNullRows, true);
            // Each element as a step with `.get(attribute)` (an access of the item), as the element type's field plans call.
            return each($rows, decodedElement);
          },
        } as typeof field;
      },
    },
  },
};

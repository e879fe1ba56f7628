// The depth and field-count limits (plugins/request-limits.ts) on documents made of fragments that spread each
// other: a fragment's depth and field count are worked out once per document, so a 1 kB chain of 30 fragments
// that each spread the next one twice (2^30 paths) costs no more than its size to validate. Validation is
// synchronous: a rule that walked every path would block the whole server, websockets included, for hours; and
// grafast's planner does walk every path of a document it runs, which is why the field count refuses such a
// document before it is planned. Nothing here writes to the database.
import { buildSchema, getIntrospectionQuery, parse, validate, type ValidationContext, type ValidationRule } from "postgraphile/graphql";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer } from "../helpers/server";
import { depthLimitRule, fieldCountRule } from "../../plugins/request-limits";
import { PROJECT_ROOT } from "../../src/config";
import { DEFAULT_REQUEST_LIMITS } from "../../src/limits";
import type { RunningServer } from "../../src/server";

const MAX_DEPTH = DEFAULT_REQUEST_LIMITS.maxQueryDepth; // 16: the server below runs with the default limits
const MAX_FIELDS = DEFAULT_REQUEST_LIMITS.maxQueryFields; // 2,000

/** `{ ...F0 }` and `count` fragments on Query, each spreading the next one twice, the last selecting `__typename`. */
const queryChain = (count: number): string =>
  [
    "query Chain { ...F0 }",
    ...Array.from({ length: count }, (_, i) => `fragment F${i} on Query { ${i + 1 < count ? `...F${i + 1} ...F${i + 1}` : "__typename"} }`),
  ].join("\n");

/**
 * `{ __type(name: "Query") { ...T0 } }` and `count` fragments on __Type, each spreading the next one twice, the
 * first `levels` of them inside one more `ofType`, the last selecting `name`: 2 + `levels` fields deep.
 */
const typeChain = (count: number, levels: number): string =>
  [
    `query Chain { __type(name: "Query") { ...T0 } }`,
    ...Array.from({ length: count }, (_, i) => {
      const next = i + 1 < count ? `...T${i + 1} ...T${i + 1}` : "name";
      return `fragment T${i} on __Type { ${i < levels ? `ofType { ${next} }` : next} }`;
    }),
  ].join("\n");

describe("the depth rule on its own", () => {
  const schema = buildSchema("type Query { a: Int }");

  /** The rule's errors, and how many times it looked a fragment up (it throws beyond `budget` lookups). */
  function validateCounting(source: string, budget: number) {
    let lookups = 0;
    const counted: ValidationRule = (context: ValidationContext) => {
      const getFragment = context.getFragment.bind(context);
      context.getFragment = (name) => {
        lookups += 1;
        if (lookups > budget) throw new Error(`the depth rule looked fragments up more than ${budget} times`);
        return getFragment(name);
      };
      return depthLimitRule(MAX_DEPTH)(context);
    };
    const errors = validate(schema, parse(source), [counted]);
    return { errors: errors.map((error) => error.extensions.code), lookups };
  }

  it("looks each fragment of a chain up once, not once per path (2^30 of them)", () => {
    // 30 fragments, 59 spreads: walking every path would take 2^31 lookups.
    expect(validateCounting(queryChain(30), 59)).toEqual({ errors: [], lookups: 30 });
  });

  it("still follows every fragment: a chain one level too deep is refused, one at the limit is not", () => {
    expect(validateCounting(typeChain(30, MAX_DEPTH - 2), 59).errors).toEqual([]);
    expect(validateCounting(typeChain(30, MAX_DEPTH - 1), 59).errors).toEqual(["QUERY_TOO_DEEP"]);
  });

  it("counts a fragment's fields each time it is spread, looking each fragment up once", () => {
    let lookups = 0;
    const counted: ValidationRule = (context: ValidationContext) => {
      const getFragment = context.getFragment.bind(context);
      context.getFragment = (name) => ((lookups += 1), getFragment(name));
      return fieldCountRule(MAX_FIELDS)(context);
    };
    const codes = (source: string) => validate(schema, parse(source), [counted]).map((error) => [error.extensions.code, error.message]);
    // 10 fragments: 2^9 = 512 fields; 11: 1,024; 12: 2,048 > 2,000.
    expect(codes(queryChain(11))).toEqual([]);
    expect(codes(queryChain(12))).toEqual([
      ["QUERY_TOO_LARGE", "The query expands to 2,048 fields (fragments counted each time they are spread): at most 2,000 are allowed"],
    ]);
    lookups = 0;
    expect(codes(queryChain(30))).toEqual([
      ["QUERY_TOO_LARGE", "The query expands to 536,870,912 fields (fragments counted each time they are spread): at most 2,000 are allowed"],
    ]);
    expect(lookups).toBe(30);
  });

  it("lets GraphiQL's full introspection query through (229 fields)", () => {
    const live = buildSchema(readFileSync(join(PROJECT_ROOT, "schema.graphql"), "utf8"));
    const introspection = parse(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    expect(validate(live, introspection, [fieldCountRule(MAX_FIELDS)])).toEqual([]);
    expect(validate(live, introspection, [fieldCountRule(228)]).map((error) => error.extensions.code)).toEqual(["QUERY_TOO_LARGE"]);
  });

  it("ends on a cycle (graphql's NoFragmentCycles refuses it)", () => {
    const cycle = "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { a ...A }";
    expect(validateCounting(cycle, 10)).toEqual({ errors: [], lookups: 2 });
    expect(validate(schema, parse(cycle)).map((error) => error.message)).toEqual(['Cannot spread fragment "A" within itself via "B".']);
  });
});

describe("the server, on chained fragments", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  async function post(query: string) {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
  }

  // Refused at validation, before grafast plans it: before the fix validating it took hours (2^30 paths).
  it("refuses 30 chained fragments, each spreading the next one twice, one level too deep with QUERY_TOO_DEEP", async () => {
    const query = typeChain(30, MAX_DEPTH - 1);
    expect(query.length).toBeLessThan(1600);
    const tooDeep = await post(query);
    expect(tooDeep.status).toBe(200);
    expect(tooDeep.body.data).toBeUndefined();
    expect(tooDeep.body.errors?.map((error) => error.extensions?.code)).toEqual(["QUERY_TOO_DEEP", "QUERY_TOO_LARGE"]);
    expect(tooDeep.body.errors?.[0].message).toBe(`The query is nested too deeply: at most ${MAX_DEPTH} levels of fields are allowed`);
  }, 10_000);

  // Within the depth limit, 30 chained fragments would make grafast's planner walk 2^30 paths (it takes 4 times
  // longer for each 2 more fragments): the field count refuses the document before it is planned.
  it("refuses 30 chained fragments within the depth limit with QUERY_TOO_LARGE, and answers 10", async () => {
    const refused = await post(typeChain(30, MAX_DEPTH - 2));
    expect(refused.status).toBe(200);
    expect(refused.body.errors?.map((error) => error.extensions?.code)).toEqual(["QUERY_TOO_LARGE"]);
    expect(await post(queryChain(10))).toEqual({ status: 200, body: { data: { __typename: "Query" } } });
    expect(await post(typeChain(10, MAX_DEPTH - 2))).toEqual({ status: 200, body: { data: { __type: { ofType: null } } } });
  }, 10_000);
});

// Every ```graphql block of the README must paste into GraphiQL and run as written: it parses, and it
// validates against the committed schema.graphql (which test/graphql/schema.test.ts keeps equal to the
// running schema). One block is one document, so two anonymous operations in one block fail here as they
// fail in GraphiQL.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, parse, validate } from "postgraphile/graphql";
import { PROJECT_ROOT } from "../../src/config";

const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
const schema = buildSchema(readFileSync(join(PROJECT_ROOT, "schema.graphql"), "utf8"));
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match, index) => ({
  name: `block ${index + 1}: ${match[1].trim().split("\n")[0]}`,
  source: match[1],
}));

describe("the README's GraphQL examples", () => {
  it("are there (the extraction works)", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(9);
  });

  it.each(blocks)("$name parses and validates against schema.graphql", ({ source }) => {
    const errors = validate(schema, parse(source)).map((error) => error.message);
    expect(errors).toEqual([]);
  });
});

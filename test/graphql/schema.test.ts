// schema.graphql is committed so that frontends can generate types: it must match the running schema.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../src/config";
import { buildSchemaSDL } from "../../src/schema-sdl";
import { testDatabaseUrl } from "../helpers/db";

describe("schema.graphql", () => {
  it("is up to date (run `npm run schema:export` after changing the schema)", async () => {
    const committed = await readFile(join(PROJECT_ROOT, "schema.graphql"), "utf8");
    const current = await buildSchemaSDL(testDatabaseUrl("TEST_AUTH_URL"));
    expect(current).toBe(committed);
  });
});

// The GraphQL schema as SDL, sorted, as it is committed in schema.graphql (`npm run schema:export`;
// test/graphql/schema.test.ts fails when the committed file is stale).
import { makeSchema } from "postgraphile";
import { lexicographicSortSchema, printSchema } from "postgraphile/graphql";
import { makePreset } from "./preset";

export async function buildSchemaSDL(connectionString: string): Promise<string> {
  const preset = makePreset({
    connectionString,
    graphiql: false,
    authenticate: async () => {
      throw new Error("not serving");
    },
  });
  const { schema, resolvedPreset } = await makeSchema(preset);
  await Promise.all((resolvedPreset.pgServices ?? []).map((service) => service.release?.()));
  return printSchema(lexicographicSortSchema(schema)) + "\n";
}

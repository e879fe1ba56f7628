// plugins/output-data-as-string.ts: with the standalone preset, grafast writes an HTTP request's `data` as
// JSON text (grafserv's outputDataAsString), the same JSON as the objects it builds for anything else (a
// websocket's operation, a test's execute), which keep getting objects.
import { makeSchema } from "postgraphile";
import { execute, hookArgs } from "postgraphile/grafast";
import { type ExecutionResult, parse } from "postgraphile/graphql";
import { makePreset } from "../../src/preset";
import { anonymous, sessionOf, testDatabaseUrl } from "../helpers/db";

let built: Awaited<ReturnType<typeof makeSchema>>;
beforeAll(async () => {
  const preset = makePreset({
    connectionString: testDatabaseUrl("TEST_AUTH_URL"),
    graphiql: false,
    authenticate: async () => {
      throw new Error("the session is passed directly");
    },
  });
  built = await makeSchema(preset);
});
afterAll(() => Promise.all((built.resolvedPreset.pgServices ?? []).map((service) => service.release?.())));

/** One operation as grafserv runs it, with grafserv's marks on the request context (`http` or `ws`). */
async function run(source: string, transport: { http: object } | { ws: object }): Promise<ExecutionResult> {
  const args = {
    schema: built.schema,
    document: parse(source),
    resolvedPreset: built.resolvedPreset,
    requestContext: { achievementsSession: sessionOf(anonymous), ...transport } as Partial<Grafast.RequestContext>,
  };
  await hookArgs(args);
  return (await execute(args)) as ExecutionResult;
}

const QUERY = `{ allLevels(orderBy: PRIMARY_KEY_ASC, first: 2) { totalCount nodes { name } } leaderboard(first: 101) { rank } }`;

it("gives an HTTP request its data as JSON text, and the same data as objects to a websocket's", async () => {
  const overHttp = await run(QUERY, { http: {} });
  const overWebsocket = await run(QUERY, { ws: {} });
  expect(typeof overHttp.data).toBe("string");
  expect(typeof overWebsocket.data).toBe("object");
  expect(JSON.parse(overHttp.data as unknown as string)).toEqual(overWebsocket.data);
  // A field's error (first out of range) nulls it in both, with the same coded error.
  expect(overWebsocket.data).toEqual({ allLevels: { totalCount: expect.any(Number), nodes: [expect.any(Object), expect.any(Object)] }, leaderboard: null });
  expect(overHttp.errors?.map((error) => [error.message, error.path])).toEqual(overWebsocket.errors?.map((error) => [error.message, error.path]));
  expect(overWebsocket.errors).toHaveLength(1);
});

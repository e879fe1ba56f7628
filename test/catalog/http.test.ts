// planCatalog and applyCatalog on the real server over HTTP with real tokens, on a database of this file's own
// (an apply commits). The server connects as the authenticator, which may write nothing itself: what is
// written is written as the token's role, so a user's token is refused and an admin's applies.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { startTestServer, testJwtSecret } from "../helpers/server";

let database: PrivateDatabase;
let server: RunningServer;
beforeAll(async () => {
  database = await createPrivateDatabase("catalog_http");
  server = await startTestServer({ connectionString: database.authUrl });
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

const token = (role: "user" | "admin") => signToken({ jwtSecret: testJwtSecret(), userId: randomUUID(), role });

async function post(query: string, variables: Record<string, unknown>, role: "user" | "admin") {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${await token(role)}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: any }[] };
}

const CATALOG = {
  actions: { quiz: { clientReportable: true } },
  achievements: { quizzer: { name: "Quizzer", points: 40, criteria: [{ kind: "count", action: "quiz", threshold: 2 }] } },
  tiers: { Start: { minPoints: 0 } },
};
const PLAN = `query ($catalog: JSON!) { planCatalog(catalog: $catalog) { changes { object id change } summary } }`;
const APPLY = `mutation ($catalog: JSON!, $held: CatalogHeldAchievements) { applyCatalog(input: { catalog: $catalog, heldAchievements: $held }) { plan { applied changes { object id change } } } }`;

async function achievementIds(): Promise<string[]> {
  const client = new pg.Client({ connectionString: database.rootUrl });
  await client.connect();
  try {
    return (await client.query<{ id: string }>("select id from status_public.achievements where retired_at is null order by id")).rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

describe("catalog as code over HTTP", () => {
  it("refuses a user's token, plans and applies with an admin's, and a second apply changes nothing", async () => {
    const refused = await post(APPLY, { catalog: CATALOG }, "user");
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(["FORBIDDEN"]);

    const plan = await post(PLAN, { catalog: CATALOG }, "admin");
    expect(plan.errors).toBeUndefined();
    expect(plan.data.planCatalog.changes).toEqual(
      expect.arrayContaining([
        { object: "ACTION", id: "quiz", change: "ADDED" },
        { object: "ACHIEVEMENT", id: "quizzer", change: "ADDED" },
        { object: "ACHIEVEMENT", id: "streak_7", change: "REMOVED" },
        { object: "TIER", id: "Legend", change: "REMOVED" },
        { object: "LEVEL", id: "newbie", change: "REMOVED" },
      ]),
    );
    expect(await achievementIds()).toContain("streak_7");

    const applied = await post(APPLY, { catalog: CATALOG }, "admin");
    expect(applied.errors).toBeUndefined();
    expect(applied.data.applyCatalog.plan.applied).toBe(true);
    expect(await achievementIds()).toEqual(["quizzer"]);
    expect((await post(APPLY, { catalog: CATALOG }, "admin")).data.applyCatalog.plan).toEqual({ applied: true, changes: [] });
  });
});

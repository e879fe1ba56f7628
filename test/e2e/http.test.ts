// The running server over real HTTP and websockets, with real tokens.
import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { startTestServer, testJwtSecret } from "../helpers/server";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";

// Users this file makes are committed to the shared database: every trace of them is removed at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

const AUDIENCE = "achievements-test";
const key = () => new TextEncoder().encode(testJwtSecret());

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({ jwtAudience: AUDIENCE, graphiql: true });
});
afterAll(async () => {
  await server?.close();
  await removeUsersAndEnd(rootPool(2), users.ids);
});

const tokenFor = (userId: string, role: "user" | "service" | "admin" = "user") =>
  signToken({ jwtSecret: testJwtSecret(), audience: AUDIENCE, userId, role });

async function post(query: string, variables: Record<string, unknown> = {}, authorization?: string) {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: any }[] } };
}

describe("GraphQL over HTTP", () => {
  it("serves the signed-in user's own progress and no one else's", async () => {
    const [alice, bob] = [newUserId(), newUserId()];
    const service = `Bearer ${await tokenFor(newUserId(), "service")}`;
    const record = `mutation ($userId: UUID!) { createUserStep(input: { userStep: { userId: $userId, name: "make_post", count: 3 } }) { userStep { count } } }`;
    expect((await post(record, { userId: alice }, service)).body).toEqual({ data: { createUserStep: { userStep: { count: 3 } } } });
    expect((await post(record, { userId: bob }, service)).status).toBe(200);

    const mine = await post(
      `{ allUserAchievements { nodes { userId name count } } stepsRequired(level: "beginner") { nodes { name requiredCount } } }`,
      {},
      `Bearer ${await tokenFor(alice)}`,
    );
    expect(mine).toEqual({
      status: 200,
      body: {
        data: {
          allUserAchievements: { nodes: [{ userId: alice, name: "make_post", count: 3 }] },
          stepsRequired: { nodes: [{ name: "complete_profile", requiredCount: 1 }] },
        },
      },
    });
  });

  it("serves the catalog to anonymous visitors, and refuses them progress with a coded error", async () => {
    expect((await post(`{ allLevels { totalCount } }`)).body).toEqual({ data: { allLevels: { totalCount: 5 } } });
    const progress = await post(`{ allUserSteps { nodes { name } } }`);
    expect(progress.body.errors?.map((error) => error.extensions?.code)).toEqual(["FORBIDDEN"]);
  });

  const badTokens: [string, () => Promise<string>, string][] = [
    ["not a bearer token", async () => `Token ${await tokenFor(newUserId())}`, "The authorization must be `Bearer <token>`"],
    ["garbage", async () => "Bearer not.a.jwt", "The token is malformed"],
    ["unsigned (alg: none)", async () => `Bearer ${new UnsecuredJWT({ role: "admin" }).setSubject(newUserId()).setAudience(AUDIENCE).setExpirationTime("1h").encode()}`, "The token must be signed with HS256"],
    ["signed with another key", async () => `Bearer ${await signToken({ jwtSecret: "x".repeat(40), audience: AUDIENCE, userId: newUserId() })}`, "The token's signature is invalid"],
    [
      "signed with RS256",
      async () => {
        const { privateKey } = await generateKeyPair("RS256");
        return `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "RS256" }).setSubject(newUserId()).setAudience(AUDIENCE).setExpirationTime("1h").sign(privateKey)}`;
      },
      "The token must be signed with HS256",
    ],
    ["expired", async () => `Bearer ${await signToken({ jwtSecret: testJwtSecret(), audience: AUDIENCE, userId: newUserId(), expiresIn: Math.floor(Date.now() / 1000) - 60 })}`, "The token has expired"],
    [
      "not valid yet",
      async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(newUserId()).setAudience(AUDIENCE).setNotBefore("1h").setExpirationTime("2h").sign(key())}`,
      "The token is not valid yet",
    ],
    ["for another audience", async () => `Bearer ${await signToken({ jwtSecret: testJwtSecret(), audience: "someone-else", userId: newUserId() })}`, "The token is for another audience"],
    [
      "without exp",
      async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(newUserId()).setAudience(AUDIENCE).sign(key())}`,
      "The token's `exp` claim is missing or invalid",
    ],
    [
      "without sub",
      async () => `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setAudience(AUDIENCE).setExpirationTime("1h").sign(key())}`,
      "The token's `sub` claim is missing or invalid",
    ],
    ["with a sub that is not a uuid", async () => `Bearer ${await signToken({ jwtSecret: testJwtSecret(), audience: AUDIENCE, userId: "alice" })}`, "The token's `sub` claim must be the user's uuid"],
    [
      "naming a Postgres role that is not an API role",
      async () => `Bearer ${await new SignJWT({ role: "postgres" }).setProtectedHeader({ alg: "HS256" }).setSubject(newUserId()).setAudience(AUDIENCE).setExpirationTime("1h").sign(key())}`,
      "The token's `role` claim must be one of user, service, admin",
    ],
  ];

  it.each(badTokens)("refuses a token %s with HTTP 401 and UNAUTHENTICATED", async (_, makeAuthorization, message) => {
    const { status, body } = await post(`{ allLevels { totalCount } }`, {}, await makeAuthorization());
    expect(status).toBe(401);
    expect(body).toEqual({ errors: [{ message, extensions: { code: "UNAUTHENTICATED" } }] });
  });

  it("serves GraphiQL (Ruru) when enabled", async () => {
    const response = await fetch(`${server.url}/graphiql`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("ruru");
  });

  it("answers a GET of /graphql for JSON with 405 METHOD_NOT_ALLOWED and Allow: POST, and still serves GraphiQL, GET / and POSTed queries", async () => {
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent("{ allLevels { totalCount } }")}`, { headers: { accept: "application/json" } });
    expect({ status: get.status, allow: get.headers.get("allow"), body: await get.json() }).toEqual({
      status: 405,
      allow: "POST",
      body: { errors: [{ message: "Method not supported, please use POST", extensions: { code: "METHOD_NOT_ALLOWED" } }] },
    });
    for (const path of ["/graphiql", "/graphql"]) {
      const page = await fetch(`${server.url}${path}`, { headers: { accept: "text/html" } });
      expect({ path, status: page.status, ruru: (await page.text()).includes("ruru") }).toEqual({ path, status: 200, ruru: true });
    }
    const front = await fetch(`${server.url}/`, { headers: { accept: "application/json" } });
    expect({ status: front.status, graphql: ((await front.json()) as { graphql?: string }).graphql }).toEqual({ status: 200, graphql: "/graphql" });
    expect((await post(`{ allLevels { totalCount } }`)).body).toEqual({ data: { allLevels: { totalCount: 5 } } });
  });

  it("answers the other root fields when leaderboard fails: it is null with its BAD_USER_INPUT error", async () => {
    const { status, body } = await post(`{ leaderboard(first: 0) { rank } allTiers { nodes { name } } }`);
    expect(status).toBe(200);
    expect(body).toEqual({
      data: { leaderboard: null, allTiers: { nodes: expect.arrayContaining([{ name: expect.any(String) }]) } },
      errors: [expect.objectContaining({ message: "first must be from 1 to 100 and offset at least 0", path: ["leaderboard"], extensions: expect.objectContaining({ code: "BAD_USER_INPUT" }) })],
    });
  });
});

describe("GraphQL over websockets", () => {
  const clients: Client[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
  });

  function run(query: string, authorization?: string) {
    const client = createClient({
      url: `${server.url.replace("http", "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
    });
    clients.push(client);
    return new Promise<{ data?: any; errors?: readonly { message: string; extensions?: any }[] }>((resolve, reject) => {
      let result: { data?: any } = {};
      client.subscribe(
        { query },
        {
          next: (value) => (result = value as { data?: any }),
          error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
          complete: () => resolve(result),
        },
      );
    });
  }

  it("authenticates with connectionParams.authorization", async () => {
    const user = newUserId();
    const result = await run(`{ userAchieved(level: "newbie") stepsRequired(level: "newbie") { totalCount } }`, `Bearer ${await tokenFor(user)}`);
    expect(result).toEqual({ data: { userAchieved: false, stepsRequired: { totalCount: 3 } } });
  });

  it("refuses a bad token with UNAUTHENTICATED", async () => {
    const result = await run(`{ allLevels { totalCount } }`, `Bearer ${await signToken({ jwtSecret: "y".repeat(40), audience: AUDIENCE, userId: newUserId() })}`);
    expect(result.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([["The token's signature is invalid", "UNAUTHENTICATED"]]);
  });
});

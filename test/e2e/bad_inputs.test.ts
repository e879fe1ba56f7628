// A catalog of bad inputs sent to a real server over HTTP: each gets its HTTP status and coded error, and
// none writes anything (the rows of the users involved in user_steps, achievement_unlocks and points_ledger
// are counted before and after). The token cases of test/e2e/http.test.ts (a 401 for each malformed,
// unsigned, forged, expired... token on a query) are not repeated: the ones here are other variants, sent
// with mutations. The limits (body size, depth, aliases, recordAction rate) run with small configured values.
import { createHmac } from "node:crypto";
import { startTestServer, testJwtSecret } from "../helpers/server";
import { createClient } from "graphql-ws";
import { SignJWT, UnsecuredJWT } from "jose";
import WebSocket from "ws";
import { getIntrospectionQuery } from "postgraphile/graphql";
import type pg from "pg";
import { signToken } from "../../src/auth";
import type { RequestLimits } from "../../src/limits";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { roles, rootPool } from "../helpers/db";
import { connect, type Payload } from "../helpers/graphql-client";

const AUDIENCE = "achievements-bad-inputs";
const LIMITS: RequestLimits = {
  maxRequestBytes: 50_000,
  maxQueryDepth: 16,
  maxQueryFields: 2_000,
  maxQueryAliases: 50,
  recordActionRateLimit: 3,
  recordActionServiceRateLimit: 6000,
  recordActionRateWindowSeconds: 600,
};
const key = () => new TextEncoder().encode(testJwtSecret());

// Every user id the file makes (signed-in users, others, service clients' subs) is remembered, and every
// trace of them (steps, profiles, rate-limit buckets ...) removed at the end.
const users = new TrackedUsers();
const newUserId = () => users.make();

let server: RunningServer;
let root: pg.Pool;
beforeAll(async () => {
  root = rootPool(2);
  server = await startTestServer({ jwtAudience: AUDIENCE, limits: LIMITS });
});
afterAll(async () => {
  await server?.close();
  await removeUsersAndEnd(root, users.ids);
});

type Role = "user" | "service" | "admin";
const bearer = async (userId: string, role: Role = "user") => `Bearer ${await signToken({ jwtSecret: testJwtSecret(), audience: AUDIENCE, userId, role })}`;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const hour = () => Math.floor(Date.now() / 1000) + 3600;
/** A token signed with our secret, whatever its header and claims (for cases jose would refuse to sign). */
const hmacToken = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
  const unsigned = `${b64(header)}.${b64(claims)}`;
  return `${unsigned}.${createHmac("sha256", testJwtSecret()).update(unsigned).digest("base64url")}`;
};
const claimsToken = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setAudience(AUDIENCE).sign(key());

interface Request {
  body?: string | Buffer;
  headers?: Record<string, string>;
  method?: string;
  path?: string;
}
interface Reply {
  status: number;
  headers: Headers;
  json?: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  text: string;
}

async function send({ body, headers = {}, method = "POST", path = "/graphql" }: Request): Promise<Reply> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json", accept: "application/json", ...headers },
    body: method === "GET" ? undefined : body,
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

const graphql = (query: string, variables?: unknown, authorization?: string, extra: Record<string, unknown> = {}): Request => ({
  body: JSON.stringify({ query, variables, ...extra }),
  headers: authorization ? { authorization } : {},
});

/** Rows of these users in the tables an action writes. */
async function rowsOf(users: string[]): Promise<Record<string, number>> {
  const { rows } = await root.query<{ steps: number; unlocks: number; points: number }>(
    `select (select count(*) from status_public.user_steps where user_id = any($1::uuid[]))::int as steps,
            (select count(*) from status_public.achievement_unlocks where user_id = any($1::uuid[]))::int as unlocks,
            (select count(*) from status_public.points_ledger where user_id = any($1::uuid[]))::int as points`,
    [users],
  );
  return rows[0];
}

const RECORD = `mutation ($action: String!, $amount: Int, $key: String) {
  recordAction(input: { action: $action, amount: $amount, idempotencyKey: $key }) { result { tally } } }`;
const RECORD_FOR = `mutation ($userId: UUID!, $action: String!, $amount: Int, $at: Datetime) {
  recordActionFor(input: { userId: $userId, action: $action, amount: $amount, occurredAt: $at }) { result { tally } } }`;
const PROFILE = `mutation ($name: String, $zone: String) { setMyProfile(input: { displayName: $name, timeZone: $zone }) { clientMutationId } }`;

interface Case {
  /** The users whose rows must not change; the signed-in user is `me`, another user `other`. */
  request: (me: string, other: string) => Promise<Request>;
  status: number;
  /** The code of the (first) error: every refusal has one. */
  code: string;
  message: string | RegExp;
}

const tokenCases: [string, Case][] = [
  [
    "an unsigned token (alg: none) claiming the service role, recording for someone",
    {
      request: async (_me, other) =>
        graphql(RECORD_FOR, { userId: other, action: "lessons_finished" }, `Bearer ${new UnsecuredJWT({ role: "service" }).setSubject(newUserId()).setAudience(AUDIENCE).setExpirationTime("1h").encode()}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token must be signed with HS256",
    },
  ],
  [
    "a token signed with another key, recording",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await signToken({ jwtSecret: "k".repeat(48), audience: AUDIENCE, userId: me })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's signature is invalid",
    },
  ],
  [
    "HS/RS confusion: an RS256 header over an HMAC made with the shared secret",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${hmacToken({ alg: "RS256", typ: "JWT" }, { sub: me, aud: AUDIENCE, exp: hour(), role: "service" })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token must be signed with HS256",
    },
  ],
  [
    "an HS512 token signed with the right secret",
    {
      request: async (me) =>
        graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS512" }).setSubject(me).setAudience(AUDIENCE).setExpirationTime("1h").sign(key())}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token must be signed with HS256",
    },
  ],
  [
    "a token whose payload was changed after signing (role user → admin)",
    {
      request: async (me) => {
        const [header, , signature] = (await signToken({ jwtSecret: testJwtSecret(), audience: AUDIENCE, userId: me })).split(".");
        return graphql(RECORD, { action: "tasks_completed" }, `Bearer ${header}.${b64({ sub: me, aud: AUDIENCE, exp: hour(), role: "admin" })}.${signature}`);
      },
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's signature is invalid",
    },
  ],
  [
    "an expired token (by a second), recording",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: me, exp: Math.floor(Date.now() / 1000) - 1 })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token has expired",
    },
  ],
  [
    "a token not valid for another hour, recording",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: me, exp: hour() + 3600, nbf: hour() })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token is not valid yet",
    },
  ],
  [
    "a token whose audiences do not include ours",
    {
      request: async (me) =>
        graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(me).setAudience(["a", "b"]).setExpirationTime("1h").sign(key())}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token is for another audience",
    },
  ],
  [
    "a `sub` that is SQL, not a uuid",
    {
      request: async () => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: "' or '1'='1", exp: hour() })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `sub` claim must be the user's uuid",
    },
  ],
  [
    "a `sub` that is a uuid in braces",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: `{${me}}`, exp: hour() })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `sub` claim must be the user's uuid",
    },
  ],
  [
    "a `role` naming the authenticator role",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: me, exp: hour(), role: roles.authenticator })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `role` claim must be one of user, service, admin",
    },
  ],
  [
    "a `role` naming the Postgres role of the service instead of the claim",
    {
      request: async (_me, other) => graphql(RECORD_FOR, { userId: other, action: "lessons_finished" }, `Bearer ${await claimsToken({ sub: newUserId(), exp: hour(), role: roles.service })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `role` claim must be one of user, service, admin",
    },
  ],
  [
    "a `role` that is a list",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: me, exp: hour(), role: ["admin"] })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `role` claim must be one of user, service, admin",
    },
  ],
  [
    "an `exp` given as a string",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `Bearer ${await claimsToken({ sub: me, exp: String(hour()) })}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The token's `exp` claim is missing or invalid",
    },
  ],
  [
    "two tokens in one header",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, `${await bearer(me)} ${await bearer(me, "service")}`),
      status: 401,
      code: "UNAUTHENTICATED",
      message: "The authorization must be `Bearer <token>`",
    },
  ],
];

const record = (variables: Record<string, unknown>) => async (me: string) => graphql(RECORD, variables, await bearer(me));
const inputCases: [string, Case][] = [
  ["amount 0", { request: record({ action: "tasks_completed", amount: 0 }), status: 200, code: "BAD_USER_INPUT", message: 'The amount must be a whole number from 1 to 10 for "tasks_completed", got 0' }],
  ["a negative amount", { request: record({ action: "tasks_completed", amount: -5 }), status: 200, code: "BAD_USER_INPUT", message: 'The amount must be a whole number from 1 to 10 for "tasks_completed", got -5' }],
  ["an amount above the action's max_amount (11 > 10)", { request: record({ action: "tasks_completed", amount: 11 }), status: 200, code: "BAD_USER_INPUT", message: 'The amount must be a whole number from 1 to 10 for "tasks_completed", got 11' }],
  ["a fractional amount", { request: record({ action: "tasks_completed", amount: 1.5 }), status: 200, code: "BAD_USER_INPUT", message: /Int cannot represent non-integer value: 1.5/ }],
  ["an amount of 2^31", { request: record({ action: "tasks_completed", amount: 2 ** 31 }), status: 200, code: "BAD_USER_INPUT", message: /Int cannot represent non 32-bit signed integer value: 2147483648/ }],
  ["an amount of 1e20", { request: record({ action: "tasks_completed", amount: 1e20 }), status: 200, code: "BAD_USER_INPUT", message: /Int cannot represent non 32-bit signed integer value/ }],
  ["an amount of -2^31 - 1", { request: record({ action: "tasks_completed", amount: -(2 ** 31) - 1 }), status: 200, code: "BAD_USER_INPUT", message: /Int cannot represent non 32-bit signed integer value/ }],
  ["an amount given as a string", { request: record({ action: "tasks_completed", amount: "5" }), status: 200, code: "BAD_USER_INPUT", message: /Int cannot represent non-integer value: "5"/ }],
  [
    "an amount literal of 2^31 in the query",
    {
      request: async (me) => graphql(`mutation { recordAction(input: { action: "tasks_completed", amount: 2147483648 }) { result { tally } } }`, undefined, await bearer(me)),
      status: 200,
      code: "GRAPHQL_VALIDATION_FAILED",
      message: /Int cannot represent non 32-bit signed integer value: 2147483648/,
    },
  ],
  ["an unknown action", { request: record({ action: "no_such_action" }), status: 200, code: "NOT_FOUND", message: /no_such_action/ }],
  ["an empty action name", { request: record({ action: "" }), status: 200, code: "NOT_FOUND", message: 'Unknown action ""' }],
  ["a 10 kB action name", { request: record({ action: "a".repeat(10_000) }), status: 200, code: "NOT_FOUND", message: `Unknown action "${"a".repeat(10_000)}"` }],
  ["an action the user may not report (service only)", { request: record({ action: "lessons_finished" }), status: 200, code: "FORBIDDEN", message: /lessons_finished/ }],
  ["a missing action (null for String!)", { request: record({ action: null }), status: 200, code: "BAD_USER_INPUT", message: /"\$action" of non-null type "String!" must not be null/ }],
  ["an idempotency key of 201 characters", { request: record({ action: "tasks_completed", key: "k".repeat(201) }), status: 200, code: "BAD_USER_INPUT", message: "The idempotency key must be 1 to 200 characters" }],
  ["an empty idempotency key", { request: record({ action: "tasks_completed", key: "" }), status: 200, code: "BAD_USER_INPUT", message: "The idempotency key must be 1 to 200 characters" }],
  [
    "an unknown level (stepsRequired)",
    {
      request: async (me) => graphql(`{ stepsRequired(level: "no-such-level") { nodes { name } } }`, undefined, await bearer(me)),
      status: 200,
      code: "NOT_FOUND",
      message: /no-such-level/,
    },
  ],
  [
    "an unknown level (userAchieved)",
    {
      request: async (me) => graphql(`{ userAchieved(level: "no-such-level") }`, undefined, await bearer(me)),
      status: 200,
      code: "NOT_FOUND",
      message: /no-such-level/,
    },
  ],
  [
    "another user's progress (stepsRequired with a userId)",
    {
      request: async (me, other) => graphql(`query ($u: UUID) { stepsRequired(level: "newbie", userId: $u) { nodes { name } } }`, { u: other }, await bearer(me)),
      status: 200,
      code: "FORBIDDEN",
      message: "You may only ask about your own progress",
    },
  ],
  [
    "a criterion for an unknown achievement (admin)",
    {
      request: async (me) =>
        graphql(
          `mutation { createAchievementCriterion(input: { achievementCriterion: { achievementId: "no-such-achievement", kind: count, action: "logins", threshold: 1 } }) { clientMutationId } }`,
          undefined,
          await bearer(me, "admin"),
        ),
      status: 200,
      code: "BAD_USER_INPUT",
      message: /achievement_criteria.*foreign key|foreign key/,
    },
  ],
  ["a display name of 101 characters", { request: async (me) => graphql(PROFILE, { name: "n".repeat(101) }, await bearer(me)), status: 200, code: "BAD_USER_INPUT", message: /violates check constraint "user_profiles_display_name_check"/ }],
  ["an empty display name", { request: async (me) => graphql(PROFILE, { name: "" }, await bearer(me)), status: 200, code: "BAD_USER_INPUT", message: /violates check constraint "user_profiles_display_name_check"/ }],
  ["an unknown time zone", { request: async (me) => graphql(PROFILE, { zone: "Mars/Olympus_Mons" }, await bearer(me)), status: 200, code: "BAD_USER_INPUT", message: 'Unknown time zone "Mars/Olympus_Mons"' }],
  ["a time zone that is SQL", { request: async (me) => graphql(PROFILE, { zone: "UTC'; drop table status_public.user_steps; --" }, await bearer(me)), status: 200, code: "BAD_USER_INPUT", message: `Unknown time zone "UTC'; drop table status_public.user_steps; --"` }],
  ["a mutation by an anonymous visitor (recordAction)", { request: async () => graphql(RECORD, { action: "tasks_completed" }), status: 200, code: "UNAUTHENTICATED", message: "Sign in to record an action" }],
  ["a mutation by an anonymous visitor (setMyProfile)", { request: async () => graphql(PROFILE, { name: "anon" }), status: 200, code: "UNAUTHENTICATED", message: "Sign in to change your profile" }],
  [
    "a user recording for another user (recordActionFor)",
    {
      request: async (me, other) => graphql(RECORD_FOR, { userId: other, action: "tasks_completed" }, await bearer(me)),
      status: 200,
      code: "FORBIDDEN",
      message: "permission denied for function record_action_for",
    },
  ],
  [
    "a user writing a step for another user (createUserStep)",
    {
      request: async (me, other) => graphql(`mutation ($u: UUID!) { createUserStep(input: { userStep: { userId: $u, name: "tasks_completed" } }) { clientMutationId } }`, { u: other }, await bearer(me)),
      status: 200,
      code: "FORBIDDEN",
      message: "permission denied for table user_steps",
    },
  ],
  [
    "an admin recording an action (not the admin's job)",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed" }, await bearer(me, "admin")),
      status: 200,
      code: "FORBIDDEN",
      message: "permission denied for function record_action",
    },
  ],
  [
    "recordActionFor with a userId that is not a uuid",
    {
      request: async (me) => graphql(RECORD_FOR, { userId: "alice", action: "tasks_completed" }, await bearer(me, "service")),
      status: 200,
      code: "BAD_USER_INPUT",
      message: /Variable "\$userId" got invalid value "alice"; Invalid UUID/,
    },
  ],
  [
    "recordActionFor with an occurredAt that is not a date",
    {
      request: async (me, other) => graphql(RECORD_FOR, { userId: other, action: "tasks_completed", at: "yesterday-ish" }, await bearer(me, "service")),
      status: 200,
      code: "BAD_USER_INPUT",
      message: /yesterday-ish/,
    },
  ],
  [
    "recordActionFor an amount of 2^31 (service)",
    {
      request: async (me, other) => graphql(RECORD_FOR, { userId: other, action: "lessons_finished", amount: 2 ** 31 }, await bearer(me, "service")),
      status: 200,
      code: "BAD_USER_INPUT",
      message: /Int cannot represent non 32-bit signed integer value/,
    },
  ],
  [
    "recordAction without its required variable",
    {
      request: async (me) => graphql(RECORD, {}, await bearer(me)),
      status: 200,
      code: "BAD_USER_INPUT",
      message: 'Variable "$action" of required type "String!" was not provided.',
    },
  ],
  [
    "an idempotency key with a NUL character",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed", key: "key\u0000" }, await bearer(me)),
      status: 200,
      code: "BAD_USER_INPUT",
      message: "Strings must not contain the NUL character (\\u0000)",
    },
  ],
  [
    "recordActionFor an action name with a NUL character",
    {
      request: async (me, other) => graphql(RECORD_FOR, { userId: other, action: "lessons_finished\u0000" }, await bearer(me, "service")),
      status: 200,
      code: "BAD_USER_INPUT",
      message: "Strings must not contain the NUL character (\\u0000)",
    },
  ],
  [
    "a negative `first` on a connection",
    { request: async (me) => graphql(`{ allUserSteps(first: -1) { nodes { id } } }`, undefined, await bearer(me)), status: 200, code: "BAD_USER_INPUT", message: "`first` and `last` must not be negative" },
  ],
  [
    "a negative `last` on a connection, through a variable",
    { request: async () => graphql(`query ($n: Int) { allAchievements(last: $n) { nodes { id } } }`, { n: -5 }), status: 200, code: "BAD_USER_INPUT", message: "`first` and `last` must not be negative" },
  ],
  [
    "a negative `offset` on a connection",
    { request: async () => graphql(`{ allLevels(offset: -1) { nodes { name } } }`), status: 200, code: "BAD_USER_INPUT", message: "`offset` must not be negative" },
  ],
  [
    "an unknown field",
    { request: async () => graphql(`{ allLevels { totalCount } nope }`), status: 200, code: "GRAPHQL_VALIDATION_FAILED", message: 'Cannot query field "nope" on type "Query".' },
  ],
  [
    "an unknown mutation",
    {
      request: async (me) => graphql(`mutation { recordActon(input: { action: "tasks_completed" }) { clientMutationId } }`, undefined, await bearer(me)),
      status: 200,
      code: "GRAPHQL_VALIDATION_FAILED",
      message: /^Cannot query field "recordActon" on type "Mutation"\. Did you mean "recordAction"/,
    },
  ],
  [
    "an amount given inline as a string",
    {
      request: async (me) => graphql(`mutation { recordAction(input: { action: "tasks_completed", amount: "2" }) { clientMutationId } }`, undefined, await bearer(me)),
      status: 200,
      code: "GRAPHQL_VALIDATION_FAILED",
      message: 'Int cannot represent non-integer value: "2"',
    },
  ],
];

const transportCases: [string, Case][] = [
  ["malformed JSON", { request: async () => ({ body: '{"query": "{ allLevels { totalCount } }"' }), status: 400, code: "BAD_REQUEST", message: /Parsing failed/ }],
  ["a text/plain body", { request: async () => ({ ...graphql(RECORD, { action: "tasks_completed" }), headers: { "content-type": "text/plain" } }), status: 415, code: "UNSUPPORTED_MEDIA_TYPE", message: "Media type 'text/plain' is not allowed" }],
  [
    "a form-encoded body (CSRF-able)",
    {
      request: async (me) => ({ body: `query=${encodeURIComponent(RECORD)}`, headers: { "content-type": "application/x-www-form-urlencoded", authorization: await bearer(me) } }),
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
      message: /x-www-form-urlencoded/,
    },
  ],
  ["variables that are a list", { request: async (me) => graphql(RECORD, [{ action: "tasks_completed" }], await bearer(me)), status: 400, code: "BAD_REQUEST", message: "Invalid variables; expected JSON-encoded object" }],
  ["variables that are a string", { request: async (me) => graphql(RECORD, '{"action":"tasks_completed"}', await bearer(me)), status: 400, code: "BAD_REQUEST", message: "Invalid variables; expected JSON-encoded object" }],
  ["a query that is not a string", { request: async () => ({ body: JSON.stringify({ query: 42 }) }), status: 400, code: "BAD_REQUEST", message: "query must be a string" }],
  ["a batch (a JSON list of operations)", { request: async (me) => ({ ...graphql(RECORD), body: JSON.stringify([{ query: RECORD, variables: { action: "tasks_completed" } }]), headers: { authorization: await bearer(me) } }), status: 400, code: "BAD_REQUEST", message: "Invalid body; expected object" }],
  [
    "a mutation over GET",
    {
      request: async (me) => ({ method: "GET", path: `/graphql?query=${encodeURIComponent(`mutation { recordAction(input: { action: "tasks_completed" }) { clientMutationId } }`)}`, headers: { authorization: await bearer(me) } }),
      status: 405,
      code: "METHOD_NOT_ALLOWED",
      message: "Method not supported, please use POST",
    },
  ],
  [
    "an Accept the server cannot answer",
    { request: async () => ({ ...graphql(`{ allLevels { totalCount } }`), headers: { accept: "image/png" } }), status: 406, code: "NOT_ACCEPTABLE", message: /Could not find a supported media type/ },
  ],
  ["an empty query", { request: async () => graphql(""), status: 200, code: "GRAPHQL_PARSE_FAILED", message: /Syntax Error/ }],
  ["a query that does not parse", { request: async (me) => graphql(`mutation { recordAction(input: { action: "tasks_completed" }) {`, undefined, await bearer(me)), status: 200, code: "GRAPHQL_PARSE_FAILED", message: "Syntax Error: Expected Name, found <EOF>." }],
  ["an operationName that is not in the document", { request: async (me) => graphql(RECORD, { action: "tasks_completed" }, await bearer(me), { operationName: "Nope" }), status: 200, code: "GRAPHQL_VALIDATION_FAILED", message: 'Unknown operation named "Nope".' }],
];

const nested = (depth: number): string => (depth === 0 ? "name" : `levelByLevel { levelRequirementsByLevel { nodes { ${nested(depth - 1)} } } }`);
const ofTypes = (depth: number): string => (depth === 0 ? "name" : `ofType { ${ofTypes(depth - 1)} }`);
const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `a${i}: allLevels { totalCount }`).join(" ")} }`;
const limitCases: [string, Case][] = [
  [
    "a body of 10 MB",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed", key: "x".repeat(10_000_000) }, await bearer(me)),
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      message: `The request body is larger than ${LIMITS.maxRequestBytes} bytes`,
    },
  ],
  [
    "a body just above the configured limit",
    {
      request: async (me) => graphql(RECORD, { action: "tasks_completed", key: "x".repeat(LIMITS.maxRequestBytes) }, await bearer(me)),
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      message: `The request body is larger than ${LIMITS.maxRequestBytes} bytes`,
    },
  ],
  [
    "a query nested 18 deep",
    {
      request: async () => graphql(`{ allLevelRequirements { nodes { ${nested(5)} } } }`),
      status: 200,
      code: "QUERY_TOO_DEEP",
      message: `The query is nested too deeply: at most ${LIMITS.maxQueryDepth} levels of fields are allowed`,
    },
  ],
  [
    "a deep query hidden in fragments",
    {
      request: async () =>
        graphql(
          `{ allLevelRequirements { nodes { ...A } } }
           fragment A on LevelRequirement { levelByLevel { levelRequirementsByLevel { nodes { ...B } } } }
           fragment B on LevelRequirement { levelByLevel { levelRequirementsByLevel { nodes { ...C } } } }
           fragment C on LevelRequirement { levelByLevel { levelRequirementsByLevel { nodes { ...D } } } }
           fragment D on LevelRequirement { levelByLevel { levelRequirementsByLevel { nodes { ...E } } } }
           fragment E on LevelRequirement { levelByLevel { levelRequirementsByLevel { nodes { name } } } }`,
        ),
      status: 200,
      code: "QUERY_TOO_DEEP",
      message: /nested too deeply/,
    },
  ],
  [
    "introspection abuse: __type with 30 nested ofType",
    { request: async () => graphql(`{ __type(name: "Query") { fields { type { ${ofTypes(30)} } } } }`), status: 200, code: "QUERY_TOO_DEEP", message: /nested too deeply/ },
  ],
  [
    "introspection abuse: __schema types fields type ofType… nested",
    { request: async () => graphql(`{ __schema { types { fields { type { ${ofTypes(14)} } } } } }`), status: 200, code: "QUERY_TOO_DEEP", message: /nested too deeply/ },
  ],
  ["1,000 aliases", { request: async () => graphql(aliases(1000)), status: 200, code: "TOO_MANY_ALIASES", message: `The query has 1000 aliases: at most ${LIMITS.maxQueryAliases} are allowed` }],
  ["one alias above the limit", { request: async () => graphql(aliases(LIMITS.maxQueryAliases + 1)), status: 200, code: "TOO_MANY_ALIASES", message: /at most 50 are allowed/ }],
  [
    "60 aliased recordAction calls in one request",
    {
      request: async (me) =>
        graphql(`mutation { ${Array.from({ length: 60 }, (_, i) => `r${i}: recordAction(input: { action: "tasks_completed" }) { clientMutationId }`).join(" ")} }`, undefined, await bearer(me)),
      status: 200,
      code: "TOO_MANY_ALIASES",
      message: `The query has 60 aliases: at most ${LIMITS.maxQueryAliases} are allowed`,
    },
  ],
];

const allCases = [...tokenCases, ...inputCases, ...transportCases, ...limitCases];

describe("bad inputs over HTTP", () => {
  it("catalogs at least 40 of them", () => {
    expect(allCases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(allCases)("refuses %s, and writes nothing", async (_, { request, status, code, message }) => {
    const [me, other] = [newUserId(), newUserId()];
    const before = await rowsOf([me, other]);
    const reply = await send(await request(me, other));
    expect({ status: reply.status, text: reply.text.slice(0, 300) }).toEqual({ status, text: expect.any(String) });
    const error = reply.json?.errors?.[0];
    expect(error).toBeDefined();
    expect(error!.extensions?.code ?? null).toBe(code);
    if (typeof message === "string") expect(error!.message).toBe(message);
    else expect(error!.message).toMatch(message);
    expect(reply.json?.data?.recordAction ?? reply.json?.data?.recordActionFor ?? null).toBeNull();
    expect(await rowsOf([me, other])).toEqual(before);
  });
});

describe("limits that let good requests through", () => {
  it("accepts the standard introspection query (GraphiQL's) and a query at the depth limit", async () => {
    const introspection = await send(graphql(getIntrospectionQuery()));
    expect(introspection.status).toBe(200);
    expect(introspection.json?.errors).toBeUndefined();
    expect(introspection.json?.data?.__schema?.queryType?.name).toBe("Query");
    // 15 levels: allLevelRequirements, nodes, 4 × (levelByLevel, levelRequirementsByLevel, nodes), totalCount.
    const deepest = await send(graphql(`{ allLevelRequirements { nodes { ${nested(4).replace("nodes { name }", "totalCount")} } } }`));
    expect(deepest.json?.errors).toBeUndefined();
  });

  it("accepts exactly the configured number of aliases", async () => {
    const reply = await send(graphql(aliases(LIMITS.maxQueryAliases)));
    expect(reply.json?.errors).toBeUndefined();
    expect(Object.keys(reply.json?.data ?? {})).toHaveLength(LIMITS.maxQueryAliases);
  });
});

describe("the recordAction rate limit (per user, in the database: see also test/e2e/rate_limit.test.ts)", () => {
  const recordOnce = async (authorization: string) => send(graphql(RECORD, { action: "tasks_completed" }, authorization));

  it("lets a user record the configured number of actions, then answers 429 RATE_LIMITED with Retry-After and writes nothing", async () => {
    const me = newUserId();
    const authorization = await bearer(me);
    for (let i = 1; i <= LIMITS.recordActionRateLimit; i++) {
      const reply = await recordOnce(authorization);
      expect(reply.json).toEqual({ data: { recordAction: { result: { tally: i } } } });
    }
    const before = await rowsOf([me]);
    expect(before.steps).toBe(LIMITS.recordActionRateLimit);
    const refused = await recordOnce(authorization);
    expect(refused.status).toBe(429);
    expect(refused.json?.errors?.map((error) => error.extensions?.code)).toEqual(["RATE_LIMITED"]);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await rowsOf([me])).toEqual(before);

    // Another user is not affected.
    expect((await recordOnce(await bearer(newUserId()))).json).toEqual({ data: { recordAction: { result: { tally: 1 } } } });
  });

  it("counts recordActionFor against the user it records for, whatever the service token", async () => {
    const target = newUserId();
    const recordFor = async () => send(graphql(RECORD_FOR, { userId: target, action: "lessons_finished" }, await bearer(newUserId(), "service")));
    for (let i = 1; i <= LIMITS.recordActionRateLimit; i++) {
      expect((await recordFor()).json).toEqual({ data: { recordActionFor: { result: { tally: i } } } });
    }
    const before = await rowsOf([target]);
    const refused = await recordFor();
    expect([refused.status, refused.json?.errors?.[0]?.extensions?.code]).toEqual([429, "RATE_LIMITED"]);
    expect(await rowsOf([target])).toEqual(before);
  });

  it("does not count queries, nor other mutations", async () => {
    const me = newUserId();
    const authorization = await bearer(me);
    for (let i = 0; i < LIMITS.recordActionRateLimit + 2; i++) {
      const reply = await send(graphql(PROFILE, { name: `me ${i}` }, authorization));
      expect(reply.json?.errors).toBeUndefined();
    }
    expect((await recordOnce(authorization)).json).toEqual({ data: { recordAction: { result: { tally: 1 } } } });
  });
});

describe("the limits over websockets", () => {
  async function overWebsocket(query: string, authorization: string) {
    const client = createClient({ url: `${server.url.replace("http", "ws")}/graphql`, webSocketImpl: WebSocket, connectionParams: { authorization }, retryAttempts: 0 });
    try {
      return await new Promise<{ data?: any; errors?: readonly { message: string; extensions?: { code?: string } }[] }>((resolve, reject) => {
        let result = {};
        client.subscribe(
          { query },
          {
            next: (value) => (result = value),
            error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
            complete: () => resolve(result),
          },
        );
      });
    } finally {
      await client.dispose();
    }
  }

  it("applies the depth limit and the recordAction rate limit of the signed-in user, and writes nothing when refusing", async () => {
    const me = newUserId();
    const authorization = await bearer(me);
    const deep = await overWebsocket(`{ allLevelRequirements { nodes { ${nested(5)} } } }`, authorization);
    expect(deep.errors?.map((error) => error.extensions?.code)).toEqual(["QUERY_TOO_DEEP"]);

    const record = `mutation { recordAction(input: { action: "tasks_completed" }) { result { tally } } }`;
    for (let i = 1; i <= LIMITS.recordActionRateLimit; i++) {
      expect(await overWebsocket(record, authorization)).toEqual({ data: { recordAction: { result: { tally: i } } } });
    }
    const before = await rowsOf([me]);
    const refused = await overWebsocket(record, authorization);
    expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(["RATE_LIMITED"]);
    expect(await rowsOf([me])).toEqual(before);
  });
});

describe("coded refusals over websockets", () => {
  /** One operation over graphql-ws: its result, or the errors it was refused with. */
  async function overWebsocket(query: string, variables: Record<string, unknown> = {}, authorization?: string): Promise<Payload> {
    const client = connect(server.url, authorization);
    try {
      return await new Promise<Payload>((resolve, reject) => {
        let result: Payload = {};
        client.subscribe(
          { query, variables },
          {
            next: (value) => (result = value as Payload),
            error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
            complete: () => resolve(result),
          },
        );
      });
    } finally {
      await client.dispose();
    }
  }

  it("codes parse, validation and coercion errors and masked SQL errors as over HTTP, and writes nothing", async () => {
    const me = newUserId();
    const authorization = await bearer(me);
    const before = await rowsOf([me]);
    const codeAndMessage = async (query: string, variables?: Record<string, unknown>) => {
      const { errors } = await overWebsocket(query, variables, authorization);
      return errors?.map(({ message, extensions }) => ({ code: extensions?.code, message }));
    };
    expect(await codeAndMessage(`{ nope }`)).toEqual([{ code: "GRAPHQL_VALIDATION_FAILED", message: 'Cannot query field "nope" on type "Query".' }]);
    expect(await codeAndMessage(`{ allLevels {`)).toEqual([{ code: "GRAPHQL_PARSE_FAILED", message: "Syntax Error: Expected Name, found <EOF>." }]);
    expect(await codeAndMessage(RECORD, { action: "tasks_completed", amount: 2 ** 31 })).toEqual([
      { code: "BAD_USER_INPUT", message: 'Variable "$amount" got invalid value 2147483648; Int cannot represent non 32-bit signed integer value: 2147483648' },
    ]);
    expect(await codeAndMessage(RECORD, { action: "tasks_completed", key: "\u0000" })).toEqual([
      { code: "BAD_USER_INPUT", message: "Strings must not contain the NUL character (\\u0000)" },
    ]);
    expect(await codeAndMessage(`{ allLevels(first: -1) { nodes { name } } }`)).toEqual([{ code: "BAD_USER_INPUT", message: "`first` and `last` must not be negative" }]);
    expect(await rowsOf([me])).toEqual(before);
  });
});

describe("a failing field about me, next to public ones", () => {
  it("leaves the public answer: without a token, the leaderboard comes back and each personal field is null with UNAUTHENTICATED", async () => {
    const reply = await send(
      graphql(`{
        leaderboard(first: 3) { rank userId points }
        leaderboardAroundMe { rank }
        myRank { rank }
        myDashboard { userId rank { rank } }
        allTiers(first: 1) { nodes { name } }
      }`),
    );
    expect(reply.status).toBe(200);
    expect(reply.json?.data).toEqual({
      leaderboard: expect.any(Array),
      leaderboardAroundMe: null,
      myRank: null,
      myDashboard: null,
      allTiers: { nodes: [{ name: expect.any(String) }] },
    });
    const errors = (reply.json?.errors ?? []) as { path?: string[]; extensions?: { code?: string } }[];
    expect(errors.map(({ path, extensions }) => [path?.join("."), extensions?.code]).sort()).toEqual([
      ["leaderboardAroundMe", "UNAUTHENTICATED"],
      ["myDashboard", "UNAUTHENTICATED"],
      ["myRank", "UNAUTHENTICATED"],
    ]);
  });

  it("answers myTier without a token with null and UNAUTHENTICATED (not a tier of 0 points), and the public fields next to it", async () => {
    const reply = await send(graphql(`{ myTier { points tier } allTiers(first: 1) { nodes { name } } }`));
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      data: { myTier: null, allTiers: { nodes: [{ name: expect.any(String) }] } },
      errors: [expect.objectContaining({ message: "Sign in to see your tier", path: ["myTier"], extensions: expect.objectContaining({ code: "UNAUTHENTICATED" }) })],
    });
    const me = newUserId();
    const signedIn = await send(graphql(`{ myTier { points percent } }`, undefined, await bearer(me)));
    expect(signedIn.json).toEqual({ data: { myTier: { points: 0, percent: expect.any(Number) } } });
  });
});

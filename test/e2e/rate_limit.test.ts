// The recordAction rate limit over HTTP, enforced by the database where the action is recorded: mutations
// hidden in a fragment spread or an inline fragment at the root are counted like any other (the old
// transport-level counting saw only root fields), two server processes share one allowance (the old one was
// in memory, per process), the service role is limited per client (its token's sub), and a refusal is
// RATE_LIMITED with a retry-after, HTTP 429 when nothing else succeeded, and nothing written.
// The servers commit to the shared test database: the file removes every trace of its users at the end.
import { signToken } from "../../src/auth";
import type { RequestLimits } from "../../src/limits";
import type { RunningServer } from "../../src/server";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { rootPool } from "../helpers/db";
import { startTestServer, testJwtSecret } from "../helpers/server";

const LIMITS: RequestLimits = {
  maxRequestBytes: 100_000,
  maxQueryDepth: 16,
  maxQueryFields: 2_000,
  maxQueryAliases: 50,
  recordActionRateLimit: 3,
  recordActionServiceRateLimit: 4,
  recordActionRateWindowSeconds: 600,
};

const users = new TrackedUsers();
const pool = rootPool(2);
let first: RunningServer;
let second: RunningServer;
// Tokens refill continuously: a refusal's wait is `wait` less the seconds since the allowance was spent, which
// a loaded machine can stretch past a second. Each test's calls started here: the wait is at most that much less.
let testStartedAt = 0;
beforeEach(() => {
  testStartedAt = performance.now();
});

beforeAll(async () => {
  [first, second] = await Promise.all([startTestServer({ limits: LIMITS }), startTestServer({ limits: LIMITS })]);
});
afterAll(async () => {
  await Promise.all([first?.close(), second?.close()]);
  await removeUsersAndEnd(pool, users.ids);
});

interface Reply {
  status: number;
  retryAfter: string | null;
  data?: Record<string, any> | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

async function post(server: RunningServer, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Reply> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as Omit<Reply, "status" | "retryAfter">;
  return { status: response.status, retryAfter: response.headers.get("retry-after"), ...body };
}

const userToken = (userId: string) => signToken({ jwtSecret: testJwtSecret(), userId });
const serviceToken = (clientId: string) => signToken({ jwtSecret: testJwtSecret(), userId: clientId, role: "service" });
const stepsOf = async (userId: string) =>
  (await pool.query<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [userId])).rows[0].n;

const RECORD = `mutation { recordAction(input: { action: "tasks_completed" }) { result { tally } } }`;
const RECORD_FOR = `mutation ($userId: UUID!) { recordActionFor(input: { userId: $userId, action: "lessons_finished" }) { result { tally } } }`;
const calls = (n: number) => Array.from({ length: n }, (_, i) => `r${i}: recordAction(input: { action: "tasks_completed" }) { result { tally } }`).join(" ");
const codes = (reply: Reply) => (reply.errors ?? []).map((error) => error.extensions?.code);

/**
 * The refusal once the allowance is spent: 429, Retry-After, and the message says when. A user's calls come
 * back one every window / limit; a service client's bucket is split into rows (here 4 of one call each), each
 * refilling on its own, so its next whole call is a row's: a window away.
 */
function expectRefused(reply: Reply, who = "for this user", limit = LIMITS.recordActionRateLimit, fullWait = LIMITS.recordActionRateWindowSeconds / limit) {
  const wait = expectWait(reply.retryAfter, fullWait);
  expect({ status: reply.status, retryAfter: reply.retryAfter, errors: reply.errors }).toEqual({
    status: 429,
    retryAfter: String(wait),
    errors: [
      {
        message: `Too many recorded actions ${who}: at most ${limit} every ${LIMITS.recordActionRateWindowSeconds} s; retry in ${wait} s`,
        locations: expect.anything(),
        path: [expect.any(String)],
        extensions: { code: "RATE_LIMITED", sqlState: "AC429", retryAfterSeconds: wait, hint: `Retry in ${wait} s (with the same idempotency key).` },
      },
    ],
  });
}

/** The Retry-After seconds, checked to be `fullWait` less at most the seconds the test has run. */
function expectWait(retryAfter: string | null, fullWait: number): number {
  const wait = Number(retryAfter);
  const elapsed = Math.ceil((performance.now() - testStartedAt) / 1000);
  expect({ retryAfter, inRange: wait <= fullWait && wait >= fullWait - elapsed }).toEqual({ retryAfter, inRange: true });
  return wait;
}

describe("the recordAction rate limit over HTTP", () => {
  it.each([
    ["a fragment spread", (n: number) => `mutation { ...Calls } fragment Calls on Mutation { ${calls(n)} }`],
    ["an inline fragment", (n: number) => `mutation { ... on Mutation { ${calls(n)} } }`],
    ["aliases", (n: number) => `mutation { ${calls(n)} }`],
  ])("counts the calls inside %s at the root: 3 of 5 recorded, 2 refused, then nothing more", async (_, document) => {
    const me = users.make();
    const token = await userToken(me);
    const reply = await post(first, token, document(5));
    // Each root mutation field runs in its own transaction: the first three are recorded, the others refused.
    expect(Object.values(reply.data ?? {}).map((field) => field?.result?.tally ?? null)).toEqual([1, 2, 3, null, null]);
    expect(codes(reply)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    // Some of the request succeeded: HTTP 200, with when to retry.
    expect(reply.status).toBe(200);
    expectWait(reply.retryAfter, 200);
    expect(await stepsOf(me)).toBe(3);
    expectRefused(await post(first, token, document(1)));
    expect(await stepsOf(me)).toBe(3);
  });

  it("is shared by two server processes: one allowance, wherever the calls land", async () => {
    const me = users.make();
    const token = await userToken(me);
    expect((await post(first, token, RECORD)).data).toEqual({ recordAction: { result: { tally: 1 } } });
    expect((await post(second, token, RECORD)).data).toEqual({ recordAction: { result: { tally: 2 } } });
    expect((await post(first, token, RECORD)).data).toEqual({ recordAction: { result: { tally: 3 } } });
    expectRefused(await post(second, token, RECORD));
    expectRefused(await post(first, token, RECORD));
    expect(await stepsOf(me)).toBe(3);
  });

  it("limits each service client across the users it records for, and each user recorded for", async () => {
    const [client, otherClient] = [users.make(), users.make()];
    const token = await serviceToken(client);
    for (let i = 0; i < LIMITS.recordActionServiceRateLimit; i++) {
      expect((await post(i % 2 ? first : second, token, RECORD_FOR, { userId: users.make() })).data).toEqual({ recordActionFor: { result: { tally: 1 } } });
    }
    const target = users.make();
    expectRefused(await post(first, token, RECORD_FOR, { userId: target }), "by this service client", LIMITS.recordActionServiceRateLimit, 600);
    expect(await stepsOf(target)).toBe(0);

    // Another client records for the same user, up to the user's own limit.
    const otherToken = await serviceToken(otherClient);
    for (let tally = 1; tally <= LIMITS.recordActionRateLimit; tally++) {
      expect((await post(second, otherToken, RECORD_FOR, { userId: target })).data).toEqual({ recordActionFor: { result: { tally } } });
    }
    expectRefused(await post(first, otherToken, RECORD_FOR, { userId: target }));
    expect(await stepsOf(target)).toBe(LIMITS.recordActionRateLimit);
  });

  it("counts the steps the service creates itself (createUserStep) like recordActionFor", async () => {
    const token = await serviceToken(users.make());
    const target = users.make();
    const createStep = `mutation ($userId: UUID!) { createUserStep(input: { userStep: { userId: $userId, name: "make_post" } }) { userStep { count } } }`;
    for (let i = 0; i < LIMITS.recordActionRateLimit; i++) {
      expect((await post(second, token, createStep, { userId: target })).data).toEqual({ createUserStep: { userStep: { count: 1 } } });
    }
    const refused = await post(first, token, createStep, { userId: target });
    expect([refused.status, codes(refused)]).toEqual([429, ["RATE_LIMITED"]]);
    expectWait(refused.retryAfter, 200);
    expect(await stepsOf(target)).toBe(LIMITS.recordActionRateLimit);
  });
});

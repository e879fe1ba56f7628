// authenticate keeps the tokens it verified (src/auth.ts): what it keeps must still be refused once expired,
// and must never stand in for another token. The clock is jest's (jose reads Date.now too), so nothing here
// waits for time to pass.
import { randomUUID } from "node:crypto";
import { AuthenticationError, makeAuthenticate, signToken, VERIFIED_TOKENS_KEPT } from "../../src/auth";

const jwtSecret = "auth-test-secret-auth-test-secret-0123456789";
const roles = { authenticator: "authenticator_role", anonymous: "anon_role", user: "user_role", service: "service_role", admin: "admin_role" };
const START = Date.parse("2026-06-01T12:00:00Z");

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => "accepted",
    (error: unknown) => (error instanceof AuthenticationError ? error.message : `not an AuthenticationError: ${String(error)}`),
  );

beforeEach(() => {
  jest.useFakeTimers({ now: START, doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
});
afterEach(() => jest.useRealTimers());

describe("authenticate's verified tokens", () => {
  it("answers a token it verified with the same session, and each token with its own", async () => {
    const authenticate = makeAuthenticate({ jwtSecret, roles });
    const [alice, bob] = [randomUUID(), randomUUID()];
    const aliceToken = await signToken({ jwtSecret, userId: alice, expiresIn: "1h" });
    const bobToken = await signToken({ jwtSecret, userId: bob, role: "service", expiresIn: "1h" });
    const first = await authenticate(`Bearer ${aliceToken}`);
    expect(first).toEqual({ role: "user_role", userId: alice });
    expect(await authenticate(`Bearer ${aliceToken}`)).toBe(first);
    expect(await authenticate(`Bearer ${bobToken}`)).toEqual({ role: "service_role", userId: bob });
    expect(Object.isFrozen(first)).toBe(true);
  });

  it("refuses a kept token from its expiry on", async () => {
    const authenticate = makeAuthenticate({ jwtSecret, roles });
    const token = await signToken({ jwtSecret, userId: randomUUID(), expiresIn: "10s" }); // exp = START / 1000 + 10
    await authenticate(`Bearer ${token}`);
    jest.setSystemTime(START + 9_999);
    expect(await refusal(authenticate(`Bearer ${token}`))).toBe("accepted");
    jest.setSystemTime(START + 10_000);
    expect(await refusal(authenticate(`Bearer ${token}`))).toBe("The token has expired");
    expect(await refusal(authenticate(`Bearer ${token}`))).toBe("The token has expired");
  });

  it("refuses a token that differs from a kept one, however little", async () => {
    const authenticate = makeAuthenticate({ jwtSecret, roles });
    const token = await signToken({ jwtSecret, userId: randomUUID() });
    await authenticate(`Bearer ${token}`);
    const signature = token.slice(token.lastIndexOf(".") + 1);
    const flipped = `${token.slice(0, token.lastIndexOf(".") + 1)}${signature[0] === "A" ? "B" : "A"}${signature.slice(1)}`;
    expect(await refusal(authenticate(`Bearer ${flipped}`))).toBe("The token's signature is invalid");
    // A token signed with another secret, for the same user, is not the kept one either.
    const forged = await signToken({ jwtSecret: `${jwtSecret}-other`, userId: randomUUID() });
    expect(await refusal(authenticate(`Bearer ${forged}`))).toBe("The token's signature is invalid");
    // Another server's authenticate (another secret) keeps its own tokens.
    expect(await refusal(makeAuthenticate({ jwtSecret: `${jwtSecret}-other`, roles })(`Bearer ${token}`))).toBe("The token's signature is invalid");
  });

  it("keeps at most VERIFIED_TOKENS_KEPT tokens, and still verifies the ones it forgot", async () => {
    const authenticate = makeAuthenticate({ jwtSecret, roles });
    const firstUser = randomUUID();
    const first = await signToken({ jwtSecret, userId: firstUser, expiresIn: "1h" });
    const firstSession = await authenticate(`Bearer ${first}`);
    for (let i = 0; i < VERIFIED_TOKENS_KEPT; i++) await authenticate(`Bearer ${await signToken({ jwtSecret, userId: randomUUID(), expiresIn: "1h" })}`);
    // Forgotten (the oldest), so verified again: an equal session, not the kept object.
    const again = await authenticate(`Bearer ${first}`);
    expect(again).toEqual({ role: "user_role", userId: firstUser });
    expect(again).not.toBe(firstSession);
  });
});

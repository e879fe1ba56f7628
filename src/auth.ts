// JWT authentication: a verified token becomes a session, and the session becomes the Postgres settings
// (role and jwt.claims.*) of every transaction the request runs. HTTP requests carry the token in the
// Authorization header, websockets in connectionParams.authorization; both go through `authenticate`.
import { createSecretKey } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { SafeError } from "postgraphile/grafast";
import { type Roles, type RoleClaim, type UserIdSource, userIdPgSettings } from "./roles";
import { ROLE_CLAIMS } from "./roles";

export interface Session {
  /** The API role the transaction runs as. */
  role: string;
  /** The signed-in user (the token's `sub`), or null for anonymous requests. */
  userId: string | null;
}

export interface AuthOptions {
  jwtSecret: string;
  jwtAudience?: string;
  roles: Roles;
}

export const isUuid = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** A token that is missing its parts, badly signed, expired or otherwise unusable: HTTP 401. */
export class AuthenticationError extends Error {
  readonly code = "UNAUTHENTICATED";

  /** As an error grafast shows to the client with its code (SafeError itself cannot be subclassed). */
  toSafeError(): SafeError {
    return new SafeError(this.message, { code: this.code });
  }
}

export type Authenticate = (authorization: string | undefined) => Promise<Session>;

/** How many verified tokens `authenticate` remembers (the oldest is forgotten first); ~0.5 kB each. */
export const VERIFIED_TOKENS_KEPT = 10_000;

export function makeAuthenticate({ jwtSecret, jwtAudience, roles }: AuthOptions): Authenticate {
  // A KeyObject made once: given the secret's bytes, jose would make one on every verification.
  const key = createSecretKey(Buffer.from(jwtSecret, "utf8"));
  const roleOfClaim: Record<RoleClaim, string> = { user: roles.user, service: roles.service, admin: roles.admin };
  // Tokens already verified, by their exact text, until they expire: a client sends the same token with
  // every request, and verifying it (an HMAC, base64 and JSON) is a good part of a short request's CPU. What
  // verification decides cannot change for the same text but with time: `exp` is checked on every use
  // (as jose does: expired from the second `exp` on), and a token used before its `nbf` is refused, so not kept.
  const verified = new Map<string, { session: Session; expiresAtMs: number }>();

  return async function authenticate(authorization) {
    if (authorization === undefined || authorization === "") {
      return { role: roles.anonymous, userId: null };
    }
    const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
    if (!match) {
      throw new AuthenticationError("The authorization must be `Bearer <token>`");
    }
    const token = match[1];
    const known = verified.get(token);
    if (known && Date.now() < known.expiresAtMs) return known.session;
    if (known) verified.delete(token); // expired: jose says so below
    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        audience: jwtAudience,
        requiredClaims: ["exp", "sub"],
      }));
    } catch (error) {
      throw new AuthenticationError(describeJwtError(error));
    }
    if (typeof payload.sub !== "string" || !isUuid(payload.sub)) {
      throw new AuthenticationError("The token's `sub` claim must be the user's uuid");
    }
    const claim = payload.role ?? "user";
    if (typeof claim !== "string" || !(ROLE_CLAIMS as readonly string[]).includes(claim)) {
      throw new AuthenticationError(`The token's \`role\` claim must be one of ${ROLE_CLAIMS.join(", ")}`);
    }
    const session: Session = Object.freeze({ role: roleOfClaim[claim as RoleClaim], userId: payload.sub.toLowerCase() });
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(token, { session, expiresAtMs: (payload.exp as number) * 1000 });
    return session;
  };
}

function describeJwtError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "nbf") return "The token is not valid yet";
    if (error.claim === "aud") return "The token is for another audience";
    return `The token's \`${error.claim}\` claim is missing or invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The token must be signed with HS256";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The token's signature is invalid";
  return "The token is malformed";
}

/** The Postgres settings of a session's transactions. */
export function pgSettingsOf(session: Session, userIdSource?: UserIdSource): Record<string, string> {
  // The user goes where jwt_public.current_user_id() reads it (USER_ID_SETTING / USER_ID_CLAIM).
  return { role: session.role, ...userIdPgSettings(session.userId, userIdSource) };
}

/** Signs a token as the server expects it (`npm run token`, tests). */
export async function signToken(options: {
  jwtSecret: string;
  userId: string;
  role?: RoleClaim;
  audience?: string;
  expiresIn?: string | number;
}): Promise<string> {
  const jwt = new SignJWT({ role: options.role ?? "user" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "1h");
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.jwtSecret));
}

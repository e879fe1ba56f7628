// JWT authentication: a verified token becomes a session, and the session becomes the Postgres settings
// (role and jwt.claims.*) of every transaction the request runs. HTTP requests carry the token in the
// Authorization header, websockets in connectionParams.authorization; both go through `authenticate`.
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

export function makeAuthenticate({ jwtSecret, jwtAudience, roles }: AuthOptions): Authenticate {
  const key = new TextEncoder().encode(jwtSecret);
  const roleOfClaim: Record<RoleClaim, string> = { user: roles.user, service: roles.service, admin: roles.admin };

  return async function authenticate(authorization) {
    if (authorization === undefined || authorization === "") {
      return { role: roles.anonymous, userId: null };
    }
    const match = /^Bearer ([^\s]+)$/i.exec(authorization.trim());
    if (!match) {
      throw new AuthenticationError("The authorization must be `Bearer <token>`");
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(match[1], key, {
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
    return { role: roleOfClaim[claim as RoleClaim], userId: payload.sub.toLowerCase() };
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

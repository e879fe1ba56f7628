// The app's own sign-in: `authenticate(username, password)` (SQL, migrations/0001) returns a token that
// PostGraphile signs as a JWT (gather.pgJwtTypes in graphile.config.ts). Every request sends it back, over
// HTTP as `Authorization: Bearer <token>`, over websockets as connectionParams.authorization; here it is
// verified and turned into the Postgres settings of the request's transactions.
import jwt, { type JwtPayload } from "jsonwebtoken";
import { SafeError } from "postgraphile/grafast";
import type { AppRoles } from "./roles.ts";

export const JWT_AUDIENCE = "existing-app";

export interface AuthOptions {
  jwtSecret: string;
  roles: AppRoles;
}

/**
 * A refused token: the client sees the message (SafeError), over HTTP with status 401. (grafserv keeps only
 * the message of an error thrown from grafast.context over HTTP, not its extensions; over websockets the
 * code stays too.)
 */
function unauthenticated(message: string): SafeError {
  return Object.assign(new SafeError(message, { code: "UNAUTHENTICATED" }), { statusCode: 401 });
}

/** The user id of a valid token. */
export function verifyToken(token: string, jwtSecret: string): string {
  let claims: JwtPayload | string;
  try {
    claims = jwt.verify(token, jwtSecret, { algorithms: ["HS256"], audience: JWT_AUDIENCE, issuer: JWT_AUDIENCE });
  } catch (error) {
    throw unauthenticated(`Invalid token: ${(error as Error).message}`);
  }
  const userId = typeof claims === "object" ? claims.user_id : undefined;
  if (typeof userId !== "string") throw unauthenticated("Invalid token: no user_id");
  return userId;
}

/**
 * The pgSettings of a request: anonymous without a token, else the visitor role and the user's id in
 * `jwt.claims.user_id`, which both app_public.current_user_id() and the engine's jwt_public.current_user_id()
 * read (the engine was installed with userIdSetting "jwt.claims.user_id").
 */
export function pgSettingsFor(authorization: string | undefined, { jwtSecret, roles }: AuthOptions): Record<string, string> {
  if (!authorization) return { role: roles.anonymous };
  const match = /^Bearer (\S+)$/i.exec(authorization);
  if (!match) throw unauthenticated("Send the token as `Bearer <token>`");
  return { role: roles.visitor, "jwt.claims.user_id": verifyToken(match[1], jwtSecret) };
}

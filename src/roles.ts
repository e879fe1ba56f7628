// The database roles of the API and the setting that names the signed-in user. Their defaults are
// graphile-migrate placeholders in .gmrc (the one place to change them for the standalone server);
// `loadRoles(overrides)` maps them onto an application's own roles (src/install.ts, src/config.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import JSON5 from "json5";
import { PROJECT_ROOT } from "./config";

export interface Roles {
  /** Logs in and switches to the other roles (the server's connection). */
  authenticator: string;
  anonymous: string;
  user: string;
  service: string;
  admin: string;
}

export const ROLE_NAMES = ["authenticator", "anonymous", "user", "service", "admin"] as const satisfies readonly (keyof Roles)[];

/** The .gmrc placeholder of each role. */
export const ROLE_PLACEHOLDERS: Record<keyof Roles, string> = {
  authenticator: ":AUTHENTICATOR_ROLE",
  anonymous: ":ANONYMOUS_ROLE",
  user: ":USER_ROLE",
  service: ":SERVICE_ROLE",
  admin: ":ADMIN_ROLE",
};

/** The values a JWT's `role` claim may take, each naming one API role. */
export const ROLE_CLAIMS = ["user", "service", "admin"] as const;
export type RoleClaim = (typeof ROLE_CLAIMS)[number];

/** Where jwt_public.current_user_id() finds the user: a setting, or one key of a setting holding JSON. */
export interface UserIdSource {
  /** The Postgres setting (default `jwt.claims.user_id`; PostgREST/Supabase: `request.jwt.claims`). */
  setting: string;
  /** The JSON key inside the setting (Supabase: `sub`); undefined: the setting holds the uuid itself. */
  claim?: string;
}

export const USER_ID_PLACEHOLDERS = { setting: ":USER_ID_SETTING", claim: ":USER_ID_CLAIM" } as const;

/** Role names are substituted into SQL unquoted (graphile-migrate placeholders): plain lower-case only. */
export const ROLE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** A custom setting: two or more dotted lower-case words (it is substituted into a SQL string). */
export const SETTING_NAME_PATTERN = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$/;
/** A JSON key: no quotes or backslashes (it is substituted into a SQL string). */
export const CLAIM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,99}$/;

export function readGmrc(): { placeholders: Record<string, string> } {
  return JSON5.parse(readFileSync(join(PROJECT_ROOT, ".gmrc"), "utf8"));
}

/** The roles named in .gmrc, each replaced by its override when one is given. */
export function loadRoles(overrides: Partial<Roles> = {}): Roles {
  const { placeholders } = readGmrc();
  const role = (name: keyof Roles): string => {
    const override = overrides[name];
    const value = override ?? placeholders[ROLE_PLACEHOLDERS[name]];
    if (!value || !ROLE_NAME_PATTERN.test(value)) {
      const where = override !== undefined ? `the ${name} role` : `.gmrc: placeholder ${ROLE_PLACEHOLDERS[name]}`;
      throw new Error(`${where} must be a lower-case role name ([a-z_][a-z0-9_]*), got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    authenticator: role("authenticator"),
    anonymous: role("anonymous"),
    user: role("user"),
    service: role("service"),
    admin: role("admin"),
  };
}

/** The user id source named in .gmrc (`jwt.claims.user_id`, no claim), each part replaced when given. */
export function loadUserIdSource(overrides: Partial<UserIdSource> = {}): UserIdSource {
  const { placeholders } = readGmrc();
  const setting = overrides.setting ?? placeholders[USER_ID_PLACEHOLDERS.setting] ?? "jwt.claims.user_id";
  const claim = (overrides.claim ?? placeholders[USER_ID_PLACEHOLDERS.claim]) || undefined;
  if (!SETTING_NAME_PATTERN.test(setting)) {
    throw new Error(`the user id setting must be a custom setting such as jwt.claims.user_id (dotted lower-case words), got ${JSON.stringify(setting)}`);
  }
  if (claim !== undefined && !CLAIM_NAME_PATTERN.test(claim)) {
    throw new Error(`the user id claim must be a JSON key such as sub (letters, digits, _ . : / -), got ${JSON.stringify(claim)}`);
  }
  return { setting, claim };
}

/** The placeholders that name the roles and the user id source (for graphile-migrate and the installer). */
export function placeholdersOf(roles: Roles, source: UserIdSource): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of ROLE_NAMES) result[ROLE_PLACEHOLDERS[name]] = roles[name];
  result[USER_ID_PLACEHOLDERS.setting] = source.setting;
  result[USER_ID_PLACEHOLDERS.claim] = source.claim ?? "";
  return result;
}

/**
 * The pgSettings a server sets so that jwt_public.current_user_id() sees the user: the setting itself, or
 * (with a claim) the setting as a JSON object holding it. An anonymous request sets it empty.
 */
export function userIdPgSettings(userId: string | null, source: UserIdSource = { setting: "jwt.claims.user_id" }): Record<string, string> {
  if (!source.claim) return { [source.setting]: userId ?? "" };
  return { [source.setting]: userId === null ? "" : JSON.stringify({ [source.claim]: userId }) };
}

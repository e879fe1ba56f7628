// The database roles of the API. Their names are graphile-migrate placeholders in .gmrc, the one place
// to change them; the server reads them from there too.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import JSON5 from "json5";
import { PROJECT_ROOT } from "./config";

export interface Roles {
  authenticator: string;
  anonymous: string;
  user: string;
  service: string;
  admin: string;
}

/** The values a JWT's `role` claim may take, each naming one API role. */
export const ROLE_CLAIMS = ["user", "service", "admin"] as const;
export type RoleClaim = (typeof ROLE_CLAIMS)[number];

export function readGmrc(): { placeholders: Record<string, string> } {
  return JSON5.parse(readFileSync(join(PROJECT_ROOT, ".gmrc"), "utf8"));
}

export function loadRoles(): Roles {
  const { placeholders } = readGmrc();
  const role = (name: string): string => {
    const value = placeholders[`:${name}`];
    if (!value || !/^[a-z_][a-z0-9_]*$/.test(value)) {
      throw new Error(`.gmrc: placeholder :${name} must be a lower-case role name, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  return {
    authenticator: role("AUTHENTICATOR_ROLE"),
    anonymous: role("ANONYMOUS_ROLE"),
    user: role("USER_ROLE"),
    service: role("SERVICE_ROLE"),
    admin: role("ADMIN_ROLE"),
  };
}

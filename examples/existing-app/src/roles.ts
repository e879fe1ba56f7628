// The app's database roles. The names share a prefix ("app" by default: app_owner, app_authenticator, ...),
// so that tests on a shared PostgreSQL can use names of their own; the SQL files name them by placeholder
// (:APP_OWNER, :APP_AUTHENTICATOR, ...), filled in by src/migrate.ts.
export interface AppRoles {
  /** Owns the database and everything in it; migrations (and the engine's install) run as it. */
  owner: string;
  /** The server logs in as it (LOGIN, NOINHERIT), then switches to anonymous or visitor per request. */
  authenticator: string;
  anonymous: string;
  /** A signed-in user. */
  visitor: string;
  /** For the engine: a trusted backend that may record actions for anyone (this app never uses it). */
  service: string;
  /** For the engine: manages the achievements catalog (this app writes its catalog in a migration). */
  admin: string;
}

export function appRoles(prefix = "app"): AppRoles {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`Bad role prefix ${JSON.stringify(prefix)}`);
  return {
    owner: `${prefix}_owner`,
    authenticator: `${prefix}_authenticator`,
    anonymous: `${prefix}_anonymous`,
    visitor: `${prefix}_visitor`,
    service: `${prefix}_service`,
    admin: `${prefix}_admin`,
  };
}

/** The placeholders of the SQL files. */
export function placeholdersOf(roles: AppRoles): Record<string, string> {
  return {
    ":APP_OWNER": roles.owner,
    ":APP_AUTHENTICATOR": roles.authenticator,
    ":APP_ANONYMOUS": roles.anonymous,
    ":APP_VISITOR": roles.visitor,
    ":APP_SERVICE": roles.service,
    ":APP_ADMIN": roles.admin,
  };
}

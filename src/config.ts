// Configuration: every environment variable the server reads is parsed and checked here, once.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve, sep } from "node:path";
import { bool, cleanEnv, makeValidator, port, str } from "envalid";
import { parseAppSchemas } from "./app-schemas";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./limits";
import type { Roles, UserIdSource } from "./roles";

/** The package's folder (package.json, .gmrc, migrations/, demo/): src/.. from the sources, dist/src/../.. once built. */
export const PROJECT_ROOT = existsSync(join(__dirname, "..", "package.json")) ? resolve(__dirname, "..") : resolve(__dirname, "..", "..");
/** Installed as a dependency (node_modules/pg-achievements): the data and work in progress belong to the project using it. */
export const INSTALLED_AS_DEPENDENCY = PROJECT_ROOT.split(sep).includes("node_modules");

const postgresUrl = makeValidator<string>((value) => {
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new Error("must be a postgres:// connection string");
  }
  return value;
});

/** One or more postgres:// connection strings separated by commas (a comma inside one is written %2C). */
const postgresUrlList = makeValidator<string[]>((value) => {
  const urls = value.split(",").map((url) => url.trim());
  for (const url of urls) {
    if (!/^postgres(ql)?:\/\/./.test(url) || !URL.canParse(url)) throw new Error(`must be postgres:// connection strings separated by commas (got "${url.replace(/\/\/[^@/]*@/, "//…@")}")`);
  }
  return urls;
});

/** A role name, substituted into SQL unquoted (src/roles.ts checks the same). */
const roleName = makeValidator<string>((value) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) throw new Error("must be a lower-case role name ([a-z_][a-z0-9_]*)");
  return value;
});

/** The setting that names the user: dotted lower-case words (it is substituted into a SQL string). */
const settingName = makeValidator<string>((value) => {
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$/.test(value)) throw new Error("must be a custom setting such as jwt.claims.user_id or request.jwt.claims");
  return value;
});

/** A JSON key: no quotes or backslashes (it is substituted into a SQL string). */
const claimName = makeValidator<string>((value) => {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,99}$/.test(value)) throw new Error("must be a JSON key such as sub (letters, digits, _ . : / -)");
  return value;
});

/** A whole number in [min, max], for the limits below. */
const integerIn = (min: number, max: number) =>
  makeValidator<number>((value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
      throw new Error(`must be a whole number from ${min} to ${max}`);
    }
    return Number(value);
  });

const jwtSecret = makeValidator<string>((value) => {
  if (value.length < 32) {
    throw new Error("must be at least 32 characters (HS256 needs a long random secret)");
  }
  return value;
});

export interface Config {
  nodeEnv: "development" | "test" | "production";
  isDevelopment: boolean;
  host: string;
  port: number;
  /**
   * Server processes on PORT (WORKERS; src/workers.ts): 1 serves in the process started; more fork that many
   * workers after the database is opened once. Default: the number of cores in production, 1 otherwise.
   */
  workers: number;
  /** A superuser (or database owner) connection, used to migrate. Unset: an embedded PostgreSQL is started. */
  databaseUrl: string | undefined;
  /** The connection the GraphQL server uses (as the authenticator role). Unset: derived from databaseUrl. */
  authDatabaseUrl: string | undefined;
  /**
   * Streaming replicas of the database (READ_DATABASE_URL), each as the authenticator role: the queries that may
   * lag read there (src/read-replicas.ts). Empty: everything on the primary.
   */
  readDatabaseUrls: string[];
  /** After a replica failed, how long its reads go to the primary before it is tried again (READ_REPLICA_RETRY_MS). */
  readReplicaRetryMs: number;
  /**
   * Where subscriptions, the webhook dispatcher and the backfill worker LISTEN: straight to PostgreSQL when the server's connection
   * goes through PgBouncer in transaction mode (a LISTEN lasts as long as its session). Unset: the server's connection.
   */
  listenDatabaseUrl: string | undefined;
  /** The authenticator role's password; set on the role at every migration. */
  authenticatorPassword: string;
  jwtSecret: string;
  jwtAudience: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  migrateOnStart: boolean;
  graphiql: boolean;
  /**
   * The demo page at /demo and its token endpoint POST /demo/token, which signs a user token for any user
   * id: development only (see plugins/demo-page.ts).
   */
  demo: boolean;
  logLevel: string;
  /**
   * Role names instead of .gmrc's (ACHIEVEMENTS_AUTHENTICATOR_ROLE, ..._ANONYMOUS_, ..._USER_, ..._SERVICE_,
   * ..._ADMIN_ROLE): for `start`/`migrate`, and the roles `install` maps onto (src/roles.ts `loadRoles(config.roles)`).
   */
  roles: Partial<Roles>;
  /** Where jwt_public.current_user_id() finds the user (USER_ID_SETTING, USER_ID_CLAIM); unset: .gmrc's jwt.claims.user_id. */
  userIdSource: Partial<UserIdSource>;
  /** The application's own schemas served beside status_public (APP_SCHEMAS; src/app-schemas.ts). */
  appSchemas: string[];
  /** Limits against abuse: body size, query depth and aliases, the rate of recordAction (src/limits.ts). */
  limits: RequestLimits;
  /** The outbox's dispatcher (src/webhook-dispatcher.ts): publishes events and delivers webhooks; off: neither. */
  webhooks: WebhookSettings;
  /** BACKFILL_WORKER: run the backfills admins start (src/backfill-worker.ts) in this server. */
  backfillWorker: boolean;
  /** NOTIFICATION_RELAY: the outbox publisher sends the users' notifications of this server's transactions (default: when it runs the dispatcher). */
  notificationRelay: boolean;
}

/** WEBHOOK_DISPATCHER, WEBHOOK_TIMEOUT_MS, WEBHOOK_MAX_ATTEMPTS, OUTBOX_RETENTION_HOURS, NOTIFICATION_RELAY_INTERVAL_MS. */
export interface WebhookSettings {
  dispatcher: boolean;
  timeoutMs: number;
  maxAttempts: number;
  retentionHours: number;
  relayIntervalMs: number;
}

/** Secrets that a development server generates once and keeps in the data folder. */
interface DevelopmentSecrets {
  jwtSecret: string;
  authenticatorPassword: string;
  postgresPassword: string;
}

export class ConfigError extends Error {}

/** The variables naming the API roles and the user id source: `start`, `migrate` and `install` read them. */
const ROLE_VARIABLES = {
  ACHIEVEMENTS_AUTHENTICATOR_ROLE: roleName({ default: undefined }),
  ACHIEVEMENTS_ANONYMOUS_ROLE: roleName({ default: undefined }),
  ACHIEVEMENTS_USER_ROLE: roleName({ default: undefined }),
  ACHIEVEMENTS_SERVICE_ROLE: roleName({ default: undefined }),
  ACHIEVEMENTS_ADMIN_ROLE: roleName({ default: undefined }),
  USER_ID_SETTING: settingName({ default: undefined, desc: "The setting jwt_public.current_user_id() reads (default jwt.claims.user_id)" }),
  USER_ID_CLAIM: claimName({ default: undefined, desc: "The JSON key of USER_ID_SETTING holding the user id (Supabase: sub)" }),
};

type RoleVariables = { [Name in keyof typeof ROLE_VARIABLES]: string | undefined };

function rolesAndUserIdSourceOf(env: RoleVariables): Pick<Config, "roles" | "userIdSource"> {
  const roles: Partial<Roles> = {};
  const names = { authenticator: env.ACHIEVEMENTS_AUTHENTICATOR_ROLE, anonymous: env.ACHIEVEMENTS_ANONYMOUS_ROLE, user: env.ACHIEVEMENTS_USER_ROLE, service: env.ACHIEVEMENTS_SERVICE_ROLE, admin: env.ACHIEVEMENTS_ADMIN_ROLE };
  for (const [name, role] of Object.entries(names)) if (role !== undefined) roles[name as keyof Roles] = role;
  return { roles, userIdSource: { setting: env.USER_ID_SETTING, claim: env.USER_ID_CLAIM } };
}

/** What `install` reads (src/cli.ts). */
export interface InstallConfig extends Pick<Config, "roles" | "userIdSource" | "logLevel"> {
  databaseUrl: string | undefined;
}

/**
 * The configuration of `install`: the database, role names, user id source and log level only. It needs none of
 * the server's secrets (it runs in deploy pipelines, NODE_ENV=production or not) and writes no development secrets.
 */
export function loadInstallConfig(environment: NodeJS.ProcessEnv = process.env): InstallConfig {
  const given = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  const env = cleanEnv(
    given,
    {
      DATABASE_URL: postgresUrl({ default: undefined }),
      LOG_LEVEL: str({ choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" }),
      ...ROLE_VARIABLES,
    },
    {
      reporter: ({ errors }) => {
        const problems = Object.entries(errors).map(([name, error]) => `  ${name}: ${error?.message ?? "invalid"}`);
        if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
      },
    },
  );
  return { databaseUrl: env.DATABASE_URL, logLevel: env.LOG_LEVEL, ...rolesAndUserIdSourceOf(env) };
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`JWT_SECRET=`, as docker compose passes an unset one) counts as unset.
  const given = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  const env = cleanEnv(
    given,
    {
      NODE_ENV: str({ choices: ["development", "test", "production"], default: "development" }),
      HOST: str({ default: "127.0.0.1", desc: "Interface to listen on" }),
      PORT: port({ default: 5678 }),
      WORKERS: integerIn(1, 1_024)({ default: undefined, desc: "Server processes on PORT (default: the number of cores when NODE_ENV=production, else 1)" }),
      DATABASE_URL: postgresUrl({ default: undefined }),
      AUTH_DATABASE_URL: postgresUrl({ default: undefined }),
      READ_DATABASE_URL: postgresUrlList({ default: [], desc: "Streaming replicas (as the authenticator) for the queries that may lag" }),
      READ_REPLICA_RETRY_MS: integerIn(0, 3_600_000)({ default: 5_000, desc: "After a replica failed, its reads go to the primary this long" }),
      LISTEN_DATABASE_URL: postgresUrl({ default: undefined, desc: "A direct connection for LISTEN (default: the server's connection)" }),
      // PostGraphile's own (@dataplan/pg reads it when it loads, before this runs): checked here so that a typo
      // stops the start instead of leaving prepared statements on behind PgBouncer.
      DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE: integerIn(0, 100_000)({ default: undefined, desc: "Named prepared statements per connection (default 100; 0: none)" }),
      AUTHENTICATOR_PASSWORD: str({ default: undefined }),
      JWT_SECRET: jwtSecret({ default: undefined }),
      JWT_AUDIENCE: str({ default: undefined }),
      DATA_DIR: str({ default: join(INSTALLED_AS_DEPENDENCY ? process.cwd() : PROJECT_ROOT, ".data") }),
      EMBEDDED_POSTGRES_PORT: port({ default: 54320 }),
      MIGRATE_ON_START: bool({ default: true }),
      GRAPHIQL: bool({ default: undefined }),
      DEMO: bool({ default: undefined, desc: "Serve the demo page at /demo (default: on in development)" }),
      MAX_REQUEST_BYTES: integerIn(1_000, 100_000_000)({ default: DEFAULT_REQUEST_LIMITS.maxRequestBytes }),
      MAX_QUERY_DEPTH: integerIn(2, 1_000)({ default: DEFAULT_REQUEST_LIMITS.maxQueryDepth }),
      MAX_QUERY_FIELDS: integerIn(10, 1_000_000)({ default: DEFAULT_REQUEST_LIMITS.maxQueryFields }),
      MAX_QUERY_ALIASES: integerIn(0, 100_000)({ default: DEFAULT_REQUEST_LIMITS.maxQueryAliases }),
      RECORD_ACTION_RATE_LIMIT: integerIn(0, 1_000_000)({ default: DEFAULT_REQUEST_LIMITS.recordActionRateLimit }),
      RECORD_ACTION_RATE_WINDOW_SECONDS: integerIn(1, 86_400)({ default: DEFAULT_REQUEST_LIMITS.recordActionRateWindowSeconds }),
      RECORD_ACTION_SERVICE_RATE_LIMIT: integerIn(0, 100_000_000)({ default: DEFAULT_REQUEST_LIMITS.recordActionServiceRateLimit }),
      WEBHOOK_DISPATCHER: bool({ default: true, desc: "Publish the outbox and deliver webhooks in this server" }),
      WEBHOOK_TIMEOUT_MS: integerIn(100, 600_000)({ default: 10_000 }),
      WEBHOOK_MAX_ATTEMPTS: integerIn(1, 100)({ default: 10 }),
      BACKFILL_WORKER: bool({ default: true, desc: "Run the backfills admins start (startBackfill, applyCatalog) in this server" }),
      OUTBOX_RETENTION_HOURS: integerIn(0, 87_600)({ default: 168, desc: "Delivered events kept this long (0: forever)" }),
      NOTIFICATION_RELAY: bool({ default: undefined, desc: "Leave toasts to the outbox publisher: no NOTIFY lock at each commit (default: when WEBHOOK_DISPATCHER)" }),
      NOTIFICATION_RELAY_INTERVAL_MS: integerIn(5, 60_000)({ default: 50, desc: "How often the dispatcher polls for relayed events" }),
      LOG_LEVEL: str({ choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" }),
      ...ROLE_VARIABLES,
      APP_SCHEMAS: makeValidator<string[]>(parseAppSchemas)({ default: [] }),
    },
    {
      reporter: ({ errors }) => {
        // Every problem at once: the invalid values, and what production requires but is missing.
        const problems = [...Object.entries(errors).map(([name, error]) => `  ${name}: ${error?.message ?? "invalid"}`), ...productionProblems(given)];
        if (problems.length > 0) {
          throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
        }
      },
    },
  );

  const isDevelopment = env.NODE_ENV !== "production";
  const dataDir = resolve(env.DATA_DIR);
  const secrets = isDevelopment ? developmentSecrets(dataDir) : undefined;
  // Never reached in production without a value: productionProblems() names what is missing first.
  const required = (name: string, value: string | undefined, fallback: string | undefined): string => {
    const result = value ?? fallback;
    if (result === undefined) {
      throw new ConfigError(`Invalid configuration:\n  ${name}: required when NODE_ENV=production`);
    }
    return result;
  };

  return {
    nodeEnv: env.NODE_ENV as Config["nodeEnv"],
    isDevelopment,
    host: env.HOST,
    port: env.PORT,
    // availableParallelism() counts the CPUs this process may run on, not a container's CPU quota.
    workers: env.WORKERS ?? (isDevelopment ? 1 : availableParallelism()),
    databaseUrl: env.DATABASE_URL,
    authDatabaseUrl: env.AUTH_DATABASE_URL,
    readDatabaseUrls: env.READ_DATABASE_URL,
    readReplicaRetryMs: env.READ_REPLICA_RETRY_MS,
    listenDatabaseUrl: env.LISTEN_DATABASE_URL,
    authenticatorPassword: required(
      "AUTHENTICATOR_PASSWORD",
      env.AUTHENTICATOR_PASSWORD,
      // With AUTH_DATABASE_URL the password is in that URL; the role's password is then left alone.
      env.AUTH_DATABASE_URL ? "" : secrets?.authenticatorPassword,
    ),
    jwtSecret: required("JWT_SECRET", env.JWT_SECRET, secrets?.jwtSecret),
    jwtAudience: env.JWT_AUDIENCE,
    dataDir,
    embeddedPostgresPort: env.EMBEDDED_POSTGRES_PORT,
    migrateOnStart: env.MIGRATE_ON_START,
    graphiql: env.GRAPHIQL ?? isDevelopment,
    demo: env.DEMO ?? isDevelopment,
    logLevel: env.LOG_LEVEL,
    appSchemas: env.APP_SCHEMAS,
    ...rolesAndUserIdSourceOf(env),
    limits: {
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      maxQueryDepth: env.MAX_QUERY_DEPTH,
      maxQueryFields: env.MAX_QUERY_FIELDS,
      maxQueryAliases: env.MAX_QUERY_ALIASES,
      recordActionRateLimit: env.RECORD_ACTION_RATE_LIMIT,
      recordActionServiceRateLimit: env.RECORD_ACTION_SERVICE_RATE_LIMIT,
      recordActionRateWindowSeconds: env.RECORD_ACTION_RATE_WINDOW_SECONDS,
    },
    webhooks: {
      dispatcher: env.WEBHOOK_DISPATCHER,
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
      maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
      retentionHours: env.OUTBOX_RETENTION_HOURS,
      relayIntervalMs: env.NOTIFICATION_RELAY_INTERVAL_MS,
    },
    backfillWorker: env.BACKFILL_WORKER,
    notificationRelay: env.NOTIFICATION_RELAY ?? env.WEBHOOK_DISPATCHER,
  };
}

/** envalid's `bool` spellings of true. */
const TRUE_SPELLINGS = ["true", "t", "yes", "on", "1"];

/**
 * What NODE_ENV=production requires and the environment lacks, read from the raw values (so the reporter can
 * name them together with the invalid ones).
 */
function productionProblems(given: Record<string, string | undefined>): string[] {
  if (given.NODE_ENV !== "production") return [];
  const problems: string[] = [];
  // Without DATABASE_URL the server would start an embedded PostgreSQL: a development convenience. A server
  // that only serves (AUTH_DATABASE_URL, MIGRATE_ON_START=false) needs no superuser connection.
  const servesOnly = given.AUTH_DATABASE_URL !== undefined && given.MIGRATE_ON_START !== undefined && !TRUE_SPELLINGS.includes(given.MIGRATE_ON_START);
  if (given.DATABASE_URL === undefined && !servesOnly) {
    problems.push("  DATABASE_URL: required when NODE_ENV=production (a superuser connection string; the embedded PostgreSQL is for development)");
  }
  if (given.JWT_SECRET === undefined) {
    problems.push("  JWT_SECRET: required when NODE_ENV=production (at least 32 random characters: `openssl rand -base64 48`)");
  }
  if (given.AUTHENTICATOR_PASSWORD === undefined && given.AUTH_DATABASE_URL === undefined) {
    problems.push("  AUTHENTICATOR_PASSWORD: required when NODE_ENV=production (unless AUTH_DATABASE_URL is set)");
  }
  if (given.DEMO !== undefined && TRUE_SPELLINGS.includes(given.DEMO)) {
    // The demo's token endpoint hands out a token for any user: it must never run in production.
    problems.push("  DEMO: the demo page signs tokens for anyone; it cannot be on when NODE_ENV=production");
  }
  return problems;
}

/** The embedded PostgreSQL superuser's password (development only; kept with the other secrets). */
export function embeddedPostgresPassword(config: Config): string {
  return developmentSecrets(config.dataDir).postgresPassword;
}

function developmentSecrets(dataDir: string): DevelopmentSecrets {
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) {
    return JSON.parse(readFileSync(file, "utf8")) as DevelopmentSecrets;
  }
  const secret = () => randomBytes(32).toString("base64url");
  const secrets: DevelopmentSecrets = {
    jwtSecret: secret(),
    authenticatorPassword: secret(),
    postgresPassword: secret(),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  return secrets;
}

// Configuration: every environment variable the server reads is parsed and checked here, once.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bool, cleanEnv, makeValidator, port, str } from "envalid";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./limits";

export const PROJECT_ROOT = resolve(__dirname, "..");

const postgresUrl = makeValidator<string>((value) => {
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new Error("must be a postgres:// connection string");
  }
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
  /** A superuser (or database owner) connection, used to migrate. Unset: an embedded PostgreSQL is started. */
  databaseUrl: string | undefined;
  /** The connection the GraphQL server uses (as the authenticator role). Unset: derived from databaseUrl. */
  authDatabaseUrl: string | undefined;
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
  /** Limits against abuse: body size, query depth and aliases, the rate of recordAction (src/limits.ts). */
  limits: RequestLimits;
}

/** Secrets that a development server generates once and keeps in the data folder. */
interface DevelopmentSecrets {
  jwtSecret: string;
  authenticatorPassword: string;
  postgresPassword: string;
}

export class ConfigError extends Error {}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`JWT_SECRET=`, as docker compose passes an unset one) counts as unset.
  const given = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== ""));
  const env = cleanEnv(
    given,
    {
      NODE_ENV: str({ choices: ["development", "test", "production"], default: "development" }),
      HOST: str({ default: "127.0.0.1", desc: "Interface to listen on" }),
      PORT: port({ default: 5678 }),
      DATABASE_URL: postgresUrl({ default: undefined }),
      AUTH_DATABASE_URL: postgresUrl({ default: undefined }),
      AUTHENTICATOR_PASSWORD: str({ default: undefined }),
      JWT_SECRET: jwtSecret({ default: undefined }),
      JWT_AUDIENCE: str({ default: undefined }),
      DATA_DIR: str({ default: join(PROJECT_ROOT, ".data") }),
      EMBEDDED_POSTGRES_PORT: port({ default: 54320 }),
      MIGRATE_ON_START: bool({ default: true }),
      GRAPHIQL: bool({ default: undefined }),
      DEMO: bool({ default: undefined, desc: "Serve the demo page at /demo (default: on in development)" }),
      MAX_REQUEST_BYTES: integerIn(1_000, 100_000_000)({ default: DEFAULT_REQUEST_LIMITS.maxRequestBytes }),
      MAX_QUERY_DEPTH: integerIn(2, 1_000)({ default: DEFAULT_REQUEST_LIMITS.maxQueryDepth }),
      MAX_QUERY_ALIASES: integerIn(0, 100_000)({ default: DEFAULT_REQUEST_LIMITS.maxQueryAliases }),
      RECORD_ACTION_RATE_LIMIT: integerIn(0, 1_000_000)({ default: DEFAULT_REQUEST_LIMITS.recordActionRateLimit }),
      RECORD_ACTION_RATE_WINDOW_SECONDS: integerIn(1, 86_400)({ default: DEFAULT_REQUEST_LIMITS.recordActionRateWindowSeconds }),
      LOG_LEVEL: str({ choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"], default: "info" }),
    },
    {
      reporter: ({ errors }) => {
        const problems = Object.entries(errors).map(([name, error]) => `  ${name}: ${error?.message ?? "invalid"}`);
        if (problems.length > 0) {
          throw new ConfigError(`Invalid configuration:\n${problems.join("\n")}`);
        }
      },
    },
  );

  const isDevelopment = env.NODE_ENV !== "production";
  const dataDir = resolve(env.DATA_DIR);
  const secrets = isDevelopment ? developmentSecrets(dataDir) : undefined;
  if (env.DEMO && !isDevelopment) {
    // The demo's token endpoint hands out a token for any user: it must never run in production.
    throw new ConfigError("Invalid configuration:\n  DEMO: the demo page signs tokens for anyone; it cannot be on when NODE_ENV=production");
  }
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
    databaseUrl: env.DATABASE_URL,
    authDatabaseUrl: env.AUTH_DATABASE_URL,
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
    limits: {
      maxRequestBytes: env.MAX_REQUEST_BYTES,
      maxQueryDepth: env.MAX_QUERY_DEPTH,
      maxQueryAliases: env.MAX_QUERY_ALIASES,
      recordActionRateLimit: env.RECORD_ACTION_RATE_LIMIT,
      recordActionRateWindowSeconds: env.RECORD_ACTION_RATE_WINDOW_SECONDS,
    },
  };
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

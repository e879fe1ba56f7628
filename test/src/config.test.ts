import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config";

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "achievements-config-"));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

describe("loadConfig", () => {
  it("needs nothing in development: defaults, and secrets generated once and kept in the data folder", async () => {
    const first = loadConfig({ DATA_DIR: dataDir });
    expect(first).toMatchObject({ nodeEnv: "development", port: 5678, host: "127.0.0.1", databaseUrl: undefined, graphiql: true, demo: true, migrateOnStart: true });
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.jwtSecret).toBe(first.jwtSecret);
    expect(second.authenticatorPassword).toBe(first.authenticatorPassword);
    expect(JSON.parse(await readFile(join(dataDir, "secrets.json"), "utf8")).jwtSecret).toBe(first.jwtSecret);
  });

  it("has no production default for secrets, and names every missing setting at once", () => {
    expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir })).toThrow(
      new ConfigError(
        [
          "Invalid configuration:",
          "  DATABASE_URL: required when NODE_ENV=production (a superuser connection string; the embedded PostgreSQL is for development)",
          "  JWT_SECRET: required when NODE_ENV=production (at least 32 random characters: `openssl rand -base64 48`)",
          "  AUTHENTICATOR_PASSWORD: required when NODE_ENV=production (unless AUTH_DATABASE_URL is set)",
        ].join("\n"),
      ),
    );
    const production = { NODE_ENV: "production", DATA_DIR: dataDir, DATABASE_URL: "postgres://postgres@db/achievements" };
    expect(() => loadConfig({ ...production, AUTHENTICATOR_PASSWORD: "p" })).toThrow(
      new ConfigError("Invalid configuration:\n  JWT_SECRET: required when NODE_ENV=production (at least 32 random characters: `openssl rand -base64 48`)"),
    );
    expect(() => loadConfig({ ...production, JWT_SECRET: "s".repeat(32) })).toThrow(/AUTHENTICATOR_PASSWORD: required/);
    const config = loadConfig({ ...production, JWT_SECRET: "s".repeat(32), AUTHENTICATOR_PASSWORD: "p" });
    expect(config).toMatchObject({ isDevelopment: false, graphiql: false, demo: false, jwtSecret: "s".repeat(32), authenticatorPassword: "p" });
    expect(existsSync(join(dataDir, "secrets.json"))).toBe(false); // nothing generated in production
  });

  it("names the invalid settings and the missing ones together in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir, PORT: "http", JWT_SECRET: "short", DEMO: "on" })).toThrow(
      new ConfigError(
        [
          "Invalid configuration:",
          "  PORT: Invalid port input: \"http\"",
          "  JWT_SECRET: must be at least 32 characters (HS256 needs a long random secret)",
          "  DATABASE_URL: required when NODE_ENV=production (a superuser connection string; the embedded PostgreSQL is for development)",
          "  AUTHENTICATOR_PASSWORD: required when NODE_ENV=production (unless AUTH_DATABASE_URL is set)",
          "  DEMO: the demo page signs tokens for anyone; it cannot be on when NODE_ENV=production",
        ].join("\n"),
      ),
    );
  });

  it("in production, a server that only serves (AUTH_DATABASE_URL, MIGRATE_ON_START=false) needs neither DATABASE_URL nor AUTHENTICATOR_PASSWORD", () => {
    const config = loadConfig({
      NODE_ENV: "production",
      DATA_DIR: dataDir,
      JWT_SECRET: "s".repeat(32),
      AUTH_DATABASE_URL: "postgres://achievements_authenticator:p@db/achievements",
      MIGRATE_ON_START: "false",
    });
    expect(config).toMatchObject({ databaseUrl: undefined, authDatabaseUrl: "postgres://achievements_authenticator:p@db/achievements", migrateOnStart: false, authenticatorPassword: "" });
    expect(() => loadConfig({ NODE_ENV: "production", DATA_DIR: dataDir, JWT_SECRET: "s".repeat(32), AUTH_DATABASE_URL: "postgres://a:p@db/x" })).toThrow(
      /DATABASE_URL: required when NODE_ENV=production/,
    );
  });

  it("serves the demo page in development unless DEMO=false, and never in production", () => {
    expect(loadConfig({ DATA_DIR: dataDir, NODE_ENV: "test" }).demo).toBe(true);
    expect(loadConfig({ DATA_DIR: dataDir, DEMO: "false" }).demo).toBe(false);
    const production = { NODE_ENV: "production", DATA_DIR: dataDir, DATABASE_URL: "postgres://postgres@db/achievements", JWT_SECRET: "s".repeat(32), AUTHENTICATOR_PASSWORD: "p" };
    expect(loadConfig({ ...production, DEMO: "false" }).demo).toBe(false);
    expect(() => loadConfig({ ...production, DEMO: "true" })).toThrow(
      new ConfigError("Invalid configuration:\n  DEMO: the demo page signs tokens for anyone; it cannot be on when NODE_ENV=production"),
    );
  });

  it.each([
    [{ PORT: "http" }, /PORT: /],
    [{ JWT_SECRET: "short" }, /JWT_SECRET: must be at least 32 characters/],
    [{ DATABASE_URL: "mysql://localhost/db" }, /DATABASE_URL: must be a postgres:\/\/ connection string/],
    [{ NODE_ENV: "staging" }, /NODE_ENV: /],
    [{ MIGRATE_ON_START: "maybe" }, /MIGRATE_ON_START: /],
    [{ DEMO: "sometimes" }, /DEMO: /],
    [{ MAX_REQUEST_BYTES: "100kB" }, /MAX_REQUEST_BYTES: must be a whole number from 1000 to 100000000/],
    [{ MAX_REQUEST_BYTES: "999" }, /MAX_REQUEST_BYTES: must be a whole number from 1000/],
    [{ MAX_QUERY_DEPTH: "1" }, /MAX_QUERY_DEPTH: must be a whole number from 2 to 1000/],
    [{ MAX_QUERY_ALIASES: "-1" }, /MAX_QUERY_ALIASES: must be a whole number from 0/],
    [{ RECORD_ACTION_RATE_LIMIT: "1.5" }, /RECORD_ACTION_RATE_LIMIT: must be a whole number/],
    [{ RECORD_ACTION_RATE_WINDOW_SECONDS: "0" }, /RECORD_ACTION_RATE_WINDOW_SECONDS: must be a whole number from 1 to 86400/],
    [{ RECORD_ACTION_SERVICE_RATE_LIMIT: "-1" }, /RECORD_ACTION_SERVICE_RATE_LIMIT: must be a whole number from 0 to 100000000/],
    [{ WEBHOOK_DISPATCHER: "perhaps" }, /WEBHOOK_DISPATCHER: /],
    [{ BACKFILL_WORKER: "perhaps" }, /BACKFILL_WORKER: /],
    [{ WEBHOOK_TIMEOUT_MS: "99" }, /WEBHOOK_TIMEOUT_MS: must be a whole number from 100 to 600000/],
    [{ WEBHOOK_MAX_ATTEMPTS: "0" }, /WEBHOOK_MAX_ATTEMPTS: must be a whole number from 1 to 100/],
    [{ OUTBOX_RETENTION_HOURS: "1 week" }, /OUTBOX_RETENTION_HOURS: must be a whole number from 0 to 87600/],
  ])("names the variable and the problem for %j", (environment, message) => {
    expect(() => loadConfig({ DATA_DIR: dataDir, ...environment })).toThrow(message);
  });

  it("has limits against abuse, with defaults, each settable", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).limits).toEqual({
      maxRequestBytes: 100_000,
      maxQueryDepth: 16,
      maxQueryFields: 2_000,
      maxQueryAliases: 50,
      recordActionRateLimit: 60,
      recordActionServiceRateLimit: 6000,
      recordActionRateWindowSeconds: 60,
    });
    const limits = loadConfig({
      DATA_DIR: dataDir,
      MAX_REQUEST_BYTES: "2000",
      MAX_QUERY_DEPTH: "8",
      MAX_QUERY_FIELDS: "500",
      MAX_QUERY_ALIASES: "0",
      RECORD_ACTION_RATE_LIMIT: "0",
      RECORD_ACTION_SERVICE_RATE_LIMIT: "100",
      RECORD_ACTION_RATE_WINDOW_SECONDS: "3600",
    }).limits;
    expect(limits).toEqual({
      maxRequestBytes: 2000,
      maxQueryDepth: 8,
      maxQueryFields: 500,
      maxQueryAliases: 0,
      recordActionRateLimit: 0,
      recordActionServiceRateLimit: 100,
      recordActionRateWindowSeconds: 3600,
    });
  });

  it("has the webhook dispatcher's settings, with defaults, each settable", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).webhooks).toEqual({ dispatcher: true, timeoutMs: 10_000, maxAttempts: 10, retentionHours: 168, relayIntervalMs: 50 });
    expect(
      loadConfig({
        DATA_DIR: dataDir,
        WEBHOOK_DISPATCHER: "false",
        WEBHOOK_TIMEOUT_MS: "2500",
        WEBHOOK_MAX_ATTEMPTS: "3",
        OUTBOX_RETENTION_HOURS: "0",
        NOTIFICATION_RELAY_INTERVAL_MS: "20",
      }).webhooks,
    ).toEqual({ dispatcher: false, timeoutMs: 2500, maxAttempts: 3, retentionHours: 0, relayIntervalMs: 20 });
  });

  it("relays notifications through the outbox publisher when this server runs it, unless told otherwise", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).notificationRelay).toBe(true);
    expect(loadConfig({ DATA_DIR: dataDir, WEBHOOK_DISPATCHER: "false" }).notificationRelay).toBe(false);
    expect(loadConfig({ DATA_DIR: dataDir, NOTIFICATION_RELAY: "false" }).notificationRelay).toBe(false);
    expect(loadConfig({ DATA_DIR: dataDir, WEBHOOK_DISPATCHER: "false", NOTIFICATION_RELAY: "true" }).notificationRelay).toBe(true);
    expect(() => loadConfig({ DATA_DIR: dataDir, NOTIFICATION_RELAY_INTERVAL_MS: "1" })).toThrow(ConfigError);
  });

  it("reads READ_DATABASE_URL as one or more replicas separated by commas, and names a bad one without its password", () => {
    expect(loadConfig({ DATA_DIR: dataDir })).toMatchObject({ readDatabaseUrls: [], readReplicaRetryMs: 5_000 });
    expect(
      loadConfig({ DATA_DIR: dataDir, READ_DATABASE_URL: "postgres://a:p@replica-1/db, postgresql://a:p@replica-2:6432/db", READ_REPLICA_RETRY_MS: "0" }),
    ).toMatchObject({ readDatabaseUrls: ["postgres://a:p@replica-1/db", "postgresql://a:p@replica-2:6432/db"], readReplicaRetryMs: 0 });
    expect(() => loadConfig({ DATA_DIR: dataDir, READ_DATABASE_URL: "postgres://a:p@replica-1/db,mysql://a:secret@replica-2/db" })).toThrow(
      new ConfigError('Invalid configuration:\n  READ_DATABASE_URL: must be postgres:// connection strings separated by commas (got "mysql://…@replica-2/db")'),
    );
  });

  it("has the settings for PgBouncer: a direct LISTEN connection, and PostGraphile's prepared statements checked", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).listenDatabaseUrl).toBeUndefined();
    expect(loadConfig({ DATA_DIR: dataDir, LISTEN_DATABASE_URL: "postgres://a:p@db:5432/x" }).listenDatabaseUrl).toBe("postgres://a:p@db:5432/x");
    expect(() => loadConfig({ DATA_DIR: dataDir, LISTEN_DATABASE_URL: "db:5432" })).toThrow(
      new ConfigError("Invalid configuration:\n  LISTEN_DATABASE_URL: must be a postgres:// connection string"),
    );
    expect(() => loadConfig({ DATA_DIR: dataDir, DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE: "0" })).not.toThrow();
    expect(() => loadConfig({ DATA_DIR: dataDir, DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE: "off" })).toThrow(
      new ConfigError("Invalid configuration:\n  DATAPLAN_PG_PREPARED_STATEMENT_CACHE_SIZE: must be a whole number from 0 to 100000"),
    );
  });

  it("runs the backfill worker unless BACKFILL_WORKER=false", () => {
    expect(loadConfig({ DATA_DIR: dataDir }).backfillWorker).toBe(true);
    expect(loadConfig({ DATA_DIR: dataDir, BACKFILL_WORKER: "false" }).backfillWorker).toBe(false);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ DATA_DIR: dataDir, PORT: "", JWT_SECRET: "" }).port).toBe(5678);
  });
});

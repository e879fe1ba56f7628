// The command line: `start` (npm start), `migrate` (npm run db:migrate), `token` (npm run token),
// `export-schema` (npm run schema:export).
import "./environment";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isUuid, signToken } from "./auth";
import { type Config, ConfigError, embeddedPostgresPassword, loadConfig, PROJECT_ROOT } from "./config";
import { asRole, withDatabase } from "./connection-strings";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { createLogger, type Logger } from "./logger";
import { migrateDatabase } from "./migrate";
import { loadRoles, ROLE_CLAIMS, type RoleClaim } from "./roles";
import { buildSchemaSDL } from "./schema-sdl";
import { startServer } from "./server";

const EMBEDDED_DATABASE = "achievements";

interface Database {
  /** Superuser connection string. */
  url: string;
  /** The authenticator's connection string. */
  authUrl: string;
  stop(): Promise<void>;
}

/** The database at DATABASE_URL, or an embedded one; migrated unless MIGRATE_ON_START=false. */
async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let url = config.databaseUrl;
  let stop = async () => {};
  if (!url) {
    const embedded = await startEmbeddedPostgres({
      dataDir: join(config.dataDir, "postgres"),
      port: config.embeddedPostgresPort,
      password: embeddedPostgresPassword(config),
      log,
    });
    url = withDatabase(embedded.url, EMBEDDED_DATABASE);
    stop = embedded.stop;
  }
  try {
    if (config.migrateOnStart) {
      await migrateDatabase({
        databaseUrl: url,
        authenticatorPassword: config.authenticatorPassword,
        includeCurrent: config.isDevelopment,
        loadDemoCatalog: true,
        log,
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const authUrl = config.authDatabaseUrl ?? asRole(url, loadRoles().authenticator, config.authenticatorPassword);
  return { url, authUrl, stop };
}

async function start(config: Config, log: Logger): Promise<void> {
  const database = await openDatabase(config, log);
  let server;
  try {
    server = await startServer({
      connectionString: database.authUrl,
      jwtSecret: config.jwtSecret,
      jwtAudience: config.jwtAudience,
      roles: loadRoles(),
      graphiql: config.graphiql,
      demo: config.demo,
      limits: config.limits,
      host: config.host,
      port: config.port,
    });
  } catch (error) {
    await database.stop();
    throw error;
  }
  const shownUrl = server.url.replace("://127.0.0.1:", "://localhost:");
  log.info(`GraphQL:    ${shownUrl}/graphql (websockets on the same path)`);
  if (config.graphiql) log.info(`GraphiQL:   ${shownUrl}/graphiql`);
  if (config.demo) log.info(`Demo page:  ${shownUrl}/demo (development only; DEMO=false turns it off)`);
  log.info("A token:    npm run token -- --user <uuid> [--role user|service|admin]  (send it as `Authorization: Bearer <token>`)");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping`);
    await server.close();
    await database.stop();
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function migrate(config: Config, log: Logger): Promise<void> {
  if (!config.databaseUrl) {
    throw new ConfigError("db:migrate needs DATABASE_URL (a superuser connection string)");
  }
  await migrateDatabase({
    databaseUrl: config.databaseUrl,
    authenticatorPassword: config.authenticatorPassword,
    loadDemoCatalog: true,
    log,
  });
  log.info("the database is up to date");
}

async function token(config: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { user: { type: "string" }, role: { type: "string", default: "user" }, expires: { type: "string", default: "12h" } },
  });
  const role = values.role as RoleClaim;
  if (!values.user || !isUuid(values.user) || !ROLE_CLAIMS.includes(role)) {
    throw new ConfigError(`usage: npm run token -- --user <uuid> [--role ${ROLE_CLAIMS.join("|")}] [--expires 12h]`);
  }
  const signed = await signToken({ jwtSecret: config.jwtSecret, audience: config.jwtAudience, userId: values.user, role, expiresIn: values.expires });
  process.stdout.write(signed + "\n");
}

async function exportSchema(config: Config, log: Logger): Promise<void> {
  const database = await openDatabase(config, log);
  try {
    const sdl = await buildSchemaSDL(database.authUrl);
    await writeFile(join(PROJECT_ROOT, "schema.graphql"), sdl);
    log.info("wrote schema.graphql");
  } finally {
    await database.stop();
  }
}

async function main(): Promise<void> {
  const [command = "start", ...args] = process.argv.slice(2);
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  switch (command) {
    case "start":
      return start(config, log);
    case "migrate":
      return migrate(config, log);
    case "token":
      return token(config, args);
    case "export-schema":
      return exportSchema(config, log);
    default:
      throw new ConfigError(`unknown command "${command}": use start, migrate, token or export-schema`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write((error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)) + "\n");
    process.exit(1);
  });
}

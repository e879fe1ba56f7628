#!/usr/bin/env node
// The command line: `start` (npm start), `migrate` (npm run db:migrate), `install` (npm run db:install:
// into a database an application already has, src/install.ts), `token` (npm run token),
// `export-schema` (npm run schema:export), `catalog` (npm run catalog: plan, apply or export the catalog file,
// src/catalog/command.ts), `backfill` (npm run backfill: src/backfill.ts).
import "./environment";
import cluster from "node:cluster";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isUuid, signToken } from "./auth";
import { runBackfill } from "./backfill";
import { type Config, ConfigError, embeddedPostgresPassword, INSTALLED_AS_DEPENDENCY, type InstallConfig, loadConfig, loadInstallConfig, PROJECT_ROOT } from "./config";
import { CatalogCommandError, runCatalogCommand } from "./catalog/command";
import { asRole, withDatabase } from "./connection-strings";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { createLogger, type Logger, routeConsoleToLogger } from "./logger";
import { InstallError, installAchievements, type InstallOptions, SUPABASE_INSTALL_OPTIONS } from "./install";
import { migrateDatabase } from "./migrate";
import { loadRoles, loadUserIdSource, ROLE_CLAIMS, ROLE_NAMES, type RoleClaim, type Roles } from "./roles";
import { buildSchemaSDL } from "./schema-sdl";
import { startServer } from "./server";
import { databaseProblem, describeFailure, listenProblem } from "./startup-errors";
import { runWorker, startWorkers } from "./workers";

const EMBEDDED_DATABASE = "achievements";

interface Database {
  /** Superuser connection string (none when only AUTH_DATABASE_URL is given, with MIGRATE_ON_START=false). */
  url: string | undefined;
  /** The authenticator's connection string. */
  authUrl: string;
  stop(): Promise<void>;
}

/** The database at DATABASE_URL, or an embedded one; migrated unless MIGRATE_ON_START=false. */
async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let url = config.databaseUrl;
  let stop = async () => {};
  // The setting a connection problem is about: the embedded one is started here.
  let setting = "DATABASE_URL";
  const servesOnly = !url && config.authDatabaseUrl !== undefined && !config.migrateOnStart;
  if (!url && !servesOnly) {
    const embedded = await startEmbeddedPostgres({
      dataDir: join(config.dataDir, "postgres"),
      port: config.embeddedPostgresPort,
      password: embeddedPostgresPassword(config),
      log,
    });
    url = withDatabase(embedded.url, EMBEDDED_DATABASE);
    stop = embedded.stop;
    setting = "the embedded PostgreSQL";
  }
  try {
    if (config.migrateOnStart && url) {
      await migrateDatabase({
        databaseUrl: url,
        authenticatorPassword: config.authenticatorPassword,
        // The package ships committed migrations only: no current migration to run (or write) inside node_modules.
        includeCurrent: config.isDevelopment && !INSTALLED_AS_DEPENDENCY,
        // The demo catalog belongs to the embedded quick start; a database of yours gets it on request only.
        loadDemoCatalog: !config.databaseUrl,
        roles: config.roles,
        userIdSource: config.userIdSource,
        log,
      });
    }
  } catch (error) {
    await stop();
    throw (url && databaseProblem(error, setting, url)) || error;
  }
  const authUrl = config.authDatabaseUrl ?? asRole(url!, loadRoles(config.roles).authenticator, config.authenticatorPassword);
  return { url, authUrl, stop };
}

/** The GraphQL server of `start`, on the authenticator's connection (in the process, or in each worker). */
function serve(config: Config, authUrl: string, log: Logger) {
  return startServer({
    connectionString: authUrl,
    listenConnectionString: config.listenDatabaseUrl,
    jwtSecret: config.jwtSecret,
    jwtAudience: config.jwtAudience,
    roles: loadRoles(config.roles),
    graphiql: config.graphiql,
    demo: config.demo,
    limits: config.limits,
    appSchemas: config.appSchemas,
    userIdSource: loadUserIdSource(config.userIdSource),
    readConnectionStrings: config.readDatabaseUrls,
    readReplicaRetryMs: config.readReplicaRetryMs,
    host: config.host,
    port: config.port,
    log,
    webhooks: config.webhooks.dispatcher && {
      timeoutMs: config.webhooks.timeoutMs,
      maxAttempts: config.webhooks.maxAttempts,
      retentionHours: config.webhooks.retentionHours,
      relayIntervalMs: config.webhooks.relayIntervalMs,
    },
    backfillWorker: config.backfillWorker,
    notificationRelay: config.notificationRelay,
  });
}

/** A start failure the user can fix, as one line naming the setting (the port, the authenticator's database). */
function startProblem(config: Config, error: unknown, authUrl: string): unknown {
  if (error instanceof ConfigError) return error; // already one line (a worker's report included)
  const authSetting = config.authDatabaseUrl ? "AUTH_DATABASE_URL" : config.databaseUrl ? "DATABASE_URL (as the authenticator)" : "the embedded PostgreSQL";
  return listenProblem(error, config.host, config.port) ?? databaseProblem(error, authSetting, authUrl) ?? error;
}

async function start(config: Config, log: Logger): Promise<void> {
  const database = await openDatabase(config, log);
  let server;
  try {
    // WORKERS > 1: the database is opened (and migrated) here, once; the workers serve (src/workers.ts).
    server =
      config.workers > 1
        ? await startWorkers({
            count: config.workers,
            authUrl: database.authUrl,
            log,
            // A replacement worker that could not start: stop, as a failed start would.
            onGiveUp: (error) => {
              void database.stop().finally(() => {
                process.stderr.write(describeFailure(error) + "\n");
                process.exit(1);
              });
            },
          })
        : await serve(config, database.authUrl, log);
  } catch (error) {
    await database.stop();
    throw startProblem(config, error, database.authUrl);
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
    try {
      await server.close();
      await database.stop();
    } catch (error) {
      log.error(`could not stop cleanly: ${describeFailure(error)}`);
      process.exit(1);
    }
    log.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

async function migrate(config: Config, log: Logger, args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { "demo-catalog": { type: "boolean", default: false } } });
  if (!config.databaseUrl) {
    throw new ConfigError("db:migrate needs DATABASE_URL (a superuser connection string)");
  }
  const databaseUrl = config.databaseUrl;
  await migrateDatabase({
    databaseUrl,
    authenticatorPassword: config.authenticatorPassword,
    loadDemoCatalog: values["demo-catalog"],
    roles: config.roles,
    userIdSource: config.userIdSource,
    log,
  }).catch((error: unknown) => {
    throw databaseProblem(error, "DATABASE_URL", databaseUrl) ?? error;
  });
  log.info("the database is up to date");
}

const INSTALL_USAGE = `usage: npm run db:install -- [--database-url <url>] [--preset supabase]
  [--anonymous-role <role>] [--user-role <role>] [--service-role <role>] [--admin-role <role>] [--authenticator-role <role>]
  [--user-id-setting <setting>] [--user-id-claim <key>] [--demo-catalog] [--include-current] [--database-owner <role>] [--dry-run]`;

/** Installs into the database at --database-url (or DATABASE_URL), as its owner: see src/install.ts. */
async function install(config: InstallConfig, log: Logger, args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        "database-url": { type: "string" },
        preset: { type: "string" },
        "anonymous-role": { type: "string" },
        "user-role": { type: "string" },
        "service-role": { type: "string" },
        "admin-role": { type: "string" },
        "authenticator-role": { type: "string" },
        "user-id-setting": { type: "string" },
        "user-id-claim": { type: "string" },
        "demo-catalog": { type: "boolean", default: false },
        "include-current": { type: "boolean", default: false },
        "database-owner": { type: "string" },
        "dry-run": { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${INSTALL_USAGE}`);
  }
  const connectionString = values["database-url"] ?? config.databaseUrl;
  if (!connectionString) throw new ConfigError(`install needs --database-url or DATABASE_URL (the database owner's connection string)\n${INSTALL_USAGE}`);
  if (values.preset !== undefined && values.preset !== "supabase") throw new ConfigError(`--preset: the one preset is supabase, got ${values.preset}`);
  const preset: Partial<InstallOptions> = values.preset === "supabase" ? SUPABASE_INSTALL_OPTIONS : {};
  // Flags over environment variables (ACHIEVEMENTS_*_ROLE, USER_ID_*) over the preset.
  const roles: Partial<Roles> = {};
  for (const name of ROLE_NAMES) {
    const role = values[`${name}-role`] ?? config.roles[name] ?? preset.roles?.[name];
    if (role !== undefined) roles[name] = role;
  }
  try {
    const result = await installAchievements({
      connectionString,
      roles,
      userIdSetting: values["user-id-setting"] ?? config.userIdSource.setting ?? preset.userIdSetting,
      userIdClaim: values["user-id-claim"] ?? config.userIdSource.claim ?? preset.userIdClaim,
      demoCatalog: values["demo-catalog"],
      includeCurrent: values["include-current"],
      databaseOwner: values["database-owner"],
      dryRun: values["dry-run"],
      log,
    });
    process.stdout.write(JSON.stringify(result) + "\n"); // one line, like the log lines around it
  } catch (error) {
    // A refusal is a message for the user, not a crash.
    if (error instanceof InstallError) throw new ConfigError(error.message);
    throw databaseProblem(error, values["database-url"] ? "--database-url" : "DATABASE_URL", connectionString) ?? error;
  }
}

const BACKFILL_USAGE = "usage: npm run backfill -- [--achievement <id>]... [--level <name>]... [--notify] [--batch-size <users>] [--resume <run>]";

/** Awards what users' past steps already earn (after a catalog change): see src/backfill.ts. */
async function backfill(config: Config, log: Logger, args: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        achievement: { type: "string", multiple: true },
        level: { type: "string", multiple: true },
        notify: { type: "boolean", default: false },
        "batch-size": { type: "string", default: "500" },
        resume: { type: "string" },
      },
    }));
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n${BACKFILL_USAGE}`);
  }
  const batchSize = Number(values["batch-size"]);
  const resume = values.resume === undefined ? undefined : Number(values.resume);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`--batch-size: a whole number of users, at least 1\n${BACKFILL_USAGE}`);
  if (resume !== undefined && !Number.isInteger(resume)) throw new ConfigError(`--resume: the run number of an earlier backfill\n${BACKFILL_USAGE}`);
  if (!config.databaseUrl) throw new ConfigError(`backfill needs DATABASE_URL (the database owner's connection string)\n${BACKFILL_USAGE}`);
  const databaseUrl = config.databaseUrl;
  const summary = await runBackfill({
    connectionString: databaseUrl,
    achievementIds: values.achievement,
    levels: values.level,
    notify: values.notify,
    batchSize,
    resume,
    log,
  }).catch(
    (error: unknown) => {
      // The engine's own refusals (AC404: no such achievement or run) are messages for the user.
      if (/^AC\d{3}$/.test(String((error as { code?: unknown }).code))) throw new ConfigError((error as Error).message);
      throw databaseProblem(error, "DATABASE_URL", databaseUrl) ?? error;
    },
  );
  process.stdout.write(JSON.stringify(summary) + "\n");
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

/** `catalog plan|apply|export`: on the database `start` would use (never migrated by it), as the admin role. */
async function catalog(config: Config, log: Logger, args: string[]): Promise<void> {
  const database = await openDatabase({ ...config, migrateOnStart: false }, log);
  try {
    await runCatalogCommand(args, { connectionString: database.url ?? database.authUrl, adminRole: loadRoles(config.roles).admin, stdout: process.stdout });
  } catch (error) {
    if (error instanceof CatalogCommandError) throw new ConfigError(error.message);
    throw (database.url && databaseProblem(error, "DATABASE_URL", database.url)) || error;
  } finally {
    await database.stop();
  }
}

async function main(): Promise<void> {
  const [command = "start", ...args] = process.argv.slice(2);
  if (command === "install") {
    // Its own small configuration: a deploy step needs no server secrets.
    const installConfig = loadInstallConfig();
    const installLog = createLogger(installConfig.logLevel, { stderr: true }); // stdout is the result (JSON)
    routeConsoleToLogger(installLog);
    return install(installConfig, installLog, args);
  }
  const config = loadConfig();
  // catalog's stdout is the plan or the exported file, backfill's its summary (JSON): their logs go to stderr.
  const log = createLogger(config.logLevel, { stderr: command === "catalog" || command === "backfill" });
  routeConsoleToLogger(log); // libraries print errors with console.error: as log entries, not raw dumps
  switch (command) {
    case "start":
      // A worker of WORKERS > 1 (src/workers.ts): the primary has opened the database.
      if (cluster.isWorker) {
        return runWorker({
          log,
          start: (authUrl, workerLog) => serve(config, authUrl, workerLog),
          describeStartFailure: (error, authUrl) => describeFailure(startProblem(config, error, authUrl)),
        });
      }
      return start(config, log);
    case "migrate":
      return migrate(config, log, args);
    case "token":
      return token(config, args);
    case "export-schema":
      return exportSchema(config, log);
    case "catalog":
      return catalog(config, log, args);
    case "backfill":
      return backfill(config, log, args);
    default:
      throw new ConfigError(`unknown command "${command}": use start, migrate, install, token, export-schema, catalog or backfill`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(describeFailure(error) + "\n");
    process.exit(1);
  });
}

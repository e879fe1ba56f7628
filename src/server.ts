// The HTTP server: GraphQL (and websockets) at /graphql, Ruru at /graphiql in development, and in
// development the demo page at /demo (plugins/demo-page.ts, a grafserv middleware that runs before grafserv's
// own routing; without it grafserv answers /demo with a 404).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { makeDemoPagePlugin } from "../plugins/demo-page";
import { FrontPagePlugin } from "../plugins/front-page";
import { appSchemasProblem } from "./app-schemas";
import { makeAuthenticate } from "./auth";
import { startBackfillWorker } from "./backfill-worker";
import { ConfigError } from "./config";
import { makePreset } from "./preset";
import type { RequestLimits } from "./limits";
import { startLeaderboardFolding } from "./leaderboard-folding";
import { createLogger, type Logger, makeRequestLogger } from "./logger";
import type { Roles, UserIdSource } from "./roles";
import { databaseProblem } from "./startup-errors";
import { startWebhookDispatcher, type WebhookDispatcherOptions } from "./webhook-dispatcher";

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: {
  /** The authenticator's connection string (it may go through PgBouncer in transaction mode). */
  connectionString: string;
  /**
   * Where subscriptions, the webhook dispatcher and the backfill worker LISTEN (LISTEN_DATABASE_URL): straight to PostgreSQL when
   * `connectionString` goes through a pooler in transaction mode. Default: `connectionString`.
   */
  listenConnectionString?: string;
  jwtSecret: string;
  jwtAudience?: string;
  roles: Roles;
  graphiql: boolean;
  host: string;
  port: number;
  /** Serve the demo page and its token endpoint (development only: they sign tokens for anyone). */
  demo?: boolean;
  /** Limits against abuse (src/limits.ts); the defaults when not given. */
  limits?: RequestLimits;
  /** The application's own schemas to serve beside ours (APP_SCHEMAS); each must exist. */
  appSchemas?: readonly string[];
  /** Logs one line per HTTP request (with a request id) when given. */
  log?: Logger;
  /** Where the database reads the user id (USER_ID_SETTING / USER_ID_CLAIM); default `jwt.claims.user_id`. */
  userIdSource?: UserIdSource;
  /** Streaming replicas of the database (READ_DATABASE_URL), as the authenticator: for the queries that may lag. */
  readConnectionStrings?: readonly string[];
  /** After a replica failed, how long its reads go to the primary before it is tried again (default 5,000 ms). */
  readReplicaRetryMs?: number;
  /** The outbox's webhook dispatcher (WEBHOOK_*): its options, or false for none (default: the defaults). */
  webhooks?: Omit<WebhookDispatcherOptions, "connectionString" | "listenConnectionString" | "log"> | false;
  /** Run the backfills admins start (BACKFILL_WORKER, src/backfill-worker.ts); default true. */
  backfillWorker?: boolean;
  /**
   * Leave the users' notifications of this server's transactions to the outbox publisher (NOTIFICATION_RELAY):
   * their commits take no NOTIFY lock, and toasts come with the dispatcher's next poll (`webhooks.relayIntervalMs`).
   * Needs a dispatcher: this server's, or another's on the same database. Default false.
   */
  notificationRelay?: boolean;
}): Promise<RunningServer> {
  // PostGraphile would leave out a schema it cannot find: a misspelt name stops the start instead.
  const problem = await appSchemasProblem(options.connectionString, options.appSchemas ?? []);
  if (problem) throw new ConfigError(`Invalid configuration:\n  ${problem}`);
  // The LISTEN connection is opened on the first subscription: a wrong one stops the start instead.
  if (options.listenConnectionString) {
    const listenUrl = options.listenConnectionString;
    const client = new pg.Client({ connectionString: listenUrl });
    await client
      .connect()
      .then(() => client.end())
      .catch((error: unknown) => {
        throw databaseProblem(error, "LISTEN_DATABASE_URL", listenUrl) ?? error;
      });
  }
  const authenticate = makeAuthenticate({ jwtSecret: options.jwtSecret, jwtAudience: options.jwtAudience, roles: options.roles });
  const basePreset = makePreset({
    connectionString: options.connectionString,
    authenticate,
    graphiql: options.graphiql,
    limits: options.limits,
    appSchemas: options.appSchemas,
    userIdSource: options.userIdSource,
    readReplicas: options.readConnectionStrings?.length
      ? { connectionStrings: options.readConnectionStrings, retryAfterMs: options.readReplicaRetryMs, log: options.log ?? createLogger("info") }
      : undefined,
    listenConnectionString: options.listenConnectionString,
    notificationRelay: options.notificationRelay,
  });
  // GET / points to what is served (plugins/front-page.ts); the demo page in development only.
  const preset: GraphileConfig.Preset = {
    extends: [basePreset],
    plugins: [FrontPagePlugin, ...(options.demo ? [makeDemoPagePlugin({ jwtSecret: options.jwtSecret, jwtAudience: options.jwtAudience })] : [])],
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  // Before grafserv's own listener, so that the request id is set before anything answers.
  if (options.log) server.on("request", makeRequestLogger(options.log));
  await serv.addTo(server);
  // Build the schema now, so that a database problem stops the start instead of the first request.
  await pgl.getSchemaResult();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const folding = startLeaderboardFolding({ connectionString: options.connectionString, log: options.log });
  const webhooks =
    options.webhooks === false
      ? undefined
      : startWebhookDispatcher({
          relaying: options.notificationRelay,
          ...options.webhooks,
          connectionString: options.connectionString,
          listenConnectionString: options.listenConnectionString,
          log: options.log,
        });
  const backfills =
    options.backfillWorker === false
      ? undefined
      : startBackfillWorker({ connectionString: options.connectionString, listenConnectionString: options.listenConnectionString, log: options.log });

  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await pgl.release(); // releases the grafserv instance too
      const { pgServices = [] } = pgl.getResolvedPreset();
      await Promise.all(pgServices.map((service) => service.release?.()));
      await closed;
      await folding.stop();
      await webhooks?.stop();
      await backfills?.stop();
    },
  };
}

// The PostGraphile presets.
//
// - `makeAchievementsPreset()`: the library preset, for a team's own PostGraphile v5 server. Our plugins
//   only; it changes nothing outside status_public (no NodePlugin removal, no id renaming, no strictness
//   switch, no authentication, no error masking: those stay the app's).
// - `makePreset()`: our standalone server = Amber + the library preset + our JWT sessions, request limits,
//   `id` columns named `id` (no Relay global ids), strict functions, coded errors, websockets, and HTTP
//   responses' data written as JSON text by grafast.
import { makePgService } from "postgraphile/adaptors/pg";
import { withScalableSubscriber } from "./pg-subscriber";
import { PreparedSettingsClient } from "./prepared-settings";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { AchievementsSchemaNamesPlugin } from "../plugins/achievements-schema-names";
import { CatalogAsCodePlugin } from "../plugins/catalog-as-code";
import { makeJwtAuthPlugin } from "../plugins/jwt-auth";
import { KeepIdColumnNamesPlugin } from "../plugins/keep-id-column-names";
import { AchievementEventsPlugin } from "../plugins/achievement-events";
import { AchievementSubscriptionsPlugin } from "../plugins/subscriptions";
import { LeaderboardPlugin } from "../plugins/leaderboard";
import { GraphQLErrorCodesPlugin } from "../plugins/graphql-error-codes";
import { InlineCompositeArraysPlugin } from "../plugins/inline-composite-arrays";
import { NonNullListsPlugin } from "../plugins/non-null-lists";
import { OutputDataAsStringPlugin } from "../plugins/output-data-as-string";
import { ReadReplicasPlugin } from "../plugins/read-replicas";
import { makeRequestLimitsPlugin } from "../plugins/request-limits";
import { ReferenceArgumentNamesPlugin } from "../plugins/reference-argument-names";
import { StrictAchievementsFunctionsPlugin } from "../plugins/strict-achievements-functions";
import { ACHIEVEMENTS_SCHEMAS } from "./achievements-schema";
import { type Authenticate, AuthenticationError, pgSettingsOf, type Session } from "./auth";
import { maskError } from "./errors";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./limits";
import { type ReadReplicasOptions, withReadReplicas } from "./read-replicas";
import type { UserIdSource } from "./roles";

export { ACHIEVEMENTS_SCHEMAS } from "./achievements-schema";

/**
 * The plugins of the library preset, which the standalone server gets through it too: a plugin that
 * only shapes status_public's part of the API goes here, once. One that changes the whole schema
 * (naming, strictness, authentication) goes in `makePreset` below.
 */
export const ACHIEVEMENTS_PLUGINS: readonly GraphileConfig.Plugin[] = [
  AchievementsSchemaNamesPlugin,
  StrictAchievementsFunctionsPlugin,
  ReferenceArgumentNamesPlugin,
  LeaderboardPlugin,
  NonNullListsPlugin,
  InlineCompositeArraysPlugin,
  CatalogAsCodePlugin,
  // Does nothing unless a pgService has replicas (withReadReplicas, src/read-replicas.ts).
  ReadReplicasPlugin,
];

export interface AchievementsPresetOptions {
  /**
   * The `achievementUnlocked`, `tierChanged`, `levelAchieved` and (for the service) `achievementEvents`
   * subscriptions (default true). They need
   * `pubsub: true` on the pgService and `grafserv.websockets: true`.
   */
  subscriptions?: boolean;
}

/**
 * Our part of the API, for an existing PostGraphile v5 server (with the Amber preset): add it to your
 * `extends`, and `...ACHIEVEMENTS_SCHEMAS` to your pgService's `schemas`. The user comes from your
 * request's pgSettings, through `jwt_public.current_user_id()`.
 */
export function makeAchievementsPreset(options: AchievementsPresetOptions = {}): GraphileConfig.Preset {
  const { subscriptions = true } = options;
  return {
    plugins: [...ACHIEVEMENTS_PLUGINS, ...(subscriptions ? [AchievementSubscriptionsPlugin, AchievementEventsPlugin] : [])],
  };
}

/** The standalone server's schemas: the app's own (APP_SCHEMAS), first as its own server would list them, then ours. */
export const standaloneSchemas = (appSchemas: readonly string[] = []): string[] => [
  ...appSchemas.filter((schema) => !ACHIEVEMENTS_SCHEMAS.includes(schema)),
  ...ACHIEVEMENTS_SCHEMAS,
];

export function makePreset(options: {
  /** The connection the server uses: the authenticator role. */
  connectionString: string;
  authenticate: Authenticate;
  graphiql: boolean;
  /** Limits against abuse (src/limits.ts); the defaults when not given. */
  limits?: RequestLimits;
  /** The application's own schemas to serve beside ours (APP_SCHEMAS, src/app-schemas.ts). */
  appSchemas?: readonly string[];
  /** Where the database reads the user id (USER_ID_SETTING / USER_ID_CLAIM); default `jwt.claims.user_id`. */
  userIdSource?: UserIdSource;
  /** Streaming replicas for the queries that may lag (READ_DATABASE_URL; src/read-replicas.ts). */
  readReplicas?: ReadReplicasOptions;
  /**
   * Where subscriptions LISTEN (LISTEN_DATABASE_URL): straight to PostgreSQL when `connectionString` goes through
   * PgBouncer in transaction mode. Default: `connectionString`'s pool.
   */
  listenConnectionString?: string;
  /**
   * Leave the users' notifications of this server's transactions to the outbox publisher (NOTIFICATION_RELAY:
   * `achievements.notification_relay` in their settings): their commits take no NOTIFY lock. Default false.
   */
  notificationRelay?: boolean;
}): GraphileConfig.Preset {
  const { authenticate, limits = DEFAULT_REQUEST_LIMITS } = options;
  const relaySettings = options.notificationRelay ? { "achievements.notification_relay": "on" } : {};
  const pgService = makePgService({
    connectionString: options.connectionString,
    // Each connection prepares the settings statement of every transaction (src/prepared-settings.ts).
    poolConfig: { Client: PreparedSettingsClient },
    schemas: standaloneSchemas(options.appSchemas),
    pubsub: true,
  });
  return {
    extends: [PostGraphileAmberPreset, makeAchievementsPreset()],
    plugins: [makeJwtAuthPlugin(authenticate), makeRequestLimitsPlugin(limits), KeepIdColumnNamesPlugin, GraphQLErrorCodesPlugin, OutputDataAsStringPlugin],
    // No Relay global ids: rows keep their own keys (see plugins/keep-id-column-names.ts).
    disablePlugins: ["NodePlugin"],
    // Function arguments without a default are required (`stepsRequired(level: String!)`), in every exposed schema.
    gather: { pgStrictFunctions: true },
    pgServices: [
      withScalableSubscriber(options.readReplicas ? withReadReplicas(pgService, options.readReplicas) : pgService, {
        listenConnectionString: options.listenConnectionString,
      }),
    ],
    grafserv: {
      graphqlPath: "/graphql",
      websockets: true,
      graphiql: options.graphiql,
      graphiqlPath: "/graphiql",
      maskError,
      maxRequestLength: limits.maxRequestBytes,
      // HTTP responses' data as JSON text straight from grafast (plugins/output-data-as-string.ts).
      outputDataAsString: true,
    },
    grafast: {
      explain: false,
      // Synchronous for HTTP requests, whose session JwtAuthPlugin verified already: no promise on every request.
      context(requestContext, args) {
        const contextOf = (session: Session) => ({ pgSettings: { ...args.contextValue?.pgSettings, ...pgSettingsOf(session, options.userIdSource), ...relaySettings } });
        const session = requestContext.achievementsSession;
        if (session) return contextOf(session);
        return authenticate(requestContext.ws?.normalizedConnectionParams?.authorization?.toString() ?? requestContext.node?.req?.headers?.authorization).then(
          contextOf,
          (error: unknown) => {
            throw error instanceof AuthenticationError ? error.toSafeError() : error;
          },
        );
      },
    },
  };
}

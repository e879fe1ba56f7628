// The PostGraphile preset: Amber, the status_public schema, JWT sessions, coded errors, websockets.
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makeJwtAuthPlugin } from "../plugins/jwt-auth";
import { KeepIdColumnNamesPlugin } from "../plugins/keep-id-column-names";
import { AchievementSubscriptionsPlugin } from "../plugins/subscriptions";
import { LeaderboardPlugin } from "../plugins/leaderboard";
import { makeRequestLimitsPlugin } from "../plugins/request-limits";
import { type Authenticate, AuthenticationError, pgSettingsOf } from "./auth";
import { maskError } from "./errors";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "./limits";

export const EXPOSED_SCHEMAS = ["status_public"];

export function makePreset(options: {
  /** The connection the server uses: the authenticator role. */
  connectionString: string;
  authenticate: Authenticate;
  graphiql: boolean;
  /** Limits against abuse (src/limits.ts); the defaults when not given. */
  limits?: RequestLimits;
}): GraphileConfig.Preset {
  const { authenticate, limits = DEFAULT_REQUEST_LIMITS } = options;
  return {
    extends: [PostGraphileAmberPreset],
    plugins: [
      makeJwtAuthPlugin(authenticate),
      makeRequestLimitsPlugin(limits, authenticate),
      KeepIdColumnNamesPlugin,
      LeaderboardPlugin,
      AchievementSubscriptionsPlugin,
    ],
    // No Relay global ids: rows keep their own keys (see plugins/keep-id-column-names.ts).
    disablePlugins: ["NodePlugin"],
    // Function arguments without a default are required (`stepsRequired(level: String!)`).
    gather: { pgStrictFunctions: true },
    pgServices: [makePgService({ connectionString: options.connectionString, schemas: EXPOSED_SCHEMAS, pubsub: true })],
    grafserv: {
      graphqlPath: "/graphql",
      websockets: true,
      graphiql: options.graphiql,
      graphiqlPath: "/graphiql",
      maskError,
      maxRequestLength: limits.maxRequestBytes,
    },
    grafast: {
      explain: false,
      async context(requestContext, args) {
        let session = requestContext.achievementsSession;
        try {
          session ??= await authenticate(
            requestContext.ws?.normalizedConnectionParams?.authorization?.toString() ??
              requestContext.node?.req?.headers?.authorization,
          );
        } catch (error) {
          throw error instanceof AuthenticationError ? error.toSafeError() : error;
        }
        return { pgSettings: { ...args.contextValue?.pgSettings, ...pgSettingsOf(session) } };
      },
    },
  };
}

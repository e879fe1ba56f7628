// The app's PostGraphile v5 configuration: its own schema (app_public) with Relay global ids (the Amber
// default) and its own auth, plus the achievements engine's preset and schema (status_public).
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { ACHIEVEMENTS_SCHEMAS, makeAchievementsPreset, maskAchievementsError, withScalableSubscriber } from "pg-achievements";
import { JWT_AUDIENCE, pgSettingsFor } from "./src/auth.ts";
import type { AppRoles } from "./src/roles.ts";

export interface AppPresetOptions {
  /** The authenticator's connection string. */
  connectionString: string;
  jwtSecret: string;
  roles: AppRoles;
}

export function makeAppPreset({ connectionString, jwtSecret, roles }: AppPresetOptions): GraphileConfig.Preset {
  return {
    extends: [PostGraphileAmberPreset, makeAchievementsPreset()],
    pgServices: [
      // LISTEN/NOTIFY: the engine's achievementUnlocked / tierChanged / levelAchieved subscriptions; the wrapper
      // keeps them answering with thousands of subscribers (a topic per user).
      withScalableSubscriber(
        makePgService({
          connectionString,
          schemas: ["app_public", ...ACHIEVEMENTS_SCHEMAS],
          pubsub: true,
        }),
      ),
    ],
    gather: {
      // `authenticate` returns this type; PostGraphile signs it as a JWT.
      pgJwtTypes: "app_public.jwt_token",
    },
    schema: {
      pgJwtSecret: jwtSecret,
      pgJwtSignOptions: { algorithm: "HS256", audience: JWT_AUDIENCE, issuer: JWT_AUDIENCE },
    },
    grafserv: {
      graphqlPath: "/graphql",
      websockets: true,
      // The engine's coded errors (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND...), else grafserv's masking.
      maskError: maskAchievementsError,
    },
    grafast: {
      // The app's auth, for HTTP and websockets alike: the token becomes `role` and `jwt.claims.user_id`.
      context(requestContext, args) {
        const authorization =
          requestContext.ws?.normalizedConnectionParams?.authorization?.toString() ?? requestContext.node?.req?.headers?.authorization;
        return { pgSettings: { ...args.contextValue?.pgSettings, ...pgSettingsFor(authorization, { jwtSecret, roles }) } };
      },
    },
  };
}

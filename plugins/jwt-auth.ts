// Verifies the JWT of each HTTP request to the GraphQL endpoint before grafserv runs it, so that a bad
// token gets a proper HTTP 401 with `extensions.code: UNAUTHENTICATED` (an error thrown later, from
// grafast's context callback, would lose its code). Websocket operations are authenticated in the
// context callback (src/preset.ts), where errors keep their code.
import type { Authenticate, Session } from "../src/auth";
import { AuthenticationError } from "../src/auth";

declare global {
  namespace Grafast {
    interface RequestContext {
      /** Set by JwtAuthPlugin for HTTP requests. */
      achievementsSession?: Session;
    }
  }
}

export function makeJwtAuthPlugin(authenticate: Authenticate): GraphileConfig.Plugin {
  return {
    name: "JwtAuthPlugin",
    version: "1.0.0",
    description: "Verifies the Authorization header of GraphQL HTTP requests",
    grafserv: {
      middleware: {
        async processRequest(next, event) {
          const { requestDigest, resolvedPreset } = event;
          const graphqlPath = resolvedPreset.grafserv?.graphqlPath ?? "/graphql";
          if (requestDigest.path !== graphqlPath) {
            return next();
          }
          // Node's header names are lower case already; another adaptor's may not be.
          const header = requestDigest.headers.authorization ?? Object.entries(requestDigest.headers).find(([name]) => name.toLowerCase() === "authorization")?.[1];
          try {
            requestDigest.requestContext.achievementsSession = await authenticate(header);
          } catch (error) {
            if (!(error instanceof AuthenticationError)) throw error;
            return {
              type: "json",
              statusCode: 401,
              headers: { "content-type": "application/json; charset=utf-8", "www-authenticate": "Bearer" },
              json: { errors: [{ message: error.message, extensions: { code: error.code } }] },
            };
          }
          return next();
        },
      },
    },
  };
}

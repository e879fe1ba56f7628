// The standalone server's HTTP responses: grafast writes a result's `data` as JSON text while it walks the
// output plan (its "string optimization", grafserv's `outputDataAsString` option), instead of building the
// objects that grafserv then stringifies with the rest of the payload. The same JSON: grafast serializes each
// leaf with its scalar's `serialize`, as GraphQL does, and errors and extensions are stringified as before.
//
// grafserv (1.0.2) reads the option where it writes the response (`stringifyPayload`) but does not pass it
// on to grafast's `execute`, so with the option alone the data stays objects. This plugin passes it, for
// GraphQL over HTTP only: websockets (graphql-ws) send `data` as an object, and grafserv marks an HTTP
// request's context with `http`, a websocket's with `ws`.
export const OutputDataAsStringPlugin: GraphileConfig.Plugin = {
  name: "OutputDataAsStringPlugin",
  version: "1.0.0",
  description: "Passes grafserv's outputDataAsString to grafast's execute for GraphQL over HTTP",
  grafast: {
    middleware: {
      execute(next, { args }) {
        if (args.resolvedPreset?.grafserv?.outputDataAsString && args.requestContext?.http) args.outputDataAsString = true;
        return next();
      },
    },
  },
};

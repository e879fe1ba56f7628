// Limits against abuse of the GraphQL endpoint (values from src/config.ts, see src/limits.ts):
// - query depth, expanded field count and alias count: GraphQL validation rules, added to grafserv's rules in its `setPreset`
//   middleware, so they apply to HTTP and websockets and are cached with the parsed document;
// - the recordAction / recordActionFor rate limit is the database's (status_private.take_record_action_allowance,
//   where the action is recorded: no document shape escapes it, and every server process shares it); this
//   plugin only passes the configured limits to it as settings of each transaction (grafast's `prepareArgs`),
//   and answers a request whose recording was refused (RATE_LIMITED) with HTTP 429 and Retry-After;
// - grafserv's own refusals (a body above `maxRequestLength`, malformed JSON, a wrong content type, a GET
//   of /graphql for JSON, an Accept it cannot answer) become JSON with a code and their HTTP status in
//   `processRequest` (grafserv sends them as text or without a code, and a body that is too large as a 500).
import { type ASTVisitor, GraphQLError, Kind, type OperationDefinitionNode, type SelectionSetNode, type ValidationContext } from "postgraphile/graphql";
import { isPromiseLike } from "postgraphile/grafast";
import { type RequestLimits, recordActionRateLimitSettings } from "../src/limits";

export type LimitErrorCode =
  | "QUERY_TOO_DEEP"
  | "QUERY_TOO_LARGE"
  | "TOO_MANY_ALIASES"
  | "PAYLOAD_TOO_LARGE"
  | "BAD_REQUEST"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "METHOD_NOT_ALLOWED"
  | "NOT_ACCEPTABLE";

/**
 * Rejects operations nested deeper than `maxDepth` fields (fragments followed; introspection included).
 * A fragment's depth does not depend on where it is spread, so it is worked out once per document
 * (`fragmentDepths`): the rule is linear in the document's size, however often fragments spread each other.
 */
export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentDepths = new Map<string, number>();
    // Fragments being walked: a spread back into one of them is a cycle, reported by graphql's own
    // NoFragmentCycles rule; here it adds nothing, so the walk ends.
    const walking = new Set<string>();
    const fragmentDepth = (name: string): number => {
      const known = fragmentDepths.get(name);
      if (known !== undefined) return known;
      if (walking.has(name)) return 0;
      const fragment = context.getFragment(name);
      if (!fragment) return 0; // reported by graphql's KnownFragmentNames rule
      walking.add(name);
      const depth = depthOf(fragment.selectionSet);
      walking.delete(name);
      fragmentDepths.set(name, depth);
      return depth;
    };
    const depthOf = (selectionSet: SelectionSetNode): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet) : 0));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet));
        } else {
          deepest = Math.max(deepest, fragmentDepth(selection.name.value));
        }
        // Deeper than allowed is all the caller needs to know (a fragment's depth remembered this way is
        // only a lower bound, but one already above the limit, so every operation spreading it is refused too).
        if (deepest > maxDepth) break;
      }
      return deepest;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const depth = depthOf(node.selectionSet);
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`The query is nested too deeply: at most ${maxDepth} levels of fields are allowed`, {
              nodes: [node],
              extensions: { code: "QUERY_TOO_DEEP" satisfies LimitErrorCode },
            }),
          );
        }
        return false; // fragments are followed above; nothing below needs visiting
      },
    };
  };
}

/**
 * Rejects operations that expand to more than `maxFields` fields, counting a fragment's fields each time it
 * is spread: a 1 kB chain of fragments that each spread the previous one twice expands to millions of
 * fields, and the planner walks every one of them (grafast blocks the event loop for seconds at 2^16).
 * A fragment's count is worked out once per document (`fragmentFields`), so the rule itself stays linear.
 */
export function fieldCountRule(maxFields: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragmentFields = new Map<string, number>();
    const walking = new Set<string>(); // a cycle (NoFragmentCycles reports it) counts nothing more here
    const fieldsOfFragment = (name: string): number => {
      const known = fragmentFields.get(name);
      if (known !== undefined) return known;
      const fragment = context.getFragment(name);
      if (!fragment || walking.has(name)) return 0;
      walking.add(name);
      const fields = fieldsOf(fragment.selectionSet);
      walking.delete(name);
      fragmentFields.set(name, fields);
      return fields;
    };
    const fieldsOf = (selectionSet: SelectionSetNode): number => {
      let fields = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) fields += 1 + (selection.selectionSet ? fieldsOf(selection.selectionSet) : 0);
        else if (selection.kind === Kind.INLINE_FRAGMENT) fields += fieldsOf(selection.selectionSet);
        else fields += fieldsOfFragment(selection.name.value);
      }
      return fields;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const fields = fieldsOf(node.selectionSet);
        if (fields > maxFields) {
          context.reportError(
            new GraphQLError(`The query expands to ${fields > 1e9 ? "more than 1,000,000,000" : fields.toLocaleString("en-US")} fields (fragments counted each time they are spread): at most ${maxFields.toLocaleString("en-US")} are allowed`, {
              nodes: [node],
              extensions: { code: "QUERY_TOO_LARGE" satisfies LimitErrorCode },
            }),
          );
        }
        return false;
      },
    };
  };
}

/** Rejects documents with more than `maxAliases` aliased fields (the classic way to multiply one expensive field). */
export function aliasLimitRule(maxAliases: number) {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    return {
      Field(node) {
        if (node.alias) aliases += 1;
      },
      Document: {
        leave(node) {
          if (aliases > maxAliases) {
            context.reportError(
              new GraphQLError(`The query has ${aliases} aliases: at most ${maxAliases} are allowed`, {
                nodes: [node],
                extensions: { code: "TOO_MANY_ALIASES" satisfies LimitErrorCode },
              }),
            );
          }
        },
      },
    };
  };
}

const CODE_OF_STATUS: Record<number, LimitErrorCode> = {
  400: "BAD_REQUEST",
  405: "METHOD_NOT_ALLOWED",
  406: "NOT_ACCEPTABLE",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};
/** grafserv's refusals whose error carries neither a code nor `extensions.statusCode`: the response's status says it. */
const BARE_REFUSAL_STATUSES = new Set([405, 406]);

interface ResponseError {
  message: string;
  extensions?: Record<string, unknown>;
}
interface ResponsePayload {
  data?: Record<string, unknown> | null;
  errors?: ResponseError[];
}

/**
 * The Retry-After of a GraphQL response with a RATE_LIMITED error (the longest wait among them), and whether
 * nothing in it succeeded (every root field null): then the response is a 429. Undefined: not rate limited.
 */
function rateLimitOf(payload: ResponsePayload): { retryAfterSeconds: number; nothingDone: boolean } | undefined {
  const limited = (payload.errors ?? []).filter((error) => error.extensions?.code === "RATE_LIMITED");
  if (limited.length === 0) return undefined;
  const retryAfterSeconds = Math.max(1, ...limited.map((error) => Number(error.extensions?.retryAfterSeconds) || 1));
  return { retryAfterSeconds, nothingDone: Object.values(payload.data ?? {}).every((value) => value === null) };
}

export function makeRequestLimitsPlugin(limits: RequestLimits): GraphileConfig.Plugin {
  const rateLimitSettings = recordActionRateLimitSettings(limits);
  return {
    name: "RequestLimitsPlugin",
    version: "2.0.0",
    description: "Query depth and alias limits, the recordAction rate limit's settings and HTTP 429, coded errors for oversized or malformed requests",
    grafast: {
      middleware: {
        // After the context is built (by grafast.context): the limits ride along in the pgSettings of the
        // operation's transactions, where status_private.take_record_action_allowance reads them. Not async:
        // when the context is built synchronously (an HTTP request), no promise is added.
        prepareArgs(next) {
          const withRateLimitSettings = (args: Grafast.ExecutionArgs) => {
            const contextValue = args.contextValue as { pgSettings?: Record<string, string | undefined> | null };
            contextValue.pgSettings = { ...contextValue.pgSettings, ...rateLimitSettings };
            return args;
          };
          const args = next();
          return isPromiseLike(args) ? args.then(withRateLimitSettings) : withRateLimitSettings(args);
        },
      },
    },
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules.push(depthLimitRule(limits.maxQueryDepth), fieldCountRule(limits.maxQueryFields), aliasLimitRule(limits.maxQueryAliases));
          return next();
        },

        async processRequest(next) {
          const result = await next();
          if (!result || (result.type !== "buffer" && result.type !== "json")) return result;
          // A recording the database refused (RATE_LIMITED, from the response, not the document): Retry-After,
          // and 429 when nothing else in the request succeeded. The cheap byte search spares every other response a parse.
          if (result.statusCode === 200 && (result.type === "json" || result.buffer.includes('"RATE_LIMITED"'))) {
            let payload: ResponsePayload | undefined;
            try {
              payload = result.type === "json" ? (result.json as ResponsePayload) : (JSON.parse(result.buffer.toString("utf8")) as ResponsePayload);
            } catch {
              return result;
            }
            const rateLimit = payload && typeof payload === "object" ? rateLimitOf(payload) : undefined;
            if (!rateLimit) return result;
            return {
              ...result,
              statusCode: rateLimit.nothingDone ? 429 : 200,
              headers: { ...result.headers, "retry-after": String(rateLimit.retryAfterSeconds) },
            };
          }
          // grafserv's refusals before execution arrive as a JSON body whose errors carry only
          // `extensions.statusCode` (or nothing, for its 405 and 406): give each a code.
          if (result.statusCode < 400) return result;
          let payload: ResponsePayload;
          try {
            payload = result.type === "json" ? (result.json as ResponsePayload) : JSON.parse(result.buffer.toString("utf8"));
          } catch {
            return result;
          }
          const errors = Array.isArray(payload?.errors) ? payload.errors : [];
          const refusal =
            errors.find((error) => typeof error.extensions?.statusCode === "number") ??
            (BARE_REFUSAL_STATUSES.has(result.statusCode) && errors.length === 1 && errors[0].extensions?.code === undefined ? errors[0] : undefined);
          if (!refusal) return result;
          const { statusCode = result.statusCode, code } = (refusal.extensions ?? {}) as { statusCode?: number; code?: unknown };
          const message = statusCode === 413 ? `The request body is larger than ${limits.maxRequestBytes} bytes` : refusal.message;
          const headers: Record<string, string> = { ...result.headers, "content-type": "application/json; charset=utf-8" };
          delete headers["content-length"];
          delete headers["Content-Length"];
          // A 405 must say what is allowed (RFC 9110): GraphQL is POSTed here (GET serves GraphiQL's page at most).
          if (statusCode === 405) headers.allow = "POST";
          return {
            type: "json",
            statusCode,
            headers,
            json: { errors: [{ message, extensions: { code: typeof code === "string" ? code : (CODE_OF_STATUS[statusCode] ?? "BAD_REQUEST") } }] },
          };
        },
      },
    },
  };
}

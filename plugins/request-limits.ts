// Limits against abuse of the GraphQL endpoint (values from src/config.ts, see src/limits.ts):
// - query depth and alias count: GraphQL validation rules, added to grafserv's rules in its `setPreset`
//   middleware, so they apply to HTTP and websockets and are cached with the parsed document;
// - recordAction / recordActionFor per user: an in-memory token bucket (per server process) checked in
//   `processGraphQLRequestBody`, before the operation runs: HTTP 429 with code RATE_LIMITED;
// - grafserv's own refusals (a body above `maxRequestLength`, malformed JSON, a wrong content type) become
//   JSON with a code and their HTTP status in `processRequest` (grafserv sends them as text, and a body that
//   is too large as a 500).
import { SafeError as SafeErrorClass } from "postgraphile/grafast";
import {
  type ASTVisitor,
  getOperationAST,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from "postgraphile/graphql";
import { normalizeConnectionParams } from "postgraphile/grafserv";
import type { Authenticate } from "../src/auth";
import { isUuid } from "../src/auth";
import type { RequestLimits } from "../src/limits";

export type LimitErrorCode = "QUERY_TOO_DEEP" | "TOO_MANY_ALIASES" | "RATE_LIMITED" | "PAYLOAD_TOO_LARGE" | "BAD_REQUEST" | "UNSUPPORTED_MEDIA_TYPE";

const RATE_LIMITED_FIELDS = new Set(["recordAction", "recordActionFor"]);

/** Rejects operations nested deeper than `maxDepth` fields (fragments followed; introspection included). */
export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const depthOf = (selectionSet: SelectionSetNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet, seen) : 0));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
        } else {
          const name = selection.name.value;
          const fragment = context.getFragment(name);
          // A cycle is reported by graphql's own NoFragmentCycles rule; an unknown fragment by KnownFragmentNames.
          if (fragment && !seen.has(name)) deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...seen, name])));
        }
        if (deepest > maxDepth) break;
      }
      return deepest;
    };
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const depth = depthOf(node.selectionSet, new Set());
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

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per key: `limit` tokens, refilled continuously over `windowMs`. In memory: per process. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes `count` tokens from each key, all or nothing; returns the seconds to wait when refused. */
  take(counts: Map<string, number>): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const now = this.now();
    const rate = this.limit / this.windowMs; // tokens per ms
    let waitMs = 0;
    const refilled = new Map<string, Bucket>();
    for (const [key, count] of counts) {
      const bucket = this.buckets.get(key) ?? { tokens: this.limit, updatedAt: now };
      const tokens = Math.min(this.limit, bucket.tokens + (now - bucket.updatedAt) * rate);
      refilled.set(key, { tokens, updatedAt: now });
      if (tokens < count) waitMs = Math.max(waitMs, count > this.limit ? this.windowMs : (count - tokens) / rate);
    }
    if (waitMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    for (const [key, bucket] of refilled) this.buckets.set(key, { ...bucket, tokens: bucket.tokens - counts.get(key)! });
    if (this.buckets.size > 100_000) this.forgetFullBuckets(now, rate);
    return { allowed: true };
  }

  private forgetFullBuckets(now: number, rate: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedAt) * rate >= this.limit) this.buckets.delete(key);
    }
  }
}

/** The user a recordActionFor call is for: `input: { userId }` given inline or through variables. */
function targetUserOf(args: readonly { name: { value: string }; value: ValueNode }[], variables: Record<string, unknown>): unknown {
  const input = args.find((arg) => arg.name.value === "input")?.value;
  if (!input) return undefined;
  if (input.kind === Kind.VARIABLE) return (variables[input.name.value] as { userId?: unknown } | null | undefined)?.userId;
  if (input.kind !== Kind.OBJECT) return undefined;
  const userId = input.fields.find((field) => field.name.value === "userId")?.value;
  if (!userId) return undefined;
  if (userId.kind === Kind.VARIABLE) return variables[userId.name.value];
  return userId.kind === Kind.STRING ? userId.value : undefined;
}

/** How many recordAction / recordActionFor calls the request makes for each user. */
function recordCallsPerUser(
  query: string,
  operationName: string | undefined,
  variables: Record<string, unknown>,
  signedInUser: string | null,
): Map<string, number> {
  const counts = new Map<string, number>();
  let operation;
  try {
    operation = getOperationAST(parse(query), operationName);
  } catch {
    return counts; // grafserv reports the syntax error
  }
  if (!operation || operation.operation !== "mutation") return counts;
  for (const selection of operation.selectionSet.selections) {
    // Mutations are fields at the root; a fragment there would be unusual, and is counted by the depth rules only.
    if (selection.kind !== Kind.FIELD || !RATE_LIMITED_FIELDS.has(selection.name.value)) continue;
    let user: string | null = signedInUser;
    if (selection.name.value === "recordActionFor") {
      const target = targetUserOf(selection.arguments ?? [], variables);
      if (typeof target === "string" && isUuid(target)) user = target.toLowerCase();
    }
    if (user) counts.set(user, (counts.get(user) ?? 0) + 1);
  }
  return counts;
}

const CODE_OF_STATUS: Record<number, LimitErrorCode> = { 400: "BAD_REQUEST", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE" };

export function makeRequestLimitsPlugin(limits: RequestLimits, authenticate: Authenticate): GraphileConfig.Plugin {
  const limiter = new RateLimiter(limits.recordActionRateLimit, limits.recordActionRateWindowSeconds * 1000);
  return {
    name: "RequestLimitsPlugin",
    version: "1.0.0",
    description: "Query depth and alias limits, a per-user rate limit of recordAction, coded errors for oversized or malformed requests",
    grafserv: {
      middleware: {
        setPreset(next, event) {
          event.validationRules.push(depthLimitRule(limits.maxQueryDepth), aliasLimitRule(limits.maxQueryAliases));
          return next();
        },

        async processGraphQLRequestBody(next, event) {
          const { body } = event;
          if (limits.recordActionRateLimit > 0 && typeof body.query === "string" && body.query.includes("recordAction")) {
            let userId = event.request?.requestContext.achievementsSession?.userId ?? null;
            if (!event.request && event.graphqlWsContext) {
              const authorization = normalizeConnectionParams(event.graphqlWsContext.connectionParams)?.authorization;
              userId = await authenticate(authorization?.toString()).then(
                (session) => session.userId,
                () => null, // a bad token is refused when the operation's context is built
              );
            }
            const variables = body.variableValues && typeof body.variableValues === "object" ? (body.variableValues as Record<string, unknown>) : {};
            const counts = recordCallsPerUser(body.query, typeof body.operationName === "string" ? body.operationName : undefined, variables, userId);
            const verdict = counts.size > 0 ? limiter.take(counts) : ({ allowed: true } as const);
            if (!verdict.allowed) {
              throw new SafeErrorClass(
                `Too many recorded actions for this user: at most ${limits.recordActionRateLimit} every ${limits.recordActionRateWindowSeconds} s; retry in ${verdict.retryAfterSeconds} s`,
                { code: "RATE_LIMITED" satisfies LimitErrorCode, statusCode: 429, retryAfterSeconds: verdict.retryAfterSeconds },
              );
            }
          }
          return next();
        },

        async processRequest(next) {
          const result = await next();
          // grafserv's refusals before execution (and ours above) arrive as a JSON body whose errors carry only
          // `extensions.statusCode`: give each a code, and the rate limit its Retry-After header.
          if (!result || result.statusCode < 400 || (result.type !== "buffer" && result.type !== "json")) return result;
          let payload: { errors?: { message: string; extensions?: Record<string, unknown> }[] };
          try {
            payload = result.type === "json" ? (result.json as typeof payload) : JSON.parse(result.buffer.toString("utf8"));
          } catch {
            return result;
          }
          const errors = Array.isArray(payload?.errors) ? payload.errors : [];
          const refusal = errors.find((error) => typeof error.extensions?.statusCode === "number");
          if (!refusal) return result;
          const { statusCode, retryAfterSeconds, code } = refusal.extensions as { statusCode: number; retryAfterSeconds?: unknown; code?: unknown };
          const message = statusCode === 413 ? `The request body is larger than ${limits.maxRequestBytes} bytes` : refusal.message;
          const headers: Record<string, string> = { ...result.headers, "content-type": "application/json; charset=utf-8" };
          delete headers["content-length"];
          delete headers["Content-Length"];
          if (typeof retryAfterSeconds === "number") headers["retry-after"] = String(retryAfterSeconds);
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

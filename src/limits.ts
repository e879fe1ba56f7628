// Limits against abuse of the GraphQL endpoint, set from the environment in src/config.ts and enforced by
// grafserv (`maxRequestLength`) and plugins/request-limits.ts.
export interface RequestLimits {
  /** The largest request body grafserv reads, in bytes (HTTP 413 above it). */
  maxRequestBytes: number;
  /** The deepest field nesting of an operation, fragments included (introspection too). */
  maxQueryDepth: number;
  /** The most aliased fields in one document. */
  maxQueryAliases: number;
  /** recordAction / recordActionFor calls per user and window, per server process; 0 turns the limit off. */
  recordActionRateLimit: number;
  recordActionRateWindowSeconds: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxRequestBytes: 100_000,
  // The standard introspection query (GraphiQL's) is 15 deep; our deepest real query is about 6.
  maxQueryDepth: 16,
  maxQueryAliases: 50,
  recordActionRateLimit: 60,
  recordActionRateWindowSeconds: 60,
};

// Limits against abuse of the GraphQL endpoint, set from the environment in src/config.ts. Body size,
// depth, expanded fields and aliases are enforced by grafserv (`maxRequestLength`) and plugins/request-limits.ts; the
// recordAction rate limit by the database (status_private.take_record_action_allowance), with the values
// below passed to it as settings of each transaction (see recordActionRateLimitSettings).
export interface RequestLimits {
  /** The largest request body grafserv reads, in bytes (HTTP 413 above it). */
  maxRequestBytes: number;
  /** The deepest field nesting of an operation, fragments included (introspection too). */
  maxQueryDepth: number;
  /** The most fields an operation may expand to, a fragment's fields counted each time it is spread. */
  maxQueryFields: number;
  /** The most aliased fields in one document. */
  maxQueryAliases: number;
  /**
   * recordAction / recordActionFor calls per user (the signed-in user, or the user recorded for) and window,
   * shared by every server process (the state is in PostgreSQL); 0 turns the limit off.
   */
  recordActionRateLimit: number;
  /** recordActionFor calls per service client (the service token's `sub`) and window; 0 turns it off. */
  recordActionServiceRateLimit: number;
  /** The window of both rate limits, in seconds: the allowance refills steadily over it. */
  recordActionRateWindowSeconds: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxRequestBytes: 100_000,
  // The standard introspection query (GraphiQL's) is 15 deep; our deepest real query is about 6.
  maxQueryDepth: 16,
  // GraphiQL's introspection query expands to 229 fields (test/e2e/fragment_depth.test.ts); the dashboard to about 60.
  maxQueryFields: 2_000,
  maxQueryAliases: 50,
  // The same defaults as the database's (migration 000005), for sessions that set none.
  recordActionRateLimit: 60,
  recordActionServiceRateLimit: 6000,
  recordActionRateWindowSeconds: 60,
};

/**
 * The Postgres settings that carry the rate limit to the database, for a transaction's pgSettings (the
 * server's come from its configuration, so API callers cannot change them). An app with its own PostGraphile
 * server may add them to its pgSettings, or set them for the whole database
 * (`alter database … set achievements.record_action_rate_limit = '120'`).
 */
export function recordActionRateLimitSettings(limits: RequestLimits): Record<string, string> {
  return {
    "achievements.record_action_rate_limit": String(limits.recordActionRateLimit),
    "achievements.record_action_service_rate_limit": String(limits.recordActionServiceRateLimit),
    "achievements.record_action_rate_window_seconds": String(limits.recordActionRateWindowSeconds),
  };
}

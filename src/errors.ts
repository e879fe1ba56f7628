// Errors users can act on: a database error with a known SQLSTATE becomes a GraphQL error with a stable
// `extensions.code`; anything else is masked (logged with an id) as grafserv does by default.
import { defaultMaskError } from "postgraphile/grafserv";
import { GraphQLError } from "postgraphile/graphql";

export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "TRANSACTION_CONFLICT"
  | "DATABASE_UNAVAILABLE"
  | "RATE_LIMITED"
  | "GRAPHQL_PARSE_FAILED"
  | "GRAPHQL_VALIDATION_FAILED"
  // planCatalog / applyCatalog (src/catalog/): a file that fails its checks, a removal of what users hold.
  | "CATALOG_INVALID"
  | "CATALOG_DESTRUCTIVE_CHANGE";

/** SQLSTATEs of the project's own class (raised in migrations/) and the standard ones users can cause. */
const CODE_OF_SQLSTATE: Record<string, ErrorCode> = {
  AC400: "BAD_USER_INPUT",
  AC401: "UNAUTHENTICATED",
  AC403: "FORBIDDEN",
  AC404: "NOT_FOUND",
  AC409: "CONFLICT",
  AC429: "RATE_LIMITED", // the recordAction rate limit (its detail: {"retryAfterSeconds": n})
  "42501": "FORBIDDEN", // insufficient_privilege, including row-level security
  "23505": "CONFLICT", // unique_violation
  "23502": "BAD_USER_INPUT", // not_null_violation
  "23503": "BAD_USER_INPUT", // foreign_key_violation
  "23514": "BAD_USER_INPUT", // check_violation
  "22P02": "BAD_USER_INPUT", // invalid_text_representation (a malformed uuid, say)
  "22003": "BAD_USER_INPUT", // numeric_value_out_of_range
  "22001": "BAD_USER_INPUT", // string_data_right_truncation
  "22007": "BAD_USER_INPUT", // invalid_datetime_format (an occurredAt that is not a date)
  "22008": "BAD_USER_INPUT", // datetime_field_overflow
  "22021": "BAD_USER_INPUT", // character_not_in_repertoire (a NUL character in a string)
  "2201W": "BAD_USER_INPUT", // invalid_row_count_in_limit_clause (a negative `first` or `last`)
  "2201X": "BAD_USER_INPUT", // invalid_row_count_in_result_offset_clause (a negative `offset`)
  "40001": "TRANSACTION_CONFLICT", // serialization_failure
  "40P01": "TRANSACTION_CONFLICT", // deadlock_detected
};

/** Messages in the API's words, where PostgreSQL's name SQL (LIMIT) or bytes (0x00) the client never sent. */
const MESSAGE_OF_SQLSTATE: Record<string, string> = {
  "22021": "Strings must not contain the NUL character (\\u0000)",
  "2201W": "`first` and `last` must not be negative",
  "2201X": "`offset` must not be negative",
};

/** What to do about an error, where ours says more than PostgreSQL's hint (for a deadlock: "see server log"). */
const HINT_OF_CODE: Partial<Record<ErrorCode, string>> = {
  TRANSACTION_CONFLICT: "A concurrent transaction got in the way and nothing was written: retry (with the same idempotency key).",
};

interface DatabaseError extends Error {
  code: string;
  detail?: string;
  hint?: string;
}

/** The seconds to wait that a rate-limit error (AC429) carries in its detail, for `extensions.retryAfterSeconds`. */
function retryAfterOf(error: DatabaseError): { retryAfterSeconds?: number } {
  if (error.code !== "AC429" || !error.detail) return {};
  try {
    const { retryAfterSeconds } = JSON.parse(error.detail) as { retryAfterSeconds?: unknown };
    return typeof retryAfterSeconds === "number" ? { retryAfterSeconds } : {};
  } catch {
    return {};
  }
}

function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/**
 * PostgreSQL is down, restarting or was restarted under us: the request may be retried (with the same
 * idempotency key) once it is back. Node's socket errors, SQLSTATE class 08 (connection exception) and
 * 57P01-57P03 (shutdown, crash, starting up), pg's "Connection terminated", and grafast's end of a
 * subscription whose LISTEN connection dropped.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: Node's socket errors come from another realm under jest.
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|57P0[123])$/.test(code) || code.startsWith("08"))) return true;
  return typeof message === "string" && /^Connection terminated|Underlying pubsub channel interrupted/.test(message);
}

/**
 * Our coded error for `error` (a known SQLSTATE, the database unavailable), or undefined for any other: an
 * app with its own maskError composes them: `maskError: (e) => achievementsErrorOf(e) ?? yourMaskError(e)`.
 */
export function achievementsErrorOf(error: GraphQLError): GraphQLError | undefined {
  const original = error.originalError;
  if (isDatabaseUnavailable(original)) {
    return new GraphQLError("The database is unavailable right now: retry in a few seconds (with the same idempotency key); subscribers resubscribe and catch up with myUnlocksSince", {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: original,
      extensions: { code: "DATABASE_UNAVAILABLE" satisfies ErrorCode },
    });
  }
  if (isDatabaseError(original) && original.code in CODE_OF_SQLSTATE) {
    const code = CODE_OF_SQLSTATE[original.code];
    const hint = HINT_OF_CODE[code] ?? original.hint;
    return new GraphQLError(MESSAGE_OF_SQLSTATE[original.code] ?? original.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: original,
      extensions: { code, sqlState: original.code, ...(hint ? { hint } : {}), ...retryAfterOf(original) },
    });
  }
  return undefined;
}

/** `error` with `extensions.code` added (the rest kept as it is). */
export function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * The code of an error about the request itself, which grafast reports before running anything (no path):
 * variable values that do not coerce to their type (an Int above 2^31 - 1, a malformed UUID, a required
 * one missing) and an operation name that is not in the document. Parse and validation errors do not
 * come through maskError over HTTP: plugins/graphql-error-codes.ts codes them.
 */
function requestErrorCodeOf(error: GraphQLError): ErrorCode | undefined {
  if (error.path !== undefined || error.extensions?.code !== undefined) return undefined;
  if (/^Variable "\$\w+" /.test(error.message)) return "BAD_USER_INPUT";
  if (/^(Unknown operation named|Must provide (an operation|operation name))/.test(error.message)) return "GRAPHQL_VALIDATION_FAILED";
  return undefined;
}

/**
 * grafserv's `maskError`: our coded errors, request errors coded, anything else masked by grafserv's
 * default (logged with a hash).
 */
export function maskError(error: GraphQLError): GraphQLError {
  const coded = achievementsErrorOf(error);
  if (coded) return coded;
  const requestCode = requestErrorCodeOf(error);
  return requestCode ? withCode(error, requestCode) : defaultMaskError(error);
}

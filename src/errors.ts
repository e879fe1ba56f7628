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
  | "DATABASE_UNAVAILABLE";

/** SQLSTATEs of the project's own class (raised in migrations/) and the standard ones users can cause. */
const CODE_OF_SQLSTATE: Record<string, ErrorCode> = {
  AC400: "BAD_USER_INPUT",
  AC401: "UNAUTHENTICATED",
  AC403: "FORBIDDEN",
  AC404: "NOT_FOUND",
  AC409: "CONFLICT",
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
  "40001": "TRANSACTION_CONFLICT", // serialization_failure
  "40P01": "TRANSACTION_CONFLICT", // deadlock_detected
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

function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/**
 * PostgreSQL is down, restarting or was restarted under us: the request may be retried (with the same
 * idempotency key) once it is back. Node's socket errors, SQLSTATE class 08 (connection exception) and
 * 57P01-57P03 (shutdown, crash, starting up), pg's "Connection terminated", and grafast's end of a
 * subscription whose LISTEN connection dropped.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: Node's socket errors come from another realm under jest.
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|57P0[123])$/.test(code) || code.startsWith("08"))) return true;
  return typeof message === "string" && /^Connection terminated|Underlying pubsub channel interrupted/.test(message);
}

export function maskError(error: GraphQLError): GraphQLError {
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
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: original,
      extensions: { code, sqlState: original.code, ...(hint ? { hint } : {}) },
    });
  }
  return defaultMaskError(error);
}

// Errors users can act on: a database error with a known SQLSTATE becomes a GraphQL error with a stable
// `extensions.code`; anything else is masked (logged with an id) as grafserv does by default.
import { defaultMaskError } from "postgraphile/grafserv";
import { GraphQLError } from "postgraphile/graphql";

export type ErrorCode = "BAD_USER_INPUT" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT";

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
};

interface DatabaseError extends Error {
  code: string;
  detail?: string;
  hint?: string;
}

function isDatabaseError(error: unknown): error is DatabaseError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

export function maskError(error: GraphQLError): GraphQLError {
  const original = error.originalError;
  if (isDatabaseError(original) && original.code in CODE_OF_SQLSTATE) {
    return new GraphQLError(original.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: original,
      extensions: {
        code: CODE_OF_SQLSTATE[original.code],
        sqlState: original.code,
        ...(original.hint ? { hint: original.hint } : {}),
      },
    });
  }
  return defaultMaskError(error);
}

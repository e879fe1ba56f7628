// What the command line says when a start fails for a reason the user can fix: one line naming the
// setting and what to do, instead of a stack trace. Anything else (a bug) keeps its stack.
import { ConfigError } from "./config";
import { EmbeddedPostgresError } from "./embedded-postgres";

interface CodedError {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** The error and those it wraps (`cause`, an AggregateError's `errors`: Node tries IPv4 and IPv6 for localhost). */
function* chain(error: unknown, depth = 0): Generator<CodedError> {
  if (typeof error !== "object" || error === null || depth > 5) return;
  const coded = error as CodedError;
  yield coded;
  yield* chain(coded.cause, depth + 1);
  if (Array.isArray(coded.errors)) {
    for (const inner of coded.errors) yield* chain(inner, depth + 1);
  }
}

function findCode(error: unknown, test: (code: string) => boolean): CodedError | undefined {
  for (const link of chain(error)) {
    if (typeof link.code === "string" && test(link.code)) return link;
  }
  return undefined;
}

const CONNECTION_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is PostgreSQL running there, on that port?)",
  ENOTFOUND: "no such host",
  EAI_AGAIN: "the host name could not be resolved (DNS)",
  ETIMEDOUT: "no answer (timed out)",
  EHOSTUNREACH: "the host is unreachable",
  ENETUNREACH: "the network is unreachable",
  ECONNRESET: "the connection was closed (is it PostgreSQL? does it need SSL: add ?sslmode=require)",
};

/** host:port of a connection string (5432 by default; a socket folder given as ?host=). */
export function hostAndPort(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.hostname || url.searchParams.get("host") || "localhost";
    return `${host}:${url.port || "5432"}`;
  } catch {
    return "an unparsable address";
  }
}

/**
 * A one-line ConfigError when `error` means the database at `setting` cannot be used (unreachable, refused,
 * bad password, no such database); undefined for anything else.
 */
export function databaseProblem(error: unknown, setting: string, connectionString: string): ConfigError | undefined {
  const where = `${setting} (${hostAndPort(connectionString)})`;
  const network = findCode(error, (code) => code in CONNECTION_PROBLEMS);
  if (network) {
    return new ConfigError(`cannot connect to the PostgreSQL at ${where}: ${CONNECTION_PROBLEMS[network.code as string]}`);
  }
  // SQLSTATE 28xxx: authentication; 3D000: no such database; 08xxx: connection; 57P03: starting up.
  const refused = findCode(error, (code) => /^(28|08)[0-9A-Z]{3}$|^3D000$|^57P03$/.test(code));
  if (refused) {
    return new ConfigError(`the PostgreSQL at ${where} refused the connection: ${String(refused.message)}`);
  }
  for (const link of chain(error)) {
    if (typeof link.message === "string" && /^Connection terminated|self[- ]signed certificate|does not support SSL/i.test(link.message)) {
      return new ConfigError(`cannot connect to the PostgreSQL at ${where}: ${link.message}`);
    }
  }
  return undefined;
}

/** A one-line ConfigError when the HTTP server cannot listen on HOST:PORT; undefined for anything else. */
export function listenProblem(error: unknown, host: string, port: number): ConfigError | undefined {
  const coded = findCode(error, (code) => /^(EADDRINUSE|EACCES|EADDRNOTAVAIL)$/.test(code));
  switch (coded?.code) {
    case "EADDRINUSE":
      return new ConfigError(`PORT ${port} is in use on ${host} (another server is running?): stop it, or set PORT to a free port`);
    case "EACCES":
      return new ConfigError(`PORT ${port} on ${host} needs privileges this process does not have: set PORT to 1024 or above`);
    case "EADDRNOTAVAIL":
      return new ConfigError(`HOST ${host} is not an address of this machine: set HOST (127.0.0.1, or 0.0.0.0 for every interface)`);
    default:
      return undefined;
  }
}

/** What to print for an error that ended a command: the message of an expected problem, else the stack. */
export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError || error instanceof EmbeddedPostgresError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

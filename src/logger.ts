// The one logger of the server (pino): readable lines on a terminal in development (pino-pretty), JSON
// lines in production and whenever the output is a file or a pipe. Errors are logged as their type,
// message, code and stack, never as the raw object (a pg error drags its connection along).
// `makeRequestLogger` logs one line per HTTP request, with a request id (pino-http); `routeConsoleToLogger`
// sends what libraries print with console.* (grafserv's masked errors, @dataplan/pg's pool errors) there too.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { format } from "node:util";
import pino from "pino";
import { pinoHttp } from "pino-http";

export type Logger = pino.Logger;

/** `stderr`: log there, for commands whose stdout is their answer (`install` prints its result as JSON). */
export function createLogger(level: string, options: { pretty?: boolean; stderr?: boolean } = {}): Logger {
  const output = options.stderr ? process.stderr : process.stdout;
  const pretty = options.pretty ?? (output.isTTY === true && process.env.NODE_ENV !== "production");
  const settings: pino.LoggerOptions = { level, serializers: { err: serializeError, error: serializeError } };
  if (pretty) {
    // One line per entry on a terminal too; a request's method, path, status and time are in its message.
    const prettyOptions = { ignore: "pid,hostname,method,path,status,responseTime", translateTime: "HH:MM:ss", singleLine: true };
    return pino({ ...settings, transport: { target: "pino-pretty", options: { ...prettyOptions, destination: options.stderr ? 2 : 1 } } });
  }
  return options.stderr ? pino(settings, pino.destination(2)) : pino(settings);
}

/** An error as plain fields: what PostgreSQL and Node say about it, not every property it carries. */
export function serializeError(error: unknown, depth = 0): Record<string, unknown> {
  if (typeof error !== "object" || error === null) return { message: String(error) };
  // `type`: pino's standard serializer's name for it, when it ran first (pino-http's wrapped serializers).
  const { name, type, message, code, detail, hint, stack, cause } = error as Record<string, unknown>;
  return {
    type: typeof name === "string" ? name : typeof type === "string" ? type : "Error",
    message: typeof message === "string" ? message : String(error),
    ...(typeof code === "string" || typeof code === "number" ? { code } : {}),
    ...(typeof detail === "string" ? { detail } : {}),
    ...(typeof hint === "string" ? { hint } : {}),
    ...(typeof stack === "string" ? { stack } : {}),
    ...(cause !== undefined && depth < 3 ? { cause: serializeError(cause, depth + 1) } : {}),
  };
}

// A request id given by a proxy in front (x-request-id) is kept when it looks like one; else a new uuid.
const REQUEST_ID = /^[\w.:-]{1,128}$/;

function pathOf(request: IncomingMessage): string {
  // The path only: a query string can carry a GraphQL document and its variables.
  return (request.url ?? "/").split("?")[0];
}

/**
 * One log line per HTTP request when its response is sent: method, path, status, time, and a request id,
 * also sent back in the `x-request-id` response header. Headers (tokens) and bodies are never logged.
 */
export function makeRequestLogger(log: Logger): (request: IncomingMessage, response: ServerResponse) => void {
  return pinoHttp({
    logger: log,
    serializers: { err: serializeError },
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: "requestId" },
    genReqId(request, response) {
      const given = request.headers["x-request-id"];
      const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
      response.setHeader("x-request-id", id);
      return id;
    },
    customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? "error" : "info"),
    customSuccessMessage: (request, response, time) => `${request.method} ${pathOf(request)} ${response.statusCode} ${time} ms`,
    customSuccessObject: (request, response, fields: { responseTime: number }) => ({
      method: request.method,
      path: pathOf(request),
      status: response.statusCode,
      responseTime: fields.responseTime,
    }),
    customErrorMessage: (request, response) => `${request.method} ${pathOf(request)} ${response.statusCode}`,
    customErrorObject: (request, response, error, fields: { responseTime: number }) => ({
      method: request.method,
      path: pathOf(request),
      status: response.statusCode,
      responseTime: fields.responseTime,
      // pino-http makes up an Error for a bare 5xx: only a real one is worth its stack.
      ...(error.message.startsWith("failed with status code") ? {} : { err: error }),
    }),
  });
}

const isErrorLike = (value: unknown): value is Error =>
  typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string" && typeof (value as { stack?: unknown }).stack === "string";

/**
 * Makes console.error/warn/info/log/debug write to the logger, as one entry each: the first line of what
 * was printed, with an error argument as `err` (serializeError) instead of its dump. For the command line,
 * whose libraries print with console (grafserv: "Masked GraphQL error ...", @dataplan/pg: "Client error (in
 * pool ...)", each with the raw error object). Returns a function that puts the console back.
 */
export function routeConsoleToLogger(log: Logger): () => void {
  const methods = ["error", "warn", "info", "log", "debug"] as const;
  const saved = methods.map((method) => console[method]);
  const levelOf = { error: "error", warn: "warn", info: "info", log: "info", debug: "debug" } as const;
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      const error = args.findLast(isErrorLike);
      const text = format(...args.map((arg) => (isErrorLike(arg) ? arg.message : arg)));
      const firstLine = text.split("\n").find((line) => line.trim() !== "") ?? "";
      log[levelOf[method]](error ? { err: serializeError(error) } : {}, firstLine);
    };
  }
  return () => methods.forEach((method, index) => (console[method] = saved[index]));
}

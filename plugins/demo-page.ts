// The demo page ("unlock toast"), for development only: src/server.ts adds this plugin when the demo is on
// (config.demo, never in production); without it every /demo path is grafserv's 404.
//
// grafserv answers every request it does not handle with a 404, so the page is served from grafserv's own
// `processRequest` middleware, ahead of it:
//   GET  /demo                          demo/index.html
//   GET  /demo/<file>                   demo/<file> (a flat name: index.html, demo.js, demo.css)
//   GET  /demo/vendor/graphql-ws/<file> graphql-ws's browser build (its ES module client, dist/client.js and
//                                       the chunk it imports), straight from node_modules: no bundler
//   POST /demo/token                    {"userId": "<uuid>"} or an empty body (a new user):
//                                       {userId, token}, a `user` token for that user, signed like any other
// The token endpoint signs a token for any user id: that is the point of a demo, and why it never runs in
// production. It only answers a JSON POST (a cross-site form cannot send one without a CORS preflight, which
// nothing here answers) from the page's own origin.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { GrafservBody, Result } from "postgraphile/grafserv";
import { isUuid, signToken } from "../src/auth";
import { PROJECT_ROOT } from "../src/config";

export interface DemoPageOptions {
  jwtSecret: string;
  jwtAudience?: string;
  /** How long the demo's tokens last (a zeit/ms-style span for jose). */
  tokenLifetime?: string;
}

const DEMO_DIR = join(PROJECT_ROOT, "demo");
// The package's "browser" export is dist/client.js; its CommonJS entry sits in the same folder.
const GRAPHQL_WS_DIR = dirname(require.resolve("graphql-ws"));

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
};

// The page loads only its own files and talks only to its own origin (fetch, and the websocket: CSP Level 3
// `'self'` covers ws:// on the same host).
const CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// Flat file names only: no slash, no "..", so no way out of the folder.
const PAGE_FILE = /^\/demo\/([a-z0-9][a-z0-9_-]*\.(?:html|js|css|svg|png))$/;
// The client and the shared chunk it imports (its name carries a content hash).
const VENDOR_FILE = /^\/demo\/vendor\/graphql-ws\/((?:client|common-[A-Za-z0-9_-]+)\.js)$/;

function respond(statusCode: number, headers: Record<string, string>, body: Buffer | string): Result {
  return {
    type: "buffer",
    statusCode,
    headers: { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers },
    buffer: typeof body === "string" ? Buffer.from(body, "utf8") : body,
  };
}

const json = (statusCode: number, body: unknown): Result =>
  respond(statusCode, { "content-type": "application/json; charset=utf-8" }, JSON.stringify(body));

const jsonError = (statusCode: number, message: string, code: string): Result => json(statusCode, { errors: [{ message, extensions: { code } }] });

/** The file, or null when there is none. */
async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function serveFile(method: string, path: string, extraHeaders: Record<string, string> = {}): Promise<Result | null> {
  if (method !== "GET" && method !== "HEAD") {
    return respond(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }, "Method not allowed");
  }
  const content = await readIfExists(path);
  if (content === null) return null;
  const extension = path.slice(path.lastIndexOf(".") + 1);
  return respond(200, { "content-type": CONTENT_TYPES[extension] ?? "application/octet-stream", ...extraHeaders }, content);
}

function bodyText(body: GrafservBody): string {
  switch (body.type) {
    case "buffer":
      return body.buffer.toString("utf8");
    case "text":
      return body.text;
    case "json":
      return JSON.stringify(body.json);
  }
}

export function makeDemoPagePlugin(options: DemoPageOptions): GraphileConfig.Plugin {
  async function issueToken(headers: Record<string, string>, getBody: () => PromiseLike<GrafservBody> | GrafservBody): Promise<Result> {
    const contentType = headers["content-type"] ?? "";
    if (!/^application\/json\s*(;|$)/i.test(contentType)) {
      return jsonError(415, "Send the request as application/json", "BAD_USER_INPUT");
    }
    const origin = headers["origin"];
    if (origin !== undefined && origin !== `http://${headers["host"]}` && origin !== `https://${headers["host"]}`) {
      return jsonError(403, "Demo tokens are only for the demo page itself", "FORBIDDEN");
    }
    let userId: string = randomUUID();
    let text: string;
    try {
      text = bodyText(await getBody()).trim();
    } catch {
      return jsonError(400, "The request body could not be read", "BAD_USER_INPUT");
    }
    if (text !== "") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return jsonError(400, "The body must be JSON: {\"userId\": \"<uuid>\"}, or empty for a new user", "BAD_USER_INPUT");
      }
      const given = typeof parsed === "object" && parsed !== null ? (parsed as { userId?: unknown }).userId : undefined;
      if (given !== undefined && given !== null) {
        if (typeof given !== "string" || !isUuid(given)) {
          return jsonError(400, "`userId` must be a uuid (or leave it out for a new user)", "BAD_USER_INPUT");
        }
        userId = given.toLowerCase();
      }
    }
    const token = await signToken({
      jwtSecret: options.jwtSecret,
      audience: options.jwtAudience,
      userId,
      role: "user",
      expiresIn: options.tokenLifetime ?? "12h",
    });
    return json(200, { userId, token });
  }

  return {
    name: "DemoPagePlugin",
    version: "1.0.0",
    description: "Serves the development demo page at /demo and signs demo users' tokens at POST /demo/token",
    grafserv: {
      middleware: {
        async processRequest(next, event) {
          const { path, method, headers, getBody } = event.requestDigest;
          if (path !== "/demo" && !path.startsWith("/demo/")) {
            return next();
          }
          if (path === "/demo/token") {
            if (method !== "POST") {
              return respond(405, { allow: "POST", "content-type": "text/plain; charset=utf-8" }, "Method not allowed: POST a JSON body");
            }
            // grafserv hands the headers over with lower-case names.
            return issueToken(headers, getBody);
          }
          if (path === "/demo" || path === "/demo/") {
            return serveFile(method, join(DEMO_DIR, "index.html"), { "content-security-policy": CONTENT_SECURITY_POLICY });
          }
          const vendor = VENDOR_FILE.exec(path);
          if (vendor) {
            return (await serveFile(method, join(GRAPHQL_WS_DIR, vendor[1]))) ?? next();
          }
          const page = PAGE_FILE.exec(path);
          if (page) {
            const pageHeaders: Record<string, string> = page[1].endsWith(".html") ? { "content-security-policy": CONTENT_SECURITY_POLICY } : {};
            return (await serveFile(method, join(DEMO_DIR, page[1]), pageHeaders)) ?? next();
          }
          return next();
        },
      },
    },
  };
}

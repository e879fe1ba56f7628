// The GraphQL overhead benchmark's baseline (bench/overhead.ts): a minimal node:http + pg server that runs
// the same SQL as the GraphQL server with the same settings, in one transaction per request, and nothing
// else. Like PostGraphile's pg adaptor (@dataplan/pg): a pg.Pool of the authenticator (pg's default size,
// 10), `set jit_optimize_above_cost = -1` on each new connection, named (prepared) statements, and per
// request `begin`, `select set_config(el->>0, el->>1, true) from json_array_elements($1::json) el` with the
// role and claims of the request's JWT (src/auth.ts: the same authenticate and pgSettingsOf as the server)
// and the rate limit's settings (src/limits.ts), the statement, `commit`.
//   POST /record-action-for  {"userId", "action", "amount"}  -> {"result": {"tally", "unlocked": [{"achievementId"}]}}
//   GET  /leaderboard?period=ALL_TIME&first=10&offset=0     -> {"leaderboard": [{"rank", "userId", ...}]}
// Run by bench/overhead.ts in a process of its own: BENCH_SERVER_CONNECTION_STRING (the authenticator) and
// BENCH_SERVER_JWT_SECRET in the environment; prints {"url": ...} on stdout once listening, and exits when
// its stdin closes (the benchmark ended, or died) or on SIGTERM.
import "../src/environment";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { AuthenticationError, makeAuthenticate, pgSettingsOf } from "../src/auth";
import { recordActionRateLimitSettings } from "../src/limits";
import { BENCH_REQUEST_LIMITS, roles } from "./common";

const connectionString = process.env.BENCH_SERVER_CONNECTION_STRING;
const jwtSecret = process.env.BENCH_SERVER_JWT_SECRET;
if (!connectionString || !jwtSecret) throw new Error("raw-server: BENCH_SERVER_CONNECTION_STRING and BENCH_SERVER_JWT_SECRET are required");

const authenticate = makeAuthenticate({ jwtSecret, roles });
const rateLimitSettings = recordActionRateLimitSettings(BENCH_REQUEST_LIMITS);
const pool = new pg.Pool({ connectionString });
pool.on("connect", (client) => void client.query("set jit_optimize_above_cost = -1").catch(() => undefined));
pool.on("error", () => undefined);

const SET_CONFIG = { name: "raw_set_config", text: "select set_config(el->>0, el->>1, true) from json_array_elements($1::json) el" };
const RECORD_ACTION_FOR = {
  name: "raw_record_action_for",
  text: `select result.tally, array(select unlocked.achievement_id from unnest(result.unlocked) as unlocked) as unlocked
         from status_public.record_action_for($1::uuid, $2::text, $3::integer) as result`,
};
const LEADERBOARD = { name: "raw_leaderboard", text: "select * from status_public.leaderboard($1::status_public.leaderboard_period, $2::integer, $3::integer)" };

class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One transaction with the request's settings, as @dataplan/pg runs an operation's statements. */
async function inTransaction<T>(settings: Record<string, string>, run: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    try {
      await client.query({ ...SET_CONFIG, values: [JSON.stringify(Object.entries(settings))] });
      const result = await run(client);
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  } finally {
    client.release();
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new RequestError(400, "The body must be JSON");
  }
}

async function handle(request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? "/", "http://localhost");
  let session;
  try {
    session = await authenticate(request.headers.authorization);
  } catch (error) {
    if (error instanceof AuthenticationError) throw new RequestError(401, error.message);
    throw error;
  }
  // The server's order: the session's role and claims (src/preset.ts), then the rate limit's settings (plugins/request-limits.ts).
  const settings = { ...pgSettingsOf(session), ...rateLimitSettings };
  if (request.method === "POST" && url.pathname === "/record-action-for") {
    const body = await readJson(request);
    const { rows } = await inTransaction(settings, (client) =>
      client.query<{ tally: number; unlocked: string[] }>({ ...RECORD_ACTION_FOR, values: [body.userId, body.action, body.amount ?? 1] }),
    );
    return { result: { tally: rows[0].tally, unlocked: rows[0].unlocked.map((achievementId) => ({ achievementId })) } };
  }
  if (request.method === "GET" && url.pathname === "/leaderboard") {
    const { searchParams } = url;
    const values = [searchParams.get("period") ?? "ALL_TIME", Number(searchParams.get("first") ?? 10), Number(searchParams.get("offset") ?? 0)];
    const { rows } = await inTransaction(settings, (client) => client.query({ ...LEADERBOARD, values }));
    return {
      leaderboard: rows.map((row) => ({
        rank: row.rank,
        userId: row.user_id,
        displayName: row.display_name,
        points: row.points,
        tier: row.tier,
        badge: row.badge,
        medal: row.medal,
      })),
    };
  }
  throw new RequestError(404, `No route for ${request.method} ${url.pathname}`);
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

const server = createServer((request, response) => {
  handle(request).then(
    (body) => reply(response, 200, body),
    (error: unknown) => {
      const status = error instanceof RequestError ? error.status : 500;
      const code = (error as { code?: unknown }).code;
      reply(response, status, { error: { message: error instanceof Error ? error.message : String(error), code } });
    },
  );
});

let closing = false;
async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await pool.end();
  process.exit(0);
}
process.once("SIGTERM", () => void close());
process.stdin.on("end", () => void close()).resume();

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

// The GraphQL overhead benchmark's server under test (bench/overhead.ts): the standalone server
// (src/server.ts startServer, as the CLI starts it, without request logs or GraphiQL), with the benchmarks'
// request limits, in a process of its own. BENCH_SERVER_CONNECTION_STRING (the authenticator) and
// BENCH_SERVER_JWT_SECRET in the environment; GRAPHILE_ENV as the benchmark sets it (production by default).
// Prints {"url": ...} on stdout once listening; exits when its stdin closes (the benchmark ended, or died) or
// on SIGTERM.
import "../src/environment";
import { startServer } from "../src/server";
import { BENCH_REQUEST_LIMITS, roles, serveForParent } from "./common";

async function main(): Promise<void> {
  const connectionString = process.env.BENCH_SERVER_CONNECTION_STRING;
  const jwtSecret = process.env.BENCH_SERVER_JWT_SECRET;
  if (!connectionString || !jwtSecret) throw new Error("graphql-server: BENCH_SERVER_CONNECTION_STRING and BENCH_SERVER_JWT_SECRET are required");
  const server = await startServer({ connectionString, jwtSecret, roles, graphiql: false, host: "127.0.0.1", port: 0, limits: BENCH_REQUEST_LIMITS });
  serveForParent(server);
}

main().catch((error: unknown) => {
  process.stderr.write(`graphql-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

// A server on the shared test database for the stress tests that need HTTP and websockets.
import { signToken } from "../../src/auth";
import { loadRoles } from "../../src/roles";
import { type RunningServer, startServer } from "../../src/server";
import { testDatabaseUrl } from "../helpers/db";

export const tokenFor = (userId: string) => signToken({ jwtSecret: process.env.TEST_JWT_SECRET as string, userId });

export function startTestServer(): Promise<RunningServer> {
  return startServer({
    connectionString: testDatabaseUrl("TEST_AUTH_URL"),
    jwtSecret: process.env.TEST_JWT_SECRET as string,
    roles: loadRoles(),
    graphiql: false,
    host: "127.0.0.1",
    port: 0,
  });
}

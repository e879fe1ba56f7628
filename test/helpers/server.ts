// The real server, started in-process on a free port of 127.0.0.1, on the shared test database and the
// run's roles unless told otherwise; tests pass only what they change (an audience, limits, the demo...).
import { signToken } from "../../src/auth";
import { type RunningServer, startServer } from "../../src/server";
import { testDatabaseUrl, testRoles } from "./db";

export type ServerOptions = Parameters<typeof startServer>[0];

export const testJwtSecret = (): string => process.env.TEST_JWT_SECRET as string;

export function startTestServer(overrides: Partial<ServerOptions> = {}): Promise<RunningServer> {
  return startServer({
    connectionString: testDatabaseUrl("TEST_AUTH_URL"),
    jwtSecret: testJwtSecret(),
    roles: testRoles(),
    graphiql: false,
    host: "127.0.0.1",
    port: 0,
    ...overrides,
  });
}

/** A user token signed with the test secret (no audience). */
export const tokenFor = (userId: string) => signToken({ jwtSecret: testJwtSecret(), userId });

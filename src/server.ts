// The HTTP server: GraphQL (and websockets) at /graphql, Ruru at /graphiql in development, and in
// development the demo page at /demo (plugins/demo-page.ts, a grafserv middleware that runs before grafserv's
// own routing; without it grafserv answers /demo with a 404).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { makeDemoPagePlugin } from "../plugins/demo-page";
import { makeAuthenticate } from "./auth";
import { makePreset } from "./preset";
import type { RequestLimits } from "./limits";
import type { Roles } from "./roles";

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(options: {
  /** The authenticator's connection string. */
  connectionString: string;
  jwtSecret: string;
  jwtAudience?: string;
  roles: Roles;
  graphiql: boolean;
  host: string;
  port: number;
  /** Serve the demo page and its token endpoint (development only: they sign tokens for anyone). */
  demo?: boolean;
  /** Limits against abuse (src/limits.ts); the defaults when not given. */
  limits?: RequestLimits;
}): Promise<RunningServer> {
  const authenticate = makeAuthenticate({ jwtSecret: options.jwtSecret, jwtAudience: options.jwtAudience, roles: options.roles });
  const basePreset = makePreset({ connectionString: options.connectionString, authenticate, graphiql: options.graphiql, limits: options.limits });
  const preset: GraphileConfig.Preset = options.demo
    ? { extends: [basePreset], plugins: [makeDemoPagePlugin({ jwtSecret: options.jwtSecret, jwtAudience: options.jwtAudience })] }
    : basePreset;
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server);
  // Build the schema now, so that a database problem stops the start instead of the first request.
  await pgl.getSchemaResult();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await pgl.release(); // releases the grafserv instance too
      const { pgServices = [] } = pgl.getResolvedPreset();
      await Promise.all(pgServices.map((service) => service.release?.()));
      await closed;
    },
  };
}

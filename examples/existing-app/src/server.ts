// The app's HTTP server: GraphQL over HTTP and websockets at /graphql.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";

export interface RunningServer {
  /** http://127.0.0.1:<port> */
  url: string;
  close(): Promise<void>;
}

export async function startServer(preset: GraphileConfig.Preset, port = 0, host = "127.0.0.1"): Promise<RunningServer> {
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server);
  await pgl.getSchemaResult(); // fail now, not on the first request, if the database is not right
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await pgl.release();
      // pgl.release() does not end the pgServices' pools.
      await Promise.all((pgl.getResolvedPreset().pgServices ?? []).map((service) => service.release?.()));
      await closed;
    },
  };
}

// Sends lag-tolerant queries to a pgService's read replicas (src/read-replicas.ts): once the context is
// built (PgContextPlugin put the service's withPgClient there, grafast.context the pgSettings), an operation
// whose every field may lag gets the replicas' withPgClient instead of the primary's. A service without
// replicas, a mutation, a subscription and any other query keep the primary's.
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { isPromiseLike } from "postgraphile/grafast";
import { readsMayLag } from "../src/read-replicas";

export const ReadReplicasPlugin: GraphileConfig.Plugin = {
  name: "ReadReplicasPlugin",
  description: "Runs queries that may lag (the catalog, the top of the leaderboards) on the pgService's read replicas",
  version: "0.1.0",
  grafast: {
    middleware: {
      prepareArgs(next, { args }) {
        const services = args.resolvedPreset?.pgServices?.filter((service) => service.readReplicas) ?? [];
        // No replicas (or an operation that must not lag): nothing to do, and no promise added to every request.
        if (services.length === 0 || !readsMayLag(args.schema, args.document, args.operationName)) return next();
        const toReplicas = (prepared: Grafast.ExecutionArgs) => {
          // The service's withPgClientKey names where its withPgClient is ("withPgClient" for "main").
          const context = args.contextValue as unknown as Record<string, WithPgClient>;
          for (const service of services) context[service.withPgClientKey] = service.readReplicas!.withPgClient(context[service.withPgClientKey]);
          return prepared;
        };
        const prepared = next();
        return isPromiseLike(prepared) ? prepared.then(toReplicas) : toReplicas(prepared);
      },
    },
  },
};

// Types for the import `pgsql-test` in upstream's tests: the module is our harness (jest.config.js maps it).
declare module "pgsql-test" {
  export type PgTestClient = import("./pgsql-test").PgTestClient;
  export const getConnections: typeof import("./pgsql-test").getConnections;
  export const snapshot: typeof import("./pgsql-test").snapshot;
}

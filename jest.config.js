/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  // The stress tests (minutes, not seconds) run with `npm run test:stress` (jest.stress.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/stress/"],
  transform: {
    // Transpile only (tsconfig's isolatedModules): `npm test` type-checks with tsc before jest runs.
    // import() stays as is: the embedded PostgreSQL binaries are an ES module.
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }],
  },
  reporters: ["default", "<rootDir>/test/summary-reporter.js"],
  // Upstream's tests (test/compat/) import `pgsql-test`: our harness stands in for it.
  moduleNameMapper: { "^pgsql-test$": "<rootDir>/test/compat/pgsql-test.ts" },
  globalSetup: "<rootDir>/test/global-setup.ts",
  globalTeardown: "<rootDir>/test/global-teardown.ts",
  testTimeout: 60000,
  maxWorkers: 2,
};

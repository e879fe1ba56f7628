// `npm run test:stress`: the reliability tests in test/stress (concurrency, retries, a PostgreSQL restart
// under load, subscriber catch-up, three server processes with one killed). Same setup as jest.config.js
// (one migrated test database), but one file at a time: each file loads the machine on purpose, and timings
// would be meaningless side by side.
const base = require("./jest.config.js");

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  testMatch: ["<rootDir>/test/stress/**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/"],
  testTimeout: 120000,
  maxWorkers: 1,
};

import { checkNothingLeftBehind } from "./helpers/leftovers-check";

// Fails the run when the test files left rows of users or a wrong histogram behind (issue #9), then drops
// the run's databases and roles (only those the run created) and stops the embedded PostgreSQL, either way.
export default async function globalTeardown(): Promise<void> {
  try {
    if (process.env.TEST_ROOT_URL) await checkNothingLeftBehind(process.env.TEST_ROOT_URL);
  } finally {
    await globalThis.endTestRun?.();
  }
}

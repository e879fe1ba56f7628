// Drops the run's databases and roles (only those the run created), then stops the embedded PostgreSQL.
export default async function globalTeardown(): Promise<void> {
  await globalThis.endTestRun?.();
}

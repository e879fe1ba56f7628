// Database tests run in a transaction that is rolled back. Setup and inspection run as the superuser;
// everything under test runs as a real API role with real JWT claims (`tx.as`), as the server does it.
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import type { Session } from "../../src/auth";
import { loadRoles, ROLE_NAMES, type Roles } from "../../src/roles";

/** The API roles of this test run, named for it by test/global-setup.ts (TEST_ROLES): never .gmrc's. */
export function testRoles(): Roles {
  const json = process.env.TEST_ROLES;
  if (!json) throw new Error("TEST_ROLES is not set: run the tests with `npm test` (test/global-setup.ts sets it)");
  return loadRoles(JSON.parse(json) as Partial<Roles>);
}

export const roles = testRoles();

/** The same roles as the server's environment variables (ACHIEVEMENTS_USER_ROLE ...), for a CLI child process. */
export function testRoleEnvironment(): Record<string, string> {
  return Object.fromEntries(ROLE_NAMES.map((name) => [`ACHIEVEMENTS_${name.toUpperCase()}_ROLE`, roles[name]]));
}

/**
 * A name for a database of one test file's own, under the run's database name, so that the global teardown
 * drops it if the file could not: `achievements_test_<run>_<purpose>_<random>`.
 */
export function testDatabaseName(purpose: string): string {
  const name = `${decodeURIComponent(new URL(testDatabaseUrl()).pathname.slice(1))}_${purpose}_${randomBytes(3).toString("hex")}`;
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`not a database name for the tests: ${name}`);
  return name;
}

export type ApiRole = "anonymous" | "user" | "service" | "admin";
export interface Actor {
  role: ApiRole;
  userId?: string | null;
}

export const anonymous: Actor = { role: "anonymous" };
export const asUser = (userId: string): Actor => ({ role: "user", userId });
export const asService = (userId: string = randomUUID()): Actor => ({ role: "service", userId });
export const asAdmin = (userId: string = randomUUID()): Actor => ({ role: "admin", userId });
export const newUserId = (): string => randomUUID();

/**
 * A fixed-offset time zone in which it is about noon now, whatever the hour in UTC: a user given it logs in far
 * from the demo catalog's time-of-day achievements (early_bird [0, 6), night_owl [23, 24)), so a test about
 * something else does not depend on the hour it runs at. (Etc/GMT+N is N hours behind UTC.)
 */
export function middayTimeZone(now = new Date()): string {
  const behind = now.getUTCHours() - 12; // -12 to 11
  return behind >= 0 ? `Etc/GMT+${behind}` : `Etc/GMT-${-behind}`;
}

export function sessionOf(actor: Actor): Session {
  return { role: roles[actor.role], userId: actor.userId ?? null };
}

export function testDatabaseUrl(variable: "TEST_ROOT_URL" | "TEST_AUTH_URL" = "TEST_ROOT_URL"): string {
  const url = process.env[variable];
  if (!url) throw new Error(`${variable} is not set: run the tests with \`npm test\` (test/global-setup.ts sets it)`);
  return url;
}

export class TestTransaction {
  constructor(readonly client: pg.Client) {}

  /** Runs SQL as the superuser: setup and inspection. */
  async root<Row extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<Row[]> {
    return (await this.client.query<Row>(sql, params)).rows;
  }

  /** Runs SQL as `actor`'s API role and claims. A failing statement is rolled back alone and rethrown. */
  async as<Row extends pg.QueryResultRow = Record<string, unknown>>(actor: Actor, sql: string, params: unknown[] = []): Promise<Row[]> {
    await this.client.query("savepoint as_actor");
    try {
      await this.client.query("select set_config('role', $1, true), set_config('jwt.claims.user_id', $2, true)", [
        roles[actor.role],
        actor.userId ?? "",
      ]);
      const { rows } = await this.client.query<Row>(sql, params);
      await this.client.query("release savepoint as_actor");
      return rows;
    } catch (error) {
      await this.client.query("rollback to savepoint as_actor");
      throw error;
    } finally {
      await this.resetActor();
    }
  }

  /** Back to the superuser with no claims (settings made local to the transaction outlive a savepoint). */
  async resetActor(): Promise<void> {
    await this.client.query("reset role; select set_config('jwt.claims.user_id', '', true)");
  }

  /** Expects the statement to fail as `actor`; returns the error. */
  async expectError(actor: Actor, sql: string, params: unknown[] = []): Promise<pg.DatabaseError> {
    try {
      await this.as(actor, sql, params);
    } catch (error) {
      if (error instanceof pg.DatabaseError) return error;
      throw error;
    }
    throw new Error(`Expected an error from: ${sql}`);
  }
}

export async function withTransaction(callback: (tx: TestTransaction) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    await client.query("begin");
    await callback(new TestTransaction(client));
  } finally {
    await client.query("rollback").catch(() => undefined);
    await client.end();
  }
}

/**
 * Runs the test in one REPEATABLE READ snapshot, for tests that compare a read with a brute force over rows
 * that other test files change and commit meanwhile (the leaderboards). When the test's own writes update rows
 * another file updated and committed meanwhile, PostgreSQL refuses the snapshot (40001), and the whole test
 * runs again in a new one.
 */
export async function withRepeatableRead(callback: (tx: TestTransaction) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withTransaction(async (tx) => {
        await tx.root("set transaction isolation level repeatable read");
        await callback(tx);
      });
    } catch (error) {
      if ((error as { code?: string }).code !== "40001" || attempt >= 5) throw error;
    }
  }
}

/** A pool of superuser connections, for tests that must commit (concurrency); they clean up themselves. */
export function rootPool(max = 10): pg.Pool {
  return new pg.Pool({ connectionString: testDatabaseUrl(), max });
}

/**
 * Holds the user's `tasks_completed` tally row (status_public.user_achievements) locked until `release()`: a
 * recordAction of that action waits on it in its event path, after its step is inserted (uncommitted).
 */
export async function lockTally(pool: pg.Pool, userId: string): Promise<{ release(): Promise<void> }> {
  const client = await pool.connect();
  await client.query("begin");
  const { rowCount } = await client.query("select from status_public.user_achievements where user_id = $1 and name = 'tasks_completed' for update", [userId]);
  if (rowCount !== 1) {
    await client.query("rollback");
    client.release();
    throw new Error(`user ${userId} has no tasks_completed tally to lock`);
  }
  return {
    async release() {
      await client.query("commit");
      client.release();
    },
  };
}

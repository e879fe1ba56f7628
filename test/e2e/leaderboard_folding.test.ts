// The standalone server folds the leaderboard's appended histogram deltas (src/leaderboard-folding.ts, every
// second): after a recordActionFor, the deltas table empties by itself and the two histogram tables hold
// the user. And the folder's stop() (called by the server's close()) ends its database connection.
// The file has a database of its own: on the shared one, every other file's server (and cleanup) folds
// too, so an empty deltas table would not show that this server folded.
import pg from "pg";
import { signToken } from "../../src/auth";
import { startLeaderboardFolding } from "../../src/leaderboard-folding";
import type { RunningServer } from "../../src/server";
import { newUserId } from "../helpers/db";
import { graphql, waitUntil } from "../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { startTestServer, testJwtSecret } from "../helpers/server";

const RECORD_FOR = `mutation ($userId: UUID!, $action: String!) {
  recordActionFor(input: { userId: $userId, action: $action, amount: 1 }) { result { pointsAwarded totalPoints } }
}`;

/** The connection string with an application_name of its own, to find its backends in pg_stat_activity. */
function tagged(connectionString: string, applicationName: string): string {
  const url = new URL(connectionString);
  url.searchParams.set("application_name", applicationName);
  return url.toString();
}

let database: PrivateDatabase;
let root: pg.Pool;
beforeAll(async () => {
  database = await createPrivateDatabase("folding");
  root = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
});
afterAll(async () => {
  await root?.end();
  await database?.drop();
});

/** The backends connected with this application_name. */
async function backendsOf(applicationName: string): Promise<number> {
  const { rows } = await root.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where application_name = $1", [applicationName]);
  return rows[0].n;
}

describe("the standalone server's leaderboard folding", () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("folds the deltas of a recordActionFor into the histogram by itself, and closes its connections on close()", async () => {
    const applicationName = `folding-test-server-${process.pid}`;
    server = await startTestServer({ connectionString: tagged(database.authUrl, applicationName) });
    const userId = newUserId();
    const service = await signToken({ jwtSecret: testJwtSecret(), userId: newUserId(), role: "service" });

    const data = await graphql(server.url, service, RECORD_FOR, { userId, action: "tasks_completed" });
    const points: number = data.recordActionFor.result.totalPoints;
    expect(points).toBeGreaterThan(0);

    // The fold runs every second: wait for the condition, not for a time.
    await waitUntil(
      async () => (await root.query<{ n: number }>("select count(*)::int as n from status_private.leaderboard_count_deltas")).rows[0].n === 0,
      () => "the server to fold the leaderboard deltas (status_private.leaderboard_count_deltas to be empty)",
    ).catch(async (error: Error) => {
      // Say why: what the server's folder gets when it folds, as the authenticator.
      const folder = new pg.Client({ connectionString: database.authUrl });
      await folder.connect();
      const outcome = await folder.query("select status_private.fold_leaderboard_deltas() as folded").then(
        (result) => `folds ${JSON.stringify(result.rows)}`,
        (foldError: Error) => `fails: ${foldError.message}`,
      );
      await folder.end();
      throw new Error(`${error.message}; the fold, as the server's authenticator, ${outcome}`);
    });
    // The user is the database's only one: one user at `points` on each of the four boards.
    const pointCounts = await root.query("select period::text, points, users from status_private.leaderboard_point_counts as counts order by counts.period");
    expect(pointCounts.rows).toEqual(["ALL_TIME", "MONTH", "WEEK", "DAY"].map((period) => ({ period, points, users: 1 })));
    const rank = await root.query("select status_private.rank_of('ALL_TIME', '-infinity', $1) as rank, status_private.board_users('ALL_TIME', '-infinity') as users", [points]);
    expect(rank.rows).toEqual([{ rank: 1, users: 1 }]);

    expect(await backendsOf(applicationName)).toBeGreaterThan(0);
    await server.close();
    server = undefined;
    // A backend leaves pg_stat_activity shortly after its client disconnects: wait for that.
    await waitUntil(async () => (await backendsOf(applicationName)) === 0, () => `every connection of the closed server (${applicationName}) to end`);
  });

  it("stop() ends the folder's connection, and foldNow() says how many changes it folded", async () => {
    const applicationName = `folding-test-folder-${process.pid}`;
    const folding = startLeaderboardFolding({ connectionString: tagged(database.authUrl, applicationName), intervalMs: 60_000 });
    let stopped = false;
    try {
      await root.query("insert into status_public.points_ledger (user_id, points) values ($1, 7)", [newUserId()]);
      // One user at 7 on four boards: four (board, points) changes; then nothing is left to fold.
      expect(await folding.foldNow()).toBe(4);
      expect(await folding.foldNow()).toBe(0);
      expect(await backendsOf(applicationName)).toBe(1);
      await folding.stop();
      stopped = true;
      await waitUntil(async () => (await backendsOf(applicationName)) === 0, () => `the stopped folder's connection (${applicationName}) to end`);
    } finally {
      if (!stopped) await folding.stop();
    }
  });
});

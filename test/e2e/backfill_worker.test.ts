// Backfills admins start over HTTP (startBackfill), run by the server's backfill worker (src/backfill-worker.ts):
// two servers with workers on one database share the runs and award each unlock once; a server with
// BACKFILL_WORKER off leaves the run to `npm run backfill -- --resume`. On a database of this file's own (runs
// commit, and a worker takes any run of its database).
import { randomUUID } from "node:crypto";
import pg from "pg";
import { signToken } from "../../src/auth";
import type { RunningServer } from "../../src/server";
import { cleanEnvironment, runCli } from "../helpers/cli";
import { graphql, waitUntil } from "../helpers/graphql-client";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";
import { startTestServer, testJwtSecret } from "../helpers/server";

let database: PrivateDatabase;
let root: pg.Pool;
const servers: RunningServer[] = [];
beforeAll(async () => {
  database = await createPrivateDatabase("backfill_worker");
  root = new pg.Pool({ connectionString: database.rootUrl, max: 2 });
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await root?.end();
  await database?.drop();
});

const adminToken = () => signToken({ jwtSecret: testJwtSecret(), userId: randomUUID(), role: "admin" });
const START = `mutation ($ids: [String], $size: Int) {
  startBackfill(input: { achievementIds: $ids, levels: [], batchSize: $size }) { result { id state usersTotal } }
}`;
const RUN = `query ($id: BigInt!) { backfillRunById(id: $id) { state usersTotal usersChecked unlocks points lastError } }`;

/** `count` users with `steps` steps each of a new action, and an achievement for `threshold` of them, worth 3 points. */
async function catalogAndUsers(action: string, count: number, steps: (i: number) => number, threshold: number): Promise<string[]> {
  await root.query("insert into status_public.actions (name, client_reportable, max_amount) values ($1, true, 100)", [action]);
  const users = Array.from({ length: count }, () => randomUUID());
  await root.query(
    "insert into status_public.user_steps (user_id, name, count, occurred_at) select u, $2, c, '2026-02-01' from unnest($1::uuid[], $3::int[]) as s (u, c)",
    [users, action, users.map((_, i) => steps(i))],
  );
  await root.query("insert into status_public.achievements (id, name, points) values ($1, $1, 3)", [`${action}_done`]);
  await root.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ($1, 'count', $2, $3)", [
    `${action}_done`,
    action,
    threshold,
  ]);
  return users;
}

it("runs an admin's backfill in the background: two servers' workers share it, each unlock once", async () => {
  servers.push(await startTestServer({ connectionString: database.authUrl }), await startTestServer({ connectionString: database.authUrl }));
  const users = await catalogAndUsers("w_read", 60, (i) => (i % 3) + 1, 3); // a third of them have 3 steps
  const token = await adminToken();
  const started = (await graphql(servers[0].url, token, START, { ids: ["w_read_done"], size: 4 })).startBackfill.result;
  expect(started).toEqual({ id: expect.any(String), state: "pending", usersTotal: 60 });
  let run: Record<string, unknown> = {};
  await waitUntil(
    async () => (run = (await graphql(servers[1].url, token, RUN, { id: started.id })).backfillRunById).state === "finished",
    () => `the run to finish: ${JSON.stringify(run)}`,
  );
  // Fifteen batches shared by two workers: a batch run twice would check its users twice.
  expect(run).toEqual({ state: "finished", usersTotal: 60, usersChecked: 60, unlocks: 20, points: 60, lastError: null });
  const { rows } = await root.query(
    "select count(*)::int as unlocks, count(distinct user_id)::int as users from status_public.achievement_unlocks where achievement_id = 'w_read_done' and user_id = any($1)",
    [users],
  );
  expect(rows).toEqual([{ unlocks: 20, users: 20 }]);
  expect((await root.query("select sum(points)::int as points from status_public.points_ledger where user_id = any($1)", [users])).rows).toEqual([{ points: 60 }]);
});

it("leaves the run to npm run backfill -- --resume when the server's worker is off", async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  servers.push(await startTestServer({ connectionString: database.authUrl, backfillWorker: false }));
  await catalogAndUsers("w_write", 5, () => 1, 1);
  const token = await adminToken();
  const started = (await graphql(servers[0].url, token, START, { ids: ["w_write_done"] })).startBackfill.result;
  expect((await graphql(servers[0].url, token, RUN, { id: started.id })).backfillRunById).toMatchObject({ state: "pending", usersChecked: 0 });
  const resumed = await runCli(["backfill", "--resume", started.id], {
    env: { ...cleanEnvironment(), NODE_ENV: "development", LOG_LEVEL: "warn", DATABASE_URL: database.rootUrl },
  });
  expect([resumed.code, resumed.stderr]).toEqual([0, ""]);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ run: Number(started.id), usersChecked: 5, unlocks: 5, points: 15, finished: true });
  expect((await graphql(servers[0].url, token, RUN, { id: started.id })).backfillRunById).toMatchObject({ state: "finished", unlocks: 5 });
});

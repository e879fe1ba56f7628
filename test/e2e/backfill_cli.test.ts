// `npm run backfill` (src/cli.ts, src/backfill.ts) in a child process against a database of the file's own:
// the summary is one JSON line on stdout, a rerun awards nothing more, mistakes are one line on stderr.
import pg from "pg";
import { newUserId } from "../helpers/db";
import { cleanEnvironment, runCli } from "../helpers/cli";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";

let db: PrivateDatabase;
beforeAll(async () => {
  db = await createPrivateDatabase("backfill_cli");
});
afterAll(() => db.drop());

const backfill = (args: string[]) =>
  runCli(["backfill", ...args], { env: { ...cleanEnvironment(), NODE_ENV: "development", LOG_LEVEL: "warn", DATABASE_URL: db.rootUrl } });

it("awards what past steps earn, prints the summary, and awards nothing more when run again", async () => {
  const client = new pg.Client({ connectionString: db.rootUrl });
  await client.connect();
  const [ada, bob] = [newUserId(), newUserId()];
  try {
    await client.query("insert into status_public.actions (name, client_reportable, max_amount) values ('cli_read', true, 10)");
    await client.query("insert into status_public.user_steps (user_id, name, count) values ($1, 'cli_read', 2), ($2, 'cli_read', 1)", [ada, bob]);
    await client.query("insert into status_public.achievements (id, name, points) values ('cli_reader_2', 'Reader', 15)");
    await client.query("insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('cli_reader_2', 'count', 'cli_read', 2)");
  } finally {
    await client.end();
  }
  const first = await backfill(["--achievement", "cli_reader_2", "--batch-size", "1"]);
  expect([first.code, first.stderr]).toEqual([0, ""]);
  const summary = JSON.parse(first.stdout);
  expect(summary).toEqual({
    run: expect.any(Number),
    achievementIds: ["cli_reader_2"],
    levels: ["beginner", "expert", "intermediate", "newbie", "pro"], // every level when none is named
    usersChecked: 2,
    unlocks: 1,
    points: 15,
    levelsAchieved: 0,
    finished: true,
    retiered: 0,
  });
  const again = await backfill(["--achievement", "cli_reader_2"]);
  expect(JSON.parse(again.stdout)).toMatchObject({ usersChecked: 2, unlocks: 0, points: 0, finished: true });
  const resumed = await backfill(["--resume", String(summary.run)]);
  expect(JSON.parse(resumed.stdout)).toEqual(summary);
  // Tier boundaries moved: the next backfill moves Ada (15 points) to the tier of her points.
  const admin = new pg.Client({ connectionString: db.rootUrl });
  await admin.connect();
  try {
    await admin.query("insert into status_public.tiers (name, min_points) values ('cli_tier', 12)");
    // And a new level that Ada's two steps meet: achieved too, dated at her step.
    await admin.query("insert into status_public.levels (name) values ('cli_level')");
    await admin.query("insert into status_public.level_requirements (name, level, required_count) values ('cli_read', 'cli_level', 2)");
    expect(JSON.parse((await backfill(["--achievement", "cli_reader_2", "--level", "cli_level"])).stdout))
      .toMatchObject({ levels: ["cli_level"], unlocks: 0, levelsAchieved: 1, retiered: 1 });
    expect((await admin.query("select user_id from status_public.user_levels where level = 'cli_level'")).rows).toEqual([{ user_id: ada }]);
    expect((await admin.query("select tier from status_public.user_scores where user_id = $1", [ada])).rows).toEqual([{ tier: "cli_tier" }]);
  } finally {
    await admin.end();
  }
});

it("says in one line what is wrong", async () => {
  const unknown = await backfill(["--achievement", "cli_nope"]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
  expect(unknown.stderr).toContain('No achievement "cli_nope"');
  const unknownLevel = await backfill(["--level", "cli_nope"]);
  expect([unknownLevel.code, unknownLevel.stderr.trim()]).toEqual([1, 'No level "cli_nope"']);
  const badSize = await backfill(["--batch-size", "0"]);
  expect(badSize.code).toBe(1);
  expect(badSize.stderr.trim().split("\n")[0]).toBe("--batch-size: a whole number of users, at least 1");
  const noRun = await backfill(["--resume", "999999"]);
  expect([noRun.code, noRun.stderr.trim()]).toEqual([1, "No backfill 999999"]);
});

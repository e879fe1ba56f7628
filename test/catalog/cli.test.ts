// `npm run catalog` as a child process (src/cli.ts), on a database of this file's own: export, plan, apply
// (which commits), a refused removal and an invalid file.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { testRoleEnvironment } from "../helpers/db";
import { cleanEnvironment, runCli } from "../helpers/cli";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";

let database: PrivateDatabase;
let folder: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  database = await createPrivateDatabase("catalog_cli");
  folder = await mkdtemp(join(tmpdir(), "catalog-cli-"));
  env = { ...cleanEnvironment(), ...testRoleEnvironment(), DATABASE_URL: database.rootUrl, DATA_DIR: join(folder, "data"), LOG_LEVEL: "warn" };
});
afterAll(async () => {
  await database?.drop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const catalog = (...args: string[]) => runCli(["catalog", ...args], { env });

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: database.rootUrl });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe("npm run catalog", () => {
  it("exports a file that plans as no changes, then plans and applies an edit of it once", async () => {
    const file = join(folder, "catalog.json5");
    expect((await catalog("export", file)).code).toBe(0);
    const text = await readFile(file, "utf8");
    expect(text).toContain('{ kind: "streak", action: "logins", threshold: 7 }');
    expect(await catalog("plan", file)).toMatchObject({ code: 0, stdout: "No changes: the catalog is as the file says.\n" });

    await writeFile(file, text.replace('{ kind: "streak", action: "logins", threshold: 7 }', '{ kind: "streak", action: "logins", threshold: 5 }'));
    const plan = await catalog("plan", file);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("~ streak_7: criteria[streak logins].threshold 7 -> 5; 0 users would unlock it now");
    expect(await query("select threshold from status_public.achievement_criteria where achievement_id = 'streak_7'")).toEqual([{ threshold: 7 }]);

    const applied = await catalog("apply", file);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^Applied 1 changes:\n/);
    expect(await query("select threshold from status_public.achievement_criteria where achievement_id = 'streak_7'")).toEqual([{ threshold: 5 }]);
    expect(await catalog("apply", file)).toMatchObject({ code: 0, stdout: "Applied: no changes (the catalog was already as the file says).\n" });
  });

  it("refuses a removal of what users hold, and an invalid file, with their places; nothing is applied", async () => {
    const file = join(folder, "held.json5");
    expect((await catalog("export", file)).code).toBe(0);
    await query(`set role ${testRoleEnvironment().ACHIEVEMENTS_SERVICE_ROLE};
                 select status_public.record_action_for('6f1d2c3b-0000-4000-8000-000000000001', 'tasks_completed', 1)`);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/\n {4}tasks_completed_1: \{[\s\S]*?\n {4}\},/, ""));
    const refused = await catalog("apply", file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("CATALOG_DESTRUCTIVE_CHANGE: 1 problem\n  achievements.tasks_completed_1: achievement tasks_completed_1 is removed but 1 users hold it");
    expect(await query("select retired_at from status_public.achievements where id = 'tasks_completed_1'")).toEqual([{ retired_at: null }]);

    await writeFile(file, text.replace('action: "tasks_completed", threshold: 10 }', 'action: "task_completed", threshold: 10 }'));
    const invalid = await catalog("plan", file);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/^CATALOG_INVALID: 1 problem\n {2}\S+held\.json5:\d+:\d+: achievements\.tasks_completed_10\.criteria\[0\]\.action: achievement tasks_completed_10: unknown action "task_completed"/);
    expect(invalid.stderr).toContain("Nothing was applied.");
  });

  it("applies with --backfill: runs the backfill of what it added, and prints its summary after the plan", async () => {
    const file = join(folder, "backfill.json5");
    expect((await catalog("export", file)).code).toBe(0);
    const users = ["6f1d2c3b-0000-4000-8000-0000000000b1", "6f1d2c3b-0000-4000-8000-0000000000b2"];
    await query(`insert into status_public.user_steps (user_id, name, count, occurred_at) values
                   ('${users[0]}', 'tasks_completed', 3, '2026-01-05'), ('${users[1]}', 'tasks_completed', 1, '2026-01-05')`);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace("  achievements: {\n", "  achievements: {\n    cli_tasks_3: { name: 'Three tasks', points: 9, criteria: [{ kind: 'count', action: 'tasks_completed', threshold: 3 }] },\n"));
    expect(await catalog("plan", file, "--backfill")).toMatchObject({ code: 1, stderr: expect.stringContaining("--backfill, --notify and --batch-size go with apply --backfill") });
    expect(await catalog("apply", file, "--notify")).toMatchObject({ code: 1, stderr: expect.stringContaining("go with apply --backfill") });

    const applied = await catalog("apply", file, "--backfill", "--batch-size=1");
    expect([applied.code, applied.stderr]).toEqual([0, ""]);
    expect(applied.stdout).toContain("+ cli_tasks_3: name \"Three tasks\"");
    expect(applied.stdout).toContain("1 user would unlock it now (+9 points)");
    expect(applied.stdout).toMatch(/Backfill (\d+) started: .*\nBackfill \1 finished: 1 unlocks \(\+9 points\), 0 levels, \d+ users checked, 0 moved to the tier of their points\.\n$/);
    expect(await query(`select user_id, unlocked_at::text from status_public.achievement_unlocks where achievement_id = 'cli_tasks_3'`))
      .toEqual([{ user_id: users[0], unlocked_at: "2026-01-05 00:00:00+00" }]);
    expect(await query("select state::text, notify, batch_size from status_public.backfill_runs order by id desc limit 1"))
      .toEqual([{ state: "finished", notify: false, batch_size: 1 }]);
  });
});

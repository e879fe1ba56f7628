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
});

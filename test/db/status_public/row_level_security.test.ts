// Who may read and write each table, enforced by the database (grants and row-level security).
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

const INSUFFICIENT_PRIVILEGE = "42501";

async function stepsOfTwoUsers(tx: TestTransaction): Promise<[string, string]> {
  const [alice, bob] = [newUserId(), newUserId()];
  await tx.root("insert into status_public.user_steps (user_id, name, count) values ($1, 'post', 2), ($2, 'post', 5)", [alice, bob]);
  return [alice, bob];
}

const everyRole: [string, Actor][] = [
  ["anonymous", anonymous],
  ["user", asUser(newUserId())],
  ["service", asService()],
  ["admin", asAdmin()],
];

describe("row-level security", () => {
  it("is enabled on every table of every schema of the project", () =>
    withTransaction(async (tx) => {
      const tables = await tx.root(`
        select c.oid::regclass::text as table_name, c.relrowsecurity as rls
        from pg_class c
        where c.relkind in ('r', 'p') and c.relnamespace::regnamespace::text in ('status_public', 'status_private', 'jwt_public')`);
      // Every table, these included (a check that sees no table would pass vacuously):
      expect(tables.map((table) => table.table_name)).toEqual(
        expect.arrayContaining([
          "status_public.levels", "status_public.level_requirements", "status_public.user_steps", "status_public.user_achievements",
          "status_public.achievements", "status_public.achievement_unlocks", "status_public.points_ledger", "status_public.leaderboard_scores",
          "status_private.leaderboard_point_counts", "status_private.recorded_action_results",
        ]),
      );
      for (const table of tables) expect(table).toEqual({ table_name: table.table_name, rls: true });
    }));

  describe.each(["levels", "level_requirements"])("status_public.%s (the catalog)", (table) => {
    it.each(everyRole)("is readable by %s", (_, actor) =>
      withTransaction(async (tx) => {
        const rows = await tx.as(actor, `select * from status_public.${table}`);
        expect(rows.length).toBeGreaterThan(0);
      }));

    it.each(everyRole.filter(([name]) => name !== "admin"))("is not writable by %s", (_, actor) =>
      withTransaction(async (tx) => {
        const write =
          table === "levels"
            ? "insert into status_public.levels (name) values ('forged')"
            : "insert into status_public.level_requirements (name, level) values ('forged', 'newbie')";
        expect((await tx.expectError(actor, write)).code).toBe(INSUFFICIENT_PRIVILEGE);
        expect((await tx.expectError(actor, `update status_public.${table} set name = name || '!'`)).code).toBe(INSUFFICIENT_PRIVILEGE);
        expect((await tx.expectError(actor, `delete from status_public.${table}`)).code).toBe(INSUFFICIENT_PRIVILEGE);
      }));
  });

  it("lets admins manage the catalog", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), "insert into status_public.levels (name) values ('t-gold')");
      await tx.as(asAdmin(), "insert into status_public.level_requirements (name, level, required_count, priority) values ('post', 't-gold', 7, 1)");
      await tx.as(asAdmin(), "update status_public.level_requirements set required_count = 8 where level = 't-gold'");
      await tx.as(asAdmin(), "update status_public.levels set name = 't-golden' where name = 't-gold'");
      expect(await tx.root("select name, level, required_count from status_public.level_requirements where level = 't-golden'")).toEqual([
        { name: "post", level: "t-golden", required_count: 8 },
      ]);
      await tx.as(asAdmin(), "delete from status_public.levels where name = 't-golden'");
      expect(await tx.root("select * from status_public.level_requirements where level like 't-gold%'")).toEqual([]);
    }));

  it("keeps the catalog consistent: known level, required_count >= 1 and not null", () =>
    withTransaction(async (tx) => {
      const admin = asAdmin();
      const insert = "insert into status_public.level_requirements (name, level, required_count) values ($1, $2, $3)";
      expect((await tx.expectError(admin, insert, ["post", "no-such-level", 1])).code).toBe("23503");
      expect((await tx.expectError(admin, insert, ["post", "newbie", 0])).code).toBe("23514");
      expect((await tx.expectError(admin, insert, ["post", "newbie", null])).code).toBe("23502");
      expect((await tx.expectError(admin, insert, ["", "newbie", 1])).code).toBe("23514");
      expect((await tx.expectError(admin, insert, ["complete_profile", "newbie", 1])).code).toBe("23505");
    }));

  describe.each(["user_steps", "user_achievements"])("status_public.%s (progress)", (table) => {
    it("shows a user only their own rows", () =>
      withTransaction(async (tx) => {
        const [alice, bob] = await stepsOfTwoUsers(tx);
        const seen = await tx.as<{ user_id: string }>(asUser(alice), `select user_id from status_public.${table}`);
        expect(seen.map((row) => row.user_id)).toEqual([alice]);
        expect(await tx.as(asUser(alice), `select * from status_public.${table} where user_id = $1`, [bob])).toEqual([]);
      }));

    it.each([
      ["service", asService()],
      ["admin", asAdmin()],
    ])("shows the %s role everyone's rows", (_, actor) =>
      withTransaction(async (tx) => {
        const [alice, bob] = await stepsOfTwoUsers(tx);
        const seen = await tx.as<{ user_id: string }>(actor, `select user_id from status_public.${table} where user_id in ($1, $2)`, [alice, bob]);
        expect(seen.map((row) => row.user_id).sort()).toEqual([alice, bob].sort());
      }));

    it("is not readable anonymously", () =>
      withTransaction(async (tx) => {
        expect((await tx.expectError(anonymous, `select * from status_public.${table}`)).code).toBe(INSUFFICIENT_PRIVILEGE);
      }));

    it.each(everyRole)("cannot be updated or deleted by %s", (_, actor) =>
      withTransaction(async (tx) => {
        await stepsOfTwoUsers(tx);
        expect((await tx.expectError(actor, `update status_public.${table} set count = 100`)).code).toBe(INSUFFICIENT_PRIVILEGE);
        expect((await tx.expectError(actor, `delete from status_public.${table}`)).code).toBe(INSUFFICIENT_PRIVILEGE);
      }));
  });

  it("lets only the service role record steps, for any user", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const insert = "insert into status_public.user_steps (user_id, name, count) values ($1, 'post', 1)";
      for (const [, actor] of everyRole.filter(([name]) => name !== "service")) {
        expect((await tx.expectError(actor, insert, [user])).code).toBe(INSUFFICIENT_PRIVILEGE);
      }
      // Not even their own:
      expect((await tx.expectError(asUser(user), insert, [user])).code).toBe(INSUFFICIENT_PRIVILEGE);
      await tx.as(asService(), insert, [user]);
      expect(await tx.as(asUser(user), "select name, count from status_public.user_achievements")).toEqual([{ name: "post", count: 1 }]);
    }));

  it.each(everyRole)("never lets %s write a tally", (_, actor) =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(actor, "insert into status_public.user_achievements (user_id, name, count) values ($1, 'post', 1000)", [
        actor.userId ?? newUserId(),
      ]);
      expect(error.code).toBe(INSUFFICIENT_PRIVILEGE);
    }));

  it("lets the service set only the step's user, name and count", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(
        asService(),
        "insert into status_public.user_steps (user_id, name, count, created_at) values ($1, 'post', 1, '2000-01-01')",
        [newUserId()],
      );
      expect(error.code).toBe(INSUFFICIENT_PRIVILEGE);
    }));
});

// Rule versions and provenance (issue 11, migration 000009, 8-provenance.sql): a change of an achievement's
// rules makes a version, an unlock records the version it was granted under and its criteria's values then,
// and unlock_provenance explains an unlock to its user (and to the service and admins for anyone).
import { anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

async function catalog(tx: TestTransaction) {
  await tx.as(asAdmin(), `
    insert into status_public.actions (name, client_reportable, max_amount) values ('p_read', true, 10), ('p_write', true, 10);
    insert into status_public.achievements (id, name, points) values ('p_reader', 'Reader', 10);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('p_reader', 'count', 'p_read', 3)`);
}

const versions = (tx: TestTransaction, achievementId = "p_reader") =>
  tx.root<{ version: number; points: number; criteria: unknown[] }>(
    "select version, points, criteria from status_public.achievement_rule_versions where achievement_id = $1 order by version",
    [achievementId],
  );

const record = (tx: TestTransaction, userId: string, action: string, amount = 1) =>
  tx.as(asService(), "select * from status_public.record_action_for($1, $2, $3)", [userId, action, amount]);

const provenance = (tx: TestTransaction, actor: Parameters<TestTransaction["as"]>[0], achievementId: string, userId: string | null = null) =>
  tx.as<{ user_id: string; rule_version: number; criteria_values: unknown[]; step_id: string; points: number }>(
    actor,
    "select user_id, rule_version, criteria_values, step_id, points from status_public.unlock_provenance($1, $2)",
    [achievementId, userId],
  );

const count = { kind: "count", action: "p_read", hourFrom: null, hourUntil: null };

describe("rule versions", () => {
  it("start at 1 when an achievement is created, with its criteria", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      // The insert of the achievement made version 1 without criteria, and adding its criterion in a later
      // statement made version 2: versions follow statements, as the rules were in between.
      expect(await versions(tx)).toEqual([
        { version: 1, points: 10, criteria: [] },
        { version: 2, points: 10, criteria: [{ ...count, threshold: 3 }] },
      ]);
    }));

  it("count a change of criteria, points or availability, not of presentation nor a change to the same values", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const admin = asAdmin();
      await tx.as(admin, "update status_public.achievements set name = 'Bookworm', description = 'Reads', icon = 'book', position = 7, hidden = true where id = 'p_reader'");
      await tx.as(admin, "update status_public.achievements set points = 10 where id = 'p_reader'");
      await tx.as(admin, "update status_public.achievement_criteria set threshold = 3 where achievement_id = 'p_reader'");
      expect((await versions(tx)).map((v) => v.version)).toEqual([1, 2]);
      await tx.as(admin, "update status_public.achievement_criteria set threshold = 5 where achievement_id = 'p_reader'");
      await tx.as(admin, "update status_public.achievements set points = 25 where id = 'p_reader'");
      await tx.as(admin, "update status_public.achievements set available_until = '2030-01-01' where id = 'p_reader'");
      await tx.as(admin, "insert into status_public.achievement_criteria (achievement_id, kind, threshold) values ('p_reader', 'streak', 2)");
      await tx.as(admin, "delete from status_public.achievement_criteria where achievement_id = 'p_reader' and kind = 'streak'");
      const all = await versions(tx);
      expect(all.map((v) => [v.version, v.points])).toEqual([[1, 10], [2, 10], [3, 10], [4, 25], [5, 25], [6, 25], [7, 25]]);
      expect(all[2].criteria).toEqual([{ ...count, threshold: 5 }]);
      expect(all[5].criteria).toEqual([
        { ...count, threshold: 5 },
        { kind: "streak", action: null, threshold: 2, hourFrom: null, hourUntil: null },
      ]);
      expect(all[6].criteria).toEqual(all[4].criteria);
    }));

  it("follow a criterion moved to another achievement, both ways, and go with a deleted achievement", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const admin = asAdmin();
      await tx.as(admin, "insert into status_public.achievements (id, name, points) values ('p_writer', 'Writer', 5)");
      await tx.as(admin, "update status_public.achievement_criteria set achievement_id = 'p_writer' where achievement_id = 'p_reader'");
      expect((await versions(tx, "p_reader")).at(-1)).toEqual({ version: 3, points: 10, criteria: [] });
      expect((await versions(tx, "p_writer")).at(-1)).toEqual({ version: 2, points: 5, criteria: [{ ...count, threshold: 3 }] });
      await tx.as(admin, "delete from status_public.achievements where id = 'p_writer'");
      expect(await versions(tx, "p_writer")).toEqual([]);
    }));

  it("are read-only for every API role and visible as their achievement is", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      await tx.as(asAdmin(), "insert into status_public.achievements (id, name, hidden) values ('p_secret', 'Secret', true)");
      for (const actor of [anonymous, asUser(newUserId()), asService(), asAdmin()]) {
        const error = await tx.expectError(actor, "insert into status_public.achievement_rule_versions (achievement_id, version, points, criteria) values ('p_reader', 99, 0, '[]')");
        expect(error.code).toBe("42501");
      }
      const seen = (actor: Parameters<TestTransaction["as"]>[0]) =>
        tx.as<{ achievement_id: string }>(actor, "select distinct achievement_id from status_public.achievement_rule_versions where achievement_id like 'p\\_%' order by 1");
      expect(await seen(asUser(newUserId()))).toEqual([{ achievement_id: "p_reader" }]);
      expect(await seen(asAdmin())).toEqual([{ achievement_id: "p_reader" }, { achievement_id: "p_secret" }]);
    }));
});

describe("unlock provenance", () => {
  it("records the rules' version, the completing step and the criteria's values at that moment", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await record(tx, user, "p_read", 2);
      const [completing] = await tx.as<{ step_id: string }>(asService(), "select step_id from status_public.record_action_for($1, 'p_read', 4)", [user]);
      const [unlock] = await provenance(tx, asUser(user), "p_reader");
      expect(unlock).toEqual({
        user_id: user,
        rule_version: 2,
        step_id: completing.step_id,
        points: 10,
        criteria_values: [{ ...count, threshold: 3, current: 6, target: 3 }],
      });
      // Later steps and later rules leave the unlock as it was granted: never taken back, never rewritten.
      await tx.as(asAdmin(), "update status_public.achievement_criteria set threshold = 50 where achievement_id = 'p_reader'");
      await record(tx, user, "p_read", 1);
      expect(await provenance(tx, asUser(user), "p_reader")).toEqual([unlock]);
      expect(await tx.root("select count(*)::int as n from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([{ n: 1 }]);
    }));

  it("grants under the rules in force at the step: a lowered threshold gives the new version", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await record(tx, user, "p_read", 1);
      await tx.as(asAdmin(), "update status_public.achievement_criteria set threshold = 2 where achievement_id = 'p_reader'");
      await record(tx, user, "p_read", 1);
      const [unlock] = await provenance(tx, asUser(user), "p_reader");
      expect(unlock.rule_version).toBe(3);
      expect(unlock.criteria_values).toEqual([{ ...count, threshold: 2, current: 2, target: 2 }]);
    }));

  it("keeps an unlock's rules through a renamed achievement", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const user = newUserId();
      await record(tx, user, "p_read", 3);
      await tx.as(asAdmin(), "update status_public.achievements set id = 'p_bookworm' where id = 'p_reader'");
      const rules = await tx.as<{ version: number; achievement_id: string }>(asUser(user),
        "select (r).version, (r).achievement_id from (select status_public.achievement_unlocks_rules(u) as r from status_public.unlock_provenance('p_bookworm') as u) as x");
      expect(rules).toEqual([{ version: 2, achievement_id: "p_bookworm" }]);
    }));

  it("answers a user about their own unlocks only, the service and admins about anyone, with coded errors", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      const [user, other] = [newUserId(), newUserId()];
      await record(tx, user, "p_read", 3);
      const codeOf = async (actor: Parameters<TestTransaction["as"]>[0], userId: string | null, achievementId = "p_reader") =>
        (await tx.expectError(actor, "select * from status_public.unlock_provenance($1, $2)", [achievementId, userId])).code;
      expect(await codeOf(anonymous, null)).toBe("AC401");
      expect(await codeOf(anonymous, user)).toBe("AC401");
      expect(await codeOf(asUser(other), user)).toBe("AC403");
      expect(await codeOf(asUser(other), null)).toBe("AC404");
      expect(await codeOf(asUser(user), null, "p_unknown")).toBe("AC404");
      expect((await provenance(tx, asUser(user), "p_reader", user))[0].user_id).toBe(user);
      expect((await provenance(tx, asService(), "p_reader", user))[0].user_id).toBe(user);
      expect((await provenance(tx, asAdmin(), "p_reader", user))[0].user_id).toBe(user);
    }));
});

describe("points multipliers", () => {
  it("multiply the points of unlocks whose step is in a window, the highest when windows overlap, recorded on the unlock", () =>
    withTransaction(async (tx) => {
      await catalog(tx);
      await tx.as(asAdmin(), `insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values
        ('Double points weekend', 2, '2026-05-02', '2026-05-04'), ('Happy hour', 3.5, '2026-05-03 18:00Z', '2026-05-03 19:00Z')`);
      const at = async (occurredAt: string) => {
        const user = newUserId();
        await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 'p_read', 3, $2)", [user, occurredAt]);
        const unlocks = await tx.root<{ points: number; points_multiplier: string | null }>(
          "select points, points_multiplier from status_public.achievement_unlocks where user_id = $1", [user]);
        const [ledger] = await tx.root<{ points: number }>("select coalesce(sum(points), 0)::int as points from status_public.points_ledger where user_id = $1", [user]);
        const [score] = await tx.root<{ points: number }>("select points from status_public.user_scores where user_id = $1", [user]);
        return { unlocks, ledger: ledger.points, score: score.points };
      };
      expect(await at("2026-05-01 23:59Z")).toEqual({ unlocks: [{ points: 10, points_multiplier: null }], ledger: 10, score: 10 });
      expect(await at("2026-05-02 00:00Z")).toEqual({ unlocks: [{ points: 20, points_multiplier: "2.00" }], ledger: 20, score: 20 });
      expect(await at("2026-05-03 18:30Z")).toEqual({ unlocks: [{ points: 35, points_multiplier: "3.50" }], ledger: 35, score: 35 });
      expect(await at("2026-05-04 00:00Z")).toEqual({ unlocks: [{ points: 10, points_multiplier: null }], ledger: 10, score: 10 });
    }));

  it("are managed by admins only and read by everyone; a bad window is refused", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values
        ('Past', 5, now() - interval '2 days', now() - interval '1 day'), ('This week', 2, now() - interval '1 day', now() + interval '6 days'),
        ('Today', 3, now() - interval '1 hour', now() + interval '1 hour'), ('Next week', 9, now() + interval '7 days', now() + interval '8 days')`);
      for (const actor of [anonymous, asUser(newUserId()), asService()]) {
        expect(await tx.as(actor, "select name from status_public.active_points_multiplier()")).toEqual([{ name: "Today" }]);
        const error = await tx.expectError(actor, "insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values ('x', 2, now(), now() + interval '1 day')");
        expect(error.code).toBe("42501");
        await tx.as(actor, "select * from status_public.points_multipliers");
      }
      const backwards = await tx.expectError(asAdmin(), "insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values ('x', 2, now(), now() - interval '1 day')");
      expect(backwards.code).toBe("23514");
      const tooMuch = await tx.expectError(asAdmin(), "insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values ('x', 1000, now(), now() + interval '1 day')");
      expect(tooMuch.code).toBe("23514");
    }));
});

// status_public.my_almost_there(min_percent, first) (migration 000009, 6-almost-there.sql): the signed-in
// user's locked, visible achievements that can still be unlocked, whose progress is at least min_percent,
// closest first, each with what remains; the same list on my_dashboard. The catalog and the user's 8 steps
// come from test/helpers/almost-there.ts.
import { addAlmostThereCatalog } from "../../helpers/almost-there";
import { anonymous, asUser, newUserId, withTransaction } from "../../helpers/db";

interface AlmostThere {
  achievement_id: string;
  percent: number;
  current: number;
  target: number;
  remaining: number;
}

const ALMOST_THERE = "select achievement_id, percent, current, target, remaining from unnest(status_public.my_almost_there($1, $2))";

describe("my_almost_there()", () => {
  it("lists the locked achievements at or above min_percent, closest first, then the fewest steps left, then the catalog's order", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      await addAlmostThereCatalog(tx, me);
      const almost = (minPercent: number, first: number) => tx.as<AlmostThere>(asUser(me), ALMOST_THERE, [minPercent, first]);

      // Hidden (88 %), unlocked and expired (80 %) achievements are left out. At 80 %, almost_mixed (first in the
      // catalog) has 4 steps left: after almost_ten and almost_ten_again (2 each), which keep the catalog's order.
      // Several criteria: their current values and targets added up, the percent as myAchievements has it.
      expect(await almost(80, 5)).toEqual([
        { achievement_id: "almost_nine", percent: 88, current: 8, target: 9, remaining: 1 },
        { achievement_id: "almost_ten", percent: 80, current: 8, target: 10, remaining: 2 },
        { achievement_id: "almost_ten_again", percent: 80, current: 8, target: 10, remaining: 2 },
        { achievement_id: "almost_mixed", percent: 80, current: 16, target: 20, remaining: 4 },
      ]);
      expect((await almost(60, 5)).map((entry) => entry.achievement_id)).toEqual(["almost_nine", "almost_ten", "almost_ten_again", "almost_mixed", "almost_two_rules"]);
      expect((await almost(60, 5))[4]).toEqual({ achievement_id: "almost_two_rules", percent: 65, current: 16, target: 26, remaining: 10 });
      expect((await almost(50, 2)).map((entry) => entry.achievement_id)).toEqual(["almost_nine", "almost_ten"]);
      expect(await almost(89, 5)).toEqual([]);
    }));

  it("gives each entry the same fields, percent and criteria as myAchievements", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      await addAlmostThereCatalog(tx, me);
      const [entry] = await tx.as(asUser(me), "select (a).* from unnest(status_public.my_almost_there(85, 1)) as a");
      const [progress] = await tx.as(
        asUser(me),
        `select achievement_id, name, description, icon, points, kind, available_until, percent, criteria
         from status_public.my_achievements() where achievement_id = 'almost_nine'`,
      );
      expect(entry).toEqual({ ...progress, current: 8, target: 9, remaining: 1 });
      expect(await tx.as(asUser(me), "select (c).target, (c).current, (c).remaining from unnest($1::status_public.criterion_progress[]) as c", [entry.criteria])).toEqual([
        { target: 9, current: 8, remaining: 1 },
      ]);
    }));

  it("is on my_dashboard with its defaults (at least 80 percent, at most 5)", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      await addAlmostThereCatalog(tx, me);
      const [{ ids }] = await tx.as<{ ids: string[] }>(asUser(me), "select array(select a.achievement_id from unnest((status_public.my_dashboard()).almost_there) as a) as ids");
      expect(ids).toEqual(["almost_nine", "almost_ten", "almost_ten_again", "almost_mixed"]);
      const [fresh] = await tx.as<{ almost_there: string }>(asUser(newUserId()), "select (status_public.my_dashboard()).almost_there::text");
      expect(fresh.almost_there).toEqual("{}");
    }));

  it("reads the achievements' progress once for the whole dashboard (migration 000019; it was twice)", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      await addAlmostThereCatalog(tx, me);
      // The calls of this transaction (pg_stat_xact_user_functions), with function tracking on for it.
      await tx.root("set local track_functions = 'all'");
      const calls = async () =>
        Number((await tx.root<{ calls: string }>(
          "select coalesce(sum(calls), 0)::text as calls from pg_stat_xact_user_functions where schemaname = 'status_public' and funcname = 'my_achievements'",
        ))[0].calls);
      const before = await calls();
      const [dashboard] = await tx.as<{ unlocked: number; locked: number }>(
        asUser(me),
        "select cardinality(dashboard.unlocked) as unlocked, cardinality(dashboard.locked) as locked from status_public.my_dashboard() as dashboard",
      );
      expect(await calls()).toBe(before + 1);
      // The same lists as my_achievements() itself.
      const [own] = await tx.as<{ unlocked: number; locked: number }>(
        asUser(me),
        "select count(*) filter (where unlocked)::integer as unlocked, count(*) filter (where not unlocked)::integer as locked from status_public.my_achievements()",
      );
      expect(dashboard).toEqual(own);
    }));

  it("refuses a visitor who is not signed in with AC401, as the other my* functions", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(anonymous, "select status_public.my_almost_there()");
      expect({ code: error.code, message: error.message }).toEqual({ code: "AC401", message: "Sign in to see the achievements you are close to" });
    }));

  it.each([
    [-1, 5, "minPercent must be from 0 to 100"],
    [101, 5, "minPercent must be from 0 to 100"],
    [null, 5, "minPercent must be from 0 to 100"],
    [80, 0, "first must be from 1 to 100"],
    [80, 101, "first must be from 1 to 100"],
    [80, null, "first must be from 1 to 100"],
  ])("refuses min_percent %p, first %p with AC400", (minPercent, first, message) =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(asUser(newUserId()), "select status_public.my_almost_there($1, $2)", [minPercent, first]);
      expect({ code: error.code, message: error.message }).toEqual({ code: "AC400", message });
    }));
});

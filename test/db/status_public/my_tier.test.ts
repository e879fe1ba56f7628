// status_public.my_tier(): the signed-in user's points, tier and progress (migration 000006); a visitor
// who is not signed in gets UNAUTHENTICATED (AC401), as from my_dashboard, my_rank and leaderboard_around_me,
// not a tier of 0 points.
import { anonymous, asService, asUser, newUserId, withTransaction } from "../../helpers/db";

describe("my_tier()", () => {
  it("refuses a visitor who is not signed in with AC401 and a message that says what to do", () =>
    withTransaction(async (tx) => {
      const error = await tx.expectError(anonymous, "select * from status_public.my_tier()");
      expect({ code: error.code, message: error.message }).toEqual({ code: "AC401", message: "Sign in to see your tier" });
    }));

  it("answers a signed-in user their points (0 before any), the tier they give and the one after, as my_dashboard does", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      const tierOf = async (points: number) =>
        (await tx.root("select * from status_private.tier_progress($1)", [points]))[0];

      const [before] = await tx.as(asUser(me), "select * from status_public.my_tier()");
      expect(before).toEqual(await tierOf(0));

      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 5)", [me]);
      const [{ points }] = await tx.root<{ points: number }>("select points from status_public.user_scores where user_id = $1", [me]);
      expect(points).toBeGreaterThan(0);
      const [after] = await tx.as(asUser(me), "select * from status_public.my_tier()");
      expect(after).toEqual({ ...(await tierOf(points)), points });

      expect(await tx.as(asUser(me), "select (dashboard.tier).* from status_public.my_dashboard() as dashboard")).toEqual([after]);
    }));
});

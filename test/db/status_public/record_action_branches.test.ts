// The branches of the event path that the main record_action tests do not reach: a backdated action's
// streak, negative steps (which skip streaks, unlocks and levels), an idempotency key already used by a step
// recorded another way, a third deadlock in a row, and points awarded while opted out of the leaderboards.
// Every time is explicit (occurred_at), so nothing depends on when the suite runs.
import { asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";
import { failStepsWithDeadlocks } from "../../helpers/faults";

interface Recorded {
  current_streak: number;
  unlocked: string[];
  levels_achieved: string[];
}

function recordFor(tx: TestTransaction, userId: string, action: string, at: string, options: { amount?: number; key?: string } = {}) {
  return tx
    .as<Recorded>(
      asService(),
      `select current_streak, levels_achieved, array(select u.achievement_id from unnest(unlocked) u) as unlocked
       from status_public.record_action_for($1, $2, $3, $4, $5)`,
      [userId, action, options.amount ?? 1, options.key ?? null, at],
    )
    .then((rows) => rows[0]);
}

const streaksOf = (tx: TestTransaction, userId: string) =>
  tx.root("select action, current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 order by action nulls first", [userId]);

describe("a backdated action", () => {
  it("leaves the streak as it was: the next day still continues it", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordFor(tx, user, "logins", "2026-01-10T12:00:00Z");
      expect((await recordFor(tx, user, "logins", "2026-01-11T12:00:00Z")).current_streak).toBe(2);
      // Two days before the streak's last day, then long before it: neither restarts nor extends it.
      expect((await recordFor(tx, user, "logins", "2026-01-09T12:00:00Z")).current_streak).toBe(2);
      await recordFor(tx, user, "logins", "2025-12-01T12:00:00Z");
      expect(await streaksOf(tx, user)).toEqual([
        { action: null, current_length: 2, longest_length: 2, last_day: "2026-01-11" },
        { action: "logins", current_length: 2, longest_length: 2, last_day: "2026-01-11" },
      ]);
      const next = await recordFor(tx, user, "logins", "2026-01-12T12:00:00Z");
      expect(next.current_streak).toBe(3);
      expect(next.unlocked).toEqual(["streak_3"]);
      // The tally counts every login, backdated ones included.
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1 and name = 'logins'", [user])).toEqual([{ count: 5 }]);
    }));
});

describe("a negative step (a toggle taken back)", () => {
  it("changes the tally only: no streak day, no unlock and no level, even where their conditions hold", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asAdmin(), "insert into status_public.actions (name) values ('t_flag')");
      await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 't_flag', 3, '2026-04-01T12:00:00Z')", [user]);
      // Made after the tally reached 3: any later positive step would unlock and achieve them.
      await tx.as(asAdmin(), `
        insert into status_public.achievements (id, name, points) values ('t_flag_2', 'Two flags', 20), ('t_flag_at_noon', 'Flag at noon', 5);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values
          ('t_flag_2', 'count', 't_flag', 2, null, null), ('t_flag_at_noon', 'time_of_day', 't_flag', null, 12, 13);
        insert into status_public.levels (name) values ('t-flagger');
        insert into status_public.level_requirements (name, level, required_count) values ('t_flag', 't-flagger', 1)`);

      // The next day, at noon: a positive step would extend both streaks to 2 and unlock both achievements.
      await tx.root("insert into status_public.user_steps (user_id, name, count, occurred_at) values ($1, 't_flag', -1, '2026-04-02T12:30:00Z')", [user]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [user])).toEqual([{ count: 2 }]);
      expect(await streaksOf(tx, user)).toEqual([
        { action: null, current_length: 1, longest_length: 1, last_day: "2026-04-01" },
        { action: "t_flag", current_length: 1, longest_length: 1, last_day: "2026-04-01" },
      ]);
      expect(await tx.root("select achievement_id from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([]);
      expect(await tx.root("select level from status_public.user_levels where user_id = $1", [user])).toEqual([]);
      expect(await tx.root("select points from status_public.user_scores where user_id = $1", [user])).toEqual([{ points: 0 }]);

      // The same step with a positive count does all three: the conditions did hold.
      const result = await recordFor(tx, user, "t_flag", "2026-04-02T12:30:00Z");
      expect(result).toEqual({ current_streak: 2, unlocked: ["t_flag_2", "t_flag_at_noon"], levels_achieved: ["t-flagger"] });
    }));
});

describe("an idempotency key used by a step recorded another way", () => {
  it("is a CONFLICT (AC409) that writes nothing, even for the same action and amount", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      // The reference API's way: a step inserted into user_steps (as a table trigger or createUserStep does), with a key.
      await tx.as(asService(), "insert into status_public.user_steps (user_id, name, count, idempotency_key) values ($1, 'tasks_completed', 1, 'import-7')", [user]);
      const error = await tx.expectError(asService(), "select status_public.record_action_for($1, 'tasks_completed', 1, 'import-7')", [user]);
      expect([error.code, error.message]).toEqual(["AC409", 'The idempotency key "import-7" was already used for a step recorded another way']);
      expect(await tx.root("select count(*)::int as steps from status_public.user_steps where user_id = $1", [user])).toEqual([{ steps: 1 }]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1", [user])).toEqual([{ count: 1 }]);
    }));
});

describe("deadlocks", () => {
  it("retries the step after one or two, and counts it once", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const calls = await failStepsWithDeadlocks(tx, user, 2);
      const result = await recordFor(tx, user, "tasks_completed", "2026-04-01T12:00:00Z");
      expect(result.unlocked).toEqual(["tasks_completed_1"]);
      expect(await calls()).toBe(3);
      expect(await tx.root("select count(*)::int as steps from status_public.user_steps where user_id = $1", [user])).toEqual([{ steps: 1 }]);
    }));

  it("gives up at the third, raising 40P01 (TRANSACTION_CONFLICT) with nothing written", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const calls = await failStepsWithDeadlocks(tx, user, 3);
      const error = await tx.expectError(asService(), "select status_public.record_action_for($1, 'tasks_completed', 1, 'k-1', '2026-04-01T12:00:00Z')", [user]);
      expect([error.code, error.message]).toEqual(["40P01", "deadlock detected (injected by the test)"]);
      expect(await calls()).toBe(3);
      const written = await tx.root(
        `select (select count(*)::int from status_public.user_steps where user_id = $1) as steps,
                (select count(*)::int from status_public.user_scores where user_id = $1) as scores`,
        [user],
      );
      expect(written).toEqual([{ steps: 0, scores: 0 }]);
    }));
});

describe("points awarded while opted out of the leaderboards", () => {
  it("stay off the boards and the histogram, and join both when the user opts back in", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asAdmin(), `
        insert into status_public.actions (name) values ('t_opt');
        insert into status_public.achievements (id, name, points) values ('t_opt_1', 'Opted', 100567);
        insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values ('t_opt_1', 'count', 't_opt', 1)`);
      const points = 100567; // a score no other test reaches, so the histogram row is this user's alone
      const histogram = () =>
        tx.root(
          // The folded histogram plus the deltas not folded yet (what ranks read).
          `select level, sum(users)::int as users from (
             select 'points' as level, users from status_private.leaderboard_point_counts where period = 'ALL_TIME' and points = $1
             union all select 'points', users from status_private.leaderboard_count_deltas where period = 'ALL_TIME' and points = $1
           ) as histogram group by level having sum(users) <> 0 order by level desc`,
          [points],
        );
      const listed = async () =>
        (await tx.as<{ user_id: string }>(asUser(newUserId()), "select user_id from status_public.leaderboard('ALL_TIME', 100)")).some((row) => row.user_id === user);
      const myRank = async () => (await tx.as<{ rank: number; points: number }>(asUser(user), "select rank, points from status_public.my_rank('ALL_TIME')"))[0];

      await tx.as(asUser(user), "select status_public.set_my_profile(leaderboard_opt_out => true)");
      const before = await histogram();
      await recordFor(tx, user, "t_opt", "2026-04-01T12:00:00Z");
      expect(await tx.root("select period, visible, points from status_public.leaderboard_scores where user_id = $1 order by period", [user])).toEqual([
        { period: "ALL_TIME", visible: false, points },
        { period: "MONTH", visible: false, points },
        { period: "WEEK", visible: false, points },
        { period: "DAY", visible: false, points },
      ]);
      expect(await histogram()).toEqual(before);
      expect(await listed()).toBe(false);
      // The top of the all-time board, as if the user were on it.
      expect(await myRank()).toEqual({ rank: 1, points });

      await tx.as(asUser(user), "select status_public.set_my_profile(leaderboard_opt_out => false)");
      expect(await tx.root("select count(*)::int as hidden from status_public.leaderboard_scores where user_id = $1 and not visible", [user])).toEqual([{ hidden: 0 }]);
      expect(await histogram()).toEqual([{ level: "points", users: 1 }]);
      expect(await listed()).toBe(true);
      expect(await myRank()).toEqual({ rank: 1, points });
    }));
});

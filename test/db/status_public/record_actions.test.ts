// record_actions: the batch API (migration 000008, 6-record-actions.sql; its checks and rate limits set-based in
// migration 000009, 2-batches.sql). The service role records for many users in one call, a user for themselves;
// per-event results in input order; all or nothing; idempotency keys; the rate limit per event, taken for the
// whole batch at once; and the same end state as recording the same events one by one.
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";
import { makeHistory as makeSharedHistory } from "../../helpers/history";

interface ActionEvent {
  user_id?: string | null;
  action: string;
  amount?: number | null;
  idempotency_key?: string | null;
  occurred_at?: string | null;
}

interface Result {
  step_id: string;
  user_id: string;
  action: string;
  amount: number;
  tally: number;
  unlocked: string[];
  points_awarded: number;
  total_points: number;
  tier_before: string | null;
  tier_after: string | null;
  current_streak: number;
  levels_achieved: string[];
}

const RESULT = `step_id, user_id, action, amount, tally, points_awarded, total_points, tier_before, tier_after, current_streak, levels_achieved,
  array(select u.achievement_id from unnest(unlocked) with ordinality as u (unlock_id, achievement_id, name, points, n) order by n) as unlocked`;

/** The events as a status_public.action_event[] built from JSON, in the order given. */
const EVENTS = `array(select jsonb_populate_record(null::status_public.action_event, listed.event)
                      from jsonb_array_elements($1::jsonb) with ordinality as listed (event, position) order by listed.position)`;

const recordActions = (tx: TestTransaction, actor: Actor, events: ActionEvent[]) =>
  tx.as<Result>(actor, `select ${RESULT} from status_public.record_actions(${EVENTS})`, [JSON.stringify(events)]);

const recordActionsError = (tx: TestTransaction, actor: Actor, events: ActionEvent[]) =>
  tx.expectError(actor, `select * from status_public.record_actions(${EVENTS})`, [JSON.stringify(events)]);

const recordFor = (tx: TestTransaction, event: ActionEvent) =>
  tx
    .as<Result>(asService(), `select ${RESULT} from status_public.record_action_for($1, $2, $3, $4, $5)`, [
      event.user_id,
      event.action,
      event.amount ?? 1,
      event.idempotency_key ?? null,
      event.occurred_at ?? null,
    ])
    .then((rows) => rows[0]);

const stepsOf = async (tx: TestTransaction, userIds: string[]) =>
  (await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = any($1)", [userIds]))[0].n;

/** What a user's rows say, with the ids that differ between two users taken out. */
async function stateOf(tx: TestTransaction, userId: string) {
  const [tallies, streaks, unlocks, levels, score, boards] = await Promise.all([
    tx.root("select name, count from status_public.user_achievements where user_id = $1 order by name", [userId]),
    tx.root(
      "select action, current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 order by action nulls first",
      [userId],
    ),
    tx.root("select achievement_id, points from status_public.achievement_unlocks where user_id = $1 order by achievement_id", [userId]),
    tx.root("select level from status_public.user_levels where user_id = $1 order by level", [userId]),
    tx.root("select points, tier from status_public.user_scores where user_id = $1", [userId]),
    tx.root(
      "select period, period_start::text, points, visible from status_public.leaderboard_scores where user_id = $1 order by period, period_start",
      [userId],
    ),
  ]);
  return { tallies, streaks, unlocks, levels, score, boards };
}

async function rateLimits(tx: TestTransaction, settings: { user?: number; service?: number; window?: number }) {
  await tx.root(
    `select set_config('achievements.record_action_rate_limit', $1, true),
            set_config('achievements.record_action_service_rate_limit', $2, true),
            set_config('achievements.record_action_rate_window_seconds', $3, true)`,
    [String(settings.user ?? 60), String(settings.service ?? 6000), String(settings.window ?? 60)],
  );
}

describe("record_actions: the service role, many users in one call", () => {
  it("returns one result per event, in input order, each as of its event", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      await tx.as(asUser(bob), "select status_public.set_my_profile(time_zone => 'America/New_York')");
      const results = await recordActions(tx, asService(), [
        { user_id: ada, action: "tasks_completed", amount: 4 },
        { user_id: bob, action: "logins", occurred_at: "2026-03-01T12:00:00Z" },
        { user_id: ada, action: "tasks_completed", amount: 6 },
        { user_id: bob, action: "logins", occurred_at: "2026-03-02T12:00:00Z" },
        // 04:30 in New York: the Early Bird, on the third day of the streak.
        { user_id: bob, action: "logins", occurred_at: "2026-03-03T09:30:00Z" },
        { user_id: ada, action: "lessons_finished", amount: 2 },
      ]);
      expect(results.map((r) => [r.user_id, r.action, r.amount, r.tally, r.unlocked])).toEqual([
        [ada, "tasks_completed", 4, 4, ["tasks_completed_1"]],
        [bob, "logins", 1, 1, []],
        [ada, "tasks_completed", 6, 10, ["tasks_completed_10", "launch_sprint"]],
        [bob, "logins", 1, 2, []],
        [bob, "logins", 1, 3, ["streak_3", "early_bird"]],
        [ada, "lessons_finished", 2, 2, []],
      ]);
      // Points and tiers as of each event.
      expect(results.map((r) => [r.points_awarded, r.tier_before, r.tier_after])).toEqual([
        [10, "Beginner", "Beginner"],
        [0, "Beginner", "Beginner"],
        [175, "Beginner", "Student"],
        [0, "Beginner", "Beginner"],
        [80, "Beginner", "Beginner"],
        [0, "Student", "Student"],
      ]);
      // A user's last event has their total after the batch (earlier ones: as of the event, or the same
      // total, as the function's comment says; not pinned here).
      expect([results[4].total_points, results[5].total_points]).toEqual([80, 185]);
      expect(new Set(results.map((r) => r.step_id)).size).toBe(6);
      expect(await tx.root("select points, tier from status_public.user_scores where user_id = any($1) order by points", [[ada, bob]])).toEqual([
        { points: 80, tier: "Beginner" },
        { points: 185, tier: "Student" },
      ]);
    }));

  it("reports each event's streak and levels as of that event", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.levels (name) values ('t-regular');
        insert into status_public.level_requirements (name, level, required_count) values ('logins', 't-regular', 2)`);
      const user = newUserId();
      const results = await recordActions(tx, asService(), [
        { user_id: user, action: "logins", occurred_at: "2026-04-01T12:00:00Z" },
        { user_id: user, action: "logins", occurred_at: "2026-04-02T12:00:00Z" },
        { user_id: user, action: "logins", occurred_at: "2026-04-03T12:00:00Z" },
      ]);
      expect(results.map((r) => [r.tally, r.levels_achieved])).toEqual([
        [1, []],
        [2, ["t-regular"]],
        [3, []],
      ]);
      // One by one, the same events report streaks of 1, 2 and 3.
      expect(results.map((r) => r.current_streak)).toEqual([1, 2, 3]);
    }));

  it("applies a user's events in the order they happened, whatever the order given", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const results = await recordActions(tx, asService(), [
        { user_id: user, action: "logins", occurred_at: "2026-04-03T12:00:00Z" },
        { user_id: user, action: "logins", occurred_at: "2026-04-01T12:00:00Z" },
        { user_id: user, action: "logins", occurred_at: "2026-04-02T12:00:00Z" },
      ]);
      // The 3rd of April is the third day of the streak: its event unlocks streak_3 and counts 3.
      expect(results.map((r) => [r.tally, r.unlocked])).toEqual([
        [3, ["streak_3"]],
        [1, []],
        [2, []],
      ]);
      expect(await tx.root("select current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 and action = 'logins'", [user])).toEqual([
        { current_length: 3, longest_length: 3, last_day: "2026-04-03" },
      ]);
    }));

  it("returns nothing for an empty batch", () =>
    withTransaction(async (tx) => {
      expect(await recordActions(tx, asService(), [])).toEqual([]);
    }));

  it("needs the user named for the service role", () =>
    withTransaction(async (tx) => {
      const error = await recordActionsError(tx, asService(), [{ user_id: newUserId(), action: "logins" }, { action: "logins" }]);
      expect([error.code, error.message]).toEqual(["AC400", "Event 2: name the user (userId)"]);
    }));
});

describe("record_actions: a user, for themselves", () => {
  it("records their own events, with their id or none", () =>
    withTransaction(async (tx) => {
      const me = newUserId();
      const results = await recordActions(tx, asUser(me), [
        { action: "tasks_completed" },
        { user_id: me, action: "tasks_completed", amount: 9 },
      ]);
      expect(results.map((r) => [r.user_id, r.tally, r.unlocked])).toEqual([
        [me, 1, ["tasks_completed_1"]],
        [me, 10, ["tasks_completed_10", "launch_sprint"]],
      ]);
    }));

  it.each<[string, (me: string, other: string) => ActionEvent[], string, string]>([
    ["another user", (_me, other) => [{ action: "tasks_completed" }, { user_id: other, action: "tasks_completed" }], "AC403", "Event 2: you can record only your own actions"],
    ["occurredAt", (me) => [{ user_id: me, action: "logins", occurred_at: "2026-01-01T00:00:00Z" }], "AC403", "Event 1: only the service role sets occurredAt"],
    ["an action not reportable by a client", () => [{ action: "logins" }, { action: "lessons_finished" }], "AC403", 'Event 2: the action "lessons_finished" cannot be reported by a client'],
  ])("is refused for %s, and nothing is written", (_, events, code, message) =>
    withTransaction(async (tx) => {
      const [me, other] = [newUserId(), newUserId()];
      const error = await recordActionsError(tx, asUser(me), events(me, other));
      expect([error.code, error.message]).toEqual([code, message]);
      expect(await stepsOf(tx, [me, other])).toBe(0);
    }));

  it("needs a signed-in user", () =>
    withTransaction(async (tx) => {
      const error = await recordActionsError(tx, anonymous, [{ action: "tasks_completed" }]);
      expect([error.code, error.message]).toEqual(["AC401", "Sign in to record actions"]);
    }));
});

describe("record_actions: bad input fails the whole batch with the event's position", () => {
  it("refuses an unknown action", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const error = await recordActionsError(tx, asService(), [
        { user_id: user, action: "logins" },
        { user_id: user, action: "logins" },
        { user_id: user, action: "teleport" },
      ]);
      expect([error.code, error.message]).toEqual(["AC404", 'Event 3: unknown action "teleport"']);
    }));

  it.each([0, 11, -1])("refuses an amount of %i", (amount) =>
    withTransaction(async (tx) => {
      const error = await recordActionsError(tx, asService(), [{ user_id: newUserId(), action: "tasks_completed", amount }]);
      expect([error.code, error.message]).toEqual(["AC400", `Event 1: the amount must be a whole number from 1 to 10 for "tasks_completed", got ${amount}`]);
    }));

  it("refuses an empty or too long idempotency key", () =>
    withTransaction(async (tx) => {
      for (const key of ["", "k".repeat(201)]) {
        const error = await recordActionsError(tx, asService(), [{ user_id: newUserId(), action: "logins", idempotency_key: key }]);
        expect([error.code, error.message]).toEqual(["AC400", "Event 1: the idempotency key must be 1 to 200 characters"]);
      }
    }));

  it("refuses more events than achievements.record_actions_max_events", () =>
    withTransaction(async (tx) => {
      await tx.root("select set_config('achievements.record_actions_max_events', '3', true)");
      const user = newUserId();
      const events = (n: number) => Array.from({ length: n }, () => ({ user_id: user, action: "logins" }));
      expect(await recordActions(tx, asService(), events(3))).toHaveLength(3);
      const error = await recordActionsError(tx, asService(), events(4));
      expect([error.code, error.message, error.hint]).toEqual(["AC400", "At most 3 events a call, got 4", "Split the batch (achievements.record_actions_max_events)."]);
      expect(await stepsOf(tx, [user])).toBe(3);
    }));

  it("refuses the same idempotency key twice in a batch (for one user; two users may share a key)", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      expect(
        await recordActions(tx, asService(), [
          { user_id: ada, action: "logins", idempotency_key: "k1" },
          { user_id: bob, action: "logins", idempotency_key: "k1" },
        ]),
      ).toHaveLength(2);
      const error = await recordActionsError(tx, asService(), [
        { user_id: ada, action: "tasks_completed", idempotency_key: "k2" },
        { user_id: bob, action: "tasks_completed" },
        { user_id: ada, action: "tasks_completed", idempotency_key: "k2" },
      ]);
      expect([error.code, error.message]).toEqual(["AC409", 'Event 3: the idempotency key "k2" is used twice in the batch']);
      expect(await stepsOf(tx, [ada, bob])).toBe(2);
    }));

  it("writes nothing when the last event is invalid (all or nothing)", () =>
    withTransaction(async (tx) => {
      const users = [newUserId(), newUserId(), newUserId()];
      const events: ActionEvent[] = users.flatMap((user) => [
        { user_id: user, action: "tasks_completed", amount: 10 },
        { user_id: user, action: "logins", idempotency_key: `login-${user}` },
      ]);
      const error = await recordActionsError(tx, asService(), [...events, { user_id: users[0], action: "tasks_completed", amount: 11 }]);
      expect([error.code, error.message]).toEqual(["AC400", 'Event 7: the amount must be a whole number from 1 to 10 for "tasks_completed", got 11']);
      for (const table of ["user_steps", "user_achievements", "user_streaks", "achievement_unlocks", "points_ledger", "user_scores", "leaderboard_scores"]) {
        expect([table, (await tx.root<{ n: number }>(`select count(*)::int as n from status_public.${table} where user_id = any($1)`, [users]))[0].n]).toEqual([table, 0]);
      }
      expect((await tx.root<{ n: number }>("select count(*)::int as n from status_private.recorded_action_results where result->>'user_id' = any($1)", [users]))[0].n).toBe(0);
    }));
});

describe("record_actions: idempotency keys", () => {
  it("returns the original result for a retried key and counts nothing again", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      const first = await recordActions(tx, asService(), [
        { user_id: ada, action: "tasks_completed", amount: 1, idempotency_key: "a1" },
        { user_id: bob, action: "tasks_completed", amount: 3 },
      ]);
      // A key recorded one by one is answered by the batch too.
      const single = await recordFor(tx, { user_id: bob, action: "tasks_completed", amount: 2, idempotency_key: "b1" });
      const retried = await recordActions(tx, asService(), [
        { user_id: bob, action: "tasks_completed", amount: 2, idempotency_key: "b1" },
        { user_id: ada, action: "tasks_completed", amount: 1, idempotency_key: "a1" },
        { user_id: ada, action: "tasks_completed", amount: 1, idempotency_key: "a2" },
      ]);
      expect(retried[0]).toEqual(single);
      expect(retried[1]).toEqual(first[0]);
      expect(retried[2]).toMatchObject({ user_id: ada, tally: 2, unlocked: [] });
      expect(await tx.root("select user_id, count from status_public.user_achievements where user_id = any($1) order by count", [[ada, bob]])).toEqual([
        { user_id: ada, count: 2 },
        { user_id: bob, count: 5 },
      ]);
      expect(await stepsOf(tx, [ada, bob])).toBe(4);
      // And a batch key is answered one by one.
      expect(await recordFor(tx, { user_id: ada, action: "tasks_completed", amount: 1, idempotency_key: "a2" })).toEqual(retried[2]);
    }));

  it("refuses a retried key with another action or amount (AC409) and writes nothing", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordActions(tx, asService(), [{ user_id: user, action: "tasks_completed", amount: 1, idempotency_key: "k" }]);
      const error = await recordActionsError(tx, asService(), [
        { user_id: user, action: "logins" },
        { user_id: user, action: "tasks_completed", amount: 2, idempotency_key: "k" },
      ]);
      expect([error.code, error.message]).toEqual(["AC409", 'The idempotency key "k" was already used for 1 x "tasks_completed"']);
      expect(await stepsOf(tx, [user])).toBe(1);
    }));
});

describe("record_actions: the rate limit counts every event", () => {
  it("spends one call of the user's allowance per event, and refuses the batch that goes over", () =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 3, window: 600 });
      const [me, other] = [newUserId(), newUserId()];
      expect(await recordActions(tx, asUser(me), [{ action: "tasks_completed" }, { action: "tasks_completed" }])).toHaveLength(2);
      const error = await recordActionsError(tx, asUser(me), [{ action: "tasks_completed" }, { action: "tasks_completed" }]);
      expect([error.code, error.message]).toEqual(["AC429", "Too many recorded actions for this user: at most 3 every 600 s; retry in 200 s"]);
      expect(await stepsOf(tx, [me])).toBe(2);
      expect(await recordActions(tx, asUser(me), [{ action: "tasks_completed" }])).toHaveLength(1);
      // Four events for one user in one service batch: refused, nothing written for the other user either.
      const batch = await recordActionsError(tx, asService(), [
        { user_id: other, action: "logins" },
        ...Array.from({ length: 4 }, () => ({ user_id: newUserId(), action: "logins" })),
        ...Array.from({ length: 3 }, () => ({ user_id: other, action: "logins" })),
      ]);
      expect(batch.code).toBe("AC429");
      expect(await stepsOf(tx, [other])).toBe(0);
    }));

  it("spends the service client's allowance per event, across users", () =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 100, service: 5, window: 600 });
      const client = newUserId();
      const events = (n: number) => Array.from({ length: n }, () => ({ user_id: newUserId(), action: "logins" }));
      expect(await recordActions(tx, asService(client), events(5))).toHaveLength(5);
      const error = await recordActionsError(tx, asService(client), events(1));
      expect([error.code, error.message]).toEqual(["AC429", expect.stringMatching(/^Too many recorded actions by this service client: at most 5 every 600 s; retry in \d+ s$/)]);
      expect(await recordActions(tx, asService(newUserId()), events(5))).toHaveLength(5);
    }));

  it("takes a user's events from their bucket at once, and says when the whole batch fits", () =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 4, window: 400 }); // a token every 100 s
      const me = newUserId();
      const tokens = async () =>
        (await tx.root<{ tokens: number }>("select tokens from status_private.record_action_allowances where subject_kind = 'user' and user_id = $1", [me]))[0].tokens;
      const tasks = (n: number) => Array.from({ length: n }, () => ({ action: "tasks_completed" }));
      expect(await recordActions(tx, asUser(me), tasks(3))).toHaveLength(3);
      expect(await tokens()).toBeCloseTo(1, 1);
      // One token left, three wanted: the batch fits once two more have come back (not when the next one has).
      const error = await recordActionsError(tx, asUser(me), tasks(3));
      expect([error.code, error.message]).toEqual(["AC429", "Too many recorded actions for this user: at most 4 every 400 s; retry in 200 s"]);
      expect(JSON.parse(error.detail ?? "{}")).toEqual({ retryAfterSeconds: 200 });
      expect(await stepsOf(tx, [me])).toBe(3);
      expect(await recordActions(tx, asUser(me), tasks(1))).toHaveLength(1);
      expect(await tokens()).toBeCloseTo(0, 1);
      // More events than the bucket holds, for a user who has not recorded yet: refused, nothing spent.
      const newcomer = newUserId();
      expect((await recordActionsError(tx, asService(), Array.from({ length: 5 }, () => ({ user_id: newcomer, action: "logins" })))).code).toBe("AC429");
      expect(await tx.root("select tokens from status_private.record_action_allowances where user_id = $1", [newcomer])).toEqual([]);
    }));

  it("spreads a service batch over the client's shards when no shard holds it all", () =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 100, service: 32, window: 600 }); // 16 shards of 2 tokens
      const client = newUserId();
      const left = async () =>
        (await tx.root<{ tokens: number; shards: number }>(
          "select sum(tokens)::float8 as tokens, count(*)::int as shards from status_private.record_action_allowances where subject_kind = 'service' and user_id = $1",
          [client],
        ))[0];
      const events = (n: number) => Array.from({ length: n }, () => ({ user_id: newUserId(), action: "logins" }));
      expect(await recordActions(tx, asService(client), events(2))).toHaveLength(2); // from one shard
      expect(await left()).toEqual({ tokens: expect.closeTo(30, 1), shards: 16 });
      expect(await recordActions(tx, asService(client), events(20))).toHaveLength(20); // from ten shards
      expect(await left()).toEqual({ tokens: expect.closeTo(10, 1), shards: 16 });
      const error = await recordActionsError(tx, asService(client), events(11));
      // Ten tokens left, eleven wanted: one more comes back in 600 / 32 s (less what has refilled meanwhile).
      expect([error.code, error.message]).toEqual(["AC429", expect.stringMatching(/^Too many recorded actions by this service client: at most 32 every 600 s; retry in 1[89] s$/)]);
      expect(await recordActions(tx, asService(client), events(10))).toHaveLength(10);
      expect((await left()).tokens).toBeCloseTo(0, 1);
    }));

  it("does not spend the allowance on retried keys", () =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 2, window: 600 });
      const me = newUserId();
      const first = await recordActions(tx, asUser(me), [
        { action: "tasks_completed", idempotency_key: "k1" },
        { action: "tasks_completed", idempotency_key: "k2" },
      ]);
      for (let retry = 0; retry < 3; retry++) {
        expect(
          await recordActions(tx, asUser(me), [
            { action: "tasks_completed", idempotency_key: "k2" },
            { action: "tasks_completed", idempotency_key: "k1" },
          ]),
        ).toEqual([first[1], first[0]]);
      }
      expect((await recordActionsError(tx, asUser(me), [{ action: "tasks_completed", idempotency_key: "k3" }])).code).toBe("AC429");
    }));
});

// ------------------------------------------------------------------------------------------------------
// Bulk equals replay: a realistic history recorded in batches and, for twin users, event by event.

const USERS = 30;
const DAYS = 20;

/** ~20 days of activity for each user: some daily regulars (streaks), some sporadic ones, at all hours. */
const makeHistory = (seed: number) =>
  makeSharedHistory(seed, USERS, DAYS, ["logins", "tasks_completed", "tasks_completed", "lessons_finished", "bb_post", "bb_post", "bb_like"], (action, below) =>
    action === "bb_like" ? 1 + below(5) : 1 + below(action === "bb_post" ? 3 : 10),
  );

/** A catalog of its own beside the demo's: counts, streaks (per action and any activity), a window wrapping midnight, levels. */
async function bulkCatalog(tx: TestTransaction) {
  await tx.as(asAdmin(), `
    insert into status_public.actions (name, client_reportable, max_amount) values ('bb_post', true, 3), ('bb_like', true, 5);
    insert into status_public.achievements (id, name, points, position) values
      ('bb_posts_5', 'bb 5 posts', 20, 900), ('bb_posts_20', 'bb 20 posts', 60, 901), ('bb_post_streak_3', 'bb post streak', 40, 902),
      ('bb_active_5', 'bb active 5 days', 50, 903), ('bb_night_likes', 'bb night likes', 30, 904), ('bb_likes_10', 'bb 10 likes', 25, 905),
      ('bb_night_poster', 'bb night poster', 70, 906);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values
      ('bb_posts_5', 'count', 'bb_post', 5, null, null),
      ('bb_posts_20', 'count', 'bb_post', 20, null, null),
      ('bb_post_streak_3', 'streak', 'bb_post', 3, null, null),
      ('bb_active_5', 'streak', null, 5, null, null),
      ('bb_night_likes', 'time_of_day', 'bb_like', null, 22, 2),
      ('bb_likes_10', 'count', 'bb_like', 10, null, null),
      ('bb_night_poster', 'count', 'bb_post', 8, null, null),
      ('bb_night_poster', 'time_of_day', 'bb_post', null, 20, 24);
    insert into status_public.levels (name) values ('bb-regular'), ('bb-star');
    insert into status_public.level_requirements (name, level, required_count) values
      ('bb_post', 'bb-regular', 6), ('logins', 'bb-regular', 4),
      ('bb_like', 'bb-star', 20), ('tasks_completed', 'bb-star', 30), ('bb_post', 'bb-star', 10);
    insert into status_public.tiers (name, min_points, badge) values ('bb-tier', 150, '')`);
}

/** A result without what differs between the twin users (step ids, users) or is the user's total after a batch. */
const comparable = (result: Result) => ({
  action: result.action,
  amount: result.amount,
  tally: result.tally,
  unlocked: result.unlocked,
  points_awarded: result.points_awarded,
  tier_before: result.tier_before,
  tier_after: result.tier_after,
  current_streak: result.current_streak,
  levels_achieved: result.levels_achieved,
});

describe("record_actions: bulk equals replay", () => {
  it.each([20260601, 7])("gives the same tallies, streaks, unlocks, levels, scores and leaderboards as recording one by one (seed %i)", (seed) =>
    withTransaction(async (tx) => {
      await rateLimits(tx, { user: 0, service: 0 }); // off: thousands of events in one transaction
      await bulkCatalog(tx);
      const { events, timeZones } = makeHistory(seed);
      const bulkUsers = Array.from({ length: USERS }, newUserId);
      const replayUsers = Array.from({ length: USERS }, newUserId);
      for (let user = 0; user < USERS; user++) {
        for (const id of [bulkUsers[user], replayUsers[user]]) {
          await tx.as(asUser(id), "select status_public.set_my_profile(time_zone => $1)", [timeZones[user]]);
        }
      }
      expect(events.length).toBeGreaterThan(600);
      expect(new Set(events.map((event) => event.action)).size).toBe(5);

      // In batches of 97: a batch holds many users, several events of a user and several days.
      const bulkResults: Result[] = [];
      for (let start = 0; start < events.length; start += 97) {
        const batch = events.slice(start, start + 97).map((event) => ({
          user_id: bulkUsers[event.user],
          action: event.action,
          amount: event.amount,
          occurred_at: event.at,
        }));
        bulkResults.push(...(await recordActions(tx, asService(), batch)));
      }
      const replayResults: Result[] = [];
      for (const event of events) {
        replayResults.push(await recordFor(tx, { user_id: replayUsers[event.user], action: event.action, amount: event.amount, occurred_at: event.at }));
      }

      // The end state, user by user.
      let unlocks = 0;
      for (let user = 0; user < USERS; user++) {
        const [bulk, replay] = [await stateOf(tx, bulkUsers[user]), await stateOf(tx, replayUsers[user])];
        expect({ user, ...bulk }).toEqual({ user, ...replay });
        unlocks += bulk.unlocks.length;
      }
      // The history reaches most of the catalog (so that the comparison means something).
      const reached = await tx.root<{ achievement_id: string }>(
        "select distinct achievement_id from status_public.achievement_unlocks where user_id = any($1) order by 1",
        [bulkUsers],
      );
      expect(reached.map((row) => row.achievement_id)).toEqual(
        expect.arrayContaining(["bb_active_5", "bb_likes_10", "bb_night_likes", "bb_post_streak_3", "bb_posts_5", "early_bird", "night_owl", "streak_3", "streak_7", "tasks_completed_50"]),
      );
      expect(unlocks).toBeGreaterThan(USERS * 4);
      expect((await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_levels where user_id = any($1)", [bulkUsers]))[0].n).toBeGreaterThan(5);

      // Each event's result, as of that event (the total points of a batch are the user's after it).
      expect(bulkResults.map(comparable)).toEqual(replayResults.map(comparable));
    }),
  120_000);
});

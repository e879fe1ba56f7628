// import_actions: the bulk path for historical events (issue 10, migration 000014, 5-import.sql). One insert that
// skips the live event path, then tallies, boards, streaks, unlocks, points and levels derived set-based: the same
// end state as replaying the events one by one through record_action_for in occurred order; idempotency keys
// skipped; record_actions's checks; the service role and admins only; and no other caller can skip the engine.
import { type Actor, anonymous, asAdmin, asService, asUser, middayTimeZone, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";
import { generator, makeHistory } from "../../helpers/history";

interface ActionEvent {
  user_id?: string | null;
  action: string;
  amount?: number | null;
  idempotency_key?: string | null;
  occurred_at?: string | null;
}

interface Summary {
  events: number;
  imported: number;
  skipped: number;
  users: number;
  unlocks: number;
  points: number;
  levels_achieved: number;
}

const EVENTS = `array(select jsonb_populate_record(null::status_public.action_event, listed.event)
                      from jsonb_array_elements($1::jsonb) with ordinality as listed (event, position) order by listed.position)`;

const importActions = async (tx: TestTransaction, actor: Actor, events: ActionEvent[], notify = false) =>
  (await tx.as<Summary>(actor, `select * from status_public.import_actions(${EVENTS}, $2)`, [JSON.stringify(events), notify]))[0];

const importError = (tx: TestTransaction, actor: Actor, events: ActionEvent[]) =>
  tx.expectError(actor, `select * from status_public.import_actions(${EVENTS})`, [JSON.stringify(events)]);

const recordFor = (tx: TestTransaction, event: ActionEvent) =>
  tx.as(asService(), "select status_public.record_action_for($1, $2, $3, $4, $5)", [
    event.user_id,
    event.action,
    event.amount ?? 1,
    event.idempotency_key ?? null,
    event.occurred_at ?? null,
  ]);

const stepsOf = async (tx: TestTransaction, userIds: string[]) =>
  (await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = any($1)", [userIds]))[0].n;

/** A user's derived rows, with what differs between twin users (ids) replaced by what identifies them (the step's action and time). */
async function stateOf(tx: TestTransaction, userId: string) {
  const [tallies, streaks, unlocks, levels, score, boards] = await Promise.all([
    tx.root("select name, count from status_public.user_achievements where user_id = $1 order by name", [userId]),
    tx.root(
      "select action, current_length, longest_length, last_day::text from status_public.user_streaks where user_id = $1 order by action nulls first",
      [userId],
    ),
    tx.root(
      `select unlock.achievement_id, unlock.points, unlock.points_multiplier, unlock.unlocked_at = now() as now, step.name, step.occurred_at, step.count,
              (select sum(ledger.points)::int from status_public.points_ledger as ledger where ledger.unlock_id = unlock.id) as ledger
       from status_public.achievement_unlocks as unlock join status_public.user_steps as step on step.id = unlock.step_id and step.user_id = unlock.user_id
       where unlock.user_id = $1 order by unlock.achievement_id`,
      [userId],
    ),
    tx.root(
      `select achieved.level, step.name, step.occurred_at from status_public.user_levels as achieved
       join status_public.user_steps as step on step.id = achieved.step_id and step.user_id = achieved.user_id
       where achieved.user_id = $1 order by achieved.level`,
      [userId],
    ),
    tx.root("select points, tier, reached_at from status_public.user_scores where user_id = $1", [userId]),
    tx.root(
      `select action, period, period_start::text, points, reached_at, visible from status_public.leaderboard_scores
       where user_id = $1 order by action, period, period_start`,
      [userId],
    ),
  ]);
  return { tallies, streaks, unlocks, levels, score, boards };
}

/** Beside the demo catalog: a ranked action, criteria that combine kinds (a streak or an hour with a count), levels, a points multiplier. */
async function importCatalog(tx: TestTransaction) {
  await tx.as(
    asAdmin(),
    `
    insert into status_public.actions (name, client_reportable, max_amount, ranked) values ('ii_post', true, 3, false), ('ii_like', true, 5, true);
    insert into status_public.achievements (id, name, points, position) values
      ('ii_posts_5', 'ii 5 posts', 20, 900), ('ii_post_streak_2', 'ii post streak', 40, 901), ('ii_active_4', 'ii active 4 days', 50, 902),
      ('ii_night_likes', 'ii night likes', 30, 903), ('ii_steady', 'ii steady poster', 60, 904), ('ii_evening_poster', 'ii evening poster', 70, 905);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values
      ('ii_posts_5', 'count', 'ii_post', 5, null, null),
      ('ii_post_streak_2', 'streak', 'ii_post', 2, null, null),
      ('ii_active_4', 'streak', null, 4, null, null),
      ('ii_night_likes', 'time_of_day', 'ii_like', null, 22, 2),
      -- A count with a streak that may have broken meanwhile, and a count with an hour.
      ('ii_steady', 'count', 'ii_like', 6, null, null),
      ('ii_steady', 'streak', 'logins', 3, null, null),
      ('ii_evening_poster', 'count', 'ii_post', 4, null, null),
      ('ii_evening_poster', 'time_of_day', 'ii_post', null, 18, 23);
    insert into status_public.levels (name) values ('ii-regular');
    insert into status_public.level_requirements (name, level, required_count) values ('ii_post', 'ii-regular', 6), ('logins', 'ii-regular', 4);
    insert into status_public.points_multipliers (name, multiplier, starts_at, ends_at) values ('ii double', 2, '2026-06-05', '2026-06-08')`,
  );
}

const USERS = 24;

/** Unlocks, their points and levels of the users, in all. */
async function totalsOf(tx: TestTransaction, userIds: string[]) {
  return (
    await tx.root<{ unlocks: number; points: number; levels: number }>(
      `select (select count(*)::int from status_public.achievement_unlocks where user_id = any($1)) as unlocks,
              (select coalesce(sum(points), 0)::int from status_public.achievement_unlocks where user_id = any($1)) as points,
              (select count(*)::int from status_public.user_levels where user_id = any($1)) as levels`,
      [userIds],
    )
  )[0];
}

/** The events in a random order, except that a user's events at the same instant keep their order. */
function shuffledKeepingTies<T extends { user: number; at: string | null }>(events: T[], random: ReturnType<typeof generator>): T[] {
  const shuffled = [...events];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const tie = (event: T) => `${event.user}|${event.at}`;
  const groups = new Map<string, T[]>();
  for (const event of events) groups.set(tie(event), [...(groups.get(tie(event)) ?? []), event]);
  const next = new Map<string, number>();
  return shuffled.map((event) => {
    const index = next.get(tie(event)) ?? 0;
    next.set(tie(event), index + 1);
    return groups.get(tie(event))![index];
  });
}

describe("import_actions: bulk equals replay", () => {
  it.each([20261201, 11])("leaves the tallies, streaks, unlocks, points, levels and boards that recording one by one leaves (seed %i)", (seed) =>
    withTransaction(async (tx) => {
      await tx.root(
        `select set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)`,
      );
      await importCatalog(tx);
      const { events, timeZones } = makeHistory(seed, USERS, 14, ["logins", "tasks_completed", "ii_post", "ii_post", "ii_like", "lessons_finished"], (_action, below) => 1 + below(3));
      const random = generator(seed + 1);
      const [bulkUsers, replayUsers] = [Array.from({ length: USERS }, newUserId), Array.from({ length: USERS }, newUserId)];
      for (let user = 0; user < USERS; user++) {
        for (const id of [bulkUsers[user], replayUsers[user]]) {
          await tx.as(asUser(id), "select status_public.set_my_profile(time_zone => $1)", [timeZones[user]]);
          // Two users hold streak freezes (their events take the live path inside the import).
          if (user < 2) await tx.as(asService(), "select status_public.grant_streak_freezes($1, 2)", [id]);
        }
      }
      // A prior history for both twins, recorded live: a random fifth of the events, so that some imported events
      // are older than a user's latest step. The rest (and a few at "now") are imported, or replayed one by one.
      const prior = events.filter(() => random.next() < 0.2);
      const priorEvents = new Set(prior);
      const rest = events.filter((event) => !priorEvents.has(event));
      const later = [0, 1, 2, 3].map((user) => ({ user, action: "ii_like", amount: 2, at: null as string | null }));
      for (const event of prior) {
        for (const users of [bulkUsers, replayUsers]) {
          await recordFor(tx, { user_id: users[event.user], action: event.action, amount: event.amount, occurred_at: event.at });
        }
      }
      const toImport = [...rest, ...later];
      expect(toImport.length).toBeGreaterThan(300);

      const before = await totalsOf(tx, bulkUsers);
      // Imported in batches of 97, each shuffled: the function applies each user's events in occurred order (and
      // same-instant events in input order, so those keep their relative order).
      const summaries: Summary[] = [];
      for (let start = 0; start < toImport.length; start += 97) {
        const batch = shuffledKeepingTies(toImport.slice(start, start + 97), random).map((event) => ({
          user_id: bulkUsers[event.user],
          action: event.action,
          amount: event.amount,
          occurred_at: event.at,
        }));
        summaries.push(await importActions(tx, asService(), batch));
      }
      for (const event of toImport) {
        await recordFor(tx, { user_id: replayUsers[event.user], action: event.action, amount: event.amount, occurred_at: event.at });
      }

      let unlocks = 0;
      for (let user = 0; user < USERS; user++) {
        const [bulk, replay] = [await stateOf(tx, bulkUsers[user]), await stateOf(tx, replayUsers[user])];
        expect({ user, ...bulk }).toEqual({ user, ...replay });
        unlocks += bulk.unlocks.length;
      }
      // The history reaches the catalog's combinations (so that the comparison means something).
      const reached = await tx.root<{ achievement_id: string }>(
        "select distinct achievement_id from status_public.achievement_unlocks where user_id = any($1) order by 1",
        [bulkUsers],
      );
      expect(reached.map((row) => row.achievement_id)).toEqual(
        expect.arrayContaining(["ii_active_4", "ii_night_likes", "ii_post_streak_2", "ii_posts_5", "ii_steady", "ii_evening_poster", "streak_3", "early_bird"]),
      );
      expect((await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_levels where user_id = any($1)", [bulkUsers]))[0].n).toBeGreaterThan(3);

      // The summaries add up to what the imports did.
      const total = (field: keyof Summary) => summaries.reduce((sum, summary) => sum + summary[field], 0);
      const after = await totalsOf(tx, bulkUsers);
      expect([total("events"), total("imported"), total("skipped")]).toEqual([toImport.length, toImport.length, 0]);
      expect([total("unlocks"), total("points"), total("levels_achieved")]).toEqual([after.unlocks - before.unlocks, after.points - before.points, after.levels - before.levels]);
      expect(unlocks).toBeGreaterThan(USERS * 3);
    }),
  );
});

describe("import_actions: idempotency keys", () => {
  it("skips events whose key the user already used, counts them, and imports the rest", () =>
    withTransaction(async (tx) => {
      const [ada, bob] = [newUserId(), newUserId()];
      await recordFor(tx, { user_id: ada, action: "tasks_completed", idempotency_key: "t-1" });
      // Bob's login unlocks nothing at any hour (no early_bird or night_owl).
      await tx.root("insert into status_public.user_profiles (user_id, time_zone) values ($1, $2)", [bob, middayTimeZone()]);
      const first = await importActions(tx, asService(), [
        { user_id: ada, action: "tasks_completed", idempotency_key: "t-1" }, // recorded live before
        { user_id: ada, action: "tasks_completed", amount: 9, idempotency_key: "t-2" },
        { user_id: bob, action: "tasks_completed", idempotency_key: "t-1" }, // another user's key
        { user_id: bob, action: "logins" },
      ]);
      expect(first).toEqual({ events: 4, imported: 3, skipped: 1, users: 2, unlocks: 3, points: 10 + 100 + 75 /* launch_sprint: the demo catalog's launch month is now */, levels_achieved: 0 });
      // The same import again: every keyed event is skipped, the unkeyed one counts again.
      const again = await importActions(tx, asService(), [
        { user_id: ada, action: "tasks_completed", idempotency_key: "t-1" },
        { user_id: ada, action: "tasks_completed", amount: 9, idempotency_key: "t-2" },
        { user_id: bob, action: "tasks_completed", idempotency_key: "t-1" },
      ]);
      expect(again).toEqual({ events: 3, imported: 0, skipped: 3, users: 0, unlocks: 0, points: 0, levels_achieved: 0 });
      expect(await tx.root("select user_id = $1 as ada, name, count from status_public.user_achievements where user_id = any($2) order by 1 desc, 2", [ada, [ada, bob]])).toEqual([
        { ada: true, name: "tasks_completed", count: 10 },
        { ada: false, name: "logins", count: 1 },
        { ada: false, name: "tasks_completed", count: 1 },
      ]);
    }));

  it("refuses a key already used for another action or amount, or used twice in the batch (AC409), importing nothing", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await recordFor(tx, { user_id: user, action: "tasks_completed", amount: 2, idempotency_key: "k" });
      const taken = await importError(tx, asService(), [
        { user_id: user, action: "logins" },
        { user_id: user, action: "tasks_completed", amount: 3, idempotency_key: "k" },
      ]);
      expect([taken.code, taken.message]).toEqual(["AC409", 'Event 2: the idempotency key "k" was already used for 2 x "tasks_completed"']);
      const twice = await importError(tx, asService(), [
        { user_id: user, action: "logins", idempotency_key: "x" },
        { user_id: user, action: "logins", idempotency_key: "x" },
      ]);
      expect([twice.code, twice.message]).toEqual(["AC409", 'Event 2: the idempotency key "x" is used twice in the batch']);
      expect(await stepsOf(tx, [user])).toBe(1);
    }));
});

describe("import_actions: checks", () => {
  it.each([
    ["no user", [{ action: "logins" }], "AC400", "Event 1: name the user (userId)"],
    ["an unknown action", [{ user_id: "u", action: "nope" }], "AC404", 'Event 1: unknown action "nope"'],
    ["an amount above the action's maxAmount", [{ user_id: "u", action: "tasks_completed", amount: 11 }], "AC400", 'Event 1: the amount must be a whole number from 1 to 10 for "tasks_completed", got 11'],
    ["an amount below 1", [{ user_id: "u", action: "tasks_completed", amount: 0 }], "AC400", 'Event 1: the amount must be a whole number from 1 to 10 for "tasks_completed", got 0'],
    ["a key longer than 200 characters", [{ user_id: "u", action: "logins", idempotency_key: "k".repeat(201) }], "AC400", "Event 1: the idempotency key must be 1 to 200 characters"],
  ])("refuses %s with a coded error, importing nothing of the batch", (_case, bad, code, message) =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const events = [{ user_id: user, action: "logins" }, ...(bad as ActionEvent[]).map((event) => ({ ...event, user_id: event.user_id && user }))];
      const error = await importError(tx, asService(), events);
      expect([error.code, error.message]).toEqual([code, message.replace("Event 1", "Event 2")]);
      expect(await stepsOf(tx, [user])).toBe(0);
    }),
  );

  it("bounds a call by achievements.record_actions_max_events (AC400), and takes no rate limit", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.root("select set_config('achievements.record_actions_max_events', '3', true), set_config('achievements.record_action_rate_limit', '1', true)");
      const events = Array.from({ length: 4 }, () => ({ user_id: user, action: "logins" }));
      const error = await importError(tx, asService(), events);
      expect([error.code, error.message, error.hint]).toEqual(["AC400", "At most 3 events a call, got 4", "Split the import (achievements.record_actions_max_events)."]);
      // Three events for one user whose live limit is one a minute.
      expect((await importActions(tx, asService(), events.slice(1))).imported).toBe(3);
    }));

  it("with an empty list imports nothing; a null list is refused", () =>
    withTransaction(async (tx) => {
      expect(await importActions(tx, asService(), [])).toEqual({ events: 0, imported: 0, skipped: 0, users: 0, unlocks: 0, points: 0, levels_achieved: 0 });
      const error = await tx.expectError(asService(), "select status_public.import_actions(null)");
      expect(error.code).toBe("AC400");
    }));
});

describe("import_actions: who may import, and who may skip the event path", () => {
  it("is for the service role and admins: other API roles have no EXECUTE (42501)", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      for (const actor of [anonymous, asUser(user)]) {
        expect((await importError(tx, actor, [{ user_id: user, action: "logins" }])).code).toBe("42501");
      }
      expect((await importActions(tx, asAdmin(), [{ user_id: user, action: "logins" }])).imported).toBe(1);
      expect(await tx.root("select name, count from status_public.user_achievements where user_id = $1", [user])).toEqual([{ name: "logins", count: 1 }]);
    }));

  it("skips the engine only for its own steps: the setting alone skips nothing, and no API role can write the token table", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await importActions(tx, asService(), [{ user_id: user, action: "tasks_completed" }]);
      // Nothing of the import is left for a later statement of the same transaction to use.
      expect(await tx.root("select count(*)::int as n, coalesce(current_setting('achievements.import_token', true), '') as token from status_private.import_tokens")).toEqual([
        { n: 0, token: "" },
      ]);
      // A caller that sets the setting (to anything) still goes through the engine.
      await tx.as(
        asService(),
        `select set_config('achievements.import_token', 'guess', true), status_public.record_action_for($1, 'tasks_completed', 1)`,
        [user],
      );
      await tx.root("select set_config('achievements.import_token', 'guess', true)");
      await tx.root("insert into status_public.user_steps (user_id, name, count) values ($1, 'tasks_completed', 1)", [user]);
      expect(await tx.root("select count from status_public.user_achievements where user_id = $1 and name = 'tasks_completed'", [user])).toEqual([{ count: 3 }]);
      for (const role of ["anonymous", "user", "service", "admin"] as const) {
        const error = await tx.expectError(
          { role, userId: user },
          "insert into status_private.import_tokens (backend_pid, transaction_id, token) values (pg_backend_pid(), pg_current_xact_id(), 'guess')",
        );
        expect(error.code).toBe("42501");
      }
    }));

  it("is quiet by default and gives the caller's notification setting back", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.root("select set_config('achievements.quiet_notifications', 'mine', true)");
      await importActions(tx, asService(), [{ user_id: user, action: "tasks_completed" }]);
      expect(await tx.root("select current_setting('achievements.quiet_notifications') as quiet")).toEqual([{ quiet: "mine" }]);
      await importActions(tx, asService(), [{ user_id: user, action: "tasks_completed" }], true);
      expect(await tx.root("select current_setting('achievements.quiet_notifications') as quiet")).toEqual([{ quiet: "mine" }]);
    }));
});

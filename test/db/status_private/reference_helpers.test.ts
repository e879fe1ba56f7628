// The reference package's step helpers (user_completed_step, user_incompleted_step, upsert_achievement):
// routed through the engine, for the service role only; and the tally's row going away at zero, exact
// when steps race (migration 000005).
import type pg from "pg";
import { removeUsersAndCheck } from "../../helpers/cleanup";
import { type Actor, anonymous, asAdmin, asService, asUser, newUserId, roles, rootPool, type TestTransaction, withTransaction } from "../../helpers/db";

const completed = (tx: TestTransaction, userId: string, step: string) =>
  tx.as(asService(), "select status_private.user_completed_step($1, $2)", [step, userId]);
const incompleted = (tx: TestTransaction, userId: string, step: string) =>
  tx.as(asService(), "select status_private.user_incompleted_step($1, $2)", [step, userId]);
const upsert = (tx: TestTransaction, userId: string, step: string, count: number) =>
  tx.as(asService(), "select status_private.upsert_achievement($1, $2, $3)", [userId, step, count]);

async function tally(db: TestTransaction | pg.Pool, userId: string, step: string): Promise<number | "no row"> {
  const sql = "select count from status_public.user_achievements where user_id = $1 and name = $2";
  const rows = "root" in db ? await db.root<{ count: number }>(sql, [userId, step]) : (await db.query<{ count: number }>(sql, [userId, step])).rows;
  return rows.length === 0 ? "no row" : rows[0].count;
}

const stepsLogged = async (tx: TestTransaction, userId: string) =>
  (await tx.root<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [userId]))[0].n;

describe("status_private.user_completed_step / user_incompleted_step / upsert_achievement", () => {
  it("count through the engine, as the service: tally, streak, unlocks, points and levels follow", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.levels (name) values ('t-helper');
        insert into status_public.level_requirements (name, level, required_count) values ('tasks_completed', 't-helper', 6)`);
      const user = newUserId();
      await completed(tx, user, "tasks_completed");
      expect(await tally(tx, user, "tasks_completed")).toBe(1);
      expect(await tx.root("select achievement_id, points from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([
        { achievement_id: "tasks_completed_1", points: 10 },
      ]);
      expect(await tx.root("select action, current_length from status_public.user_streaks where user_id = $1 order by action nulls first", [user])).toEqual([
        { action: null, current_length: 1 },
        { action: "tasks_completed", current_length: 1 },
      ]);

      await upsert(tx, user, "tasks_completed", 5);
      expect(await tally(tx, user, "tasks_completed")).toBe(6);
      // The score is the sum of what the unlocks awarded.
      expect(await tx.root("select points from status_public.user_scores where user_id = $1", [user])).toEqual(
        await tx.root("select sum(points)::int as points from status_public.achievement_unlocks where user_id = $1", [user]),
      );
      expect(await tx.root("select level from status_public.user_levels where user_id = $1", [user])).toEqual([{ level: "t-helper" }]);
      expect(await tx.root("select name, count from status_public.user_steps where user_id = $1 order by created_at, count", [user])).toEqual([
        { name: "tasks_completed", count: 1 },
        { name: "tasks_completed", count: 5 },
      ]);
    }));

  it("take upstream's parameter names in named notation, and credit the signed-in user by default", () =>
    withTransaction(async (tx) => {
      const [user, service] = [newUserId(), newUserId()];
      await tx.as(asService(), "select status_private.user_completed_step(user_id => $1, step => 'post')", [user]);
      await tx.as(asService(), "select status_private.upsert_achievement(vcount => 2, vname => 'post', vuser_id => $1)", [user]);
      await tx.as(asService(service), "select status_private.user_completed_step('post')");
      await tx.as(asService(service), "select status_private.user_incompleted_step(step => 'post')");
      expect(await tally(tx, user, "post")).toBe(3);
      expect(await tally(tx, service, "post")).toBe("no row");
    }));

  it("user_incompleted_step takes back one step, never below zero, and never wipes other progress", () =>
    withTransaction(async (tx) => {
      const [user, other] = [newUserId(), newUserId()];
      await upsert(tx, user, "post", 3);
      await upsert(tx, user, "like", 2);
      await upsert(tx, other, "post", 1);
      await incompleted(tx, user, "post");
      expect(await tally(tx, user, "post")).toBe(2);
      await incompleted(tx, user, "post");
      await incompleted(tx, user, "post");
      expect(await tally(tx, user, "post")).toBe("no row"); // back at zero: no row, as upstream
      const logged = await stepsLogged(tx, user);
      await incompleted(tx, user, "post"); // nothing left to take back: nothing logged, still zero
      expect(await stepsLogged(tx, user)).toBe(logged);
      await completed(tx, user, "post");
      expect(await tally(tx, user, "post")).toBe(1);
      expect(await tally(tx, user, "like")).toBe(2);
      expect(await tally(tx, other, "post")).toBe(1);
      // Unlocks and levels are never taken back.
      await completed(tx, user, "tasks_completed");
      await incompleted(tx, user, "tasks_completed");
      expect(await tx.root("select achievement_id from status_public.achievement_unlocks where user_id = $1", [user])).toEqual([{ achievement_id: "tasks_completed_1" }]);
    }));

  it("upsert_achievement adds vcount steps; 0 or NULL records nothing; negative counts take steps back, never below zero", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await upsert(tx, user, "post", 0);
      await tx.as(asService(), "select status_private.upsert_achievement($1, 'post', null)", [user]);
      expect(await stepsLogged(tx, user)).toBe(0);
      expect(await tally(tx, user, "post")).toBe("no row");
      await upsert(tx, user, "post", 4);
      await upsert(tx, user, "post", -1);
      expect(await tally(tx, user, "post")).toBe(3);
      await upsert(tx, user, "post", -10);
      expect(await tally(tx, user, "post")).toBe("no row");
      await upsert(tx, user, "post", 2);
      expect(await tally(tx, user, "post")).toBe(2);
    }));

  it("need a user: without one (and no signed-in user) UNAUTHENTICATED or a not-null violation, nothing recorded", () =>
    withTransaction(async (tx) => {
      const service: Actor = { role: "service", userId: null };
      expect((await tx.expectError(service, "select status_private.user_completed_step('post')")).code).toBe("AC401");
      expect((await tx.expectError(service, "select status_private.user_incompleted_step('post')")).code).toBe("AC401");
      expect((await tx.expectError(service, "select status_private.upsert_achievement(null, 'post', 1)")).code).toBe("23502");
    }));

  it.each([
    ["anonymous", anonymous],
    ["a user", asUser(newUserId())],
    ["an admin", asAdmin()],
  ])("are refused to %s (permission denied), even about themselves", (_, actor) =>
    withTransaction(async (tx) => {
      const me = actor.userId ?? newUserId();
      for (const call of [
        "select status_private.user_completed_step('post', $1)",
        "select status_private.user_incompleted_step('post', $1)",
        "select status_private.upsert_achievement($1, 'post', 1000)",
      ]) {
        expect({ call, code: (await tx.expectError(actor, call, [me])).code }).toEqual({ call, code: "42501" });
      }
      expect(await stepsLogged(tx, me)).toBe(0);
    }));
});

describe("a tally back at zero loses its row, exactly, when steps race", () => {
  const pool = rootPool(8);
  const users: string[] = [];
  afterAll(async () => {
    try {
      await removeUsersAndCheck(pool, users);
    } finally {
      await pool.end();
    }
  });

  /** A connection in an open transaction as the service role. */
  async function serviceTransaction(isolation: "read committed" | "repeatable read" = "read committed"): Promise<pg.PoolClient> {
    const client = await pool.connect();
    await client.query(`begin isolation level ${isolation}`);
    // More calls for one user than the rate limit allows: limits off, as in the other concurrency tests.
    await client.query(
      "select set_config('role', $1, true), set_config('achievements.record_action_rate_limit', '0', true), set_config('achievements.record_action_service_rate_limit', '0', true)",
      [roles.service],
    );
    return client;
  }

  /** Waits until the backend of `client` waits for a lock (it is blocked behind the other transaction). */
  async function blocked(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID: number }).processID;
    for (;;) {
      const { rows } = await pool.query("select wait_event_type from pg_stat_activity where pid = $1", [pid]);
      if (rows[0]?.wait_event_type === "Lock") return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function race(first: string, second: string, userId: string): Promise<void> {
    const [a, b] = [await serviceTransaction(), await serviceTransaction()];
    try {
      await a.query(first, [userId]);
      const waiting = b.query(second, [userId]);
      await blocked(b);
      await a.query("commit");
      await waiting;
      await b.query("commit");
    } finally {
      a.release();
      b.release();
    }
  }

  it("a step recorded while the last one is taken back gets a new row (the upsert waits, then inserts)", async () => {
    const user = newUserId();
    users.push(user);
    await pool.query("select status_private.user_completed_step('race', $1)", [user]);
    await race("select status_private.user_incompleted_step('race', $1)", "select status_private.user_completed_step('race', $1)", user);
    expect(await tally(pool, user, "race")).toBe(1);
  });

  it("a step taken back while the first one is recorded removes the row it waited for", async () => {
    const user = newUserId();
    users.push(user);
    await pool.query("select status_private.user_completed_step('warm_up', $1)", [user]); // so that only the tally row is contended
    await race("select status_private.user_completed_step('race', $1)", "select status_private.upsert_achievement($1, 'race', -1)", user);
    expect(await tally(pool, user, "race")).toBe("no row");
  });

  /** sum(user_steps.count) of the user's step: what re-inserting the steps would rebuild the tally from. */
  const stepsSum = async (userId: string, step: string) =>
    (await pool.query<{ sum: number }>("select coalesce(sum(count), 0)::int as sum from status_public.user_steps where user_id = $1 and name = $2", [userId, step])).rows[0].sum;

  it("two take-backs racing on a tally of 1: the second waits, then finds nothing to take back (no step below zero)", async () => {
    const user = newUserId();
    users.push(user);
    await pool.query("select status_private.user_completed_step('race', $1)", [user]);
    await race("select status_private.user_incompleted_step('race', $1)", "select status_private.user_incompleted_step('race', $1)", user);
    expect(await tally(pool, user, "race")).toBe("no row");
    expect(await stepsSum(user, "race")).toBe(0);
  });

  it("a take-back under repeatable read whose snapshot predates a committed take-back is a serialization failure", async () => {
    const user = newUserId();
    users.push(user);
    await pool.query("select status_private.user_completed_step('race', $1)", [user]);
    const late = await serviceTransaction("repeatable read"); // its snapshot still has the tally of 1
    try {
      await pool.query("select status_private.user_incompleted_step('race', $1)", [user]);
      await expect(late.query("select status_private.user_incompleted_step('race', $1)", [user])).rejects.toMatchObject({ code: "40001" });
    } finally {
      await late.query("rollback");
      late.release();
    }
    expect(await tally(pool, user, "race")).toBe("no row");
    expect(await stepsSum(user, "race")).toBe(0);
  });

  it("a take-back under repeatable read with no race takes back one step as usual", async () => {
    const user = newUserId();
    users.push(user);
    await pool.query("select status_private.upsert_achievement($1, 'race', 2)", [user]);
    for (const expected of [1, "no row"]) {
      const client = await serviceTransaction("repeatable read");
      try {
        await client.query("select status_private.user_incompleted_step('race', $1)", [user]);
        await client.query("commit");
      } finally {
        client.release();
      }
      expect(await tally(pool, user, "race")).toBe(expected);
    }
    expect(await stepsSum(user, "race")).toBe(0);
  });

  it("is exact with many connections completing and taking back steps at once", async () => {
    const user = newUserId();
    users.push(user);
    const writers = 4;
    const rounds = 30;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        // Each writer takes back only its own step, so the exact tally is known whatever the interleaving.
        for (let round = 0; round < rounds; round++) {
          for (const helper of ["user_completed_step", "user_incompleted_step"]) {
            const client = await serviceTransaction();
            try {
              await client.query(`select status_private.${helper}('race', $1)`, [user]);
              await client.query("commit");
            } finally {
              client.release();
            }
          }
        }
        await pool.query("select status_private.user_completed_step('race', $1)", [user]);
      }),
    );
    expect(await tally(pool, user, "race")).toBe(writers);
  });
});

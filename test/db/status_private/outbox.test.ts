// The outbox (migration 000009, 7-outbox.sql): one row per unlock, tier change and level, written in the
// transaction that made it (none when it rolls back, none when nothing of interest changed); positions given
// in commit order, so a cursor cannot skip an event that committed late; the service's read of every user's
// events refused to other roles; pruning keeps what is not delivered yet.
import type pg from "pg";
import { removeUsersAndCheck, TrackedUsers } from "../../helpers/cleanup";
import { asAdmin, asService, asUser, anonymous, newUserId, rootPool, withTransaction } from "../../helpers/db";

interface OutboxRow {
  id: string;
  kind: string;
  user_id: string;
  payload: Record<string, unknown>;
  position: string | null;
}

// Ordered by the bigint id (the output column `id` is its text, which would sort "10" before "9").
const OUTBOX_OF = "select event.id::text, event.kind::text, event.user_id::text, event.payload, event.position::text from status_private.outbox_events as event where event.user_id = $1 order by event.id";

describe("the outbox", () => {
  let root: pg.Pool;
  const users = new TrackedUsers();

  beforeAll(() => {
    root = rootPool(3);
  });

  afterAll(async () => {
    await removeUsersAndCheck(root, users.ids);
    await root.end();
  });

  it("gets one row per unlock and tier change of an action, in its transaction, and none once it rolls back", async () => {
    const user = newUserId();
    await withTransaction(async (tx) => {
      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 10)", [user]);
      const rows = await tx.root<OutboxRow>(OUTBOX_OF, [user]);
      expect(rows.map((row) => row.kind)).toEqual(["achievement_unlocked", "achievement_unlocked", "achievement_unlocked", "tier_changed"]);
      const unlocks = await tx.root<{ id: string; achievement_id: string; points: number; cursor: number; unlocked_at: Date }>(
        "select id::text, achievement_id, points, cursor, unlocked_at from status_public.achievement_unlocks where user_id = $1 order by cursor",
        [user],
      );
      expect(rows.slice(0, 3).map((row) => row.payload)).toEqual(
        unlocks.map((unlock) => ({
          userId: user,
          unlockId: unlock.id,
          achievementId: unlock.achievement_id,
          achievementName: expect.any(String),
          points: unlock.points,
          cursor: unlock.cursor,
          unlockedAt: expect.any(String),
        })),
      );
      expect(rows[3].payload).toEqual({ userId: user, tier: "Student", previousTier: "Beginner", points: 185 });
      expect(rows.every((row) => row.position === null)).toBe(true); // published only after commit
    });
    // Another connection: nothing of the rolled-back action.
    const { rows } = await root.query(OUTBOX_OF, [user]);
    expect(rows).toEqual([]);
  });

  it("gets no row for a step that unlocks nothing and changes no tier, and one for a level", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
      expect((await tx.root<OutboxRow>(OUTBOX_OF, [user])).map((row) => row.payload.achievementId)).toEqual(["tasks_completed_1"]);
      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
      expect(await tx.root<OutboxRow>(OUTBOX_OF, [user])).toHaveLength(1);

      await tx.root("insert into status_public.user_levels (user_id, level) values ($1, 'newbie')", [user]);
      const [level] = (await tx.root<OutboxRow>(OUTBOX_OF, [user])).slice(1);
      expect(level).toMatchObject({ kind: "level_achieved", payload: { userId: user, level: "newbie", cursor: 2 } });
    }));

  it("gives positions in commit order: an event that commits late comes after those published before it", async () => {
    const [late, early] = [users.make(), users.make()];
    const slow = await root.connect();
    try {
      await slow.query("begin");
      await slow.query("select status_private.record_action($1, 'tasks_completed', 1, null, null)", [late]); // the lower id
      await root.query("select status_private.record_action($1, 'tasks_completed', 1, null, null)", [early]);
      await root.query("select status_private.publish_outbox_events()");
      const [earlyRow] = (await root.query<OutboxRow>(OUTBOX_OF, [early])).rows;
      expect(earlyRow.position).not.toBeNull();
      await slow.query("commit");
    } finally {
      slow.release();
    }
    await root.query("select status_private.publish_outbox_events()");
    const [lateRow] = (await root.query<OutboxRow>(OUTBOX_OF, [late])).rows;
    const [earlyRow] = (await root.query<OutboxRow>(OUTBOX_OF, [early])).rows;
    expect(BigInt(lateRow.id)).toBeLessThan(BigInt(earlyRow.id));
    expect(BigInt(lateRow.position!)).toBeGreaterThan(BigInt(earlyRow.position!));
  });

  it("answers every user's events to the service only (FORBIDDEN for the others) and checks its arguments", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await tx.as(asService(), "select status_public.record_action_for($1, 'tasks_completed', 1)", [user]);
      await tx.root("select status_private.publish_outbox_events()");
      const [{ position }] = await tx.root<{ position: string }>("select position::text from status_private.outbox_events where user_id = $1", [user]);
      const [{ events }] = await tx.as<{ events: string }>(asService(), "select status_public.achievement_events($1 - 1, 1)::text as events", [position]);
      expect(events).toContain(user);
      for (const actor of [anonymous, asUser(user), asAdmin()]) {
        const error = await tx.expectError(actor, "select status_public.achievement_events(0, 10)");
        expect({ role: actor.role, code: error.code }).toEqual({ role: actor.role, code: "AC403" });
      }
      for (const [after, first] of [[0, 0], [0, 1001], [-1, 10], [null, 10]]) {
        expect((await tx.expectError(asService(), "select status_public.achievement_events($1, $2)", [after, first])).code).toBe("AC400");
      }
    }));

  it("prunes delivered events older than the retention, with their deliveries; keeps the undelivered and the unpublished", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      const [{ endpoint_id: endpoint }] = await tx.root<{ endpoint_id: string }>("select endpoint_id from status_public.create_webhook_endpoint('http://127.0.0.1:9/hook')");
      // Published two hours ago: without a delivery, delivered, dead, pending; and one not published.
      const ids = await tx.root<{ id: string }>(
        `insert into status_private.outbox_events (kind, user_id, occurred_at, payload, position, published_at)
         select 'level_achieved', $1, now(), '{}', case when published then nextval('status_private.outbox_event_positions') end,
                case when published then now() - interval '2 hours' end
         from (values (null, true), ('delivered', true), ('dead', true), ('pending', true), (null, false)) as wanted (state, published)
         returning id::text`,
        [user],
      );
      const states = [null, "delivered", "dead", "pending", null];
      for (const [i, state] of states.entries()) {
        if (state) await tx.root("insert into status_public.webhook_deliveries (endpoint_id, event_id, state) values ($1, $2, $3)", [endpoint, ids[i].id, state]);
      }
      const [{ pruned }] = await tx.root<{ pruned: number }>("select status_private.prune_outbox(interval '1 hour') as pruned");
      expect(pruned).toBe(2); // without a delivery, and delivered (a test run holds no other event that old)
      const kept = await tx.root<{ id: string }>("select event.id::text from status_private.outbox_events as event where event.user_id = $1 order by event.id", [user]);
      expect(kept.map((row) => row.id)).toEqual([ids[2].id, ids[3].id, ids[4].id]);
      const deliveries = await tx.root<{ state: string }>("select state::text from status_public.webhook_deliveries where endpoint_id = $1 order by state", [endpoint]);
      expect(deliveries.map((row) => row.state)).toEqual(["dead", "pending"]);
    }));
});

// Notifications relayed by the outbox publisher (migration 000018): a writer with
// `achievements.notification_relay` on sends no NOTIFY at its commit (so it takes no NOTIFY lock); publishing
// its events sends the notifications a writer without it sends, in the same order, once; the events of a
// writer that notified are not notified again; quiet writes (a backfill's) are told to nobody.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { removeUsersAndCheck, TrackedUsers } from "../../helpers/cleanup";
import { rootPool, testDatabaseUrl } from "../../helpers/db";
import { waitUntil } from "../../helpers/graphql-client";

interface Notification {
  event: string;
  id: string;
}

const PUBLISHER_LOCK = "select pg_advisory_xact_lock(hashtext('status_private.publish_outbox_events'))";

const users = new TrackedUsers();
let root: pg.Pool;
let listener: pg.Client;
const received: { channel: string; payload: string }[] = [];

beforeAll(async () => {
  root = rootPool(4);
  listener = new pg.Client({ connectionString: testDatabaseUrl() });
  listener.on("notification", (message) => received.push({ channel: message.channel, payload: message.payload ?? "" }));
  await listener.connect();
});

afterAll(async () => {
  await listener?.end();
  await removeUsersAndCheck(root, users.ids);
  await root.end();
});

/** A user whose channel the listener follows. */
async function listenedUser(): Promise<string> {
  const user = users.make();
  await listener.query(`listen "achievements:${user}"`);
  return user;
}

/**
 * What `user`'s channel got since the last call: a sentinel is notified now, and notifications arrive in commit
 * order, so when it has arrived so have those of every transaction that committed before.
 */
async function notificationsOf(user: string): Promise<Notification[]> {
  const channel = `achievements:${user}`;
  const sentinel = randomUUID();
  await root.query("select pg_notify($1, $2)", [channel, sentinel]);
  await waitUntil(
    () => received.some((message) => message.payload === sentinel),
    () => `the sentinel on ${channel}`,
  );
  const mine = received.filter((message) => message.channel === channel);
  for (const message of mine) received.splice(received.indexOf(message), 1);
  return mine.filter((message) => message.payload !== sentinel).map((message) => JSON.parse(message.payload) as Notification);
}

/**
 * Runs `write` on a connection with these settings (committed), while holding the publisher's lock: no other
 * test file's dispatcher on this database publishes (and so relays) the events before `notificationsOf` looks.
 */
async function committedWithoutPublisher(settings: Record<string, string>, write: (client: pg.PoolClient) => Promise<void>): Promise<void> {
  const [lock, writer] = await Promise.all([root.connect(), root.connect()]);
  try {
    await lock.query("begin");
    await lock.query(PUBLISHER_LOCK);
    for (const [name, value] of Object.entries(settings)) await writer.query("select set_config($1, $2, false)", [name, value]);
    await write(writer);
  } finally {
    await lock.query("rollback").catch(() => undefined);
    lock.release();
    // The settings are the session's: this connection goes back to the pool without them.
    writer.release(true);
  }
}

/** Publishes every committed event (another publisher may have taken some first: they are published too, then). */
const publish = () => root.query("select status_private.publish_outbox_events(100000)");

async function completeTasks(client: pg.PoolClient, user: string, amount: number): Promise<void> {
  await client.query("select status_private.record_action($1, 'tasks_completed', $2, null, null)", [user, amount]);
}

/** The user's unlocks' ids, in the order they were unlocked. */
const unlockIdsOf = async (user: string) =>
  (await root.query<{ id: string }>("select id::text from status_public.achievement_unlocks where user_id = $1 order by cursor", [user])).rows.map((row) => row.id);

const relayedOf = async (user: string) =>
  (await root.query<{ relayed: boolean }>("select event.relay_notification as relayed from status_private.outbox_events as event where event.user_id = $1 order by event.id", [user])).rows.map(
    (row) => row.relayed,
  );

describe("notifications relayed by the outbox publisher", () => {
  it("leave the writer's commit without a notification, and come with the publishing, as a writer that notifies sends them", async () => {
    const [direct, relayed] = [await listenedUser(), await listenedUser()];
    await committedWithoutPublisher({}, (client) => completeTasks(client, direct, 10));
    await committedWithoutPublisher({ "achievements.notification_relay": "on" }, (client) => completeTasks(client, relayed, 10));

    const fromDirectWriter = await notificationsOf(direct);
    const expected = (unlockIds: string[]) => [
      ...unlockIds.map((id) => ({ event: "achievement_unlocked", id })),
      { event: "tier_changed", id: "Student" },
    ];
    expect(fromDirectWriter).toEqual(expected(await unlockIdsOf(direct)));
    expect(await notificationsOf(relayed)).toEqual([]);
    expect(await relayedOf(direct)).toEqual([false, false, false, false]);
    expect(await relayedOf(relayed)).toEqual([true, true, true, true]);

    await publish();
    expect(await notificationsOf(relayed)).toEqual(expected(await unlockIdsOf(relayed)));
    expect(await notificationsOf(direct)).toEqual([]); // told once, at its writer's commit

    await publish();
    expect(await notificationsOf(relayed)).toEqual([]); // and once only
  });

  it("relay a level the same way, and tell nobody of quiet writes", async () => {
    const [leveled, quiet] = [await listenedUser(), await listenedUser()];
    await committedWithoutPublisher({ "achievements.notification_relay": "on" }, async (client) => {
      await client.query("insert into status_public.user_levels (user_id, level) values ($1, 'newbie')", [leveled]);
    });
    await committedWithoutPublisher({ "achievements.notification_relay": "on", "achievements.quiet_notifications": "on" }, (client) =>
      completeTasks(client, quiet, 10),
    );
    expect(await notificationsOf(leveled)).toEqual([]);
    expect(await relayedOf(quiet)).toEqual([false, false, false, false]);

    await publish();
    expect(await notificationsOf(leveled)).toEqual([{ event: "level_achieved", id: "newbie" }]);
    expect(await notificationsOf(quiet)).toEqual([]);
  });
});

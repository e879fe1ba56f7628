// Many API nodes: three server processes (`src/cli.ts start`, each on its own port and data folder, as three
// machines would run it) on the one test database, and a load generator that spreads its clients over them.
// (1) A user's rate limit is one allowance across the nodes, and a retry sent to another node while the first
// attempt is still in flight counts once (its step, and its allowance). (2) Under load, with retries of the
// same idempotency key sent on purpose to another node (one after the answer, some at the same time), one
// node is killed (SIGKILL) mid-load: every acknowledged request (HTTP 200 with data) is in the database
// exactly once, with its answer; the requests that failed with the killed node are retried with the same key
// on the others and counted once; the subscribers of the surviving nodes receive every unlock (recorded
// through any node) exactly once; the killed node's subscribers reconnect to another node and catch up from
// their cursor (myUnlocksSince) with nothing missing or duplicated.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "graphql-ws";
import type pg from "pg";
import { removeUsersAndEnd, TrackedUsers } from "../helpers/cleanup";
import { type Cli, cleanEnvironment, killAll, startCli, stopCli } from "../helpers/cli";
import { lockTally, rootPool, testDatabaseUrl, testRoleEnvironment } from "../helpers/db";
import { connect, type GraphQLErrorJson, graphql, postGraphQL, RECORD_ACTION, sleep, Subscription, waitUntil, waitUntilListening } from "../helpers/graphql-client";
import { freePort } from "../helpers/ports";
import { testJwtSecret, tokenFor } from "../helpers/server";

const NODES = 3;
/** recordAction calls per user per day on every node (a day's window: nothing refills during the test). */
const RATE_LIMIT = 20;
/** The load: users per client loop, and each user's amounts in turn (tallies 1, 5, 10, 20 ... 100). */
const CLIENTS = 6;
const USERS_PER_CLIENT = 4;
const AMOUNTS = [1, 4, 5, 10, 10, 10, 10, 10, 10, 10, 10, 10];
/** The node killed, once this many requests were acknowledged. */
const VICTIM = NODES - 1;
const KILL_AFTER_ACKS = Math.floor((CLIENTS * USERS_PER_CLIENT * AMOUNTS.length) / 3);
/** Subscribers per node, each a user of the load. */
const SUBSCRIBERS_PER_NODE = 3;

const TOAST = "subscription { achievementUnlocked { cursor unlock { id achievementId } } }";
const MY_UNLOCKS_SINCE = "query ($cursor: Int!) { myUnlocksSince(cursor: $cursor) { nodes { id achievementId cursor } } }";

interface Node {
  url: string;
  cli: Cli;
}
interface Toast {
  cursor: number;
  unlock: { id: string; achievementId: string };
}
type RecordResult = { stepId: string; tally: number; unlocked: { unlockId: string; achievementId: string; points: number }[] } & Record<string, unknown>;
/** One attempt's outcome: an answer with a result, an answer with errors, or no answer (the node is gone). */
type Outcome = { kind: "ok"; result: RecordResult } | { kind: "errors"; status: number; errors: readonly GraphQLErrorJson[] } | { kind: "no answer"; error: string };

const nodes: Node[] = [];
const started: Cli[] = [];
const folders: string[] = [];
const clients: Client[] = [];
let root: pg.Pool;
// Every user's rows are committed to the shared test database: every trace of them goes at the end.
const users = new TrackedUsers();

/** A node's environment: the test database and roles, no migration (the run migrated it), its own port and folder. */
async function nodeEnvironment(): Promise<NodeJS.ProcessEnv> {
  const dataDir = await mkdtemp(join(tmpdir(), "achievements-nodes-"));
  folders.push(dataDir);
  return {
    ...cleanEnvironment(),
    ...testRoleEnvironment(),
    DATABASE_URL: testDatabaseUrl("TEST_ROOT_URL"),
    AUTH_DATABASE_URL: testDatabaseUrl("TEST_AUTH_URL"),
    JWT_SECRET: testJwtSecret(),
    MIGRATE_ON_START: "false",
    PORT: String(await freePort()),
    WORKERS: "1",
    NODE_ENV: "development",
    DEMO: "false",
    LOG_LEVEL: "info",
    DATA_DIR: dataDir,
    RECORD_ACTION_RATE_LIMIT: String(RATE_LIMIT),
    RECORD_ACTION_RATE_WINDOW_SECONDS: "86400",
  };
}

beforeAll(async () => {
  root = rootPool(4);
  const environments = await Promise.all(Array.from({ length: NODES }, nodeEnvironment));
  const clis = await Promise.all(environments.map((env) => startCli({ env, started })));
  clis.forEach((cli, index) => nodes.push({ cli, url: `http://127.0.0.1:${environments[index].PORT}` }));
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  for (const { cli } of nodes) if (cli.child.exitCode === null && cli.child.signalCode === null) await stopCli(cli, "SIGTERM").catch(() => undefined);
  await killAll(started);
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  await removeUsersAndEnd(root, users.ids);
}, 60_000);

/** One recordAction of `tasks_completed` through a node. */
async function attempt(node: number, token: string, key: string, amount: number): Promise<Outcome> {
  try {
    const { status, body } = await postGraphQL(nodes[node].url, token, RECORD_ACTION, { action: "tasks_completed", amount, key }, AbortSignal.timeout(20_000));
    const result = body.data?.recordAction?.result as RecordResult | undefined;
    if (status === 200 && !body.errors && result) return { kind: "ok", result };
    return { kind: "errors", status, errors: body.errors ?? [] };
  } catch (error) {
    return { kind: "no answer", error: String((error as Error).cause ?? error) };
  }
}

/** The subscription of a user on a node, and the toasts it received. */
function subscribe(node: number, token: string): Subscription {
  const client = connect(nodes[node].url, `Bearer ${token}`);
  clients.push(client);
  return new Subscription(client, TOAST);
}

/** A user's unlocks in the database, in cursor order. */
async function unlocksOf(userIds: string[]): Promise<Map<string, Toast[]>> {
  const { rows } = await root.query<{ user_id: string; id: string; achievement_id: string; cursor: number }>(
    "select user_id, id::text, achievement_id, cursor from status_public.achievement_unlocks where user_id = any($1) order by user_id, cursor",
    [userIds],
  );
  const byUser = new Map<string, Toast[]>(userIds.map((id) => [id, []]));
  for (const row of rows) byUser.get(row.user_id)!.push({ cursor: row.cursor, unlock: { id: row.id, achievementId: row.achievement_id } });
  return byUser;
}

describe(`${NODES} server processes on one database`, () => {
  it("a user's rate limit is one allowance over the nodes, and a retry on another node while the first is in flight counts once", async () => {
    const user = users.make();
    const token = await tokenFor(user);
    const warmUp = await attempt(0, token, "warm-up", 1); // its tally row, to lock below
    expect(warmUp.kind).toBe("ok");

    // The same key sent to two nodes at once, both held in their transactions (the step inserted but not
    // committed by one, the other waiting for it) until the tally row is released.
    for (const [first, second] of [
      [0, 1],
      [1, 2],
    ]) {
      const key = `pair-${first}-${second}`;
      const lock = await lockTally(root, user);
      let answers: Outcome[];
      try {
        const pair = Promise.all([attempt(first, token, key, 1), attempt(second, token, key, 1)]);
        await waitUntil(
          async () => (await root.query("select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%record_action%'")).rows.length >= 2,
          () => `both requests with key ${key} to wait for a lock`,
        );
        await lock.release();
        answers = await pair;
      } catch (error) {
        await lock.release().catch(() => undefined);
        throw error;
      }
      expect(answers.map((answer) => answer.kind)).toEqual(["ok", "ok"]);
      expect(answers[1]).toEqual(answers[0]);
    }
    const { rows: pairs } = await root.query("select idempotency_key, count from status_public.user_steps where user_id = $1 order by idempotency_key", [user]);
    expect(pairs).toEqual([
      { idempotency_key: "pair-0-1", count: 1 },
      { idempotency_key: "pair-1-2", count: 1 },
      { idempotency_key: "warm-up", count: 1 },
    ]);

    // What is left of the allowance, spent over the three nodes in turn: 3 calls counted so far.
    let accepted = 3;
    for (let call = 0; accepted < RATE_LIMIT + 1 && call <= RATE_LIMIT; call++) {
      const outcome = await attempt(call % NODES, token, `spend-${call}`, 1);
      if (outcome.kind !== "ok") {
        expect(outcome).toMatchObject({ kind: "errors", status: 429, errors: [{ extensions: { code: "RATE_LIMITED" } }] });
        break;
      }
      accepted++;
    }
    expect(accepted).toBe(RATE_LIMIT);
    // Refused by every node; and a retry of a key already used is answered by every node, limit or not.
    for (let node = 0; node < NODES; node++) {
      expect(await attempt(node, token, `refused-${node}`, 1)).toMatchObject({ kind: "errors", status: 429 });
      expect(await attempt(node, token, "warm-up", 1)).toEqual(warmUp);
    }
    const { rows } = await root.query<{ n: number }>("select count(*)::int as n from status_public.user_steps where user_id = $1", [user]);
    expect(rows[0].n).toBe(RATE_LIMIT);
  }, 60_000);

  it("one node killed mid-load loses nothing acknowledged; retries on other nodes count once; subscribers miss nothing", async () => {
    const loadUsers = Array.from({ length: CLIENTS * USERS_PER_CLIENT }, () => users.make());
    const tokens = new Map(await Promise.all(loadUsers.map(async (user) => [user, await tokenFor(user)] as const)));

    // Subscribers, one at a time (so that each LISTEN is seen), users of the load spread over the nodes.
    const watchers = loadUsers.slice(0, NODES * SUBSCRIBERS_PER_NODE).map((user, index) => ({ user, node: index % NODES }));
    const toastsOf = new Map<string, Subscription>();
    for (const { user, node } of watchers) {
      toastsOf.set(user, subscribe(node, tokens.get(user)!));
      await waitUntilListening(root, user);
    }

    const acks = new Map<string, { user: string; node: number; result: RecordResult }>();
    const replays: { key: string; node: number; outcome: Outcome }[] = [];
    const concurrent: { key: string; nodes: number[]; outcomes: Outcome[] }[] = [];
    const failed: { key: string; node: number; outcome: Outcome }[] = [];
    let turn = 0;
    let killed = false;
    const deadline = Date.now() + 60_000;

    /** Sends the key to a node, then to the next ones until a node answers with its result. */
    async function record(user: string, key: string, amount: number, firstNode: number): Promise<{ node: number; result: RecordResult }> {
      for (let node = firstNode; ; node = (node + 1) % NODES) {
        if (Date.now() > deadline) throw new Error(`${key}: not recorded before the deadline`);
        const outcome = await attempt(node, tokens.get(user)!, key, amount);
        if (outcome.kind === "ok") return { node, result: outcome.result };
        failed.push({ key, node, outcome });
        await sleep(20);
      }
    }

    const load = Array.from({ length: CLIENTS }, async (_, client) => {
      const mine = loadUsers.filter((_, index) => index % CLIENTS === client);
      for (let round = 0; round < AMOUNTS.length; round++) {
        for (const user of mine) {
          const key = `${user}-${round}`;
          const node = turn++ % NODES;
          let ack: { node: number; result: RecordResult };
          if (round % 4 === 3) {
            // A client that gave up and retried elsewhere at once: the same key on two nodes at the same time.
            const both = [node, (node + 1) % NODES];
            const outcomes = await Promise.all(both.map((each) => attempt(each, tokens.get(user)!, key, AMOUNTS[round])));
            concurrent.push({ key, nodes: both, outcomes });
            const answered = outcomes.findIndex((outcome) => outcome.kind === "ok");
            ack = answered >= 0 ? { node: both[answered], result: (outcomes[answered] as { result: RecordResult }).result } : await record(user, key, AMOUNTS[round], (node + 2) % NODES);
          } else {
            ack = await record(user, key, AMOUNTS[round], node);
          }
          acks.set(key, { user, ...ack });
          if (round % 3 === 1) {
            // The same key again, after the answer, on another node: the same answer, nothing counted.
            for (let other = (ack.node + 1) % NODES; other !== ack.node; other = (other + 1) % NODES) {
              const outcome = await attempt(other, tokens.get(user)!, key, AMOUNTS[round]);
              replays.push({ key, node: other, outcome });
              if (outcome.kind === "ok") break;
            }
          }
          if (!killed && acks.size >= KILL_AFTER_ACKS) {
            killed = true;
            process.kill(nodes[VICTIM].cli.child.pid!, "SIGKILL");
          }
        }
      }
    });

    // Meanwhile: the killed node's subscribers notice, reconnect to a surviving node (one at a time), and
    // catch up from the cursor of the last toast they received, through the other surviving node.
    const reconnected = new Map<string, { seenBefore: Toast[]; caughtUp: Toast[]; live: Subscription }>();
    const reconnecting = (async () => {
      await waitUntil(() => killed, () => "the kill", 60_000);
      const surviving = [...nodes.keys()].filter((node) => node !== VICTIM);
      for (const { user } of watchers.filter((watcher) => watcher.node === VICTIM)) {
        const before = toastsOf.get(user)!;
        await waitUntil(() => before.ended, () => `the subscription of ${user} on the killed node to end`);
        const seenBefore = before.events("achievementUnlocked") as Toast[];
        // Away until the user has an unlock it did not see (the load goes on: the last amount unlocks one).
        const seen = new Set(seenBefore.map((toast) => toast.unlock.id));
        await waitUntil(
          () => [...acks.values()].some((ack) => ack.user === user && ack.result.unlocked.some((unlock) => !seen.has(unlock.unlockId))),
          () => `an unlock of ${user} after the kill`,
          60_000,
        );
        // Alternately to each surviving node; the catch-up through the other one.
        const [to, other] = reconnected.size % 2 === 0 ? surviving : [...surviving].reverse();
        const live = subscribe(to, tokens.get(user)!);
        await waitUntilListening(root, user);
        const cursor = seenBefore.at(-1)?.cursor ?? 0;
        const caughtUp = (await graphql(nodes[other].url, tokens.get(user)!, MY_UNLOCKS_SINCE, { cursor })).myUnlocksSince.nodes.map(
          (unlock: { id: string; achievementId: string; cursor: number }) => ({ cursor: unlock.cursor, unlock: { id: unlock.id, achievementId: unlock.achievementId } }),
        );
        reconnected.set(user, { seenBefore, caughtUp, live });
      }
    })();
    await Promise.all([...load, reconnecting]);
    const victimDied = await nodes[VICTIM].cli.exited;
    expect(victimDied).toEqual({ code: null, signal: "SIGKILL" });

    // Every key is in the database exactly once, as its acknowledged answer says; the tallies are the sums.
    const keys = [...acks.keys()];
    expect(keys).toHaveLength(loadUsers.length * AMOUNTS.length);
    const { rows: steps } = await root.query<{ user_id: string; idempotency_key: string | null; id: string; count: number }>(
      "select user_id, idempotency_key, id::text, count from status_public.user_steps where user_id = any($1)",
      [loadUsers],
    );
    expect(steps).toHaveLength(keys.length);
    const stepOf = new Map(steps.map((step) => [step.idempotency_key, step]));
    expect(stepOf.size).toBe(keys.length);
    for (const [key, { user, result }] of acks) expect([key, stepOf.get(key)?.user_id, stepOf.get(key)?.id]).toEqual([key, user, result.stepId]);
    const { rows: tallies } = await root.query<{ user_id: string; count: number }>(
      "select user_id, count from status_public.user_achievements where user_id = any($1) and name = 'tasks_completed'",
      [loadUsers],
    );
    const total = AMOUNTS.reduce((sum, amount) => sum + amount, 0);
    expect(tallies.filter((tally) => tally.count !== total)).toEqual([]);
    expect(tallies).toHaveLength(loadUsers.length);

    // Retries on another node: the same answer. The only failures: no answer from the killed node.
    expect(replays.filter((replay) => replay.outcome.kind === "ok").length).toBeGreaterThan(0);
    for (const replay of replays) {
      if (replay.outcome.kind === "ok") expect([replay.key, replay.outcome.result]).toEqual([replay.key, acks.get(replay.key)!.result]);
      else failed.push({ key: replay.key, node: replay.node, outcome: replay.outcome });
    }
    for (const pair of concurrent) {
      for (const [index, outcome] of pair.outcomes.entries()) {
        if (outcome.kind === "ok") expect([pair.key, outcome.result]).toEqual([pair.key, acks.get(pair.key)!.result]);
        else failed.push({ key: pair.key, node: pair.nodes[index], outcome });
      }
    }
    expect(failed.filter((failure) => failure.node !== VICTIM || failure.outcome.kind !== "no answer")).toEqual([]);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((failure) => acks.get(failure.key)!.node === VICTIM)).toEqual([]); // each answered elsewhere

    // Each user's unlocks: those the answers listed, each once.
    const unlocks = await unlocksOf(loadUsers);
    for (const user of loadUsers) {
      const answered = keys.filter((key) => acks.get(key)!.user === user).flatMap((key) => acks.get(key)!.result.unlocked.map((unlock) => unlock.unlockId));
      expect([user, [...answered].sort()]).toEqual([user, unlocks.get(user)!.map((unlock) => unlock.unlock.id).sort()]);
    }

    // The surviving nodes' subscribers: every unlock of their user, recorded through any node, once, in order.
    const survivors = watchers.filter((watcher) => watcher.node !== VICTIM);
    for (const { user } of survivors) {
      await waitUntil(() => toastsOf.get(user)!.payloads.length >= unlocks.get(user)!.length, () => `the toasts of ${user}`);
    }
    await sleep(200); // a duplicate would arrive right behind
    const unlockNode = new Map([...acks.values()].flatMap(({ node, result }) => result.unlocked.map((unlock) => [unlock.unlockId, node] as const)));
    let toastsFromOtherNodes = 0;
    for (const { user, node } of survivors) {
      expect([user, toastsOf.get(user)!.events("achievementUnlocked")]).toEqual([user, unlocks.get(user)]);
      toastsFromOtherNodes += unlocks.get(user)!.filter((unlock) => unlockNode.get(unlock.unlock.id) !== node).length;
    }
    expect(toastsFromOtherNodes).toBeGreaterThan(0);

    // The reconnected subscribers: what they saw, then the catch-up (after their last cursor), then live
    // toasts past the catch-up: all of their unlocks, none twice.
    expect(reconnected.size).toBe(SUBSCRIBERS_PER_NODE);
    expect([...reconnected.values()].filter(({ caughtUp }) => caughtUp.length === 0)).toEqual([]);
    for (const [user, { seenBefore, caughtUp, live }] of reconnected) {
      const lastCaughtUp = caughtUp.at(-1)?.cursor ?? seenBefore.at(-1)?.cursor ?? 0;
      const expected = unlocks.get(user)!;
      await waitUntil(() => live.payloads.length >= expected.filter((unlock) => unlock.cursor > lastCaughtUp).length, () => `the live toasts of ${user} after reconnecting`);
      await sleep(200);
      const liveToasts = live.events("achievementUnlocked") as Toast[];
      // Live toasts may repeat what the catch-up returned (committed after LISTEN, before the catch-up's query): the client drops those by cursor.
      expect(liveToasts.map((toast) => toast.cursor)).toEqual([...new Set(liveToasts.map((toast) => toast.cursor))].sort((a, b) => a - b));
      const merged = [...seenBefore, ...caughtUp, ...liveToasts.filter((toast) => toast.cursor > lastCaughtUp)];
      expect([user, merged]).toEqual([user, expected]);
      // The live stream has everything committed after the catch-up's query.
      expect(liveToasts.filter((toast) => toast.cursor > lastCaughtUp)).toEqual(expected.filter((unlock) => unlock.cursor > lastCaughtUp));
    }

    const noAnswer = [...new Set(failed.map((failure) => failure.outcome.kind === "no answer" && failure.outcome.error))];
    process.stdout.write(
      `stress/many_nodes: ${acks.size} keys acknowledged over ${NODES} nodes (node ${VICTIM} killed after ${KILL_AFTER_ACKS}), ` +
        `${replays.length} replays on another node, ${concurrent.length} keys sent to two nodes at once, ${failed.length} attempts without an answer ` +
        `from the killed node (${JSON.stringify(noAnswer)}), ${[...unlocks.values()].flat().length} unlocks, ${toastsFromOtherNodes} toasts of unlocks recorded on another node, ` +
        `caught up after reconnecting: ${[...reconnected.values()].map((each) => each.caughtUp.length).join(", ")}\n`,
    );
  }, 120_000);
});

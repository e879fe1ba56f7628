// Benchmark: realtime toasts. The time from the commit of an unlocking action to the `achievementUnlocked`
// message at the subscriber, through one server (startServer, in this process) over websockets (graphql-ws
// + ws), in the same run:
//   LISTEN      a raw pg client LISTENing on the user's channel (the floor: PostgreSQL's NOTIFY alone)
//   1 sub       one websocket subscriber
//   relayed     the one subscriber again, the actions' sessions with `achievements.notification_relay` on: the
//               server's dispatcher (NOTIFICATION_RELAY's poll, `relay-ms`) publishes the event and notifies
//   N subs      N websocket subscribers (each a user with their own socket), all live, of which `sample`
//               receive one unlock each
// An action is `select status_public.record_action_for(user, 'bench_ping', 1)` as the service role in its own
// transaction (autocommit); the commit time is taken when the call returns, so "commit → message" excludes
// the call's own round trip and "call → message" includes it. Each call unlocks exactly one achievement
// (`bench_ping_<k>` needs k pings, 0 points), one at a time. Every toast must arrive, within --timeout-ms,
// and be for the achievement that call unlocked: a missed or wrong toast, or a subscription error, fails
// the run. Writes bench/results/subscriptions.json.
// Usage: npm run bench:subscriptions [-- --subscribers=1000 --sample=200 --relay-ms=50]
import "../src/environment";
import { randomUUID } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { signToken } from "../src/auth";
import { startServer } from "../src/server";
import { cleanUp, fmt, machine, main, nowMs, option, percentiles, progress, roles, startBenchDatabase, type Timing, waitUntilListening, writeResult } from "./common";

const SUBSCRIBERS = option("subscribers", 1000);
const SAMPLE = option("sample", 200);
const TIMEOUT_MS = option("timeout-ms", 10_000);
const RELAY_MS = option("relay-ms", 50);
const JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123";

const ACHIEVEMENT_UNLOCKED = `subscription {
  achievementUnlocked {
    unlock { id userId achievementId points unlockedAt }
    achievement { id name points }
    pointsAwarded
    totalPoints
    tier { name minPoints badge }
  }
}`;

interface Latencies {
  commitToMessage: Timing;
  callToMessage: Timing;
}

/** The messages awaited, by user: when one arrives, and which achievement it must be for. */
const waiting = new Map<string, { resolve: (at: number) => void; achievementId: string }>();
/** Toasts that came for another achievement than the one unlocked, or when none was awaited. */
const wrongToasts: string[] = [];
/** Pings recorded per user so far: the k-th unlocks bench_ping_k. */
const pings = new Map<string, number>();

/** A toast for `userId` (for `achievementId`; undefined from a raw LISTEN, whose payload has the unlock's id only). */
function arrived(userId: string, achievementId?: string): void {
  const at = nowMs();
  const awaited = waiting.get(userId);
  if (!awaited || (achievementId !== undefined && achievementId !== awaited.achievementId)) {
    wrongToasts.push(`${userId}: ${achievementId ?? "a toast"} while awaiting ${awaited?.achievementId ?? "none"}`);
    return;
  }
  waiting.delete(userId);
  awaited.resolve(at);
}

/** Triggers one unlock for each of `users` in turn and times its message. */
async function measure(trigger: pg.Client, users: string[]): Promise<Latencies> {
  const commitToMessage: number[] = [];
  const callToMessage: number[] = [];
  for (const userId of users) {
    let timer: NodeJS.Timeout | undefined;
    const ping = (pings.get(userId) ?? 0) + 1;
    pings.set(userId, ping);
    const achievementId = `bench_ping_${ping}`;
    const message = new Promise<number | null>((resolve) => {
      waiting.set(userId, { resolve, achievementId });
      timer = setTimeout(() => resolve(null), TIMEOUT_MS);
    });
    const called = nowMs();
    await trigger.query("select status_public.record_action_for($1, 'bench_ping', 1)", [userId]);
    const committed = nowMs();
    const at = await message;
    clearTimeout(timer);
    waiting.delete(userId);
    if (at === null) throw new Error(`no toast for ${achievementId} of user ${userId} within ${TIMEOUT_MS} ms (${commitToMessage.length} arrived before it)`);
    if (wrongToasts.length > 0) throw new Error(`wrong toast: ${wrongToasts[0]}`);
    commitToMessage.push(at - committed);
    callToMessage.push(at - called);
  }
  return { commitToMessage: percentiles(commitToMessage), callToMessage: percentiles(callToMessage) };
}


main(async () => {
  progress(`subscriptions: ${SUBSCRIBERS} subscribers, ${SAMPLE} unlocks timed per case`);
  const database = await startBenchDatabase("achievements_bench_subscriptions");
  const admin = new pg.Client({ connectionString: database.databaseUrl });
  await admin.connect();
  // One achievement per ping count, so that every call unlocks exactly one.
  await admin.query("insert into status_public.actions (name, description, max_amount) values ('bench_ping', 'Benchmark: unlocks one achievement a call', 1)");
  await admin.query(
    `insert into status_public.achievements (id, name, points, kind, position)
     select 'bench_ping_' || n, 'Ping ' || n, 0, 'milestone', 1000 + n from generate_series(1, $1) as n`,
    [2 * SAMPLE + 10], // the single subscriber takes two rounds (direct, relayed)
  );
  await admin.query(
    `insert into status_public.achievement_criteria (achievement_id, kind, action, threshold)
     select 'bench_ping_' || n, 'count', 'bench_ping', n from generate_series(1, $1) as n`,
    [2 * SAMPLE + 10],
  );
  const trigger = new pg.Client({ connectionString: database.databaseUrl });
  await trigger.connect();
  await trigger.query(`set role ${trigger.escapeIdentifier(roles.service)}`);
  const relayTrigger = new pg.Client({ connectionString: database.databaseUrl });
  await relayTrigger.connect();
  await relayTrigger.query(`set role ${relayTrigger.escapeIdentifier(roles.service)}; set achievements.notification_relay = on`);
  // As the standalone server runs: its dispatcher polls for relayed events (the other phases' sessions notify).
  const server = await startServer({
    connectionString: database.authUrl,
    jwtSecret: JWT_SECRET,
    roles,
    graphiql: false,
    host: "127.0.0.1",
    port: 0,
    notificationRelay: true,
    webhooks: { relayIntervalMs: RELAY_MS },
  });
  const clients: Client[] = [];
  const errors: unknown[] = [];
  const subscribe = async (userId: string): Promise<void> => {
    const client = createClient({
      url: `${server.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${await signToken({ jwtSecret: JWT_SECRET, userId, role: "user", expiresIn: "2h" })}` },
      retryAttempts: 0,
      lazy: false,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.on("connected", () => resolve());
      client.on("closed", (event) => reject(new Error(`socket closed: ${JSON.stringify(event)}`)));
    });
    client.subscribe(
      { query: ACHIEVEMENT_UNLOCKED },
      {
        next: (payload) => {
          if (payload.errors) errors.push(payload.errors);
          else arrived(userId, (payload.data as { achievementUnlocked?: { achievement?: { id?: string } } } | null)?.achievementUnlocked?.achievement?.id ?? "(no achievement)");
        },
        error: (error) => void errors.push(error),
        complete: () => undefined,
      },
    );
  };

  const results: Record<string, Latencies> = {};
  let listener: pg.Client | undefined;
  try {
    // The floor: PostgreSQL's NOTIFY to a raw LISTEN client.
    progress("raw LISTEN...");
    const rawUser = randomUUID();
    listener = new pg.Client({ connectionString: database.databaseUrl });
    await listener.connect();
    listener.on("notification", (notification) => {
      if (notification.payload?.includes("achievement_unlocked")) arrived(rawUser);
    });
    await listener.query(`LISTEN ${listener.escapeIdentifier(`achievements:${rawUser}`)}`);
    await measure(trigger, [rawUser, rawUser, rawUser].slice(0, 3)); // warm-up
    results.listen = await measure(trigger, Array.from({ length: SAMPLE }, () => rawUser));
    await listener.end();
    listener = undefined;

    progress("1 websocket subscriber...");
    const single = randomUUID();
    await subscribe(single);
    await waitUntilListening(admin);
    await measure(trigger, [single, single, single]); // warm-up
    results.one = await measure(trigger, Array.from({ length: SAMPLE }, () => single));
    progress(`1 websocket subscriber, relayed (poll every ${RELAY_MS} ms)...`);
    await measure(relayTrigger, [single, single, single]); // warm-up
    results.relayed = await measure(relayTrigger, Array.from({ length: SAMPLE }, () => single));

    progress(`${SUBSCRIBERS} websocket subscribers: connecting...`);
    const users = Array.from({ length: SUBSCRIBERS - 1 }, () => randomUUID());
    for (let i = 0; i < users.length; i += 50) {
      await Promise.all(users.slice(i, i + 50).map(subscribe));
      if ((i / 50) % 5 === 4) progress(`  ${clients.length} connected`);
    }
    await waitUntilListening(admin);
    progress(`${clients.length} websocket subscribers live: timing ${SAMPLE} unlocks...`);
    const sample = [...users].sort(() => Math.random() - 0.5).slice(0, SAMPLE);
    results.many = await measure(trigger, sample);
  } finally {
    await cleanUp(
      async () => listener?.end(),
      () => Promise.all(clients.map((client) => client.dispose())),
      () => server.close(),
      () => trigger.end(),
      () => relayTrigger.end(),
      () => admin.end(),
      () => database.stop(),
    );
  }
  if (errors.length > 0) throw new Error(`${errors.length} subscription error(s), first: ${JSON.stringify(errors[0])}`);
  if (wrongToasts.length > 0) throw new Error(`${wrongToasts.length} wrong toast(s), first: ${wrongToasts[0]}`);

  const row = (label: string, result: Latencies, base: Latencies) =>
    `| ${label} | ${result.commitToMessage.n} | ${result.commitToMessage.p50.toFixed(2)} / ${result.commitToMessage.p99.toFixed(2)} | ${result.callToMessage.p50.toFixed(2)} / ${result.callToMessage.p99.toFixed(2)} | ${(result.callToMessage.p50 / base.callToMessage.p50).toFixed(2)} / ${(result.callToMessage.p99 / base.callToMessage.p99).toFixed(2)} |`;
  const table = [
    "| receiver | toasts timed (none missed) | commit → message p50 / p99 ms | call → message p50 / p99 ms | call → message vs 1 subscriber (p50 / p99) |",
    "| --- | ---: | ---: | ---: | ---: |",
    row("raw pg LISTEN (no server)", results.listen, results.one),
    row("1 websocket subscriber", results.one, results.one),
    row(`1 websocket subscriber, notifications relayed (poll every ${RELAY_MS} ms)`, results.relayed, results.one),
    row(`${fmt(SUBSCRIBERS)} websocket subscribers`, results.many, results.one),
  ].join("\n");
  process.stdout.write(`${table}\n\n${machine()}\n`);
  await writeResult("subscriptions", { subscribers: SUBSCRIBERS, sample: SAMPLE, relayIntervalMs: RELAY_MS, ...results });
});

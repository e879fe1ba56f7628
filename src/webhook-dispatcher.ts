// Delivers the outbox (migration 000009, 7-outbox.sql) as signed webhooks, at least once, and relays the users'
// notifications that writers left to the publisher (`achievements.notification_relay`).
//
// Each round: publish the committed outbox events (positions for `achievementEvents`, one delivery per
// subscribed endpoint, the relayed notifications), claim due deliveries in a short transaction (`for update
// skip locked`, so several dispatchers or WORKERS share the work), POST each with a timeout, and record the
// outcome: delivered only after a 2xx, else retried with exponential backoff and jitter, dead after the last
// attempt. A claim is a lease: a dispatcher killed mid-request leaves the delivery to be claimed again, with the
// same delivery id, once the lease (the timeout and a second) ends. Woken by NOTIFY (new events, published
// events, a retry an admin asked for), by a poll for the retries that come due, and while writers relay by a
// poll for their events.
//
// Signatures follow Standard Webhooks (https://www.standardwebhooks.com): `webhook-id` (the delivery id),
// `webhook-timestamp` (Unix seconds), `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
// the key being the base64 after the secret's `whsec_` prefix.
import { createHmac } from "node:crypto";
import pg from "pg";
import type { Logger } from "./logger";
import { startNotifiedLoop } from "./notified-loop";

/** The channels the database notifies: new outbox events, and published events or a retry to deliver. */
const OUTBOX_CHANNEL = "achievements:outbox";
export const OUTBOX_PUBLISHED_CHANNEL = "achievements:outbox_published";

export interface WebhookDispatcherOptions {
  /** A role that may execute the status_private outbox functions (the authenticator). */
  connectionString: string;
  /**
   * Where to LISTEN for wake-ups, when `connectionString` goes through a pooler in transaction mode (PgBouncer): a
   * connection straight to PostgreSQL (a LISTEN lasts as long as its session). Default: `connectionString`.
   */
  listenConnectionString?: string;
  /** How long a request may take (default 10,000 ms); a delivery is leased for this and a second. */
  timeoutMs?: number;
  /** Attempts before a delivery is dead (default 10). */
  maxAttempts?: number;
  /** The first retry's delay (default 5,000 ms); then doubling, with full jitter, up to `maxRetryDelayMs`. */
  retryBaseMs?: number;
  /** Default 3,600,000 ms (an hour). */
  maxRetryDelayMs?: number;
  /** Poll for retries that come due (default 1,000 ms). */
  pollIntervalMs?: number;
  /**
   * Poll for new events this often while the database's writers relay their users' notifications to the publisher
   * (`achievements.notification_relay` on: they send no NOTIFY to wake it); default 50 ms, a toast's added latency.
   */
  relayIntervalMs?: number;
  /** Poll so from the start: writers of this process relay (the standalone server's NOTIFICATION_RELAY), whatever the database's setting. */
  relaying?: boolean;
  /** Deliveries claimed (and sent concurrently) at a time (default 20). */
  batchSize?: number;
  /** Published events kept this long once delivered (default 7 days); pruned hourly. 0: never pruned. */
  retentionHours?: number;
  log?: Logger;
}

export interface WebhookDispatcher {
  /** Runs rounds until nothing is due (tests, shutdown); resolves with how many deliveries were attempted. */
  dispatchNow(): Promise<number>;
  stop(): Promise<void>;
}

/** One claimed delivery (status_private.webhook_request). */
interface WebhookRequest {
  delivery_id: string;
  attempt: number;
  url: string;
  secret: string;
  body: string;
}

/** The Standard Webhooks signature of a body: `v1,<base64>`. */
export function webhookSignature(secret: string, deliveryId: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  return `v1,${createHmac("sha256", key).update(`${deliveryId}.${timestamp}.${body}`).digest("base64")}`;
}

/** The delay before retry number `attempt` (1 = the first retry): full jitter over an exponential cap. */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return cap / 2 + Math.random() * (cap / 2);
}

export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 10;
  const retryBaseMs = options.retryBaseMs ?? 5_000;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 3_600_000;
  const batchSize = options.batchSize ?? 20;
  const relayIntervalMs = options.relayIntervalMs ?? 50;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const retentionHours = options.retentionHours ?? 7 * 24;
  const log = options.log;
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 2, idleTimeoutMillis: 0 });
  pool.on("error", (error) => log?.warn({ err: error }, "webhook dispatcher: connection lost"));

  /** One POST; resolves with the error to record, or null for a 2xx. */
  async function send(request: WebhookRequest): Promise<string | null> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(request.url, {
        method: "POST",
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          "content-type": "application/json",
          "user-agent": "pg-achievements-webhooks",
          "webhook-id": request.delivery_id,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": webhookSignature(request.secret, request.delivery_id, timestamp, request.body),
        },
      });
      await response.body?.cancel();
      return response.status >= 200 && response.status < 300 ? null : `HTTP ${response.status}`;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return `${error instanceof Error ? error.message : String(error)}${cause}`.slice(0, 1000);
    }
  }

  async function deliver(request: WebhookRequest): Promise<void> {
    const error = await send(request);
    const retryInSeconds = error === null || request.attempt >= maxAttempts ? null : retryDelayMs(request.attempt, retryBaseMs, maxRetryDelayMs) / 1000;
    if (error !== null) log?.warn({ deliveryId: request.delivery_id, attempt: request.attempt, error }, retryInSeconds === null ? "webhook delivery dead" : "webhook delivery failed; retrying");
    await pool.query("select status_private.record_webhook_attempt($1, $2, $3, $4)", [request.delivery_id, request.attempt, error, retryInSeconds]);
  }

  /** Publishes what committed (and relays its notifications), then sends what is due, until nothing is. */
  async function round(state: { readonly stopped: boolean }): Promise<number> {
    let attempted = 0;
    while (!state.stopped) {
      const { rows: published } = await pool.query<{ n: number; relaying: boolean }>(
        "select status_private.publish_outbox_events($1) as n, status_private.relays_notifications() as relaying",
        [1000],
      );
      // While the writers relay notifications (as this dispatcher's sessions do: the setting is the database's or
      // the role's), nothing wakes it for their events: it polls for them instead.
      loop.pollEvery(options.relaying || published[0].relaying ? Math.min(relayIntervalMs, pollIntervalMs) : pollIntervalMs);
      const { rows: claimed } = await pool.query<WebhookRequest>("select * from status_private.claim_webhook_deliveries($1, $2, $3)", [
        batchSize,
        timeoutMs / 1000 + 1,
        maxAttempts,
      ]);
      await Promise.all(claimed.map(deliver));
      attempted += claimed.length;
      if (claimed.length < batchSize && published[0].n < 1000) return attempted;
    }
    return attempted;
  }

  const loop = startNotifiedLoop({
    connectionString: options.connectionString,
    listenConnectionString: options.listenConnectionString,
    channels: [OUTBOX_CHANNEL, OUTBOX_PUBLISHED_CHANNEL],
    pollIntervalMs,
    name: "webhook dispatcher",
    log,
    round,
  });
  const prune =
    retentionHours > 0
      ? setInterval(() => {
          pool
            .query("select status_private.prune_outbox(make_interval(hours => $1)) as pruned", [retentionHours])
            .catch((error: unknown) => log?.warn({ err: error }, "outbox pruning failed"));
        }, 3_600_000)
      : undefined;
  prune?.unref();

  return {
    dispatchNow: loop.runNow,
    async stop() {
      if (prune) clearInterval(prune);
      await loop.stop();
      await pool.end();
    },
  };
}

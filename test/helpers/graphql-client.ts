// A test client of the running server, shared by the e2e and stress tests: GraphQL over HTTP (with a time
// limit, so a hang fails instead of blocking), graphql-ws subscriptions that record everything they
// receive, and polling with a deadline.
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface GraphQLErrorJson {
  message: string;
  extensions?: Record<string, unknown>;
}
export interface Payload {
  data?: Record<string, any> | null;
  errors?: readonly GraphQLErrorJson[];
}

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Polls `check` until it is true; fails with `describe()` after `timeout` ms. */
export async function waitUntil(check: () => boolean | Promise<boolean>, describe: () => string, timeout = 15_000): Promise<void> {
  for (const deadline = Date.now() + timeout; !(await check()); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${describe()}`);
  }
}

/** What waitUntilListening queries with (a pg.Pool or pg.Client of a superuser). */
interface Queryable {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * Until a server LISTENs on the user's channel: its PgSubscriber runs `LISTEN "achievements:<id>"` on its
 * listening connection after the first subscription to that channel, asynchronously. pg_stat_activity shows
 * only a connection's last statement: start one subscription at a time and wait for each, so that no other
 * LISTEN (or UNLISTEN) replaces the statement before it is seen.
 */
export async function waitUntilListening(db: Queryable, userId: string): Promise<void> {
  const statement = `LISTEN "achievements:${userId}"`;
  await waitUntil(
    async () => (await db.query("select 1 from pg_stat_activity where datname = current_database() and state = 'idle' and query = $1", [statement])).rows.length > 0,
    () => `a server to run ${statement}`,
  );
}

/** One POST to /graphql: the HTTP status and the body. Rejects when `signal` aborts (a client giving up). */
export async function postGraphQL(
  baseUrl: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
  signal: AbortSignal = AbortSignal.timeout(10_000),
): Promise<{ status: number; body: Payload }> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal,
  });
  return { status: response.status, body: (await response.json()) as Payload };
}

/** Like postGraphQL, but fails on any error; returns the data. */
export async function graphql(baseUrl: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const { status, body } = await postGraphQL(baseUrl, token, query, variables);
  if (body.errors || status !== 200) throw new Error(`GraphQL request failed (HTTP ${status}): ${JSON.stringify(body.errors)}`);
  return body.data!;
}

export const RECORD_ACTION = `mutation ($action: String!, $amount: Int!, $key: String) {
  recordAction(input: { action: $action, amount: $amount, idempotencyKey: $key }) {
    result { stepId tally unlocked { unlockId achievementId points } pointsAwarded totalPoints tierAfter }
  }
}`;

export const ACHIEVEMENT_UNLOCKED = `subscription { achievementUnlocked { unlock { id achievementId points unlockedAt } pointsAwarded } }`;

/** A graphql-ws client of the server at `baseUrl` (no authorization: anonymous); it never retries. */
export function connect(baseUrl: string, authorization?: string): Client {
  return createClient({
    url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: authorization ? { authorization } : {},
    retryAttempts: 0,
    lazy: true,
  });
}

/** One subscription operation and everything it received. */
export class Subscription {
  readonly payloads: Payload[] = [];
  readonly sinkErrors: unknown[] = [];
  completed = false;
  readonly stop: () => void;

  constructor(
    readonly client: Client,
    readonly query: string,
  ) {
    this.stop = client.subscribe(
      { query },
      {
        next: (payload) => void this.payloads.push(payload as Payload),
        error: (error) => void this.sinkErrors.push(error),
        complete: () => void (this.completed = true),
      },
    );
  }

  get ended(): boolean {
    return this.completed || this.sinkErrors.length > 0;
  }

  /** The data of each event of `field`; throws on any error payload. */
  events(field: string): any[] {
    return this.payloads.map((payload) => {
      if (payload.errors) throw new Error(`error payload: ${JSON.stringify(payload.errors)}`);
      return payload.data?.[field];
    });
  }

  /** Waits for `count` payloads; fails when the subscription ended (completed or errored) instead. */
  async waitForPayloads(count: number, timeout?: number): Promise<void> {
    await waitUntil(
      () => this.payloads.length >= count || this.ended,
      () => `${count} payload(s) of \`${this.query}\`; received ${JSON.stringify(this.payloads)}`,
      timeout,
    );
    if (this.ended) throw new Error(`the subscription ended: ${JSON.stringify({ payloads: this.payloads, errors: this.sinkErrors.map(describeError) })}`);
  }

  /** Resolves once the operation ends: its payloads, or the errors the server refused it with. */
  async waitForEnd(): Promise<{ payloads: Payload[]; errors: unknown[] }> {
    await waitUntil(
      () => this.ended,
      () => `the end of \`${this.query}\`; received ${JSON.stringify(this.payloads)}`,
    );
    return { payloads: this.payloads, errors: this.sinkErrors };
  }
}

/** A readable form of what graphql-ws hands to `error` (a CloseEvent, an Error or a list of GraphQL errors). */
export function describeError(error: unknown): unknown {
  if (error instanceof Error) return { message: error.message };
  if (error && typeof error === "object" && "code" in error && "reason" in error) {
    return { code: (error as { code: number }).code, reason: (error as { reason: string }).reason };
  }
  return error;
}

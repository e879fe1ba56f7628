// The LISTEN side of subscriptions, fixed to scale with subscribers. @dataplan/pg 1.1.2's PgSubscriber, after
// every subscribe and unsubscribe, diffs the topics it should listen to against those it does with an
// array scan per topic (O(topics²)), and queues one such diff per change, run one after another: with a topic
// per user (achievements:<user id>), the server stopped answering past ~4,000 subscribers (bench:memory).
// Here the diff uses sets, and changes that arrive while a diff is queued join it instead of queueing another.
// Everything else (one listening connection, at-least-once: subscriptions end when it drops) is PgSubscriber's.
// A LISTEN lasts as long as its session: behind PgBouncer in transaction mode, where each transaction may get
// another server connection, `listenConnectionString` gives the subscriber a direct connection of its own.
import pg from "pg";
import { PgSubscriber } from "postgraphile/adaptors/pg";

/** PgSubscriber's internals that the two methods below replace or use (@dataplan/pg 1.1.2). */
interface SubscriberInternals {
  topics: Record<string, unknown[]>;
  subscribedTopics: Set<string>;
  alive: boolean;
  chain(step: () => Promise<void> | void): void;
  getClient(): Promise<pg.PoolClient>;
  resetClient(): void;
  syncWithClient(client: pg.PoolClient): Promise<void>;
}

export class ScalablePgSubscriber extends PgSubscriber {}

// The subscribers with a diff queued and not started yet.
const syncQueued = new WeakSet<object>();

Object.assign(ScalablePgSubscriber.prototype, {
  sync(this: SubscriberInternals): void {
    if (syncQueued.has(this)) return; // the queued diff will see this change too
    syncQueued.add(this);
    this.chain(async () => {
      syncQueued.delete(this);
      if (!this.alive) return;
      const client = await this.getClient();
      try {
        await this.syncWithClient(client);
      } catch {
        this.resetClient();
      }
    });
  },
  async syncWithClient(this: SubscriberInternals, client: pg.PoolClient): Promise<void> {
    if (!this.alive) throw new Error("PgSubscriber released; aborting syncWithClient");
    const wanted = new Set(Object.keys(this.topics));
    const toAdd = [...wanted].filter((topic) => !this.subscribedTopics.has(topic));
    const toRemove = [...this.subscribedTopics].filter((topic) => !wanted.has(topic));
    for (const topic of toAdd) {
      await client.query(`LISTEN ${client.escapeIdentifier(topic)}`);
      this.subscribedTopics.add(topic);
    }
    for (const topic of toRemove) {
      await client.query(`UNLISTEN ${client.escapeIdentifier(topic)}`);
      this.subscribedTopics.delete(topic);
    }
  },
});

export interface ScalableSubscriberOptions {
  /**
   * Where to LISTEN instead of the service's own pool: a connection straight to PostgreSQL, when the service's
   * goes through a pooler in transaction mode (PgBouncer), which would hand the LISTEN's session to others.
   * Any role that may connect: LISTEN needs no privilege. Default: the service's pool.
   */
  listenConnectionString?: string;
}

/**
 * A pg service (makePgService's result) whose subscriber is a ScalablePgSubscriber, on the service's own pool
 * or on `listenConnectionString`:
 * `pgServices: [withScalableSubscriber(makePgService({ connectionString, schemas, pubsub: true }), { listenConnectionString })]`.
 */
export function withScalableSubscriber<Service extends { pgSubscriber?: unknown; adaptorSettings?: unknown; release?: () => unknown }>(
  service: Service,
  options: ScalableSubscriberOptions = {},
): Service {
  const servicePool = (service.adaptorSettings as { pool?: pg.Pool } | undefined)?.pool;
  if (!servicePool || !service.pgSubscriber) return service; // no pool of its own, or no pubsub: nothing to replace
  // One connection: the subscriber holds a single client for all its topics.
  const listenPool = options.listenConnectionString ? new pg.Pool({ connectionString: options.listenConnectionString, max: 1 }) : undefined;
  listenPool?.on("error", () => undefined); // a dropped idle connection: the subscriber resets and ends its subscriptions
  const subscriber = new ScalablePgSubscriber(listenPool ?? servicePool);
  const releaseService = service.release?.bind(service);
  return {
    ...service,
    pgSubscriber: subscriber,
    async release() {
      subscriber.release();
      await releaseService?.();
      await listenPool?.end();
    },
  };
}

// `achievementEvents(afterPosition:)`: every user's unlocks, tier changes and levels, for the service role (a trusted
// backend), over websockets, in order, resuming after a position (`afterPosition`).
//
// The events are the outbox's (migration 000009, 7-outbox.sql), read through status_public.achievement_events
// (the same function answers the polling query `achievementEvents`, and refuses every role but the service with
// FORBIDDEN). The stream first LISTENs for publications (the channel the publisher notifies), then reads the
// pages after `afterPosition` until it has caught up, then reads again on each publication. Positions are given in
// commit order by one publisher at a time, so reading "after the last position received" never skips an event.
import { type PgCodec, type PgExecutor, type PgExecutorContext, loadOneWithPgClient } from "postgraphile/@dataplan/pg";
import { context, type FieldArgs, type GrafastSubscriber, lambda, listen, type Step } from "postgraphile/grafast";
import { sql } from "postgraphile/pg-sql2";
import { extendSchema, gql } from "postgraphile/utils";
import { ACHIEVEMENTS_SCHEMA, achievementsExecutor } from "../src/achievements-schema";
import { decodedElement } from "./inline-composite-arrays";
import { OUTBOX_PUBLISHED_CHANNEL } from "../src/webhook-dispatcher";

/** Events read at a time while catching up. */
const PAGE_SIZE = 500;
/** Read again this often without a publication (a LISTEN that started after a publication it missed). */
const POLL_MS = 5_000;

/** One event as the codec of `status_public.achievement_event` reads it from PostgreSQL, with its position. */
interface EventRow {
  position: string;
  record: string;
}

/** The query of a page: `$1` the position after which, `$2` the page size; the record as its codec casts it. */
function pageQuery(eventCodec: PgCodec): string {
  const event = sql.identifier("event");
  const record = eventCodec.castFromPg ? eventCodec.castFromPg(event) : sql`${event}::text`;
  return sql.compile(
    sql`select ${event}.position::text as position, ${record} as record from unnest(status_public.achievement_events($1::bigint, $2)) as ${event}`,
  ).text;
}

/** The events after `after`, read under the subscriber's own session, read again on each wake-up. */
class PublishedEvents implements AsyncIterableIterator<EventRow> {
  private buffered: EventRow[] = [];
  private ended = false;
  private pendingWakeup: Promise<IteratorResult<unknown>> | undefined;
  private endNow: () => void = () => undefined;
  private readonly endedSignal = new Promise<void>((resolve) => (this.endNow = resolve));

  constructor(
    private readonly wakeups: AsyncIterator<unknown>,
    private readonly db: PgExecutorContext,
    private readonly query: string,
    private after: string,
  ) {}

  [Symbol.asyncIterator]() {
    return this;
  }

  private async read(): Promise<EventRow[]> {
    return this.db.withPgClient(this.db.pgSettings, async (client) => {
      const { rows } = await client.query<EventRow>({
        text: this.query,
        values: [this.after, PAGE_SIZE],
      });
      return [...rows];
    });
  }

  /** Resolves at the next publication, after POLL_MS, or at the end; false when the wake-ups ended. */
  private async wakeup(): Promise<boolean> {
    this.pendingWakeup ??= this.wakeups.next().finally(() => (this.pendingWakeup = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), POLL_MS)));
    try {
      const woken = await Promise.race([this.pendingWakeup, timeout, this.endedSignal]);
      return !(woken && woken.done);
    } finally {
      clearTimeout(timer);
    }
  }

  async next(): Promise<IteratorResult<EventRow>> {
    while (!this.ended) {
      const event = this.buffered.shift();
      if (event) return { done: false, value: event };
      const rows = await this.read();
      if (rows.length > 0) {
        this.buffered = rows;
        this.after = rows[rows.length - 1].position;
      } else if (!(await this.wakeup())) {
        await this.return();
      }
    }
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<EventRow>> {
    if (!this.ended) {
      this.ended = true;
      this.endNow();
      await this.wakeups.return?.();
    }
    return { done: true, value: undefined };
  }
}

/** A subscriber whose topic yields the published events after `after`, read with `query`. */
const publishedEventsSubscriber =
  (query: string) =>
  ([pgSubscriber, db, after]: readonly [GrafastSubscriber | null | undefined, PgExecutorContext, string, unknown]): GrafastSubscriber => {
    if (!pgSubscriber) throw new Error("achievementEvents needs a pgService with `pubsub: true`");
    return {
      async subscribe(topic) {
        const wakeups = await pgSubscriber.subscribe(topic);
        return new PublishedEvents(wakeups, db, query, after);
      },
    };
  };

export const AchievementEventsPlugin = extendSchema((build) => {
  const registry = build.input.pgRegistry;
  const executor: PgExecutor = achievementsExecutor(registry, "AchievementEventsPlugin");
  // A database migrated before the outbox (7-outbox.sql) has no status_public.achievement_events: the rest of the
  // API is served, without this subscription (its Query field is absent too).
  const events = Object.values(registry.pgResources).find(
    (resource) => resource.extensions?.pg?.schemaName === ACHIEVEMENTS_SCHEMA && resource.extensions.pg.name === "achievement_events",
  );
  if (!events) return { typeDefs: [] };
  // status_public.achievement_event (the function's resource is a list of it: `isList`).
  const eventCodec: PgCodec = events.codec;
  const decode = (event: EventRow): unknown => eventCodec.fromPg(event.record);
  const subscriber = publishedEventsSubscriber(pageQuery(eventCodec));

  return {
    typeDefs: gql`
      extend type Subscription {
        """
        The service role: every user's unlocks, tier changes and levels after \`afterPosition\` (exclusive; 0:
        from the oldest kept), in order, then each one as it is published. After a disconnect, subscribe again
        with the last \`position\` received: nothing is skipped. Other roles get FORBIDDEN.
        """
        achievementEvents(afterPosition: BigInt! = "0"): AchievementEvent
      }
    `,
    objects: {
      Subscription: {
        plans: {
          achievementEvents: {
            subscribePlan(_$root: Step, fieldArgs: FieldArgs) {
              const $after = fieldArgs.getRaw("afterPosition") as Step<string>;
              // Refused before listening (FORBIDDEN for every role but the service, BAD_USER_INPUT for a bad position).
              const $allowed = loadOneWithPgClient(executor, $after, async (client, afters) => {
                await client.query({ text: "select status_public.achievement_events($1::bigint, 1)", values: [afters[0]] });
                return afters.map(() => true);
              });
              const $subscriber = lambda([context().get("pgSubscriber"), executor.context(), $after, $allowed], subscriber, true);
              // Each event decoded as its row would be, and given to the query's AchievementEvent type as it is
              // (plugins/inline-composite-arrays.ts): no second select per event.
              return listen($subscriber, OUTBOX_PUBLISHED_CHANNEL, ($event) => decodedElement(lambda($event, decode, true)));
            },
            plan: ($event: Step) => $event,
          },
        },
      },
    },
  };
}, "AchievementEventsPlugin");

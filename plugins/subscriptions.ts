// Realtime toasts over websockets: `achievementUnlocked`, `tierChanged` and `levelAchieved`.
//
// The database notifies each user's channel `achievements:<user id>` after every commit that unlocks an
// achievement, achieves a level or changes the user's tier (status_private.notify_user, from the outbox
// triggers; or from the outbox publisher when the writer relayed it, `achievements.notification_relay`), ids only:
// `{"event":"achievement_unlocked"|"level_achieved"|"tier_changed","id":"..."}`. Each subscription here
// listens on the channel of the signed-in user, keeps only its own kind of event, and re-reads the rows
// under the subscriber's own row-level security. The signed-in user is whoever the database says it is
// under the request's pgSettings (`select jwt_public.current_user_id()`), never an argument: this works with
// our JWT code (src/auth.ts) and with an app's own authentication alike (plugins read no claim themselves).
import { jsonParse } from "postgraphile/@dataplan/json";
import { loadOneWithPgClient, type PgExecutor, type PgSelectSingleStep } from "postgraphile/@dataplan/pg";
import {
  constant,
  context,
  type GrafastSubscriber,
  isPromiseLike,
  lambda,
  listen,
  type PromiseOrDirect,
  SafeError,
  type Step,
} from "postgraphile/grafast";
import { type SQL, sql } from "postgraphile/pg-sql2";
import { extendSchema, gql } from "postgraphile/utils";
import { achievementsExecutor, achievementsResource } from "../src/achievements-schema";

/** The `event` of the notifications (status_private.notify_user). */
export type AchievementEventKind = "achievement_unlocked" | "level_achieved" | "tier_changed";

/** One user's channel; at most 63 bytes (a uuid makes it 49). */
export const achievementsTopic = (userId: string): string => `achievements:${userId}`;

/** The signed-in user's channel, or an error the client sees with its code. */
function topicOf(userId: string | null | undefined): string {
  if (!userId) {
    throw new SafeError("Sign in to subscribe to your achievements: send `authorization: Bearer <token>` in the connection parameters", {
      code: "UNAUTHENTICATED",
    });
  }
  return achievementsTopic(userId);
}

/** The signed-in user as the database sees it under the request's pgSettings (NULL: anonymous). */
const $signedInUserId = (executor: PgExecutor) =>
  loadOneWithPgClient(executor, constant(null), async (client, lookups) => {
    const { rows } = await client.query<{ user_id: string | null }>({ text: "select jwt_public.current_user_id() as user_id" });
    return lookups.map(() => rows[0]?.user_id ?? null);
  });

/** `user_id = jwt_public.current_user_id()` on a select of one of our per-user tables. */
const ofSignedInUser = (alias: SQL) => sql`${alias}.user_id = jwt_public.current_user_id()`;

/** The kind of a notification's payload, or undefined for a payload that is not an event. */
function eventKindOf(payload: unknown): string | undefined {
  if (typeof payload !== "string") return undefined;
  try {
    const event: unknown = JSON.parse(payload);
    return typeof event === "object" && event !== null && "event" in event && typeof event.event === "string" ? event.event : undefined;
  } catch {
    return undefined;
  }
}

/** The payloads of `source` whose event is `kind`; ending it (return/throw) ends `source` (and its LISTEN). */
function eventsOfKind<T>(source: AsyncIterableIterator<T>, kind: AchievementEventKind): AsyncIterableIterator<T> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      for (;;) {
        const result = await source.next();
        if (result.done || eventKindOf(result.value) === kind) return result;
      }
    },
    async return(value?: unknown) {
      return source.return ? source.return(value) : { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (source.throw) return source.throw(error);
      throw error;
    },
  };
}

/** A subscriber that hands out only the events of one kind from the shared per-user channel. */
function subscriberOfKind(kind: AchievementEventKind) {
  return (subscriber: GrafastSubscriber | null | undefined): GrafastSubscriber | null =>
    subscriber
      ? {
          subscribe(topic) {
            const stream: PromiseOrDirect<AsyncIterableIterator<unknown>> = subscriber.subscribe(topic);
            return isPromiseLike(stream) ? stream.then((events) => eventsOfKind(events, kind)) : eventsOfKind(stream, kind);
          },
        }
      : null;
}
const achievementUnlockedSubscriber = subscriberOfKind("achievement_unlocked");
const tierChangedSubscriber = subscriberOfKind("tier_changed");
const levelAchievedSubscriber = subscriberOfKind("level_achieved");

/** The parsed events of one kind on the signed-in user's channel. */
function listenForOwnEvents(executor: PgExecutor, ofKind: (subscriber: GrafastSubscriber | null | undefined) => GrafastSubscriber | null) {
  const $subscriber = lambda(context().get("pgSubscriber"), ofKind, true);
  const $topic = lambda($signedInUserId(executor), topicOf);
  return listen($subscriber, $topic, jsonParse);
}

/** An event's `id`: the `id` of `{"event": ..., "id": ...}`. */
type EventStep = Step & { get(key: "id"): Step<string> };

const emptyToNull = (name: string | null | undefined): string | null => (name ? name : null);
const pointsOrZero = (points: number | null | undefined): number => points ?? 0;

export const AchievementSubscriptionsPlugin = extendSchema((build) => {
  const registry = build.input.pgRegistry;
  const resource = (name: string) => achievementsResource(registry, name, "AchievementSubscriptionsPlugin");
  const executor = achievementsExecutor(registry, "AchievementSubscriptionsPlugin");
  const achievementUnlocks = resource("achievement_unlocks");
  const achievements = resource("achievements");
  const userScores = resource("user_scores");
  const tiers = resource("tiers");
  const userLevels = resource("user_levels");
  const levels = resource("levels");

  /** The subscriber's score row (and RLS shows a user only their own). */
  const $myScore = () => {
    const $scores = userScores.find();
    $scores.where(ofSignedInUser($scores.alias));
    return $scores.single() as PgSelectSingleStep; // a table: one row (the type is a union for an untyped resource)
  };
  /** The subscriber's row of a level they achieved. */
  const $myLevel = ($level: Step<string>) => {
    const $levels = userLevels.find({ level: $level });
    $levels.where(ofSignedInUser($levels.alias));
    return $levels.single() as PgSelectSingleStep;
  };

  return {
    typeDefs: gql`
      """
      An achievement the signed-in user just unlocked (a toast).
      """
      type AchievementUnlockedEvent {
        """
        The catch-up cursor of this unlock (the subscriber's events, in commit order): after a disconnect,
        \`myUnlocksSince(cursor:)\` with the last one received returns what was missed.
        """
        cursor: Int!
        """
        The unlock, read again under the subscriber's row-level security.
        """
        unlock: AchievementUnlock!
        """
        The achievement unlocked.
        """
        achievement: Achievement!
        """
        The points this unlock awarded (the unlock's points).
        """
        pointsAwarded: Int!
        """
        The subscriber's total points now.
        """
        totalPoints: Int!
        """
        The subscriber's tier now (null: below every tier).
        """
        tier: Tier
      }

      """
      The signed-in user's tier changed.
      """
      type TierChangedEvent {
        """
        The new tier (null: below every tier).
        """
        tier: Tier
        """
        The subscriber's total points now.
        """
        points: Int!
      }

      """
      The signed-in user achieved a level.
      """
      type LevelAchievedEvent {
        """
        The catch-up cursor of this event (shared with the subscriber's unlocks, in commit order).
        """
        cursor: Int!
        """
        The level achieved.
        """
        level: Level!
        """
        When it was achieved.
        """
        achievedAt: Datetime!
      }

      extend type Subscription {
        """
        Each achievement the signed-in user unlocks, after the transaction that unlocked it commits.
        """
        achievementUnlocked: AchievementUnlockedEvent
        """
        Each change of the signed-in user's tier.
        """
        tierChanged: TierChangedEvent
        """
        Each level the signed-in user achieves.
        """
        levelAchieved: LevelAchievedEvent
      }
    `,
    // Non-null event fields: an event is delivered only when its row was read again (cursor: Int! comes from
    // the unlock / user_levels row; a row deleted since the commit nulls the whole event, with an error). The
    // subscriber's own row is visible to them (RLS select_own), and its achievement or level with it: the
    // foreign keys are not null and cascade, the achievement (hidden ones too) is visible to the user who
    // unlocked it, levels to everyone, and the lookup by the row's key is inlined into the row's own query
    // (one snapshot), as for the relation fields AchievementUnlock.achievementByAchievementId and
    // UserLevel.levelByLevel (non-null since migration 000005).
    objects: {
      Subscription: {
        plans: {
          achievementUnlocked: {
            subscribePlan: () => listenForOwnEvents(executor, achievementUnlockedSubscriber),
            plan: ($event: Step) => $event,
          },
          tierChanged: {
            subscribePlan: () => listenForOwnEvents(executor, tierChangedSubscriber),
            plan: ($event: Step) => $event,
          },
          levelAchieved: {
            subscribePlan: () => listenForOwnEvents(executor, levelAchievedSubscriber),
            plan: ($event: Step) => $event,
          },
        },
      },
      AchievementUnlockedEvent: {
        plans: {
          cursor: ($event: EventStep) => achievementUnlocks.get({ id: $event.get("id") }).get("cursor"),
          unlock: ($event: EventStep) => achievementUnlocks.get({ id: $event.get("id") }),
          achievement: ($event: EventStep) =>
            achievements.get({ id: achievementUnlocks.get({ id: $event.get("id") }).get("achievement_id") }),
          pointsAwarded: ($event: EventStep) => achievementUnlocks.get({ id: $event.get("id") }).get("points"),
          totalPoints: () => lambda($myScore().get("points"), pointsOrZero, true),
          tier: () => tiers.get({ name: $myScore().get("tier") }),
        },
      },
      TierChangedEvent: {
        plans: {
          tier: ($event: EventStep) => tiers.get({ name: lambda($event.get("id"), emptyToNull, true) }),
          points: () => lambda($myScore().get("points"), pointsOrZero, true),
        },
      },
      LevelAchievedEvent: {
        plans: {
          cursor: ($event: EventStep) => $myLevel($event.get("id")).get("cursor"),
          level: ($event: EventStep) => levels.get({ name: $myLevel($event.get("id")).get("level") }),
          achievedAt: ($event: EventStep) => $myLevel($event.get("id")).get("achieved_at"),
        },
      },
    },
  };
}, "AchievementSubscriptionsPlugin");

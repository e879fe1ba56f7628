// Realtime toasts over websockets: `achievementUnlocked`, `tierChanged` and `levelAchieved`.
//
// The database notifies each user's channel `achievements:<user id>` after every commit that unlocks an
// achievement, achieves a level or changes the user's tier (status_private.notify_user), with ids only:
// `{"event":"achievement_unlocked"|"level_achieved"|"tier_changed","id":"..."}`. Each subscription here
// listens on the channel of the signed-in user (from the verified session, never from an argument), keeps
// only its own kind of event, and re-reads the rows with the resources' `.get()`, so the subscriber's own
// row-level security decides what they see.
import { jsonParse } from "postgraphile/@dataplan/json";
import type { PgResource } from "postgraphile/@dataplan/pg";
import {
  context,
  type GrafastSubscriber,
  isPromiseLike,
  lambda,
  listen,
  type PromiseOrDirect,
  SafeError,
  type Step,
} from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";

/** The `event` of the notifications (status_private.notify_user). */
export type AchievementEventKind = "achievement_unlocked" | "level_achieved" | "tier_changed";

/** One user's channel; at most 63 bytes (a uuid makes it 49). */
export const achievementsTopic = (userId: string): string => `achievements:${userId}`;

type PgSettings = Record<string, string | undefined> | null | undefined;

/** The signed-in user of a request, or an error the client sees with its code. */
function subscriberIdOf(pgSettings: PgSettings): string {
  const userId = pgSettings?.["jwt.claims.user_id"];
  if (!userId) {
    throw new SafeError("Sign in to subscribe to your achievements: send `authorization: Bearer <token>` in the connection parameters", {
      code: "UNAUTHENTICATED",
    });
  }
  return userId;
}
const topicOf = (pgSettings: PgSettings): string => achievementsTopic(subscriberIdOf(pgSettings));

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
function listenForOwnEvents(ofKind: (subscriber: GrafastSubscriber | null | undefined) => GrafastSubscriber | null) {
  const $subscriber = lambda(context().get("pgSubscriber"), ofKind, true);
  const $topic = lambda(context().get("pgSettings"), topicOf);
  return listen($subscriber, $topic, jsonParse);
}

/** The signed-in user's id, as a step (errors for anonymous requests, which never get this far). */
const $subscriberId = () => lambda(context().get("pgSettings"), subscriberIdOf);

/** An event's `id`: the `id` of `{"event": ..., "id": ...}`. */
type EventStep = Step & { get(key: "id"): Step<string> };

const emptyToNull = (name: string | null | undefined): string | null => (name ? name : null);
const pointsOrZero = (points: number | null | undefined): number => points ?? 0;

export const AchievementSubscriptionsPlugin = extendSchema((build) => {
  const { pgResources } = build.input.pgRegistry;
  // `any`: the registry is not typed per table here; `.get()` takes the attributes of a unique key of each.
  const resource = (name: string): PgResource<any, any, any, any, any> => {
    const found = pgResources[name];
    if (!found) throw new Error(`AchievementSubscriptionsPlugin: no resource "${name}" in the registry`);
    return found;
  };
  const achievementUnlocks = resource("achievement_unlocks");
  const achievements = resource("achievements");
  const userScores = resource("user_scores");
  const tiers = resource("tiers");
  const userLevels = resource("user_levels");
  const levels = resource("levels");

  /** The subscriber's score row (RLS: their own only). */
  const $myScore = () => userScores.get({ user_id: $subscriberId() });

  return {
    typeDefs: gql`
      """
      An achievement the signed-in user just unlocked (a toast).
      """
      type AchievementUnlockedEvent {
        """
        The unlock, read again under the subscriber's row-level security.
        """
        unlock: AchievementUnlock
        """
        The achievement unlocked.
        """
        achievement: Achievement
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
        The level achieved.
        """
        level: Level
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
    objects: {
      Subscription: {
        plans: {
          achievementUnlocked: {
            subscribePlan: () => listenForOwnEvents(achievementUnlockedSubscriber),
            plan: ($event: Step) => $event,
          },
          tierChanged: {
            subscribePlan: () => listenForOwnEvents(tierChangedSubscriber),
            plan: ($event: Step) => $event,
          },
          levelAchieved: {
            subscribePlan: () => listenForOwnEvents(levelAchievedSubscriber),
            plan: ($event: Step) => $event,
          },
        },
      },
      AchievementUnlockedEvent: {
        plans: {
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
          level: ($event: EventStep) => levels.get({ name: userLevels.get({ user_id: $subscriberId(), level: $event.get("id") }).get("level") }),
          achievedAt: ($event: EventStep) => userLevels.get({ user_id: $subscriberId(), level: $event.get("id") }).get("achieved_at"),
        },
      },
    },
  };
}, "AchievementSubscriptionsPlugin");

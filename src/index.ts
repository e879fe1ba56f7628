/// <reference types="postgraphile" />
// The package's entry (`require("pg-achievements")`): what a team with its own PostGraphile v5 server
// needs: the preset for their graphile.config.ts, our error codes, and the installer for their database.
// The standalone server is the `pg-achievements` command (src/cli.ts).
export { type AchievementsPresetOptions, ACHIEVEMENTS_PLUGINS, ACHIEVEMENTS_SCHEMAS, makeAchievementsPreset } from "./preset";
export { achievementsErrorOf, type ErrorCode, maskError as maskAchievementsError } from "./errors";
export { achievementsTopic, type AchievementEventKind } from "../plugins/subscriptions";
export {
  InstallError,
  type InstallLogger,
  type InstallOptions,
  type InstallProblem,
  type InstallProblemCode,
  type InstallResult,
  installAchievements,
  SUPABASE_INSTALL_OPTIONS,
} from "./install";
export { type Roles, type UserIdSource, userIdPgSettings } from "./roles";
// The leaderboard histogram's folding, for servers other than ours (ours runs it): every second or so.
export { type LeaderboardFolding, startLeaderboardFolding } from "./leaderboard-folding";
export { type BackfillOptions, type BackfillSummary, runBackfill } from "./backfill";
// Subscriptions that scale past a few thousand subscribers: wrap your makePgService(...) with it. Behind PgBouncer
// in transaction mode, its `listenConnectionString` gives LISTEN a direct connection.
export { ScalablePgSubscriber, type ScalableSubscriberOptions, withScalableSubscriber } from "./pg-subscriber";
// Read replicas for the queries that may lag (the catalog, the top of the leaderboards): wrap your makePgService(...).
export { LAG_TOLERANT_QUERY_FIELDS, LAG_TOLERANT_TYPES, ReadReplicas, type ReadReplicasOptions, readsMayLag, withReadReplicas } from "./read-replicas";
// The worker that runs the backfills admins start (startBackfill, applyCatalog), for servers other than ours (ours
// runs it unless BACKFILL_WORKER=false).
export { type BackfillWorker, type BackfillWorkerOptions, startBackfillWorker } from "./backfill-worker";
// The outbox's webhook dispatcher (publishes events for `achievementEvents`, delivers signed webhooks), for servers
// other than ours (ours runs it unless WEBHOOK_DISPATCHER=false).
export { startWebhookDispatcher, type WebhookDispatcher, type WebhookDispatcherOptions, webhookSignature } from "./webhook-dispatcher";

// @ts-nocheck: type-checked by test/graphql/codegen.test.ts, next to the types it generates (./generated).
// Client code that relies on what the API guarantees: under strict null checks, it compiles only if the
// fields it reads without a check are non-null in the schema. Nullable fields are checked before use.
import type { CatalogQuery, DashboardQuery, LeaderboardQuery, MyUnlocksQuery, RecordActionMutation, SetMyProfileMutation } from "./generated";

export function dashboardSummary(data: DashboardQuery): string {
  const dashboard = data.myDashboard;
  if (!dashboard) return "Sign in"; // null, with an UNAUTHENTICATED error, without a token
  const { tier, rank } = dashboard;
  return [
    `${tier.points.toFixed()} points, ${tier.percent.toFixed(1)} % of the way to ${tier.nextTier ?? "nothing: top tier"}`,
    `tier ${tier.tier ?? "none"} ${tier.badge ?? ""}, next at ${tier.nextTierMinPoints?.toFixed() ?? "-"} ${tier.nextBadge ?? ""}`,
    `rank ${rank.rank.toFixed()} of ${rank.totalUsers.toFixed()} (top ${(100 - rank.percentile).toFixed(1)} %, ${rank.points.toFixed()} points)`,
    ...dashboard.unlocked.map((achievement) => `${achievement.name.toUpperCase()} +${achievement.points.toFixed()} ${achievement.unlockedAt?.slice(0, 10) ?? ""}`),
    ...dashboard.locked.map(
      (achievement) =>
        `${achievement.achievementId.toUpperCase()}: ${achievement.percent.toFixed()} % ${achievement.description.trim()} ${achievement.icon ?? ""} ` +
        achievement.criteria
          .map((criterion) => `${criterion.kind} ${criterion.action ?? "any"} ${criterion.current.toFixed()}/${criterion.threshold ?? criterion.hourFrom ?? 0} ${criterion.hourUntil ?? ""} ${criterion.remaining.toFixed()} left, ${criterion.percent.toFixed()} %`)
          .join("; "),
    ),
    `${dashboard.hiddenLockedCount.toFixed()} hidden`,
    ...dashboard.tallies.map((tally) => `${tally.name.toUpperCase()} x ${tally.count.toFixed()}`),
    `streak ${dashboard.currentStreak.toFixed()} (best ${dashboard.longestStreak.toFixed()})`,
    ...dashboard.streaks.map((streak) => `${streak.action ?? "any activity"}: ${streak.current.toFixed()} / ${streak.longest.toFixed()} since ${streak.lastDay.slice(0, 10)}`),
    dashboard.userId.toLowerCase(),
  ].join("\n");
}

export function catalog(data: CatalogQuery): string[] {
  const achievements = data.allAchievements;
  if (!achievements) return [];
  const mine = new Map((data.myAchievements?.nodes ?? []).map((progress) => [progress.achievementId, progress]));
  return [
    `${achievements.totalCount.toFixed()} achievements${achievements.pageInfo.hasNextPage ? ", more after " + (achievements.pageInfo.endCursor ?? "") : ""}`,
    ...achievements.nodes.map((achievement) => {
      const progress = mine.get(achievement.id);
      return `${achievement.id.toUpperCase()} ${achievement.name} ${achievement.points.toFixed()} ${achievement.kind} ${achievement.hidden ? "hidden" : ""} ${achievement.icon ?? ""} ${achievement.availableUntil ?? ""} ${achievement.rarityPercent?.toFixed(1) ?? "-"} % ${progress ? `${progress.percent.toFixed()} % ${progress.unlocked} ${progress.unlockedAt ?? ""} ${progress.criteria.map((criterion) => criterion.kind + criterion.remaining.toFixed()).join()}` : ""}`;
    }),
    ...achievements.edges.map((edge) => `${edge.cursor ?? ""} ${edge.node.id.toUpperCase()}`),
    ...(data.allTiers?.nodes ?? []).map((tier) => `${tier.name.toUpperCase()} from ${tier.minPoints.toFixed()} ${tier.badge}`),
    ...(data.allAchievementCriteria?.nodes ?? []).map((criterion) => `${criterion.achievementByAchievementId.name.toUpperCase()}: ${criterion.kind} ${criterion.threshold ?? ""}`),
    ...(data.allLevelRequirements?.nodes ?? []).map((requirement) => `${requirement.levelByLevel.name.toUpperCase()}: ${requirement.name} x ${requirement.requiredCount.toFixed()}`),
  ];
}

export function myUnlocks(data: MyUnlocksQuery): string[] {
  return [
    ...(data.allAchievementUnlocks?.nodes ?? []).map(
      (unlock) => `${unlock.achievementByAchievementId.name.toUpperCase()}${unlock.achievementByAchievementId.hidden ? " (secret)" : ""} +${unlock.points.toFixed()} by ${unlock.userStepByStepId.name} at ${unlock.userStepByStepId.occurredAt.slice(0, 10)} ${unlock.id} ${unlock.unlockedAt}`,
    ),
    ...(data.allUserLevels?.nodes ?? []).map((level) => `${level.levelByLevel.name.toUpperCase()} ${level.level} ${level.achievedAt.slice(0, 10)}`),
  ];
}

export function leaderboard(data: LeaderboardQuery): string[] {
  const me = data.myRank ? `me: ${data.myRank.rank.toFixed()} of ${data.myRank.totalUsers.toFixed()} (${data.myRank.percentile.toFixed(1)}, ${data.myRank.points.toFixed()})` : "sign in for your rank";
  return [
    ...(data.leaderboard ?? []).map((entry) => `${entry.medal ?? entry.rank.toFixed()} ${entry.displayName ?? entry.userId.slice(0, 8)} ${entry.points.toFixed()} ${entry.tier ?? ""} ${entry.badge ?? ""}`),
    me,
    ...(data.leaderboardAroundMe ?? []).map((entry) => `${entry.rank.toFixed()} ${entry.userId.toLowerCase()} ${entry.points.toFixed()}`),
  ];
}

export function recorded(data: RecordActionMutation): string {
  const result = data.recordAction?.result;
  if (!result) return "not recorded";
  const unlocked = result.unlocked.map((achievement) => `${achievement.name.toUpperCase()} (+${achievement.points.toFixed()}, ${achievement.achievementId}, ${achievement.unlockId})`);
  return [
    `${result.action.toUpperCase()} x ${result.amount.toFixed()}: tally ${result.tally.toFixed()}, step ${result.stepId.toLowerCase()} of ${result.userId}`,
    `+${result.pointsAwarded.toFixed()} = ${result.totalPoints.toFixed()} points, tier ${result.tierBefore ?? "none"} -> ${result.tierAfter ?? "none"}`,
    `streak ${result.currentStreak.toFixed()}, levels ${result.levelsAchieved.map((level) => level.toUpperCase()).join(", ")}`,
    ...unlocked,
  ].join("\n");
}

export function profile(data: SetMyProfileMutation): string {
  const result = data.setMyProfile?.result;
  return result ? `${result.displayName ?? "(no name)"} ${result.timeZone.toUpperCase()} ${result.userId} ${result.leaderboardOptOut ? "hidden" : "listed"}` : "";
}

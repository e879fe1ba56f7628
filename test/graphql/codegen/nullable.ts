// @ts-nocheck: type-checked by test/graphql/codegen.test.ts, which expects an error on each line marked
// `// null` and nowhere else: the fields read here can really be null, and the generated types say so.
import type { DashboardQuery, LeaderboardQuery, RecordActionMutation } from "./generated";

export function unchecked(dashboard: DashboardQuery, board: LeaderboardQuery, record: RecordActionMutation): unknown[] {
  return [
    dashboard.myDashboard.userId, // null
    board.leaderboardAroundMe.length, // null
    board.myRank.rank, // null
    board.leaderboard[0].displayName.length, // null
    record.recordAction.result, // null
    record.recordAction?.result.tierAfter.length, // null
    dashboard.myDashboard?.tier.nextTier.length, // null
    dashboard.myDashboard?.unlocked[0].unlockedAt.length, // null
    dashboard.myDashboard?.streaks[0].action.length, // null
  ];
}

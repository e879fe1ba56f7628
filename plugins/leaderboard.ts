// Leaderboard queries: top N, my rank, the entries around me, per period; and the rank on myDashboard. The
// same three for a ranked action's tally boards (actionLeaderboard, myActionRank, actionLeaderboardAroundMe).
// The set logic lives in SQL (status_public.leaderboard, my_rank, leaderboard_around_me, in migrations/; their
// `action` argument picks a tally board): each field here runs one of those functions with the request's role
// and claims.
import { loadManyWithPgClient, loadOneWithPgClient, type PgClient } from "postgraphile/@dataplan/pg";
import { constant, type FieldArgs, lambda, object } from "postgraphile/grafast";
import { extendSchema, gql } from "postgraphile/utils";
import { achievementsExecutor } from "../src/achievements-schema";

interface EntryRow {
  rank: number;
  user_id: string;
  display_name: string | null;
  points: number;
  tier: string | null;
  badge: string | null;
  medal: string | null;
}

interface RankRow {
  rank: number;
  points: number;
  total_users: number;
  percentile: number;
}

const toEntry = (row: EntryRow) => ({
  rank: row.rank,
  userId: row.user_id,
  displayName: row.display_name,
  points: row.points,
  tier: row.tier,
  badge: row.badge,
  medal: row.medal,
});

const toRank = (row: RankRow | undefined) =>
  row && { rank: row.rank, points: row.points, totalUsers: row.total_users, percentile: row.percentile };

/** On a tally board the SQL's `points` is the user's tally of the action in the period. */
const toTallyEntry = ({ points, ...entry }: ReturnType<typeof toEntry>) => ({ ...entry, tally: points });
const toTallyRank = (rank: ReturnType<typeof toRank>) => rank && { rank: rank.rank, tally: rank.points, totalUsers: rank.totalUsers, percentile: rank.percentile };

// Each statement is named: @dataplan/pg prepares it once per connection (its LRU of prepared statements).
async function entries(client: PgClient, name: string, sql: string, values: unknown[]) {
  const { rows } = await client.query<EntryRow>({ name, text: sql, values });
  return rows.map(toEntry);
}

/** The signed-in user's rank on the points board (action null) or on the action's tally board. */
async function myRank(client: PgClient, period: string, action: string | null = null) {
  const { rows } = await client.query<RankRow>({ name: "achievements_my_rank", text: "select * from status_public.my_rank($1, $2)", values: [period, action] });
  return toRank(rows[0]);
}

/** The arguments' defaults, in the schema and where an argument was left out (getRaw does not apply them). */
const DEFAULTS = { period: "ALL_TIME", first: 10, offset: 0, radius: 5 };
/** `action` is required: it has no default. */
type Args = typeof DEFAULTS & { action: string };

export const LeaderboardPlugin = extendSchema((build) => {
  // The pgService serving status_public, whatever the app named it.
  const executor = achievementsExecutor(build.input.pgRegistry, "LeaderboardPlugin");
  const argsOf = (fieldArgs: FieldArgs, names: (keyof Args)[]) =>
    lambda(object(Object.fromEntries(names.map((name) => [name, fieldArgs.getRaw(name)]))), (given: Partial<Args>) => {
      const args: Record<string, unknown> = {};
      for (const name of names) args[name] = given[name] ?? (DEFAULTS as Partial<Args>)[name];
      return args as Args;
    });

  return {
    // LeaderboardPeriod comes from the status_public.leaderboard_period enum.
    typeDefs: gql`
      """
      One user on a leaderboard. Equal points share a rank (1, 2, 2, 4); within a tie, the user who
      reached the score first is listed first.
      """
      type LeaderboardEntry {
        rank: Int!
        userId: UUID!
        displayName: String
        points: Int!
        "The user's tier (by all-time points) and its badge."
        tier: String
        badge: String
        "🥇, 🥈 or 🥉 for ranks 1 to 3."
        medal: String
      }

      "The signed-in user's place on a leaderboard."
      type LeaderboardRank {
        rank: Int!
        points: Int!
        "Users on the leaderboard, the signed-in user included."
        totalUsers: Int!
        "(totalUsers - rank) / totalUsers x 100, as in the tutorial."
        percentile: Float!
      }

      "One user on an action's tally board: equal tallies share a rank (1, 2, 2, 4); within a tie, who reached it first comes first."
      type ActionLeaderboardEntry {
        rank: Int!
        userId: UUID!
        displayName: String
        "The user's tally of the action in the period."
        tally: Int!
        "The user's tier (by all-time points) and its badge."
        tier: String
        badge: String
        "🥇, 🥈 or 🥉 for ranks 1 to 3."
        medal: String
      }

      "The signed-in user's place on an action's tally board."
      type ActionLeaderboardRank {
        rank: Int!
        tally: Int!
        "Users on the board, the signed-in user included."
        totalUsers: Int!
        "(totalUsers - rank) / totalUsers x 100."
        percentile: Float!
      }

      extend type Query {
        "The top of a ranked action's board, by the users' tallies of it in the period (first: 1 to 100). Null with NOT_FOUND for an unknown action or one without a leaderboard (Action.ranked), BAD_USER_INPUT for a first or offset out of range."
        actionLeaderboard(action: String!, period: LeaderboardPeriod! = ${DEFAULTS.period}, first: Int! = ${String(DEFAULTS.first)}, offset: Int! = ${String(DEFAULTS.offset)}): [ActionLeaderboardEntry!]
        "The signed-in user's rank on a ranked action's board; users who opted out still see theirs. Null with UNAUTHENTICATED when not signed in, NOT_FOUND for an action without a leaderboard."
        myActionRank(action: String!, period: LeaderboardPeriod! = ${DEFAULTS.period}): ActionLeaderboardRank
        "The signed-in user and up to radius (1 to 50) entries above and below on a ranked action's board. Null with UNAUTHENTICATED when not signed in, NOT_FOUND for an action without a leaderboard."
        actionLeaderboardAroundMe(action: String!, period: LeaderboardPeriod! = ${DEFAULTS.period}, radius: Int! = ${String(DEFAULTS.radius)}): [ActionLeaderboardEntry!]

        "The top of a leaderboard (first: 1 to 100). Users who opted out are not listed. Null (with a BAD_USER_INPUT error) for a first or offset out of range."
        leaderboard(period: LeaderboardPeriod! = ${DEFAULTS.period}, first: Int! = ${String(DEFAULTS.first)}, offset: Int! = ${String(DEFAULTS.offset)}): [LeaderboardEntry!]
        "The signed-in user's rank; users who opted out still see theirs. Null (with an UNAUTHENTICATED error) when not signed in."
        myRank(period: LeaderboardPeriod! = ${DEFAULTS.period}): LeaderboardRank
        "The signed-in user and up to radius (1 to 50) entries above and below. Null (with an UNAUTHENTICATED error) when not signed in."
        leaderboardAroundMe(period: LeaderboardPeriod! = ${DEFAULTS.period}, radius: Int! = ${String(DEFAULTS.radius)}): [LeaderboardEntry!]
      }

      extend type Dashboard {
        "The signed-in user's all-time rank."
        rank: LeaderboardRank!
      }
    `,
    plans: {
      Query: {
        leaderboard(_: unknown, fieldArgs: FieldArgs) {
          return loadManyWithPgClient(executor, argsOf(fieldArgs, ["period", "first", "offset"]), (client, lookups) =>
            lookups.map(({ period, first, offset }) =>
              entries(client, "achievements_leaderboard", "select * from status_public.leaderboard($1, $2, $3)", [period, first, offset]),
            ),
          );
        },
        myRank(_: unknown, fieldArgs: FieldArgs) {
          return loadOneWithPgClient(executor, argsOf(fieldArgs, ["period"]), (client, lookups) =>
            lookups.map(({ period }) => myRank(client, period)),
          );
        },
        leaderboardAroundMe(_: unknown, fieldArgs: FieldArgs) {
          return loadManyWithPgClient(executor, argsOf(fieldArgs, ["period", "radius"]), (client, lookups) =>
            lookups.map(({ period, radius }) => entries(client, "achievements_leaderboard_around_me", "select * from status_public.leaderboard_around_me($1, $2)", [period, radius])),
          );
        },
        actionLeaderboard(_: unknown, fieldArgs: FieldArgs) {
          return loadManyWithPgClient(executor, argsOf(fieldArgs, ["action", "period", "first", "offset"]), (client, lookups) =>
            lookups.map(async ({ action, period, first, offset }) =>
              (await entries(client, "achievements_action_leaderboard", "select * from status_public.leaderboard($1, $2, $3, $4)", [period, first, offset, action])).map(toTallyEntry),
            ),
          );
        },
        myActionRank(_: unknown, fieldArgs: FieldArgs) {
          return loadOneWithPgClient(executor, argsOf(fieldArgs, ["action", "period"]), (client, lookups) =>
            lookups.map(async ({ action, period }) => toTallyRank(await myRank(client, period, action))),
          );
        },
        actionLeaderboardAroundMe(_: unknown, fieldArgs: FieldArgs) {
          return loadManyWithPgClient(executor, argsOf(fieldArgs, ["action", "period", "radius"]), (client, lookups) =>
            lookups.map(async ({ action, period, radius }) =>
              (await entries(client, "achievements_action_leaderboard_around_me", "select * from status_public.leaderboard_around_me($1, $2, $3)", [period, radius, action])).map(toTallyEntry),
            ),
          );
        },
      },
      Dashboard: {
        rank() {
          return loadOneWithPgClient(executor, constant(DEFAULTS.period), (client, periods) => periods.map((period) => myRank(client, period)));
        },
      },
    },
  };
}, "LeaderboardPlugin");

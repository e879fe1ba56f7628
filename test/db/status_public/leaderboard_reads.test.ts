// The leaderboard reads (migration 000009, 3-leaderboard-reads.sql) against a brute force over the score rows,
// with the histogram's deltas not folded: leaderboard() pages at every offset across ties (where the page's
// first score is shared with users before it), and leaderboard_around_me() and my_rank() for every user of the
// scenario, one who opted out (listed in board order with the rank they would have) and one with no points.
// In one REPEATABLE READ snapshot: other test files commit scores meanwhile.
import { asUser, newUserId, type TestTransaction, withRepeatableRead } from "../../helpers/db";

interface Entry {
  rank: number;
  user_id: string;
  points: number;
}

const BOARD = "score.period = 'ALL_TIME' and score.period_start = '-infinity'";

/** Every visible user of the all-time board in board order, ranked by count(*). */
const bruteForce = (tx: TestTransaction) =>
  tx.root<Entry>(
    `select 1 + (select count(*) from status_public.leaderboard_scores as other
                 where other.period = score.period and other.period_start = score.period_start and other.visible and other.points > score.points)::integer as rank,
            score.user_id, score.points
     from status_public.leaderboard_scores as score where ${BOARD} and score.visible
     order by score.points desc, score.reached_at, score.user_id`,
  );

/** Users with these points (several awards each), plus one who opts out (at 40) and one with none. */
async function scenario(tx: TestTransaction) {
  const points = [700_050, 700_040, 700_040, 700_040, 700_030, 700_030, 700_020, 700_010, 700_010, 700_005];
  const users = points.map(() => newUserId());
  const optedOut = newUserId();
  await tx.root(
    `insert into status_public.points_ledger (user_id, points)
     select awarded.user_id, part from unnest($1::uuid[], $2::integer[]) as awarded(user_id, points), lateral (values (awarded.points - 5), (5)) as parts(part)`,
    [[...users, optedOut], [...points, 700_040]],
  );
  await tx.as(asUser(optedOut), "select status_public.set_my_profile(leaderboard_opt_out => true)");
  const [{ pending }] = await tx.root<{ pending: number }>("select count(*)::integer as pending from status_private.leaderboard_count_deltas");
  expect(pending).toBeGreaterThan(0);
  return { users, optedOut, noPoints: newUserId() };
}

const entriesOf = (rows: Entry[]) => rows.map(({ rank, user_id, points }) => ({ rank, user_id, points }));

describe("the leaderboard reads", () => {
  it("rank every page exactly, whatever its offset, the deltas not folded", () =>
    withRepeatableRead(async (tx) => {
      const { users } = await scenario(tx);
      const board = await bruteForce(tx);
      const last = Math.max(...users.map((user) => board.findIndex((entry) => entry.user_id === user)));
      for (let offset = 0; offset <= last + 1; offset++) {
        for (const first of [1, 2, 3, 7]) {
          const page = await tx.as<Entry>(asUser(users[0]), "select * from status_public.leaderboard('ALL_TIME', $1, $2)", [first, offset]);
          expect({ first, offset, page: entriesOf(page) }).toEqual({ first, offset, page: board.slice(offset, offset + first) });
        }
      }
    }));

  it("show each user the entries around them and their rank; one who opted out sees theirs in board order", () =>
    withRepeatableRead(async (tx) => {
      const { users, optedOut, noPoints } = await scenario(tx);
      const board = await bruteForce(tx);
      const radius = 2;
      for (const user of users) {
        const at = board.findIndex((entry) => entry.user_id === user);
        const around = await tx.as<Entry>(asUser(user), "select * from status_public.leaderboard_around_me('ALL_TIME', $1)", [radius]);
        expect({ user, around: entriesOf(around) }).toEqual({ user, around: board.slice(Math.max(0, at - radius), at + radius + 1) });
        const [mine] = await tx.as<{ rank: number; total_users: number }>(asUser(user), "select * from status_public.my_rank('ALL_TIME')");
        expect({ user, rank: mine.rank, total: mine.total_users }).toEqual({ user, rank: board[at].rank, total: board.length });
      }

      // The opted-out user (700,040 points, not on the board): the visible users nearest their place, and their own
      // row with the rank they would have, in board order (same points and time: by user id).
      const rank = 1 + board.filter((entry) => entry.points > 700_040).length;
      const ownRow = { rank, user_id: optedOut, points: 700_040 };
      const place = board.findIndex((entry) => entry.points < 700_040 || (entry.points === 700_040 && entry.user_id > optedOut));
      const expected = [...board.slice(Math.max(0, place - radius), place), ownRow, ...board.slice(place, place + radius)];
      const around = await tx.as<Entry>(asUser(optedOut), "select * from status_public.leaderboard_around_me('ALL_TIME', $1)", [radius]);
      expect(entriesOf(around)).toEqual(expected);
      const [mine] = await tx.as<{ rank: number; total_users: number }>(asUser(optedOut), "select * from status_public.my_rank('ALL_TIME')");
      expect(mine).toMatchObject({ rank, total_users: board.length + 1 });

      // No points: the lowest scores, last rank.
      const lowest = await tx.as<Entry>(asUser(noPoints), "select * from status_public.leaderboard_around_me('ALL_TIME', $1)", [radius]);
      expect(entriesOf(lowest)).toEqual(board.slice(-radius));
      const [none] = await tx.as<{ rank: number; total_users: number }>(asUser(noPoints), "select * from status_public.my_rank('ALL_TIME')");
      expect(none).toMatchObject({ rank: board.length + 1, total_users: board.length + 1 });
    }));
});

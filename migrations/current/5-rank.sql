-- Issue 10, my rank: the rank levels above level 0 in one index scan (5-rank.sql).
-- status_private.users_around read the four rows on a score's path with four primary-key lookups. Levels 1
-- to 3 are now one range scan of the same primary key, from (level 1, the score's level-1 block) to level 3:
-- the rows between are level 1's blocks above the score's, level 2's blocks and level 3's one row (three rows
-- on a board whose scores stay below 65,536; at most 256 + 128 + 1 for any integer score), the wanted one of
-- each level kept by a filter. Level 0 keeps its own lookup (a range to it would pass every level-0 block
-- above the score). Same answers (test/db/status_private/fold_leaderboard_deltas.test.ts checks the level
-- edges up to 2^31 against count(*)); bench/README.md "my rank, cheaper" has the A/B.
create or replace function status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer)
returns table(above integer, "at" integer, on_board integer)
language sql stable as $$
  select (coalesce(level_0.users_from[(probe.points & 255) + 2], 0) + coalesce(upper_levels.above, 0) + coalesce(pending.above, 0))::integer,
         (coalesce(level_0.users_from[(probe.points & 255) + 1] - coalesce(level_0.users_from[(probe.points & 255) + 2], 0), 0)
          + coalesce(pending."at", 0))::integer,
         (coalesce(upper_levels.on_board, 0) + coalesce(pending.on_board, 0))::integer
  -- Scores are positive: below 0, everyone is above, as at 0.
  from (select greatest(users_around.points, 0) as points) as probe
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 0 and levels.block = probe.points >> 8) as level_0 on true
  -- Levels 1 to 3 in one scan: each level's element for the users above the score's block, level 3's first for the board.
  cross join lateral (select sum(coalesce(levels.users_from[((probe.points >> (8 * levels.level)) & 255) + 2], 0)) as above,
                             sum(levels.users_from[1]) filter (where levels.level = 3) as on_board
                      from status_private.leaderboard_rank_levels as levels
                      where levels.action = board_action and levels.period = board and levels.period_start = board_start
                        and (levels.level, levels.block) >= (1::smallint, probe.points >> 16) and levels.level <= 3
                        and levels.block = case levels.level when 1 then probe.points >> 16 when 2 then probe.points >> 24 else 0 end) as upper_levels
  cross join lateral (select sum(deltas.users) filter (where deltas.points > probe.points) as above,
                             sum(deltas.users) filter (where deltas.points = users_around.points) as "at",
                             sum(deltas.users) as on_board
                      from status_private.leaderboard_count_deltas as deltas
                      where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start) as pending
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_around(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users are above `points` on the board, at it, and on the board (the rank levels plus pending deltas): a rank is 1 + above. Level 0 by its key, levels 1 to 3 in one range scan (5-rank.sql). Inlined into the reads that call it.';
revoke all on function status_private.users_around(text, status_public.leaderboard_period, date, integer) from public;

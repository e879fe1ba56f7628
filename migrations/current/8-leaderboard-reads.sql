-- Leaderboard reads: a page (top N, or the window around a user) is contiguous in board order, so only its
-- first two distinct scores need the histogram (status_private.rank_of); every other rank follows from the
-- page itself. It used to sum the histogram once per entry. PL/pgSQL, so that the plans stay cached
-- (1-plan-caching.sql).
create or replace function status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date, user_ids uuid[])
  returns setof status_public.leaderboard_entry
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
as $$
begin
  return query
  with page as (
    select score.user_id, score.points, score.reached_at, score.visible
    from unnest(user_ids) as listed(user_id)
    join status_public.leaderboard_scores as score
      on score.period = board and score.period_start = board_start and score.user_id = listed.user_id
  ), on_board as (
    select page.user_id, page.points,
           rank() over (order by page.points desc) as page_rank,
           dense_rank() over (order by page.points desc) as score_number
    from page where page.visible
  ), anchors as materialized (
    -- The page's highest score may be shared with users before the page: its rank comes from the histogram.
    -- So does the next score's; the scores below it have all their users on the page.
    select status_private.rank_of(board, board_start, (select max(on_board.points) from on_board where on_board.score_number = 1)) as first_rank,
           status_private.rank_of(board, board_start, (select max(on_board.points) from on_board where on_board.score_number = 2)) as second_rank,
           (select min(on_board.page_rank) from on_board where on_board.score_number = 2) as second_page_rank
  ), ranked as (
    select page.*,
           case when not page.visible then status_private.rank_of(board, board_start, page.points) -- an opted-out viewer: the rank they would have
                when on_board.score_number = 1 then anchors.first_rank
                else anchors.second_rank + (on_board.page_rank - anchors.second_page_rank)::integer
           end as rank
    from page
    left join on_board on on_board.user_id = page.user_id
    cross join anchors
  )
  select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
         case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
  from ranked
  left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
  left join status_public.user_scores as overall on overall.user_id = ranked.user_id
  left join status_public.tiers as tier on tier.name = overall.tier
  order by ranked.points desc, ranked.reached_at, ranked.user_id;
end;
$$;

create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME')
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = my_rank.period and score.period_start = board_start and score.user_id = me;
  result.points := coalesce(mine.points, 0);
  result.rank := status_private.rank_of(period, board_start, result.points);
  -- The visible users, plus the viewer when not among them (no points yet, or opted out).
  result.total_users := status_private.board_users(period, board_start) + case when coalesce(mine.visible, false) then 0 else 1 end;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;

create or replace function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
begin
  -- 1 + the visible users with more points: the folded histogram (higher buckets, then higher points in the
  -- same bucket) plus the deltas not folded yet.
  return 1
    + coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                where buckets.period = board and buckets.period_start = board_start and buckets.bucket > rank_of.points / 100), 0)::integer
    + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                where counts.period = board and counts.period_start = board_start
                  and counts.points > rank_of.points and counts.points < (rank_of.points / 100 + 1) * 100), 0)::integer
    + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                where deltas.period = board and deltas.period_start = board_start and deltas.points > rank_of.points), 0)::integer;
end;
$$;

-- How many visible users the board has.
create or replace function status_private.board_users(board status_public.leaderboard_period, board_start date) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
begin
  return (coalesce((select sum(counts.users) from status_private.leaderboard_bucket_counts as counts
                    where counts.period = board and counts.period_start = board_start), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start), 0))::integer;
end;
$$;

-- The users just above and just below the signed-in one. Each side is two index ranges (the same points on
-- one side of the user, then other points), not one OR, which would walk the board from its top.
create or replace function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
begin
  if me is null then
    raise exception 'Sign in to see the leaderboard around you' using errcode = 'AC401';
  end if;
  if radius is null or radius not between 1 and 50 then
    raise exception 'radius must be from 1 to 50' using errcode = 'AC400';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  if mine.user_id is null then
    -- Not on the board: the lowest scores are "around" a user with no points.
    return query select * from status_private.leaderboard_entries(period, board_start, array(
      select score.user_id from status_public.leaderboard_scores as score
      where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible and score.points > 0
      order by score.points, score.reached_at desc, score.user_id desc
      limit radius));
    return;
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, array(
    select above.user_id from (
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
       order by score.reached_at desc, score.user_id desc
       limit radius)
      union all
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points > mine.points
       order by score.points, score.reached_at desc, score.user_id desc
       limit radius)
    ) as above
    order by above.points, above.reached_at desc, above.user_id desc
    limit radius)
  || array(
    select below.user_id from (
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points = mine.points and (score.reached_at, score.user_id) > (mine.reached_at, me)
       order by score.reached_at, score.user_id
       limit radius)
      union all
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points < mine.points
       order by score.points desc, score.reached_at, score.user_id
       limit radius)
    ) as below
    order by below.points desc, below.reached_at, below.user_id
    limit radius)
  || array[me]);
end;
$$;

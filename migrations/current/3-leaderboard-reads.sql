-- Leaderboard reads, cheaper (issue 10's read goal). Measured on bench:reads' database (100,000 users) with
-- EXPLAIN ANALYZE and auto_explain (nested statements): the index scans themselves cost a few hundredths of a
-- millisecond; the rest was around them: a PL/pgSQL call (with its SET clauses) for each rank_of() inside the
-- page's statement, the executor setting up a subplan per histogram lookup (even those never run), a second
-- lookup of the page's score rows by key, two histogram lookups per page, and my_rank() summing the board's
-- buckets twice (for the rank, then for the board's size). Now:
-- - the histogram counts are LANGUAGE sql table functions (users_above, users_up_to, users_at) that
--   PostgreSQL inlines into the calling statement (no SET clause, no SECURITY DEFINER, arguments without
--   subqueries: the conditions for inlining);
-- - a page needs one histogram lookup (for its first score), none for the first page, and comes with its
--   points from the caller's own index scan;
-- - my_rank() counts the users above and up to the user's points: each histogram row is read once;
-- - each public function is PL/pgSQL whose statements keep one generic plan per session.
-- rank_of() and board_users() stay as scalar wrappers for ad-hoc callers (tests, benchmarks).

-- How many visible users have more than `points` on a board: the folded histogram (higher buckets, then
-- higher points in the same bucket) plus the deltas not folded yet. The one home of the rank maths.
create or replace function status_private.users_above(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.period = board and buckets.period_start = board_start and buckets.bucket > users_above.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start
                      and counts.points > users_above.points and counts.points < (users_above.points / 100 + 1) * 100), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points > users_above.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_above(status_public.leaderboard_period, date, integer) is
  E'How many visible users have more than `points` on the board (folded histogram plus pending deltas): a rank is 1 + this. Inlined into the reads that call it.';

-- How many visible users have exactly `points` on a board (folded plus pending).
create or replace function status_private.users_at(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select counts.users from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start and counts.points = users_at.points), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points = users_at.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_at(status_public.leaderboard_period, date, integer) is
  E'How many visible users have exactly `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

-- How many visible users have at most `points` (the mirror of users_above: together they scan each level of
-- the histogram once, where users_above plus a sum of the whole board scanned it twice).
create or replace function status_private.users_up_to(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.period = board and buckets.period_start = board_start and buckets.bucket < users_up_to.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start
                      and counts.points >= users_up_to.points / 100 * 100 and counts.points <= users_up_to.points), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points <= users_up_to.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_up_to(status_public.leaderboard_period, date, integer) is
  E'How many visible users have at most `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

create or replace function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
begin
  return 1 + (select above.users from status_private.users_above(board, board_start, rank_of.points) as above);
end;
$$;

-- How many visible users the board has: those with more than 0 points (every score is positive).
create or replace function status_private.board_users(board status_public.leaderboard_period, board_start date) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
begin
  return (select above.users from status_private.users_above(board, board_start, 0) as above);
end;
$$;

-- A page of entries (top N, or the window around a user): visible users in board order, with their points.
-- The page is contiguous in board order, so the histogram is needed for its first score only (users before
-- the page may share it); every other rank is the number of users before the page (`page_offset`, when the
-- caller knows it) plus the rank within the page. The page comes as arrays from the caller's own index scan
-- (no second lookup of its score rows). Plain SQL, inlined into the caller's statement when its arguments are
-- variables (an argument holding a subquery would stop the inlining).
drop function if exists status_private.leaderboard_entries(status_public.leaderboard_period, date, uuid[]);
create or replace function status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date,
                                                              page_users uuid[], page_points integer[], page_offset integer)
  returns setof status_public.leaderboard_entry
  language sql stable
as $$
  with first_score as materialized (
    select 1 + above.users as rank,
           -- Around a user the page's offset is unknown: the users above its first score, plus those with that
           -- score, less the page's own.
           coalesce(page_offset,
                    above.users + (select at_first.users from status_private.users_at(board, board_start, page_points[1]) as at_first)
                                - cardinality(array_positions(page_points, page_points[1]))) as users_before_page
    from (select case when page_offset = 0 then 0 -- no one is before the first page
                      else (select above.users from status_private.users_above(board, board_start, page_points[1]) as above)
                 end as users
          offset 0) as above -- a fence: looked up once, though referred to twice
  ), ranked as (
    select page.user_id, page.points, page.place,
           case when page.points = page_points[1] then first_score.rank
                else first_score.users_before_page + (rank() over (order by page.points desc))::integer
           end as rank
    from unnest(page_users, page_points) with ordinality as page(user_id, points, place)
    cross join first_score
  )
  select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
         case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
  from ranked
  left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
  left join status_public.user_scores as overall on overall.user_id = ranked.user_id
  left join status_public.tiers as tier on tier.name = overall.tier
  order by ranked.place;
$$;

-- The public reads. Each is SECURITY DEFINER (ranks count other users' rows, which row-level security hides
-- from a user) and PL/pgSQL with forced generic plans: its statements are planned once per session (they are
-- index lookups by key, right for every argument), never again per call for a custom plan.
-- No bitmap scans, as in rank_of: plain index scans over the deltas mark folded (deleted) ones dead.
create or replace function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10, "offset" integer default 0)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  board_start date := status_private.period_start(period, now());
  page_users uuid[];
  page_points integer[];
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  select coalesce(array_agg(page.user_id order by page.points desc, page.reached_at, page.user_id), '{}'),
         coalesce(array_agg(page.points order by page.points desc, page.reached_at, page.user_id), '{}')
    into page_users, page_points
    from (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard.period and score.period_start = board_start and score.visible
          order by score.points desc, score.reached_at, score.user_id
          limit first offset "offset") as page;
  return query select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, "offset");
end;
$$;

create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME')
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  -- One statement: the user's score row, the users above it and those up to it (the board's size).
  select mine.points, 1 + above.users,
         -- The visible users, plus the viewer when not among them (no points yet, or opted out).
         above.users + up_to.users + case when mine.visible then 0 else 1 end
    into result.points, result.rank, result.total_users
    from (select coalesce(max(score.points), 0) as points, coalesce(bool_or(score.visible), false) as visible
          from status_public.leaderboard_scores as score
          where score.period = my_rank.period and score.period_start = board_start and score.user_id = me) as mine
    cross join lateral status_private.users_above(period, board_start, mine.points) as above
    cross join lateral status_private.users_up_to(period, board_start, mine.points) as up_to;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;

-- The users just above and just below the signed-in one. Each side is two index ranges (the same points on
-- one side of the user, then other points), not one OR, which would walk the board from its top.
create or replace function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
  page_users uuid[];
  page_points integer[];
begin
  if me is null then
    raise exception 'Sign in to see the leaderboard around you' using errcode = 'AC401';
  end if;
  if radius is null or radius not between 1 and 50 then
    raise exception 'radius must be from 1 to 50' using errcode = 'AC400';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  -- The visible users nearest the user's place in board order (the lowest scores for a user not on the
  -- board: they are "around" a user with no points), and the user when visible, in board order.
  select coalesce(array_agg(near.user_id order by near.points desc, near.reached_at, near.user_id), '{}'),
         coalesce(array_agg(near.points order by near.points desc, near.reached_at, near.user_id), '{}')
    into page_users, page_points
    from (
      (select above.user_id, above.points, above.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
          order by score.reached_at desc, score.user_id desc
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points > coalesce(mine.points, 0)
          order by score.points, score.reached_at desc, score.user_id desc
          limit radius)
       ) as above
       order by above.points, above.reached_at desc, above.user_id desc
       limit radius)
      union all
      (select below.user_id, below.points, below.reached_at from (
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
      union all
      select me, mine.points, mine.reached_at where mine.visible
    ) as near;
  if mine.visible is false then
    -- Opted out: the window of visible users, and the user's own row with the rank they would have, in board order.
    return query
      select entry.*
      from (select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, null)
            union all
            select * from status_private.leaderboard_entries(period, board_start, array[me], array[mine.points], null)) as entry
      join status_public.leaderboard_scores as score
        on score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = entry.user_id
      order by entry.points desc, score.reached_at, entry.user_id;
    return;
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, null);
end;
$$;

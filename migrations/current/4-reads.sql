-- Reads (issue 10's read goal): a rank read a few histogram rows instead of summing every 100-point bucket
-- above the user (~200 rows at 100,000 users), and the top N is one statement.
--
-- The rank levels: per board, the histogram as a tree of 256-way blocks. The level-L block b covers the points
-- whose bits above 8(L+1) are b; its 256 children are the values of the points' next 8 bits (level 0: single
-- scores; level 3: one block for the whole board). Each row keeps the suffix sums of its children (how many
-- users are at that child or any later one), so the users above a score are one array element per level:
-- four primary-key lookups, whatever the board's size. The fold keeps them, with the other two histogram
-- tables, from the deltas the event path appends: nothing more is written per event.

create table if not exists status_private.leaderboard_rank_levels (
  action text not null,
  period status_public.leaderboard_period not null,
  period_start date not null,
  level smallint not null check (level between 0 and 3),
  block integer not null check (block >= 0),
  -- users_from[1 + c]: the visible users in this block at child c or a later one (so users_from[1]: all of them).
  users_from integer[] not null check (cardinality(users_from) = 256 and 0 <= all (users_from)),
  primary key (action, period, period_start, level, block)
);
alter table status_private.leaderboard_rank_levels enable row level security;
comment on table status_private.leaderboard_rank_levels is
  E'The leaderboard histogram as 256-way levels of suffix sums (4-reads.sql): a rank reads one row per level. Kept by the fold; read by status_private.users_around, with the pending deltas.';

-- The changes, added to the rank levels: for each block they touch, the block's suffix sums plus theirs (a
-- block brought back to no users leaves). PL/pgSQL: a loop over a block's array, where SQL would make a row of
-- each of its 256 places. Called by the fold only (one folder at a time: no row is read and written by two).
create or replace function status_private.fold_into_rank_levels(changes status_private.histogram_change[]) returns void
  language plpgsql
as $$
declare
  changed record;
  counts integer[];
  existed boolean;
  added integer;
  next integer;
begin
  for changed in
    select block.*, levels.users_from as had
    from (select moved.action, moved.period, moved.period_start, moved.level, moved.block,
                 array_agg(moved.child order by moved.child desc) as children, array_agg(moved.users order by moved.child desc) as users
          from (select change.action, change.period, change.period_start, level.level,
                       (change.points::bigint >> (8 * (level.level + 1)))::integer as block,
                       (change.points >> (8 * level.level)) & 255 as child, sum(change.users)::integer as users
                from unnest(changes) as change cross join generate_series(0, 3) as level (level)
                group by 1, 2, 3, 4, 5, 6) as moved
          group by 1, 2, 3, 4, 5) as block
    left join status_private.leaderboard_rank_levels as levels
      on levels.action = block.action and levels.period = block.period and levels.period_start = block.period_start
         and levels.level = block.level and levels.block = block.block
    order by 1, 2, 3, 4, 5
  loop
    existed := changed.had is not null;
    counts := coalesce(changed.had, array_fill(0, array[256]));
    -- From the highest changed child down: each place gains the changes at it or above it.
    added := 0;
    next := 1;
    for place in reverse changed.children[1]..0 loop
      if next <= cardinality(changed.children) and changed.children[next] = place then
        added := added + changed.users[next];
        next := next + 1;
      end if;
      counts[place + 1] := counts[place + 1] + added;
    end loop;
    if counts[1] = 0 then
      delete from status_private.leaderboard_rank_levels as levels
        where levels.action = changed.action and levels.period = changed.period and levels.period_start = changed.period_start
          and levels.level = changed.level and levels.block = changed.block;
    elsif existed then
      update status_private.leaderboard_rank_levels as levels set users_from = counts
        where levels.action = changed.action and levels.period = changed.period and levels.period_start = changed.period_start
          and levels.level = changed.level and levels.block = changed.block;
    else
      insert into status_private.leaderboard_rank_levels (action, period, period_start, level, block, users_from)
        values (changed.action, changed.period, changed.period_start, changed.level, changed.block, counts);
    end if;
  end loop;
end;
$$;
revoke all on function status_private.fold_into_rank_levels(status_private.histogram_change[]) from public;

-- The rank levels from the folded histogram (leaderboard_point_counts), under the fold's lock: this migration
-- runs it (every time, so the levels always start equal to the histogram), and so can anyone who rewrites the
-- histogram by hand (bench/growth.ts).
create or replace function status_private.rebuild_leaderboard_rank_levels() returns void
  language plpgsql
as $$
begin
  perform pg_advisory_xact_lock(hashtext('status_private.fold_leaderboard_deltas'));
  delete from status_private.leaderboard_rank_levels;
  perform status_private.fold_into_rank_levels(array(
    select row(counts.action, counts.period, counts.period_start, counts.points, counts.users)::status_private.histogram_change
    from status_private.leaderboard_point_counts as counts where counts.users <> 0));
end;
$$;
revoke all on function status_private.rebuild_leaderboard_rank_levels() from public;
comment on function status_private.rebuild_leaderboard_rank_levels() is
  E'Rebuilds status_private.leaderboard_rank_levels from leaderboard_point_counts (after writing the histogram by hand).';

create or replace function status_private.fold_leaderboard_deltas() returns integer
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
as $$
declare
  changes status_private.histogram_change[];
begin
  if not pg_try_advisory_xact_lock(hashtext('status_private.fold_leaderboard_deltas')) then
    return 0;
  end if;
  with taken as (
    delete from status_private.leaderboard_count_deltas returning action, period, period_start, points, users
  )
  select array_agg(row(action, period, period_start, points, users)::status_private.histogram_change order by action, period, period_start, points)
    into changes
    from (select action, period, period_start, points, sum(users)::integer as users from taken group by 1, 2, 3, 4 having sum(users) <> 0) as summed;
  if changes is null then
    return 0;
  end if;
  perform status_private.fold_into_histogram(changes, 1);
  perform status_private.fold_into_histogram(changes, 100);
  perform status_private.fold_into_rank_levels(changes);
  return cardinality(changes);
end;
$$;

select status_private.rebuild_leaderboard_rank_levels();

-- The histogram counts, from the rank levels plus the pending deltas: plain SQL, inlined into the reads.
-- users_around reads each level's row on the score's path once (four primary-key lookups) and the board's
-- deltas once, for the three counts a read needs; the other three say what they count, for ad-hoc use.
-- A score's child at level L is (points >> 8L) & 255, in the block points >> 8(L + 1); an element past the
-- end of the array (child 255's next) is null: no one.
create or replace function status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (above integer, "at" integer, on_board integer)
  language sql stable
as $$
  select (coalesce(level_0.users_from[(probe.points & 255) + 2], 0) + coalesce(level_1.users_from[((probe.points >> 8) & 255) + 2], 0)
          + coalesce(level_2.users_from[((probe.points >> 16) & 255) + 2], 0) + coalesce(level_3.users_from[(probe.points >> 24) + 2], 0)
          + coalesce(pending.above, 0))::integer,
         (coalesce(level_0.users_from[(probe.points & 255) + 1] - coalesce(level_0.users_from[(probe.points & 255) + 2], 0), 0)
          + coalesce(pending."at", 0))::integer,
         (coalesce(level_3.users_from[1], 0) + coalesce(pending.on_board, 0))::integer
  -- Scores are positive: below 0, everyone is above, as at 0.
  from (select greatest(users_around.points, 0) as points) as probe
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 0 and levels.block = probe.points >> 8) as level_0 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 1 and levels.block = probe.points >> 16) as level_1 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 2 and levels.block = probe.points >> 24) as level_2 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 3 and levels.block = 0) as level_3 on true
  left join lateral (select sum(deltas.users) filter (where deltas.points > probe.points) as above,
                            sum(deltas.users) filter (where deltas.points = users_around.points) as "at",
                            sum(deltas.users) as on_board
                     from status_private.leaderboard_count_deltas as deltas
                     where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start) as pending on true
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
revoke all on function status_private.users_around(text, status_public.leaderboard_period, date, integer) from public;
comment on function status_private.users_around(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users are above `points` on the board, at it, and on the board (the rank levels plus pending deltas): a rank is 1 + above. Inlined into the reads that call it.';

create or replace function status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around.above from status_private.users_around(board_action, board, board_start, users_above.points) as around;
$$;
comment on function status_private.users_above(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have more than `points` on the board (status_private.users_around): a rank is 1 + this.';

create or replace function status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around."at" from status_private.users_around(board_action, board, board_start, users_at.points) as around;
$$;
comment on function status_private.users_at(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have exactly `points` on the board (status_private.users_around).';

create or replace function status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around.on_board - around.above from status_private.users_around(board_action, board, board_start, users_up_to.points) as around;
$$;
comment on function status_private.users_up_to(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have at most `points` on the board (status_private.users_around).';

-- A page's entries (around me): one histogram lookup for the page's first score (users above it and at it).
create or replace function status_private.leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date,
                                                              page_users uuid[], page_points integer[], page_offset integer)
  returns setof status_public.leaderboard_entry
  language sql stable
as $$
  with first_score as materialized (
    select 1 + around.above as rank,
           -- Around a user the page's offset is unknown: the users above its first score, plus those with that
           -- score, less the page's own.
           coalesce(page_offset, around.above + around."at" - cardinality(array_positions(page_points, page_points[1]))) as users_before_page
    from (select case when page_offset = 0 then 0 else first_counts.above end as above, first_counts."at"
          from (select 1) as one
          -- not looked up for the first page: no one is before it
          left join lateral status_private.users_around(board_action, board, board_start, page_points[1]) as first_counts on page_offset is distinct from 0
          offset 0) as around
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

-- Top N: one statement (the page from the listing index, ranked within itself, with its entries' columns),
-- where it was two (the page's arrays, then the entries) and a call to resolve the board. The first page's
-- ranks need no histogram (rank = 1 + those above within the page); a later page reads it once, for its
-- first score.
create or replace function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10,
                                                     "offset" integer default 0, action text default null)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path = pg_catalog, public, pg_temp
  -- One generic plan (first and offset are parameters; custom plans would be planned on every call).
  set plan_cache_mode = force_generic_plan
as $$
declare
  board_start date := status_private.period_start(period, now());
  board_action text;
  -- The rank of the page's first score, on a page after the first.
  first_rank integer;
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  -- The points boards without a call (board_action_of checks a named action).
  board_action := case when action is null then '' else status_private.board_action_of(action) end;
  if "offset" > 0 then
    select 1 + above.users into first_rank
      from (select score.points from status_public.leaderboard_scores as score
            where score.action = board_action and score.period = leaderboard.period and score.period_start = board_start and score.visible
            order by score.points desc, score.reached_at, score.user_id
            limit 1 offset "offset") as page_first
      cross join lateral status_private.users_above(board_action, leaderboard.period, board_start, page_first.points) as above;
  end if;
  return query
    select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
           case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
    from (select page.user_id, page.points, page.reached_at,
                 -- Equal points share a rank: the first page's is 1 + those above within it; on a later page, the
                 -- first score's ties have the first score's rank, and the others 1 + the offset + those above
                 -- within the page (everyone before the page has more points).
                 case when "offset" = 0 then page.place_rank
                      when page.points = page.first_points then first_rank
                      else "offset" + page.place_rank
                 end as rank
          from (select score.user_id, score.points, score.reached_at,
                       (rank() over (order by score.points desc))::integer as place_rank,
                       first_value(score.points) over (order by score.points desc) as first_points
                from (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
                      where score.action = board_action and score.period = leaderboard.period and score.period_start = board_start and score.visible
                      order by score.points desc, score.reached_at, score.user_id
                      limit first offset "offset") as score) as page) as ranked
    left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
    left join status_public.user_scores as overall on overall.user_id = ranked.user_id
    left join status_public.tiers as tier on tier.name = overall.tier
    order by ranked.points desc, ranked.reached_at, ranked.user_id;
end;
$$;

-- My rank: the user's row, the users above it and the board's size: the rank levels make that a few
-- primary-key lookups (it summed every bucket above and below the user).
create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME', action text default null)
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  board_action text;
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  -- The points boards without a call (board_action_of checks a named action).
  board_action := case when action is null then '' else status_private.board_action_of(action) end;
  -- One statement: the user's score row, the users above it and the board's size.
  select mine.points, 1 + around.above,
         -- The visible users, plus the viewer when not among them (no points yet, or opted out).
         around.on_board + case when mine.visible then 0 else 1 end
    into result.points, result.rank, result.total_users
    from (select coalesce(max(score.points), 0) as points, coalesce(bool_or(score.visible), false) as visible
          from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = my_rank.period and score.period_start = board_start and score.user_id = me) as mine
    cross join lateral status_private.users_around(board_action, period, board_start, mine.points) as around;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;

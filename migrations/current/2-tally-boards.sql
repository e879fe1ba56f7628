-- Issue 11: leaderboards ranked by an action's tally in a period ("most tasks this week"), beside the points
-- boards, with the same periods, exact ranks, ties, opt-out and histogram. A board is now (action, period,
-- period start): `action` is '' for the points boards and an action's name for its tally boards (action names
-- start with a letter, so '' is never one). One score table, one histogram, one set of reads for both kinds.
-- An action has tally boards when `actions.ranked` is on (opt-in): steps of other actions pay one lookup of
-- their action's row per round, nothing else.

-- Which actions are ranked by their tally.
alter table status_public.actions add column if not exists ranked boolean not null default false;
comment on column status_public.actions.ranked is
  E'Whether the action has leaderboards ranked by its tally in each period (`actionLeaderboard`). Turning it on fills the current boards from the step history; turning it off removes them.';
grant insert (ranked), update (ranked) on status_public.actions to :ADMIN_ROLE;

-- Boards: the board's action is part of every key (the points boards: '').
alter table status_public.leaderboard_scores add column if not exists action text not null default '';
comment on column status_public.leaderboard_scores.action is
  E'The action whose tally this board ranks (`points` is then the tally in the period); \'\' for the points boards.';
alter table status_public.leaderboard_scores drop constraint if exists leaderboard_scores_pkey;
alter table status_public.leaderboard_scores add constraint leaderboard_scores_pkey primary key (action, period, period_start, user_id);
drop index if exists status_public.leaderboard_scores_listing_idx;
create index leaderboard_scores_listing_idx on status_public.leaderboard_scores (action, period, period_start, points desc, reached_at, user_id) where visible;

alter table status_private.leaderboard_point_counts add column if not exists action text not null default '';
alter table status_private.leaderboard_point_counts drop constraint if exists leaderboard_point_counts_pkey;
alter table status_private.leaderboard_point_counts add constraint leaderboard_point_counts_pkey primary key (action, period, period_start, points);
alter table status_private.leaderboard_bucket_counts add column if not exists action text not null default '';
alter table status_private.leaderboard_bucket_counts drop constraint if exists leaderboard_bucket_counts_pkey;
alter table status_private.leaderboard_bucket_counts add constraint leaderboard_bucket_counts_pkey primary key (action, period, period_start, bucket);
alter table status_private.leaderboard_count_deltas add column if not exists action text not null default '';
drop index if exists status_private.leaderboard_count_deltas_period_points_idx;
create index leaderboard_count_deltas_period_points_idx on status_private.leaderboard_count_deltas (action, period, period_start, points) include (users);
comment on table status_private.leaderboard_point_counts is
  E'How many visible users have exactly `points` on the board (action, period, start): the histogram behind exact ranks.';
comment on table status_private.leaderboard_bucket_counts is
  E'How many visible users have points in [100 x bucket, 100 x bucket + 100) on the board (action, period, start).';

-- The histogram's changes carry their board's action. The functions taking them are created again below.
drop type if exists status_private.histogram_move cascade;
create type status_private.histogram_move as (
  action text,
  period status_public.leaderboard_period,
  period_start date,
  from_points integer,
  to_points integer
);
drop type if exists status_private.histogram_change cascade;
create type status_private.histogram_change as (
  action text,
  period status_public.leaderboard_period,
  period_start date,
  points integer,
  users integer
);

create or replace function status_private.append_histogram_moves(moves status_private.histogram_move[]) returns void
language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
begin
  insert into status_private.leaderboard_count_deltas (action, period, period_start, points, users)
  select changes.action, changes.period, changes.period_start, changes.points, sum(changes.users)::integer
  from (
    select move.action, move.period, move.period_start, move.from_points as points, -1 as users
      from unnest(moves) as move where move.from_points is not null
    union all
    select move.action, move.period, move.period_start, move.to_points, 1
      from unnest(moves) as move where move.to_points is not null
  ) as changes
  group by 1, 2, 3, 4
  having sum(changes.users) <> 0;
end;
$$;

create or replace function status_private.histogram_changes_by_key(changes status_private.histogram_change[], key_width integer)
returns table (action text, period status_public.leaderboard_period, period_start date, key integer, users integer)
language sql immutable as $$
  select change.action, change.period, change.period_start, change.points / key_width, sum(change.users)::integer
  from unnest(changes) as change
  group by 1, 2, 3, 4
  having sum(change.users) <> 0
  order by 1, 2, 3, 4;
$$;

create or replace function status_private.fold_into_histogram(changes status_private.histogram_change[], key_width integer) returns void
language plpgsql volatile as $$
begin
  if key_width = 1 then
    update status_private.leaderboard_point_counts as counts set users = counts.users + change.users
      from status_private.histogram_changes_by_key(changes, 1) as change
      where change.users < 0 and counts.action = change.action and counts.period = change.period
        and counts.period_start = change.period_start and counts.points = change.key;
    insert into status_private.leaderboard_point_counts as counts (action, period, period_start, points, users)
      select change.action, change.period, change.period_start, change.key, change.users
      from status_private.histogram_changes_by_key(changes, 1) as change
      where change.users > 0
      on conflict (action, period, period_start, points) do update set users = counts.users + excluded.users;
    delete from status_private.leaderboard_point_counts as counts using status_private.histogram_changes_by_key(changes, 1) as change
      where counts.users = 0 and counts.action = change.action and counts.period = change.period
        and counts.period_start = change.period_start and counts.points = change.key;
  else
    update status_private.leaderboard_bucket_counts as counts set users = counts.users + change.users
      from status_private.histogram_changes_by_key(changes, key_width) as change
      where change.users < 0 and counts.action = change.action and counts.period = change.period
        and counts.period_start = change.period_start and counts.bucket = change.key;
    insert into status_private.leaderboard_bucket_counts as counts (action, period, period_start, bucket, users)
      select change.action, change.period, change.period_start, change.key, change.users
      from status_private.histogram_changes_by_key(changes, key_width) as change
      where change.users > 0
      on conflict (action, period, period_start, bucket) do update set users = counts.users + excluded.users;
    delete from status_private.leaderboard_bucket_counts as counts using status_private.histogram_changes_by_key(changes, key_width) as change
      where counts.users = 0 and counts.action = change.action and counts.period = change.period
        and counts.period_start = change.period_start and counts.bucket = change.key;
  end if;
end;
$$;

create or replace function status_private.fold_leaderboard_deltas() returns integer
language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp as $$
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
  return cardinality(changes);
end;
$$;
comment on function status_private.fold_leaderboard_deltas() is
  E'Folds the appended leaderboard deltas into the histogram; returns how many (board, points) changes it folded. Run it every second or so (the standalone server does); ranks are exact without it, only slower to read as deltas pile up.';
grant execute on function status_private.fold_leaderboard_deltas() to :AUTHENTICATOR_ROLE;

-- The rank counts, per board (action, period, start). Plain SQL, inlined into the reads.
drop function if exists status_private.users_above(status_public.leaderboard_period, date, integer) cascade;
drop function if exists status_private.users_at(status_public.leaderboard_period, date, integer) cascade;
drop function if exists status_private.users_up_to(status_public.leaderboard_period, date, integer) cascade;

create or replace function status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer)
returns table (users integer) language sql stable as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.action = board_action and buckets.period = board and buckets.period_start = board_start
                      and buckets.bucket > users_above.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.action = board_action and counts.period = board and counts.period_start = board_start
                      and counts.points > users_above.points and counts.points < (users_above.points / 100 + 1) * 100), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start
                      and deltas.points > users_above.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_above(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have more than `points` on the board (folded histogram plus pending deltas): a rank is 1 + this. Inlined into the reads that call it.';

create or replace function status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer)
returns table (users integer) language sql stable as $$
  select (coalesce((select counts.users from status_private.leaderboard_point_counts as counts
                    where counts.action = board_action and counts.period = board and counts.period_start = board_start
                      and counts.points = users_at.points), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start
                      and deltas.points = users_at.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_at(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have exactly `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

create or replace function status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer)
returns table (users integer) language sql stable as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.action = board_action and buckets.period = board and buckets.period_start = board_start
                      and buckets.bucket < users_up_to.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.action = board_action and counts.period = board and counts.period_start = board_start
                      and counts.points <= users_up_to.points and counts.points >= users_up_to.points / 100 * 100), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start
                      and deltas.points <= users_up_to.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_up_to(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have at most `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

drop function if exists status_private.rank_of(status_public.leaderboard_period, date, integer);
create or replace function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text default '')
returns integer language plpgsql stable set plan_cache_mode = force_generic_plan set enable_bitmapscan = off as $$
begin
  return 1 + (select above.users from status_private.users_above(board_action, board, board_start, rank_of.points) as above);
end;
$$;
comment on function status_private.rank_of(status_public.leaderboard_period, date, integer, text) is
  E'The rank `points` would have on the board (the points boards unless `board_action` names a ranked action), for ad-hoc use.';

drop function if exists status_private.board_users(status_public.leaderboard_period, date);
create or replace function status_private.board_users(board status_public.leaderboard_period, board_start date, board_action text default '')
returns integer language plpgsql stable set plan_cache_mode = force_generic_plan set enable_bitmapscan = off as $$
begin
  return (select above.users from status_private.users_above(board_action, board, board_start, 0) as above);
end;
$$;

-- Which board a read asks for: NULL, the points boards (''); else a ranked action's tally boards.
create or replace function status_private.board_action_of(action text) returns text
language plpgsql stable as $$
begin
  if action is null then
    return '';
  end if;
  if not exists (select from status_public.actions where actions.name = board_action_of.action) then
    raise exception 'Unknown action "%"', action using errcode = 'AC404';
  end if;
  if not exists (select from status_public.actions where actions.name = board_action_of.action and actions.ranked) then
    raise exception 'Action "%" has no leaderboard', action
      using errcode = 'AC404', hint = 'An admin turns on the action''s `ranked` (updateActionByName, or the catalog file).';
  end if;
  return action;
end;
$$;

drop function if exists status_private.leaderboard_entries(status_public.leaderboard_period, date, uuid[], integer[], integer);
create or replace function status_private.leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date,
                                                              page_users uuid[], page_points integer[], page_offset integer)
returns setof status_public.leaderboard_entry language sql stable as $$
  with first_score as materialized (
    select 1 + above.users as rank,
           -- Around a user the page's offset is unknown: the users above its first score, plus those with that
           -- score, less the page's own.
           coalesce(page_offset,
                    above.users + (select at_first.users from status_private.users_at(board_action, board, board_start, page_points[1]) as at_first)
                                - cardinality(array_positions(page_points, page_points[1]))) as users_before_page
    from (select case when page_offset = 0 then 0 -- no one is before the first page
                      else (select above.users from status_private.users_above(board_action, board, board_start, page_points[1]) as above)
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

-- The reads, per board: the points boards (action NULL) or a ranked action's tally boards (an unknown action, or one
-- that is not ranked: AC404).
drop function if exists status_public.leaderboard(status_public.leaderboard_period, integer, integer);
-- Definer: a board lists other users' scores (RLS shows a user their own only).
create or replace function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10,
                                                     "offset" integer default 0, action text default null)
returns setof status_public.leaderboard_entry
language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
set plan_cache_mode = force_generic_plan set enable_bitmapscan = off as $$
declare
  board_start date := status_private.period_start(period, now());
  board_action text;
  page_users uuid[];
  page_points integer[];
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  board_action := status_private.board_action_of(action);
  select coalesce(array_agg(page.user_id order by page.points desc, page.reached_at, page.user_id), '{}'),
         coalesce(array_agg(page.points order by page.points desc, page.reached_at, page.user_id), '{}')
    into page_users, page_points
    from (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard.period and score.period_start = board_start and score.visible
          order by score.points desc, score.reached_at, score.user_id
          limit first offset "offset") as page;
  return query select * from status_private.leaderboard_entries(board_action, period, board_start, page_users, page_points, "offset");
end;
$$;

drop function if exists status_public.leaderboard_around_me(status_public.leaderboard_period, integer);
-- Definer: the entries around the user are other users' scores.
create or replace function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5,
                                                               action text default null)
returns setof status_public.leaderboard_entry
language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
set plan_cache_mode = force_generic_plan set enable_bitmapscan = off as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  board_action text;
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
  board_action := status_private.board_action_of(action);
  select * into mine from status_public.leaderboard_scores as score
    where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  -- The visible users nearest the user's place in board order (the lowest scores for a user not on the
  -- board: they are "around" a user with no points), and the user when visible, in board order.
  select coalesce(array_agg(near.user_id order by near.points desc, near.reached_at, near.user_id), '{}'),
         coalesce(array_agg(near.points order by near.points desc, near.reached_at, near.user_id), '{}')
    into page_users, page_points
    from (
      (select above.user_id, above.points, above.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
          order by score.reached_at desc, score.user_id desc
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points > coalesce(mine.points, 0)
          order by score.points, score.reached_at desc, score.user_id desc
          limit radius)
       ) as above
       order by above.points, above.reached_at desc, above.user_id desc
       limit radius)
      union all
      (select below.user_id, below.points, below.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) > (mine.reached_at, me)
          order by score.reached_at, score.user_id
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
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
      from (select * from status_private.leaderboard_entries(board_action, period, board_start, page_users, page_points, null)
            union all
            select * from status_private.leaderboard_entries(board_action, period, board_start, array[me], array[mine.points], null)) as entry
      join status_public.leaderboard_scores as score
        on score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = entry.user_id
      order by entry.points desc, score.reached_at, entry.user_id;
    return;
  end if;
  return query select * from status_private.leaderboard_entries(board_action, period, board_start, page_users, page_points, null);
end;
$$;

drop function if exists status_public.my_rank(status_public.leaderboard_period);
-- Definer: a rank counts the other users above.
create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME', action text default null)
returns status_public.leaderboard_rank
language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
set plan_cache_mode = force_generic_plan set enable_bitmapscan = off as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  board_action text;
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  board_action := status_private.board_action_of(action);
  -- One statement: the user's score row, the users above it and those up to it (the board's size).
  select mine.points, 1 + above.users,
         -- The visible users, plus the viewer when not among them (no points yet, or opted out).
         above.users + up_to.users + case when mine.visible then 0 else 1 end
    into result.points, result.rank, result.total_users
    from (select coalesce(max(score.points), 0) as points, coalesce(bool_or(score.visible), false) as visible
          from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = my_rank.period and score.period_start = board_start and score.user_id = me) as mine
    cross join lateral status_private.users_above(board_action, period, board_start, mine.points) as above
    cross join lateral status_private.users_up_to(board_action, period, board_start, mine.points) as up_to;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;
comment on function status_public.leaderboard(status_public.leaderboard_period, integer, integer, text) is E'@behavior -*';
comment on function status_public.leaderboard_around_me(status_public.leaderboard_period, integer, text) is E'@behavior -*';
comment on function status_public.my_rank(status_public.leaderboard_period, text) is E'@behavior -*';
grant execute on function status_public.leaderboard(status_public.leaderboard_period, integer, integer, text) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant execute on function status_public.leaderboard_around_me(status_public.leaderboard_period, integer, text) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant execute on function status_public.my_rank(status_public.leaderboard_period, text) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

-- What a board award is: points (or a tally's amount; negative: taken back) for a user on one board.
drop type if exists status_private.board_award cascade;
create type status_private.board_award as (
  action text,
  period status_public.leaderboard_period,
  period_start date,
  user_id uuid,
  points integer,
  reached_at timestamp with time zone
);

-- Moves users on their boards, the points boards and the tally boards alike: each award adds to the user's
-- score on its board (at most one award per user and board), which holds positive scores only (at zero or
-- below the user leaves it); `reached_at` (the tie-break) becomes the award's. Only the users' own rows are
-- locked (in the awards' order); the histogram's moves are appended as deltas.
create or replace function status_private.add_to_boards(awards status_private.board_award[]) returns void
language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
declare
  -- Points only added (the usual case): one upsert.
  only_gains boolean := (select bool_and(award.points > 0) from unnest(awards) as award);
  moves status_private.histogram_move[];
begin
  -- After a take-back, the existing rows are moved (or leave) first.
  if not only_gains then
    with moved as (
      update status_public.leaderboard_scores as score
        set points = score.points + award.points, reached_at = award.reached_at
        from unnest(awards) as award
        where score.action = award.action and score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
          and award.points <> 0 and score.points + award.points > 0
        returning score.action, score.period, score.period_start, score.points - award.points as from_points, score.points as to_points, score.visible
    ), left_board as (
      delete from status_public.leaderboard_scores as score
        using unnest(awards) as award
        where score.action = award.action and score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
          and score.points + award.points <= 0
        returning score.action, score.period, score.period_start, score.points as from_points, null::integer as to_points, score.visible
    )
    select array_agg(row(changed.action, changed.period, changed.period_start, changed.from_points, changed.to_points)::status_private.histogram_move)
      into moves
      from (select * from moved union all select * from left_board) as changed
      where changed.visible;
  end if;
  -- Gains: every board in one upsert. After a take-back: the boards the user is new to (or that a concurrent
  -- first award created meanwhile: added to, as an existing row).
  with joined as (
    insert into status_public.leaderboard_scores as score (action, period, period_start, user_id, points, reached_at, visible)
    select award.action, award.period, award.period_start, award.user_id, award.points, award.reached_at,
           not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = award.user_id), false)
    from unnest(awards) as award
    where award.points > 0
      and (only_gains or not exists (
        select from status_public.leaderboard_scores as existing
        where existing.action = award.action and existing.period = award.period and existing.period_start = award.period_start and existing.user_id = award.user_id))
    on conflict (action, period, period_start, user_id) do update
      set points = score.points + excluded.points, reached_at = excluded.reached_at
    returning score.action, score.period, score.period_start, score.user_id, score.points, score.visible, (score.xmax = 0) as inserted
  )
  select coalesce(moves, '{}') || coalesce(array_agg(row(joined.action, joined.period, joined.period_start,
                                                         case when not joined.inserted then joined.points - award.points end,
                                                         joined.points)::status_private.histogram_move), '{}')
    into moves
    from joined
    join unnest(awards) as award using (action, period, period_start, user_id)
    where joined.visible;
  if cardinality(moves) > 0 then
    perform status_private.append_histogram_moves(moves);
  end if;
end;
$$;

-- The points trigger, on the points boards (action ''): as in migration 000009, its boards through add_to_boards.
create or replace function status_private.tg_points_ledger__scores() returns trigger
language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
set plan_cache_mode = force_generic_plan as $$
declare
  -- Each user's awards of the statement, summed (period NULL), and per board.
  user_awards status_private.board_award[];
  awards status_private.board_award[];
  -- Points only added (the usual case): one upsert each for the scores and the boards.
  only_gains boolean;
  tiers_before status_private.user_tier[];
  tiers_changed status_private.user_tier[];
begin
  select array_agg(row(null, null, null, per_user.user_id, per_user.points, per_user.reached_at)::status_private.board_award
                   order by per_user.user_id),
         bool_and(per_user.points > 0)
    into user_awards, only_gains
    from (select awarded.user_id, sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded group by awarded.user_id) as per_user;
  -- A statement trigger runs even for an insert of no rows: nothing to do then.
  if user_awards is null then
    return null;
  end if;
  select array_agg(row('', per_board.period, per_board.period_start, per_board.user_id, per_board.points, per_board.reached_at)::status_private.board_award
                   order by per_board.period, per_board.period_start, per_board.user_id)
    into awards
    from (select board.period, status_private.period_start(board.period, awarded.created_at) as period_start, awarded.user_id,
                 sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
          group by 1, 2, 3) as per_board;

  -- Scores and tiers, and a notification for each tier that changed.
  if only_gains then
    -- The tier before is the tier of the points before.
    with upserted as (
      insert into status_public.user_scores as current_score (user_id, points, tier, reached_at)
      select award.user_id, award.points, status_private.tier_for(award.points), award.reached_at
      from unnest(user_awards) as award
      order by award.user_id
      on conflict (user_id) do update
        set points = current_score.points + excluded.points,
            tier = status_private.tier_for(current_score.points + excluded.points),
            reached_at = excluded.reached_at
      returning current_score.user_id, current_score.points, current_score.tier, (current_score.xmax = 0) as inserted
    )
    select coalesce(array_agg(row(upserted.user_id, upserted.tier)::status_private.user_tier), '{}') into tiers_changed
      from upserted join unnest(user_awards) as award using (user_id)
      where upserted.inserted or upserted.tier is distinct from status_private.tier_for(upserted.points - award.points);
  else
    -- Points taken back (never below zero). The tiers before, the score rows locked in one order (no deadlock
    -- between two statements awarding the same users); rows for the users who have none; then the others'
    -- new scores (a new statement, so that it also sees a row that a concurrent first award inserted meanwhile).
    select coalesce(array_agg(row(score.user_id, score.tier)::status_private.user_tier), '{}') into tiers_before
      from (select score.user_id, score.tier from status_public.user_scores as score
            where score.user_id in (select award.user_id from unnest(user_awards) as award)
            order by score.user_id
            for update) as score;
    with inserted as (
      insert into status_public.user_scores (user_id, points, tier, reached_at)
      select award.user_id, greatest(award.points, 0), status_private.tier_for(greatest(award.points, 0)), award.reached_at
      from unnest(user_awards) as award
      where not exists (select from unnest(tiers_before) as before where before.user_id = award.user_id)
      order by award.user_id
      on conflict (user_id) do nothing
      returning user_id, tier
    )
    select coalesce(array_agg(row(inserted.user_id, inserted.tier)::status_private.user_tier), '{}') into tiers_changed from inserted;
    with updated as (
      update status_public.user_scores as score
        set points = greatest(score.points + award.points, 0),
            tier = status_private.tier_for(greatest(score.points + award.points, 0)),
            reached_at = award.reached_at
        from unnest(user_awards) as award
        where score.user_id = award.user_id
          and not exists (select from unnest(tiers_changed) as inserted where inserted.user_id = award.user_id)
        returning score.user_id, score.tier
    )
    select tiers_changed || coalesce(array_agg(row(updated.user_id, updated.tier)::status_private.user_tier), '{}') into tiers_changed
      from updated
      left join unnest(tiers_before) as before on before.user_id = updated.user_id
      where updated.tier is distinct from before.tier;
  end if;
  if cardinality(tiers_changed) > 0 then
    perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
      from unnest(tiers_changed) as changed;
  end if;

  -- The boards: each period's score.
  perform status_private.add_to_boards(awards);
  return null;
end;
$$;

-- Opting out or in moves the user on every board, the tally boards too.
create or replace function status_private.tg_user_profiles__leaderboard_visibility() returns trigger
language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  moves status_private.histogram_move[];
begin
  with changed as (
    update status_public.leaderboard_scores set visible = not NEW.leaderboard_opt_out
    where user_id = NEW.user_id and visible = NEW.leaderboard_opt_out
    returning *
  )
  select array_agg(row(changed.action, changed.period, changed.period_start,
                       case when changed.visible then null else changed.points end,
                       case when changed.visible then changed.points end)::status_private.histogram_move)
    into moves
    from changed;
  perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  return null;
end;
$$;

-- The event path's stage for tally boards, after count_steps: each step of a ranked action adds its amount
-- (negative: takes back) to the user's score on the action's four boards of the step's moment (occurred_at),
-- through add_to_boards, as points do on the points boards. A round holds one step per user, so no board row
-- comes twice. Steps of actions that are not ranked cost this one query, which finds no award.
create or replace function status_private.rank_tallies(steps status_private.pipeline_step[]) returns void
language plpgsql volatile set plan_cache_mode = force_generic_plan as $$
declare
  awards status_private.board_award[];
begin
  select array_agg(row(step.name, board.period, status_private.period_start(board.period, step.occurred_at), step.user_id,
                       step.count, step.occurred_at)::status_private.board_award
                   order by step.name, board.period, status_private.period_start(board.period, step.occurred_at), step.user_id)
    into awards
    from unnest(steps) as step
    join status_public.actions as ranked on ranked.name = step.name and ranked.ranked
    cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period);
  if awards is not null then
    perform status_private.add_to_boards(awards);
  end if;
end;
$$;

create or replace function status_private.run_stages(steps status_private.pipeline_step[]) returns void
language plpgsql volatile as $$
begin
  perform status_private.count_steps(steps);
  perform status_private.rank_tallies(steps);
  perform status_private.extend_streaks(steps);
  perform status_private.unlock_achievements(steps);
  perform status_private.achieve_levels(steps);
end;
$$;

-- When an action becomes ranked, its boards of the current periods are filled from the step history: all time,
-- the user's tally (as the live path keeps it: never below zero); a month, week or day, the user's steps that
-- happened in it replayed in that order as the live path adds them (never below zero), when positive; the
-- tie-break time, the user's last step in it. (The same as the event path's boards for steps recorded in the
-- order they happened.) Steps are held off meanwhile (a SHARE lock on
-- user_steps until the catalog change commits): a step recorded concurrently is then either in the history read
-- here or sees the action ranked, never neither. When it stops being ranked (or is renamed: steps keep their
-- names, so the new name's history fills its boards; or deleted), its boards go. Both append the histogram's
-- moves.
create or replace function status_private.tg_actions__tally_boards() returns trigger
language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp as $$
declare
  moves status_private.histogram_move[];
begin
  if TG_OP in ('UPDATE', 'DELETE') and OLD.ranked
     and (TG_OP = 'DELETE' or not NEW.ranked or NEW.name <> OLD.name) then
    with left_board as (
      delete from status_public.leaderboard_scores as score where score.action = OLD.name
      returning score.action, score.period, score.period_start, score.points, score.visible
    )
    select array_agg(row(left_board.action, left_board.period, left_board.period_start, left_board.points, null)::status_private.histogram_move)
      into moves
      from left_board where left_board.visible;
    perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  end if;
  if TG_OP in ('INSERT', 'UPDATE') and NEW.ranked
     and (TG_OP = 'INSERT' or not OLD.ranked or NEW.name <> OLD.name) then
    lock table status_public.user_steps in share mode;
    with board as (
      select board.period, status_private.period_start(board.period, now()) as period_start
      from unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
    ), history as (
      select board.period, board.period_start, tally.user_id, tally.count as points,
             (select max(step.occurred_at) from status_public.user_steps as step
              where step.user_id = tally.user_id and step.name = tally.name) as reached_at
      from board join status_public.user_achievements as tally on tally.name = NEW.name and tally.count > 0
      where board.period = 'ALL_TIME'
      union all
      select prefix.period, prefix.period_start, prefix.user_id,
             -- The live path's score after each step is max(0, before + amount): after the last, the sum of the
             -- amounts less the lowest running sum below zero (the take-backs that found nothing to take).
             (sum(prefix.count) - least(0, min(prefix.running)))::integer, max(prefix.occurred_at)
      from (select board.period, board.period_start, step.user_id, step.count, step.occurred_at,
                   sum(step.count) over (partition by board.period, step.user_id order by step.occurred_at, step.id) as running
            from board join status_public.user_steps as step
              on step.name = NEW.name and status_private.period_start(board.period, step.occurred_at) = board.period_start
            where board.period <> 'ALL_TIME') as prefix
      group by 1, 2, 3
      having sum(prefix.count) - least(0, min(prefix.running)) > 0
    ), filled as (
      insert into status_public.leaderboard_scores as score (action, period, period_start, user_id, points, reached_at, visible)
      select NEW.name, history.period, history.period_start, history.user_id, history.points, coalesce(history.reached_at, now()),
             not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = history.user_id), false)
      from history
      order by history.user_id, history.period
      returning score.action, score.period, score.period_start, score.points, score.visible
    )
    select array_agg(row(filled.action, filled.period, filled.period_start, null, filled.points)::status_private.histogram_move)
      into moves
      from filled where filled.visible;
    perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  end if;
  return null;
end;
$$;
drop trigger if exists _200_tally_boards on status_public.actions;
create trigger _200_tally_boards after insert or update of ranked, name or delete on status_public.actions
  for each row execute function status_private.tg_actions__tally_boards();

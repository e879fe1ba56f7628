--! Previous: sha1:48a8a8429f11e1549e72df73412593612accedf0
--! Hash: sha1:d6ab98c32f3b2bdfb35c5fc9b5828c2a9245e399
--! Message: Tally leaderboards, backfill for admins, a retried key spends once, distributable by user_id

--! split: 2-tally-boards.sql
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

--! split: 3-backfill-admin.sql
-- Backfill for admins and applies (issue 11, on migration 000009's 9-backfill.sql): admins start a backfill over
-- GraphQL (`startBackfill`) or with an apply (`applyCatalog(backfill: true)`, `npm run catalog -- apply --backfill`)
-- and read its progress (`backfillRuns`); a worker in the server (src/backfill-worker.ts) runs the batches, claiming
-- a run with `for update skip locked`, so that two workers never run one batch twice. A run now also achieves the
-- levels that users' steps meet, replays streaks with the days the user froze, re-tiers as a last phase of its own
-- (so that a resumed run re-tiers too), and the catalog plan counts what a backfill would award with the
-- backfill's own functions (backfill_awards, backfill_level_awards).

-- The step at which the running tally of `action` first reached `threshold` (counts, and levels' requirements).
create or replace function status_private.step_count_reached_at(user_id uuid, action text, threshold integer)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select running.id, running.occurred_at
  from (select step.id, step.occurred_at, sum(step.count) over (order by step.occurred_at, step.id) as tally
        from status_public.user_steps as step
        where step.user_id = step_count_reached_at.user_id and step.name = step_count_reached_at.action) as running
  where running.tally >= step_count_reached_at.threshold
  order by running.occurred_at, running.id
  limit 1;
$$;
revoke all on function status_private.step_count_reached_at(uuid, text, integer) from public;

create or replace function status_private.count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select * from status_private.step_count_reached_at(count_criterion_met_at.user_id, criterion.action, criterion.threshold);
$$;

-- streak: the first step on the day the user's run of local days with `action` (NULL: any action) first reached
-- `threshold` days. A day the user froze (user_frozen_days, migration 000010) keeps the run going without
-- counting in it, as the streaks stage does live.
create or replace function status_private.streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with step_days as (
    select step.id, step.occurred_at, (step.occurred_at at time zone status_private.time_zone_of(streak_criterion_met_at.user_id))::date as day
    from status_public.user_steps as step
    where step.user_id = streak_criterion_met_at.user_id and step.count > 0
      and (criterion.action is null or step.name = criterion.action)
  ), days as (
    select distinct step_days.day, true as active from step_days
    union all
    select frozen.day, false from status_public.user_frozen_days as frozen
    where frozen.user_id = streak_criterion_met_at.user_id
      and not exists (select from step_days where step_days.day = frozen.day)
  ), runs as (
    -- Consecutive days (active or frozen) share day - (its rank): one value per run.
    select days.day, days.active, days.day - (row_number() over (order by days.day))::integer as run from days
  ), lengths as (
    select runs.day, runs.active, count(*) filter (where runs.active) over (partition by runs.run order by runs.day) as length from runs
  ), reached as (
    select min(lengths.day) as day from lengths where lengths.active and lengths.length >= criterion.threshold
  )
  select step_days.id, step_days.occurred_at from step_days join reached using (day)
  order by step_days.occurred_at, step_days.id
  limit 1;
$$;

-- The step at which all the level's requirements held (the last of them to hold); none: not achieved (a level
-- without requirements is never achieved, as in the achieve_levels stage).
create or replace function status_private.level_met_at(level_name text, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with met as (
    select reached.step_id, reached.occurred_at
    from status_public.level_requirements as requirement
    left join lateral status_private.step_count_reached_at(level_met_at.user_id, requirement.name, requirement.required_count) as reached on true
    where requirement.level = level_met_at.level_name
  )
  select met.step_id, met.occurred_at from met
  where not exists (select from met as unmet where unmet.step_id is null)
  order by met.occurred_at desc, met.step_id desc
  limit 1;
$$;
revoke all on function status_private.level_met_at(text, uuid) from public;

-- The users a backfill of these achievements and levels looks at, in uuid order after `after_user_id`: those with
-- a tally of an action that they name (any tally for a streak of any activity). NULL max_users: all of them.
create or replace function status_private.backfill_candidates(achievement_ids text[], level_names text[], after_user_id uuid, max_users integer)
  returns setof uuid
  language sql stable
as $$
  with actions as (
    select criterion.action from status_public.achievement_criteria as criterion
    where criterion.achievement_id = any (backfill_candidates.achievement_ids)
    union
    select requirement.name from status_public.level_requirements as requirement
    where requirement.level = any (backfill_candidates.level_names)
  )
  select distinct tally.user_id from status_public.user_achievements as tally
  where (backfill_candidates.after_user_id is null or tally.user_id > backfill_candidates.after_user_id)
    and (exists (select from actions where actions.action is null) or tally.name in (select actions.action from actions))
  order by tally.user_id
  limit backfill_candidates.max_users;
$$;
revoke all on function status_private.backfill_candidates(text[], text[], uuid, integer) from public;

-- What a backfill awards these users: the achievements (not retired) they do not hold and whose criteria their
-- steps met, at the step that made them true. The backfill inserts these; the catalog plan counts them.
create or replace function status_private.backfill_awards(achievement_ids text[], user_ids uuid[])
  returns table (user_id uuid, achievement_id text, points integer, "position" integer, step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select candidate.user_id, achievement.id, achievement.points, achievement.position, met.step_id, met.occurred_at
  from unnest(backfill_awards.user_ids) as candidate (user_id)
  cross join status_public.achievements as achievement
  cross join lateral status_private.achievement_met_at(achievement, candidate.user_id) as met
  where achievement.id = any (backfill_awards.achievement_ids) and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = candidate.user_id and unlock.achievement_id = achievement.id);
$$;
revoke all on function status_private.backfill_awards(text[], uuid[]) from public;

-- The levels these users have not achieved and whose requirements their steps met, at the step that did it.
create or replace function status_private.backfill_level_awards(level_names text[], user_ids uuid[])
  returns table (user_id uuid, level text, step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select candidate.user_id, level.name, met.step_id, met.occurred_at
  from unnest(backfill_level_awards.user_ids) as candidate (user_id)
  cross join status_public.levels as level
  cross join lateral status_private.level_met_at(level.name, candidate.user_id) as met
  where level.name = any (backfill_level_awards.level_names)
    and not exists (select from status_public.user_levels as achieved where achieved.user_id = candidate.user_id and achieved.level = level.name);
$$;
revoke all on function status_private.backfill_level_awards(text[], uuid[]) from public;

-- A run's levels, batch size, phases and failures. A run awards users (after_user_id is its resume point) until
-- users_done_at, then re-tiers every scored user (retier_after_user_id), then is finished.
alter table status_private.backfill_runs add column if not exists level_names text[] not null default '{}';
alter table status_private.backfill_runs add column if not exists batch_size integer not null default 500;
alter table status_private.backfill_runs add column if not exists users_total bigint;
alter table status_private.backfill_runs add column if not exists levels_achieved bigint not null default 0;
alter table status_private.backfill_runs add column if not exists users_done_at timestamptz;
alter table status_private.backfill_runs add column if not exists retier_after_user_id uuid;
alter table status_private.backfill_runs add column if not exists retiered bigint not null default 0;
alter table status_private.backfill_runs add column if not exists last_error text;
alter table status_private.backfill_runs add column if not exists failed_at timestamptz;
alter table status_private.backfill_runs drop constraint if exists backfill_runs_batch_size_check;
alter table status_private.backfill_runs add constraint backfill_runs_batch_size_check check (batch_size between 1 and 10000);
-- Runs that finished before the phases existed had nothing left to do.
update status_private.backfill_runs set users_done_at = finished_at where finished_at is not null and users_done_at is null;
-- The worker's claim: the oldest unfinished run.
create index if not exists backfill_runs_unfinished_idx on status_private.backfill_runs (id) where finished_at is null;
comment on table status_private.backfill_runs is
  E'Backfills (start_backfill): the achievements and levels covered, whether users are notified, the batch size, how far the users phase got (after_user_id) and the re-tiering after it, the counts so far, the last failure.';

-- A run's state, for admins.
do $$ begin
  if not exists (select from pg_type where typname = 'backfill_state' and typnamespace = 'status_public'::regnamespace) then
    create type status_public.backfill_state as enum ('pending', 'awarding', 'retiering', 'finished');
  end if;
end $$;
comment on type status_public.backfill_state is
  E'pending: no batch ran yet; awarding: batches of users are being awarded; retiering: users are done, tiers are being brought to their points; finished.';

-- Admins read runs through this view (the table is private); the view reads it with its owner's rights.
create or replace view status_public.backfill_runs with (security_barrier) as
  select run.id, run.achievement_ids, run.level_names as levels, run.notify, run.batch_size,
         case when run.finished_at is not null then 'finished'
              when run.users_done_at is not null then 'retiering'
              when run.users_checked = 0 and run.after_user_id is null then 'pending'
              else 'awarding' end::status_public.backfill_state as state,
         run.users_total::integer, run.users_checked::integer, run.unlocks::integer, run.points::integer,
         run.levels_achieved::integer, run.retiered::integer,
         run.started_at, run.finished_at, run.last_error, run.failed_at
  from status_private.backfill_runs as run;
comment on view status_public.backfill_runs is
  E'@primaryKey id\n@behavior -insert -update -delete\nBackfills (admins): what each covers, its state and progress (usersChecked of usersTotal), what it awarded, its last failure. Started by startBackfill or applyCatalog(backfill: true); run by the server''s backfill worker or npm run backfill -- --resume.';
comment on column status_public.backfill_runs.achievement_ids is E'@notNull\n@notNullItems\nThe achievements it awards.';
comment on column status_public.backfill_runs.levels is E'@notNull\n@notNullItems\nThe levels it awards.';
comment on column status_public.backfill_runs.notify is E'@notNull\nWhether users get live notifications of what it awards (false: quietly, the summary only).';
comment on column status_public.backfill_runs.batch_size is E'@notNull\nUsers per transaction.';
comment on column status_public.backfill_runs.state is E'@notNull';
comment on column status_public.backfill_runs.users_total is E'The users it looks at (those with a tally of an action its achievements or levels name), counted when it started.';
comment on column status_public.backfill_runs.users_checked is E'@notNull\nUsers done so far.';
comment on column status_public.backfill_runs.unlocks is E'@notNull\nUnlocks awarded so far.';
comment on column status_public.backfill_runs.points is E'@notNull\nPoints awarded so far.';
comment on column status_public.backfill_runs.levels_achieved is E'@notNull\nLevels awarded so far.';
comment on column status_public.backfill_runs.retiered is E'@notNull\nUsers moved to the tier of their points (after tier boundaries moved).';
comment on column status_public.backfill_runs.started_at is E'@notNull';
comment on column status_public.backfill_runs.last_error is E'The last batch''s failure (retried by the worker a minute later), null once a batch succeeds.';
revoke all on status_public.backfill_runs from public;
grant select on status_public.backfill_runs to :ADMIN_ROLE;

-- A backfill of these achievements and levels (NULL: all of each; an empty array: none); returns its id for
-- backfill_batch / run_backfill / work_on_backfill. The server's worker is woken at commit.
drop function if exists status_private.start_backfill(text[], boolean);
create or replace function status_private.start_backfill(achievement_ids text[] default null, notify boolean default false,
                                                         level_names text[] default null, batch_size integer default 500)
  returns bigint
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  unknown text;
  covered text[] := coalesce(achievement_ids, array(select id from status_public.achievements order by id));
  covered_levels text[] := coalesce(level_names, array(select name from status_public.levels order by name));
  run_id bigint;
begin
  select wanted into unknown from unnest(achievement_ids) as wanted
    where not exists (select from status_public.achievements where achievements.id = wanted) limit 1;
  if unknown is not null then
    raise exception 'No achievement "%"', unknown using errcode = 'AC404';
  end if;
  select wanted into unknown from unnest(level_names) as wanted
    where not exists (select from status_public.levels where levels.name = wanted) limit 1;
  if unknown is not null then
    raise exception 'No level "%"', unknown using errcode = 'AC404';
  end if;
  if batch_size is null or batch_size not between 1 and 10000 then
    raise exception 'A batch is 1 to 10000 users, not %', coalesce(batch_size::text, 'null') using errcode = 'AC400';
  end if;
  insert into status_private.backfill_runs (achievement_ids, level_names, notify, batch_size, users_total)
    values (covered, covered_levels, coalesce(notify, false), batch_size,
            (select count(*) from status_private.backfill_candidates(covered, covered_levels, null, null)))
    returning id into run_id;
  perform pg_notify('achievements:backfill', run_id::text);
  return run_id;
end;
$$;
revoke all on function status_private.start_backfill(text[], boolean, text[], integer) from public;

-- One batch of a backfill (batch_size NULL: the run's): while users remain, the next users after the resume point
-- get what backfill_awards and backfill_level_awards say; then, batch by batch, every scored user gets the tier of
-- their points. Returns whether work remains. Two callers of one run take turns (the run's row is locked); two
-- runs, or live events, may overlap freely (the unlocks' and levels' unique keys decide, points follow inserted
-- unlocks only).
create or replace function status_private.backfill_batch(run_id bigint, batch_size integer default null)
  returns boolean
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  run status_private.backfill_runs;
  size integer;
  batch uuid[];
  awarded_unlocks bigint;
  awarded_points bigint;
  awarded_levels bigint;
  tiers record;
  quiet text := current_setting('achievements.quiet_notifications', true);
begin
  select * into run from status_private.backfill_runs where id = run_id for update;
  if run.id is null then
    raise exception 'No backfill %', run_id using errcode = 'AC404';
  end if;
  if run.finished_at is not null then
    return false;
  end if;
  size := coalesce(batch_size, run.batch_size);

  if run.users_done_at is not null then
    select * into tiers from status_private.retier_batch(run.retier_after_user_id, size);
    update status_private.backfill_runs
      set retier_after_user_id = tiers.last_user_id, retiered = backfill_runs.retiered + tiers.changed,
          finished_at = case when tiers.last_user_id is null then now() end
      where id = run_id;
    return tiers.last_user_id is not null;
  end if;

  batch := array(select status_private.backfill_candidates(run.achievement_ids, run.level_names, run.after_user_id, size));
  if not run.notify then
    perform set_config('achievements.quiet_notifications', 'on', true);
  end if;
  with unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id, unlocked_at)
    select earned.user_id, earned.achievement_id, earned.points, earned.step_id, earned.occurred_at
    from status_private.backfill_awards(run.achievement_ids, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.position, earned.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points, unlocked_at
  ), ledger as (
    insert into status_public.points_ledger (user_id, points, unlock_id, created_at)
    select unlocked.user_id, unlocked.points, unlocked.id, unlocked.unlocked_at from unlocked where unlocked.points > 0
  )
  select count(*), coalesce(sum(unlocked.points), 0) into awarded_unlocks, awarded_points from unlocked;
  with achieved as (
    insert into status_public.user_levels (user_id, level, step_id, achieved_at)
    select earned.user_id, earned.level, earned.step_id, earned.occurred_at
    from status_private.backfill_level_awards(run.level_names, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.level
    on conflict (user_id, level) do nothing
    returning 1
  )
  select count(*) into awarded_levels from achieved;
  perform set_config('achievements.quiet_notifications', coalesce(quiet, ''), true);

  update status_private.backfill_runs
    set after_user_id = coalesce(batch[cardinality(batch)], after_user_id),
        users_checked = users_checked + cardinality(batch),
        unlocks = unlocks + awarded_unlocks,
        points = backfill_runs.points + awarded_points,
        levels_achieved = levels_achieved + awarded_levels,
        users_done_at = case when cardinality(batch) < size then now() end
    where id = run_id;
  return true;
end;
$$;

-- The server's worker (src/backfill-worker.ts, as the authenticator), and the CLI: one batch of run `run_id`, or
-- (NULL) of the oldest unfinished run that no other worker holds and that did not fail in the last
-- `retry_after_seconds`. The claim is the run's row lock, held until this transaction ends: a worker that dies
-- mid-batch leaves nothing done and the run to the next claim. A failing batch is rolled back and recorded on the
-- run (last_error); the caller gets the error back. No row: nothing to do.
-- Definer: it writes derived tables, as the event path's triggers do. Executable by the authenticator only.
create or replace function status_private.work_on_backfill(run_id bigint default null, retry_after_seconds double precision default 60,
                                                           out claimed_run bigint, out more boolean, out error_code text, out error_message text)
  returns setof record
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if run_id is null then
    select run.id into claimed_run from status_private.backfill_runs as run
      where run.finished_at is null
        and (run.failed_at is null or run.failed_at < now() - make_interval(secs => retry_after_seconds))
      order by run.id limit 1
      for update skip locked;
    if claimed_run is null then
      return;
    end if;
  else
    claimed_run := run_id;
  end if;
  begin
    more := status_private.backfill_batch(claimed_run);
    update status_private.backfill_runs as run set last_error = null, failed_at = null where run.id = claimed_run and run.last_error is not null;
  exception when others then
    get stacked diagnostics error_code = returned_sqlstate, error_message = message_text;
    if error_code = 'AC404' then
      raise;
    end if;
    update status_private.backfill_runs as run set last_error = error_message, failed_at = now() where run.id = claimed_run;
    more := true;
  end;
  return next;
end;
$$;
comment on function status_private.work_on_backfill(bigint, double precision) is
  E'One batch of a backfill (the given run, or the oldest unfinished one no other worker holds): for the server''s backfill worker and the CLI.';
revoke all on function status_private.work_on_backfill(bigint, double precision) from public;
grant execute on function status_private.work_on_backfill(bigint, double precision) to :AUTHENTICATOR_ROLE;

-- The whole backfill from psql or pg_cron, committing after each batch (users, then tiers): `call
-- status_private.run_backfill(id)` outside a transaction block. (A procedure that commits may not be SECURITY
-- DEFINER nor set search_path: it names everything in full.)
create or replace procedure status_private.run_backfill(run_id bigint, batch_size integer default null)
  language plpgsql
as $$
begin
  while status_private.backfill_batch(run_id, batch_size) loop
    commit;
  end loop;
  commit;
end;
$$;

-- Admins: starts a backfill of these achievements and levels (NULL: all of each; an empty list: none), which the
-- server's backfill worker runs batch by batch after this transaction commits. Returns the run (pending).
-- Definer: it writes the private runs table. Executable by admins only.
create or replace function status_public.start_backfill(achievement_ids text[] default null, levels text[] default null,
                                                        notify boolean default false, batch_size integer default 500)
  returns status_public.backfill_runs
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  run_id bigint := status_private.start_backfill(start_backfill.achievement_ids, start_backfill.notify,
                                                 start_backfill.levels, start_backfill.batch_size);
  started status_public.backfill_runs;
begin
  select run.* into started from status_public.backfill_runs as run where run.id = run_id;
  return started;
end;
$$;
comment on function status_public.start_backfill(text[], text[], boolean, integer) is
  E'@notNull\nAdmins: awards the achievements (default: all) and levels (default: all; [] for none) to the users whose past steps meet them, as if earned at the step that made them true (points dated then, tiers after), quietly unless `notify`. Runs in the background, `batchSize` users per transaction: read its progress with `backfillRunById` or `allBackfillRuns`. Running it twice awards nothing twice.';
revoke all on function status_public.start_backfill(text[], text[], boolean, integer) from public;
grant execute on function status_public.start_backfill(text[], text[], boolean, integer) to :ADMIN_ROLE;

-- The plan's counts, with the backfill's own functions: "qualifying" is what a backfill would award.
create or replace function status_public.catalog_unlock_impact(achievement_ids text[])
  returns table (achievement_id text, holders integer, qualifying integer)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with awards as (
    select earned.achievement_id, count(*)::integer as qualifying
    from status_private.backfill_awards(
      catalog_unlock_impact.achievement_ids,
      array(select status_private.backfill_candidates(catalog_unlock_impact.achievement_ids, '{}', null, null))) as earned
    group by earned.achievement_id
  )
  select achievement.id,
         (select count(*)::integer from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id),
         coalesce(awards.qualifying, 0)
  from status_public.achievements as achievement
  left join awards on awards.achievement_id = achievement.id
  where achievement.id = any (catalog_unlock_impact.achievement_ids)
  order by achievement.id;
$$;
comment on function status_public.catalog_unlock_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per achievement, how many users hold it and how many a backfill would award it to (the backfill''s own function: users whose past steps met it, in its availability window).';

create or replace function status_public.catalog_level_impact(level_names text[])
  returns table (level text, holders integer, qualifying integer)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with awards as (
    select earned.level, count(*)::integer as qualifying
    from status_private.backfill_level_awards(
      catalog_level_impact.level_names,
      array(select status_private.backfill_candidates('{}', catalog_level_impact.level_names, null, null))) as earned
    group by earned.level
  )
  select level.name,
         (select count(*)::integer from status_public.user_levels as achieved where achieved.level = level.name),
         coalesce(awards.qualifying, 0)
  from status_public.levels as level
  left join awards on awards.level = level.name
  where level.name = any (catalog_level_impact.level_names)
  order by level.name;
$$;
comment on function status_public.catalog_level_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per level, how many users achieved it and how many a backfill would award it to (users whose past steps meet its requirements).';
revoke all on function status_public.catalog_level_impact(text[]) from public;
grant execute on function status_public.catalog_level_impact(text[]) to :ADMIN_ROLE;

--! split: 6-nodes.sql
-- A retry sent while the first attempt is still in flight (a client that gave up and retried, maybe on another
-- server process) spent the rate limit a second time. Both calls checked "is this key used?" before either
-- had committed its step, so both spent; then the second's insert waited for the first's and returned the
-- stored result, keeping its spend (test/stress/many_nodes.test.ts: 2 such retries, 2 calls fewer allowed).
-- Now the check waits for any call with the same user and key to end (a transaction-level advisory lock, as
-- user_incompleted_step does), and read committed's next statement sees the step it committed: the retry
-- spends nothing. Calls without a key take no lock. Idempotent: create or replace keeps the owner and grants.
create or replace function status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid)
  returns void
  language plpgsql volatile
as $$
declare
  window_seconds integer := coalesce(nullif(status_private.record_action_rate_setting('record_action_rate_window_seconds', 60), 0), 60);
begin
  if user_id is null then
    return; -- record_action refuses it
  end if;
  if idempotency_key is not null then
    -- Taken before the call locks any row of its own, and held until its commit or rollback.
    perform pg_advisory_xact_lock(hashtext('status_private.spend_record_action_allowance'),
                                  hashtext(spend_record_action_allowance.user_id::text || '/' || spend_record_action_allowance.idempotency_key));
    if exists (
      select from status_public.user_steps
      where user_steps.user_id = spend_record_action_allowance.user_id and user_steps.idempotency_key = spend_record_action_allowance.idempotency_key
    ) then
      return;
    end if;
  end if;
  if service_client is not null then
    perform status_private.take_record_action_allowance('service', service_client,
      status_private.record_action_rate_setting('record_action_service_rate_limit', 6000), window_seconds);
  end if;
  perform status_private.take_record_action_allowance('user', user_id,
    status_private.record_action_rate_setting('record_action_rate_limit', 60), window_seconds);
end;
$$;

--! split: 7-citus.sql
-- Issue 12, item 4: the schema stays distributable by user_id (Citus; docs/scaling.md). Every table with a
-- user_id column has it in its primary key and in every unique constraint, and a foreign key between two such
-- tables joins on user_id as well, so that a key never spans two users' rows (on Citus: never two shards).
-- test/db/distributable.test.ts reads the catalogs and fails on a table that breaks this.
--
-- The primary keys of the tables keyed by a random `id` become (id, user_id): id first, so that lookups by id
-- alone keep their index on one node. GraphQL stays as it was: the lookups by id (`userStepById`...) come from
-- a `@unique id` smart tag (ids are gen_random_uuid(): unique by construction, no longer by an index), the
-- composite key's own lookup is hidden, and the relations keep their names (`@fieldName`, `@foreignFieldName`).
-- Relay global ids (the library preset with Amber's NodePlugin) now encode (id, userId): README, section 3.

-- The foreign keys onto the keys that change go first, and come back composite below.
alter table status_private.recorded_action_results drop constraint if exists recorded_action_results_step_id_fkey;
alter table status_public.achievement_unlocks drop constraint if exists achievement_unlocks_step_id_fkey;
alter table status_public.user_levels drop constraint if exists user_levels_step_id_fkey;
alter table status_public.points_ledger drop constraint if exists points_ledger_unlock_id_fkey;

alter table status_public.user_steps drop constraint if exists user_steps_pkey;
alter table status_public.user_steps add constraint user_steps_pkey primary key (id, user_id);
alter table status_public.achievement_unlocks drop constraint if exists achievement_unlocks_pkey;
alter table status_public.achievement_unlocks add constraint achievement_unlocks_pkey primary key (id, user_id);
alter table status_public.points_ledger drop constraint if exists points_ledger_pkey;
alter table status_public.points_ledger add constraint points_ledger_pkey primary key (id, user_id);
alter table status_public.user_achievements drop constraint if exists user_achievements_pkey;
alter table status_public.user_achievements add constraint user_achievements_pkey primary key (id, user_id);
alter table status_public.user_streaks drop constraint if exists user_streaks_pkey;
alter table status_public.user_streaks add constraint user_streaks_pkey primary key (id, user_id);

-- An idempotency key's stored result names its user, as its step does.
alter table status_private.recorded_action_results add column if not exists user_id uuid;
update status_private.recorded_action_results as recorded set user_id = step.user_id
  from status_public.user_steps as step
  where recorded.user_id is null and step.id = recorded.step_id;
alter table status_private.recorded_action_results alter column user_id set not null;
alter table status_private.recorded_action_results drop constraint if exists recorded_action_results_pkey;
alter table status_private.recorded_action_results add constraint recorded_action_results_pkey primary key (step_id, user_id);
alter table status_private.recorded_action_results add constraint recorded_action_results_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete cascade;

alter table status_public.achievement_unlocks add constraint achievement_unlocks_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete cascade;
comment on constraint achievement_unlocks_step_id_fkey on status_public.achievement_unlocks is
  E'@notNull\n@fieldName userStepByStepId\n@foreignFieldName achievementUnlocksByStepId';
-- A deleted step leaves the level achieved: only step_id becomes NULL (user_id stays).
alter table status_public.user_levels add constraint user_levels_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete set null (step_id);
comment on constraint user_levels_step_id_fkey on status_public.user_levels is
  E'@fieldName userStepByStepId\n@foreignFieldName userLevelsByStepId';
alter table status_public.points_ledger add constraint points_ledger_unlock_id_fkey
  foreign key (unlock_id, user_id) references status_public.achievement_unlocks (id, user_id) on delete cascade;
comment on constraint points_ledger_unlock_id_fkey on status_public.points_ledger is
  E'@fieldName achievementUnlockByUnlockId\n@foreignFieldName pointsLedgersByUnlockId';

-- The foreign keys' indexes (for cascades, and for PostGraphile, which exposes a backward relation only over
-- an index), on both columns now, in place of those on the id alone.
drop index if exists status_public.achievement_unlocks_step_id_idx;
create index achievement_unlocks_step_id_idx on status_public.achievement_unlocks (step_id, user_id);
drop index if exists status_public.user_levels_step_id_idx;
create index user_levels_step_id_idx on status_public.user_levels (step_id, user_id);
drop index if exists status_public.points_ledger_unlock_id_idx;
create index points_ledger_unlock_id_idx on status_public.points_ledger (unlock_id, user_id);

-- GraphQL: the lookups, updates and deletes by id as before (wherever a role has the grants), none by (id, userId).
comment on constraint user_steps_pkey on status_public.user_steps is E'@behavior -single -update -delete';
comment on constraint achievement_unlocks_pkey on status_public.achievement_unlocks is E'@behavior -single -update -delete';
comment on constraint points_ledger_pkey on status_public.points_ledger is E'@behavior -single -update -delete';
comment on constraint user_achievements_pkey on status_public.user_achievements is E'@behavior -single -update -delete';
comment on constraint user_streaks_pkey on status_public.user_streaks is E'@behavior -single -update -delete';
comment on table status_public.user_steps is
  E'@unique id\nAppend-only log of every step a user performed. Written by the service role and by the tg_achievement* triggers.';
comment on table status_public.achievement_unlocks is
  E'@unique id\nEach achievement a user unlocked: exactly once per user and achievement, with the points it awarded.';
comment on table status_public.points_ledger is
  E'@unique id\nAppend-only record of every point awarded.';
comment on table status_public.user_achievements is
  E'@unique id\nThe tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';
comment on table status_public.user_streaks is
  E'@unique id\nConsecutive calendar days (in the user''s time zone) with at least one step, per action and for any activity (`action` NULL). A streak whose last day is before yesterday is broken: read it with `currentStreak`.';

-- The functions that write and read the stored results, with the user named (otherwise as migrations/schema.sql
-- has them: record_action, recorded_result, record_actions).
create or replace function status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz) returns status_public.record_action_result
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  catalog_action status_public.actions;
  previous status_public.user_steps;
  step status_public.user_steps;
  result status_public.record_action_result;
  deadlocks integer := 0;
begin
  select * into catalog_action from status_public.actions where actions.name = record_action.action;
  if not found then
    raise exception 'Unknown action "%"', record_action.action
      using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
  end if;
  if amount is null or amount < 1 or amount > catalog_action.max_amount then
    raise exception 'The amount must be a whole number from 1 to % for "%", got %', catalog_action.max_amount, record_action.action, coalesce(amount::text, 'null')
      using errcode = 'AC400';
  end if;
  if idempotency_key is not null and length(idempotency_key) not between 1 and 200 then
    raise exception 'The idempotency key must be 1 to 200 characters'
      using errcode = 'AC400';
  end if;

  -- Concurrent retries: the insert waits for the first one and then finds its row.
  loop
    if idempotency_key is not null then
      select * into previous from status_public.user_steps
        where user_steps.user_id = record_action.user_id and user_steps.idempotency_key = record_action.idempotency_key;
      if found then
        return status_private.recorded_result(previous, record_action.action, amount);
      end if;
    end if;
    -- The step and its event path run in a savepoint: when this transaction is chosen as the victim of a
    -- deadlock (another transaction writing the same users' rows in another order), the savepoint's rollback
    -- releases what the step locked and the step is tried again, after a short pause that lets the other
    -- transaction go first, a few times before the error reaches the caller.
    begin
      if idempotency_key is null then
        insert into status_public.user_steps (user_id, name, count, occurred_at)
          values (record_action.user_id, record_action.action, amount, coalesce(occurred_at, now()))
          returning * into step;
      else
        insert into status_public.user_steps (user_id, name, count, idempotency_key, occurred_at)
          values (record_action.user_id, record_action.action, amount, idempotency_key, coalesce(occurred_at, now()))
          on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
          returning * into step;
      end if;
    exception when deadlock_detected then
      deadlocks := deadlocks + 1;
      if deadlocks >= 3 then
        raise;
      end if;
      perform pg_sleep(0.02 * deadlocks + 0.02 * random());
      continue;
    end;
    exit when found;
  end loop;

  select * into result from status_private.step_results(array[step]);
  if idempotency_key is not null then
    insert into status_private.recorded_action_results (step_id, user_id, result) values (step.id, step.user_id, to_jsonb(result));
  end if;
  return result;
end;
$$;

create or replace function status_private.recorded_result(previous status_public.user_steps, action text, amount integer) returns status_public.record_action_result
  language plpgsql stable
as $$
declare
  result status_public.record_action_result;
begin
  if previous.name <> action or previous.count <> amount then
    raise exception 'The idempotency key "%" was already used for % x "%"', previous.idempotency_key, previous.count, previous.name
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
  select populated.* into result
    from status_private.recorded_action_results as recorded,
         jsonb_populate_record(null::status_public.record_action_result, recorded.result) as populated
    where recorded.step_id = previous.id and recorded.user_id = previous.user_id;
  if not found then
    raise exception 'The idempotency key "%" was already used for a step recorded another way', previous.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
  return result;
end;
$$;

create or replace function status_public.record_actions(events status_public.action_event[]) returns setof status_public.record_action_result
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in uuid := jwt_public.current_user_id();
  for_anyone boolean := status_private.caller_acts_for_anyone();
  -- 0 (or nonsense) is the default: a batch always has a bound.
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
  problem record;
  previous status_public.user_steps;
  -- The events to insert (in input order) and their positions.
  steps status_public.user_steps[];
  step_positions bigint[];
  -- The answers so far, and the position of each.
  answers status_public.record_action_result[];
  answer_positions bigint[];
  round_steps status_public.user_steps[];
  round_positions bigint[];
  fresh status_public.user_steps[];
  fresh_positions bigint[];
  taken_numbers bigint[]; -- the round's steps (by number) whose key a concurrent call took
  round_answers status_public.record_action_result[];
  -- The ids' first 32 bits count up from a random base in the order given, so that a user's events that
  -- happened at the same moment apply in that order (the event path orders by occurred_at, then id).
  id_base bigint := floor(random() * (4294967295 - 100000000));
begin
  if not for_anyone and signed_in is null then
    raise exception 'Sign in to record actions' using errcode = 'AC401';
  end if;
  if events is null then
    raise exception 'events is required (an empty list records nothing)' using errcode = 'AC400';
  end if;
  if cardinality(events) > max_events then
    raise exception 'At most % events a call, got %', max_events, cardinality(events)
      using errcode = 'AC400', hint = 'Split the batch (achievements.record_actions_max_events).';
  end if;

  -- Each event with its user, amount, catalog action and earlier step of the same key; the first that cannot
  -- be recorded, and why (a retried key with another action or amount counts: recorded_result says why).
  select checked.*, problems.problem into problem
    from (select listed.position, event.user_id, listed.action, event.amount, listed.idempotency_key, listed.occurred_at,
                 catalog_action.name is not null as known, catalog_action.client_reportable, catalog_action.max_amount,
                 earlier.id as previous_id, earlier.name as previous_action, earlier.count as previous_amount,
                 earlier.id is not null and not exists (select from status_private.recorded_action_results as recorded
                                                       where recorded.step_id = earlier.id and recorded.user_id = earlier.user_id) as previous_unrecorded,
                 row_number() over (partition by event.user_id, listed.idempotency_key order by listed.position) as key_use
          from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
          cross join lateral (select coalesce(listed.user_id, case when not for_anyone then signed_in end) as user_id,
                                     coalesce(listed.amount, 1) as amount) as event
          left join status_public.actions as catalog_action on catalog_action.name = listed.action
          -- By the key's index, one event at a time, and only for an event with a key (a join could hash the
          -- whole step log; `limit 1`, the key being unique, keeps it a lookup).
          left join lateral (
            select step.* from status_public.user_steps as step
            where listed.idempotency_key is not null and step.user_id = event.user_id and step.idempotency_key = listed.idempotency_key
            limit 1
          ) as earlier on true) as checked
    cross join lateral (
      select case
        when checked.user_id is null then 'no user'
        when not for_anyone and checked.user_id <> signed_in then 'not yours'
        when not for_anyone and checked.occurred_at is not null then 'occurred_at'
        when not checked.known then 'unknown action'
        when not for_anyone and not checked.client_reportable then 'not reportable'
        when checked.amount < 1 or checked.amount > checked.max_amount then 'amount'
        when checked.idempotency_key is not null and length(checked.idempotency_key) not between 1 and 200 then 'key length'
        when checked.idempotency_key is not null and checked.key_use > 1 then 'key twice'
        when checked.previous_id is not null
             and (checked.previous_action <> checked.action or checked.previous_amount <> checked.amount or checked.previous_unrecorded)
          then 'key taken'
      end as problem) as problems
    where problems.problem is not null
    order by checked.position
    limit 1;
  if problem.problem = 'no user' then
    raise exception 'Event %: name the user (userId)', problem.position using errcode = 'AC400';
  elsif problem.problem = 'not yours' then
    raise exception 'Event %: you can record only your own actions', problem.position
      using errcode = 'AC403', hint = 'Leave userId out, or record for others with the service role.';
  elsif problem.problem = 'occurred_at' then
    raise exception 'Event %: only the service role sets occurredAt', problem.position using errcode = 'AC403';
  elsif problem.problem = 'unknown action' then
    raise exception 'Event %: unknown action "%"', problem.position, problem.action
      using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
  elsif problem.problem = 'not reportable' then
    raise exception 'Event %: the action "%" cannot be reported by a client', problem.position, problem.action
      using errcode = 'AC403', hint = 'Your backend records it with the service role.';
  elsif problem.problem = 'amount' then
    raise exception 'Event %: the amount must be a whole number from 1 to % for "%", got %', problem.position, problem.max_amount, problem.action, problem.amount
      using errcode = 'AC400';
  elsif problem.problem = 'key length' then
    raise exception 'Event %: the idempotency key must be 1 to 200 characters', problem.position using errcode = 'AC400';
  elsif problem.problem = 'key twice' then
    raise exception 'Event %: the idempotency key "%" is used twice in the batch', problem.position, problem.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  elsif problem.problem = 'key taken' then
    select * into previous from status_public.user_steps where user_steps.id = problem.previous_id and user_steps.user_id = problem.user_id;
    perform status_private.recorded_result(previous, problem.action, problem.amount); -- raises its AC409
  end if;

  -- Retried keys: their original results. The others: the steps to insert.
  select coalesce(array_agg(status_private.recorded_result(earlier.step, listed.action, coalesce(listed.amount, 1)) order by listed.position)
                    filter (where earlier.id is not null), '{}'),
         coalesce(array_agg(listed.position order by listed.position) filter (where earlier.id is not null), '{}'),
         coalesce(array_agg(row(status_private.batch_step_id(id_base + listed.position), coalesce(listed.user_id, signed_in), listed.action,
                                coalesce(listed.amount, 1), listed.idempotency_key, now(), coalesce(listed.occurred_at, now()))::status_public.user_steps
                            order by listed.position) filter (where earlier.id is null), '{}'),
         coalesce(array_agg(listed.position order by listed.position) filter (where earlier.id is null), '{}')
    into answers, answer_positions, steps, step_positions
    from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
    left join lateral (
      select step, step.id from status_public.user_steps as step
      where listed.idempotency_key is not null
        and step.user_id = coalesce(listed.user_id, signed_in) and step.idempotency_key = listed.idempotency_key
      limit 1
    ) as earlier on true;

  -- The rate limits: every new event, in one call (per bucket, in user order).
  perform status_private.spend_record_actions_allowance(array(select step.user_id from unnest(steps) as step),
    case when for_anyone then coalesce(signed_in, '00000000-0000-0000-0000-000000000000') end);

  -- One insert a round: the event path runs once for all its users, and step_results reads each event's result
  -- right after it. A key that a concurrent call took meanwhile: that call's result, as for a retry.
  for round_steps, round_positions in
    select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.idempotency_key,
                         numbered.created_at, numbered.occurred_at)::status_public.user_steps order by numbered.position),
           array_agg(numbered.position order by numbered.position)
    from (select step.*, step_positions[step.n] as position,
                 row_number() over (partition by step.user_id order by step.occurred_at, step.id) as round
          from unnest(steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)) as numbered
    group by numbered.round
    order by numbered.round
  loop
    with inserted as (
      insert into status_public.user_steps (id, user_id, name, count, idempotency_key, created_at, occurred_at)
      select step.* from unnest(round_steps) as step
      on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
      returning id
    )
    select coalesce(array_agg(row(listed.id, listed.user_id, listed.name, listed.count, listed.idempotency_key, listed.created_at,
                                  listed.occurred_at)::status_public.user_steps order by listed.n) filter (where listed.fresh), '{}'),
           coalesce(array_agg(round_positions[listed.n] order by listed.n) filter (where listed.fresh), '{}'),
           coalesce(array_agg(listed.n order by listed.n) filter (where not listed.fresh), '{}')
      into fresh, fresh_positions, taken_numbers
      from (select listed.*, listed.id in (select inserted.id from inserted) as fresh
            from unnest(round_steps) with ordinality as listed (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)) as listed;
    if cardinality(taken_numbers) > 0 then
      select answers || array_agg(status_private.recorded_result(taken.earlier, step.name, step.count) order by step.n),
             answer_positions || array_agg(round_positions[step.n] order by step.n)
        into answers, answer_positions
        from unnest(round_steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)
        cross join lateral (
          select earlier from status_public.user_steps as earlier
          where earlier.user_id = step.user_id and earlier.idempotency_key = step.idempotency_key
          limit 1
        ) as taken
        where step.n = any (taken_numbers);
    end if;
    -- step_results answers in the order of `fresh`.
    round_answers := array(select result from status_private.step_results(fresh) as result);
    insert into status_private.recorded_action_results (step_id, user_id, result)
      select result.step_id, step.user_id, to_jsonb(result)
      from unnest(round_answers) as result
      join unnest(fresh) as step on step.id = result.step_id and step.user_id = result.user_id
      where step.idempotency_key is not null;
    answers := answers || round_answers;
    answer_positions := answer_positions || fresh_positions;
  end loop;
  return query
    select answer.step_id, answer.user_id, answer.action, answer.amount, answer.tally, answer.unlocked, answer.points_awarded,
           answer.total_points, answer.tier_before, answer.tier_after, answer.current_streak, answer.levels_achieved
    from unnest(answers) with ordinality as answer (step_id, user_id, action, amount, tally, unlocked, points_awarded, total_points,
                                                    tier_before, tier_after, current_streak, levels_achieved, n)
    join unnest(answer_positions) with ordinality as placed (position, n) on placed.n = answer.n
    order by placed.position;
end;
$$;

-- The streaks stage asked whether anyone at all held a freeze: now whether the steps' users do.
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  -- Only when one of the steps' users holds a freeze or has spent one (a frozen day also keeps their other
  -- streaks). Looked up by those users, never across all of them (docs/scaling.md: a read of the whole table
  -- here was a query on every shard for every event).
  if exists (select from unnest(steps) as step join status_public.user_streak_freezes as held on held.user_id = step.user_id
             where held.freezes > 0)
     or exists (select from unnest(steps) as step join status_public.user_frozen_days as frozen on frozen.user_id = step.user_id) then
    with gaps as (
      -- The step's streaks that it would break: its action's and any activity's.
      select step.user_id, step.local_time::date as day, streak.action, streak.last_day
      from unnest(steps) as step
      join status_public.user_streaks as streak
        on streak.user_id = step.user_id and (streak.action = step.name or streak.action is null)
      where step.count > 0 and step.local_time::date > streak.last_day + 1
    ), needed as (
      -- The days missed in them that are not frozen yet.
      select distinct gaps.user_id, missed.day::date as day
      from gaps cross join lateral generate_series(gaps.last_day + 1, gaps.day - 1, interval '1 day') as missed (day)
      where not exists (select from status_public.user_frozen_days as frozen
                        where frozen.user_id = gaps.user_id and frozen.day = missed.day::date)
    ), kept as (
      -- The users who hold a freeze for each of those days (or need none): all their streaks go on.
      select users.user_id, count(needed.day)::integer as days
      from (select distinct gaps.user_id from gaps) as users
      left join needed on needed.user_id = users.user_id
      group by users.user_id
      having count(needed.day) <= status_private.streak_freezes_of(users.user_id)
    ), spent as (
      update status_public.user_streak_freezes as held set freezes = held.freezes - kept.days, updated_at = now()
      from kept where held.user_id = kept.user_id and kept.days > 0
    ), frozen as (
      insert into status_public.user_frozen_days (user_id, day)
      select needed.user_id, needed.day from needed join kept on kept.user_id = needed.user_id
    )
    -- The streaks' last day moves to the day before the step's, so that the upsert below extends them.
    update status_public.user_streaks as streak set last_day = gaps.day - 1
      from gaps join kept on kept.user_id = gaps.user_id
      where streak.user_id = gaps.user_id and streak.action is not distinct from gaps.action;
  end if;
  insert into status_public.user_streaks as streak (user_id, action, current_length, longest_length, last_day)
    select step.user_id, actions.action, 1, 1, step.local_time::date
    from unnest(steps) as step
    cross join lateral (values (step.name), (null)) as actions (action)
    where step.count > 0
    order by step.user_id, actions.action
    on conflict (user_id, action) do update
      set current_length = case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end,
          longest_length = greatest(streak.longest_length, case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end),
          last_day = excluded.last_day,
          updated_at = now()
      where excluded.last_day > streak.last_day;
end;
$$;

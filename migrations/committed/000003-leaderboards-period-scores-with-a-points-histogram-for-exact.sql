--! Previous: sha1:652fc8f4e7824e8f65855c7d75c1ae0f40322d6d
--! Hash: sha1:0dbabcb8cccf73fe7b0446628207b13598d424f2
--! Message: leaderboards: period scores with a points histogram for exact ranks

-- Leaderboards: all time and per calendar period (UTC; weeks start on Monday). Points count in the
-- period in which they were awarded. A user's rank is 1 + the number of visible users with more points
-- (ties share a rank: 1, 2, 2, 4); within a tie, who reached the score first is listed first, then by id.
-- Opted-out users are invisible to others, but still get their own rank.
--
-- Exact ranks without counting every user above you: besides each user's score per period, a two-level
-- histogram counts the visible users at each score and in each bucket of 100 points. rank = 1 + the users
-- in higher buckets + the users in your bucket with more points: a few hundred rows at most, whatever the
-- number of users.

create type status_public.leaderboard_period as enum ('ALL_TIME', 'MONTH', 'WEEK', 'DAY');
comment on type status_public.leaderboard_period is
  E'A leaderboard''s period: all time, or the current calendar month, week (from Monday) or day, in UTC. Points count in the period in which they were awarded.';

create table status_public.leaderboard_scores (
  period status_public.leaderboard_period not null,
  -- The period's first day (UTC); -infinity for ALL_TIME.
  period_start date not null,
  user_id uuid not null,
  points integer not null check (points > 0),
  -- When the user reached these points in this period (ties: earlier first).
  reached_at timestamptz not null,
  -- False while the user has opted out of leaderboards.
  visible boolean not null,
  primary key (period, period_start, user_id)
);
create index leaderboard_scores_listing_idx on status_public.leaderboard_scores (period, period_start, points desc, reached_at, user_id) where visible;
create index leaderboard_scores_user_id_idx on status_public.leaderboard_scores (user_id);
comment on table status_public.leaderboard_scores is E'@behavior -*\nEach user''s points per leaderboard period; read through the leaderboard queries.';

create table status_private.leaderboard_point_counts (
  period status_public.leaderboard_period not null,
  period_start date not null,
  points integer not null,
  users integer not null check (users >= 0),
  primary key (period, period_start, points)
);
comment on table status_private.leaderboard_point_counts is E'How many visible users have exactly `points` in the period: the histogram behind exact ranks.';

create table status_private.leaderboard_bucket_counts (
  period status_public.leaderboard_period not null,
  period_start date not null,
  -- points / 100
  bucket integer not null,
  users integer not null check (users >= 0),
  primary key (period, period_start, bucket)
);
comment on table status_private.leaderboard_bucket_counts is E'How many visible users have points in [100 x bucket, 100 x bucket + 100) in the period.';

create function status_private.period_start(period status_public.leaderboard_period, at timestamptz) returns date
  language sql immutable
as $$
  select case period
    when 'ALL_TIME' then '-infinity'::date
    when 'MONTH' then date_trunc('month', at at time zone 'UTC')::date
    when 'WEEK' then date_trunc('week', at at time zone 'UTC')::date
    when 'DAY' then (at at time zone 'UTC')::date
  end;
$$;

-- Histogram changes: users moving from one score to another in a period (NULL: not on the board).
create type status_private.histogram_move as (
  period status_public.leaderboard_period,
  period_start date,
  from_points integer,
  to_points integer
);

-- The net change of users per key of one histogram level (key = points / key_width).
create function status_private.histogram_deltas(moves status_private.histogram_move[], key_width integer)
  returns table (period status_public.leaderboard_period, period_start date, key integer, delta integer)
  language sql immutable
as $$
  select changes.period, changes.period_start, changes.key, sum(changes.delta)::integer
  from (
    select move.period, move.period_start, move.from_points / key_width as key, -1 as delta
      from unnest(moves) as move where move.from_points is not null
    union all
    select move.period, move.period_start, move.to_points / key_width, 1
      from unnest(moves) as move where move.to_points is not null
  ) as changes
  group by 1, 2, 3
  having sum(changes.delta) <> 0;
$$;

-- Applies moves to both levels of the histogram. Histogram rows are shared by every user at a score, so
-- every transaction locks them in one global order: score rows before bucket rows, each by period and key
-- (existing rows locked first, in order; then new rows inserted in order). Concurrent awards then wait
-- for each other instead of deadlocking. A decrease is an update: the row exists, since it counts the
-- user who leaves it. An increase is an upsert, in one statement, so that a row another transaction
-- creates meanwhile is added to, never missed.
create function status_private.apply_histogram_moves(moves status_private.histogram_move[]) returns void
  language plpgsql volatile
as $$
declare
  level record;
begin
  for level in select * from (values ('leaderboard_point_counts', 'points', 1), ('leaderboard_bucket_counts', 'bucket', 100)) as levels (tbl, key_column, key_width)
  loop
    execute format(
      'select 1 from status_private.%1$I as counts join status_private.histogram_deltas($1, $2) as d
         on counts.period = d.period and counts.period_start = d.period_start and counts.%2$I = d.key
       order by counts.period, counts.period_start, counts.%2$I for update of counts', level.tbl, level.key_column)
      using moves, level.key_width;
    execute format(
      'update status_private.%1$I as counts set users = counts.users + d.delta from status_private.histogram_deltas($1, $2) as d
       where d.delta < 0 and counts.period = d.period and counts.period_start = d.period_start and counts.%2$I = d.key', level.tbl, level.key_column)
      using moves, level.key_width;
    execute format(
      'insert into status_private.%1$I as counts (period, period_start, %2$I, users)
       select d.period, d.period_start, d.key, d.delta from status_private.histogram_deltas($1, $2) as d
       where d.delta > 0
       order by d.period, d.period_start, d.key
       on conflict (period, period_start, %2$I) do update set users = counts.users + excluded.users', level.tbl, level.key_column)
      using moves, level.key_width;
  end loop;
end;
$$;

-- Once per statement that awards points (all unlocks of one action at once): the users' period scores,
-- in (period, period_start, user) order, then the histogram.
create function status_private.tg_points_ledger__leaderboards() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  moves status_private.histogram_move[];
begin
  with awards as (
    select board.period, status_private.period_start(board.period, awarded.created_at) as period_start, awarded.user_id,
           sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
    from awarded cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
    group by 1, 2, 3
  ), scored as (
    insert into status_public.leaderboard_scores as score (period, period_start, user_id, points, reached_at, visible)
    select awards.period, awards.period_start, awards.user_id, awards.points, awards.reached_at,
           not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = awards.user_id), false)
    from awards
    order by awards.period, awards.period_start, awards.user_id
    on conflict (period, period_start, user_id) do update
      set points = score.points + excluded.points, reached_at = excluded.reached_at
    returning score.period, score.period_start, score.user_id, score.points, score.visible
  )
  select array_agg(row(scored.period, scored.period_start, nullif(scored.points - awards.points, 0), scored.points)::status_private.histogram_move)
    into moves
    from scored join awards using (period, period_start, user_id)
    where scored.visible;
  perform status_private.apply_histogram_moves(coalesce(moves, '{}'));
  return null;
end;
$$;
create trigger _200_leaderboards after insert on status_public.points_ledger
  referencing new table as awarded
  for each statement execute function status_private.tg_points_ledger__leaderboards();

create function status_private.tg_user_profiles__leaderboard_visibility() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  moves status_private.histogram_move[];
begin
  with changed as (
    update status_public.leaderboard_scores set visible = not NEW.leaderboard_opt_out
    where user_id = NEW.user_id and visible = NEW.leaderboard_opt_out
    returning *
  )
  select array_agg(row(changed.period, changed.period_start,
                       case when changed.visible then null else changed.points end,
                       case when changed.visible then changed.points end)::status_private.histogram_move)
    into moves
    from changed;
  perform status_private.apply_histogram_moves(coalesce(moves, '{}'));
  return null;
end;
$$;
create trigger _200_leaderboard_visibility after insert or update of leaderboard_opt_out on status_public.user_profiles
  for each row execute function status_private.tg_user_profiles__leaderboard_visibility();

--------------------------------------------------------------------------------------------------
-- The leaderboard queries (plugins/leaderboard.ts serves them as GraphQL). SECURITY DEFINER: they
-- show other users' points and display names, which is what a leaderboard is, and only visible users'.

create type status_public.leaderboard_entry as (
  rank integer,
  user_id uuid,
  display_name text,
  points integer,
  tier text,
  badge text,
  medal text
);

create type status_public.leaderboard_rank as (
  rank integer,
  points integer,
  total_users integer,
  percentile double precision
);
-- plugins/leaderboard.ts defines the GraphQL types of these rows.
comment on type status_public.leaderboard_entry is E'@behavior -*';
comment on type status_public.leaderboard_rank is E'@behavior -*';

-- 1 + the visible users with more than `points` in the period.
create function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) returns integer
  language sql stable
as $$
  select 1
    + coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                where buckets.period = board and buckets.period_start = board_start and buckets.bucket > rank_of.points / 100), 0)::integer
    + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                where counts.period = board and counts.period_start = board_start
                  and counts.points > rank_of.points and counts.points < (rank_of.points / 100 + 1) * 100), 0)::integer;
$$;

create function status_private.leaderboard_entries(
  board status_public.leaderboard_period, board_start date, user_ids uuid[]
) returns setof status_public.leaderboard_entry
  language sql stable
as $$
  select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
         case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
  from (
    select status_private.rank_of(board, board_start, score.points) as rank, score.user_id, score.points, score.reached_at
    from unnest(user_ids) as listed(user_id)
    join status_public.leaderboard_scores as score
      on score.period = board and score.period_start = board_start and score.user_id = listed.user_id
  ) as ranked
  left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
  left join status_public.user_scores as overall on overall.user_id = ranked.user_id
  left join status_public.tiers as tier on tier.name = overall.tier
  order by ranked.points desc, ranked.reached_at, ranked.user_id;
$$;

create function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10, "offset" integer default 0)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer set search_path = pg_catalog, public
as $$
declare
  board_start date := status_private.period_start(period, now());
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, array(
    select score.user_id from status_public.leaderboard_scores as score
    where score.period = leaderboard.period and score.period_start = board_start and score.visible
    order by score.points desc, score.reached_at, score.user_id
    limit first offset "offset"));
end;
$$;
comment on function status_public.leaderboard(status_public.leaderboard_period, integer, integer) is E'@behavior -*';

create function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME')
  returns status_public.leaderboard_rank
  language plpgsql stable security definer set search_path = pg_catalog, public
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
  select coalesce(sum(counts.users), 0)::integer + case when coalesce(mine.visible, false) then 0 else 1 end
    into result.total_users
    from status_private.leaderboard_bucket_counts as counts
    where counts.period = my_rank.period and counts.period_start = board_start;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;
comment on function status_public.my_rank(status_public.leaderboard_period) is E'@behavior -*';

create function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer set search_path = pg_catalog, public
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
  return query select * from status_private.leaderboard_entries(period, board_start, array(
    (select score.user_id from status_public.leaderboard_scores as score
     where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible and score.user_id <> me
       and (score.points > coalesce(mine.points, 0)
            or (score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)))
     order by score.points, score.reached_at desc, score.user_id desc
     limit radius)
    union all
    (select score.user_id from status_public.leaderboard_scores as score
     where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible and score.user_id <> me
       and (score.points < mine.points
            or (score.points = mine.points and (score.reached_at, score.user_id) > (mine.reached_at, me)))
     order by score.points desc, score.reached_at, score.user_id
     limit radius)
    union all
    select me where mine.user_id is not null));
end;
$$;
comment on function status_public.leaderboard_around_me(status_public.leaderboard_period, integer) is E'@behavior -*';

alter table status_public.leaderboard_scores enable row level security;
create policy select_own on status_public.leaderboard_scores for select to :USER_ROLE using (user_id = (select jwt_public.current_user_id()));
create policy select_all_as_service_or_admin on status_public.leaderboard_scores for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
grant select on status_public.leaderboard_scores to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
alter table status_private.leaderboard_point_counts enable row level security;
alter table status_private.leaderboard_bucket_counts enable row level security;

grant execute on function status_public.leaderboard(status_public.leaderboard_period, integer, integer) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant execute on function status_public.my_rank(status_public.leaderboard_period) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant execute on function status_public.leaderboard_around_me(status_public.leaderboard_period, integer) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--! Previous: sha1:2efe5d499cf946385f53ea7898f4dcc996f658dd
--! Hash: sha1:d1b24ec995f44672602699cedb6a415748930f2a
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

-- Moves one visible user in the histogram from one score to another (NULL: not on the board). Score rows
-- are locked before bucket rows, each in ascending order (points only grow), so that two transactions
-- moving users through the same scores take their locks in the same order. A move within one bucket
-- leaves the bucket row alone.
create function status_private.move_in_histogram(
  board status_public.leaderboard_period, board_start date, from_points integer, to_points integer
) returns void
  language plpgsql volatile
as $$
begin
  if from_points is not null then
    update status_private.leaderboard_point_counts set users = users - 1
      where period = board and period_start = board_start and points = from_points;
  end if;
  if to_points is not null then
    insert into status_private.leaderboard_point_counts as counts (period, period_start, points, users)
      values (board, board_start, to_points, 1)
      on conflict (period, period_start, points) do update set users = counts.users + 1;
  end if;
  if from_points / 100 is not distinct from to_points / 100 then
    return;
  end if;
  if from_points is not null then
    update status_private.leaderboard_bucket_counts set users = users - 1
      where period = board and period_start = board_start and bucket = from_points / 100;
  end if;
  if to_points is not null then
    insert into status_private.leaderboard_bucket_counts as counts (period, period_start, bucket, users)
      values (board, board_start, to_points / 100, 1)
      on conflict (period, period_start, bucket) do update set users = counts.users + 1;
  end if;
end;
$$;

create function status_private.tg_points_ledger__leaderboards() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  board status_public.leaderboard_period;
  board_start date;
  points_after integer;
  shown boolean;
  opted_out boolean := coalesce((select leaderboard_opt_out from status_public.user_profiles where user_id = NEW.user_id), false);
begin
  foreach board in array enum_range(null::status_public.leaderboard_period) loop
    board_start := status_private.period_start(board, NEW.created_at);
    insert into status_public.leaderboard_scores as score (period, period_start, user_id, points, reached_at, visible)
      values (board, board_start, NEW.user_id, NEW.points, NEW.created_at, not opted_out)
      on conflict (period, period_start, user_id) do update
        set points = score.points + excluded.points, reached_at = excluded.reached_at
      returning score.points, score.visible into points_after, shown;
    if shown then
      perform status_private.move_in_histogram(board, board_start, nullif(points_after - NEW.points, 0), points_after);
    end if;
  end loop;
  return null;
end;
$$;
create trigger _200_leaderboards after insert on status_public.points_ledger
  for each row execute function status_private.tg_points_ledger__leaderboards();

create function status_private.tg_user_profiles__leaderboard_visibility() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  score status_public.leaderboard_scores;
begin
  for score in
    update status_public.leaderboard_scores set visible = not NEW.leaderboard_opt_out
    where user_id = NEW.user_id and visible = NEW.leaderboard_opt_out
    returning *
  loop
    if score.visible then
      perform status_private.move_in_histogram(score.period, score.period_start, null, score.points);
    else
      perform status_private.move_in_histogram(score.period, score.period_start, score.points, null);
    end if;
  end loop;
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

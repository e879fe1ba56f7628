--! Previous: sha1:936b44f7fb4a826c729728a09b635a19e7412ff8
--! Hash: sha1:ed06c5995f483e27419c36b189296a9c06a6b287
--! Message: Streak freezes: a missed day spends a freeze instead of breaking the streaks

--! split: 1-current.sql
-- Streak freezes (issue 11): a user holds a number of freezes (granted by the service, say bought or earned, or by
-- an admin). When a step would break the user's streaks (of its action, and of any activity), each day missed
-- spends one freeze instead, all or nothing: a gap of three days needs three freezes, and with fewer the streaks
-- restart and the freezes stay. A frozen day is frozen for all the user's streaks (it is spent once, and
-- remembered in user_frozen_days), and keeps them alive without counting in them.

create table if not exists status_public.user_streak_freezes (
  user_id uuid primary key,
  freezes integer not null default 0 check (freezes between 0 and 1000),
  updated_at timestamptz not null default now()
);
-- The streaks stage asks "does anyone hold a freeze?" on every event: this index answers it at once.
create index if not exists user_streak_freezes_held_idx on status_public.user_streak_freezes (user_id) where freezes > 0;
alter table status_public.user_streak_freezes enable row level security;
comment on table status_public.user_streak_freezes is
  E'Each user''s streak freezes: a day missed in their streaks spends one instead of breaking them. Granted with `grantStreakFreezes` (service, admins); read-only for every API role.';
comment on column status_public.user_streak_freezes.freezes is E'Freezes held (0 to 1000).';
drop policy if exists select_own on status_public.user_streak_freezes;
create policy select_own on status_public.user_streak_freezes for select to :USER_ROLE
  using (user_id = (select jwt_public.current_user_id()));
drop policy if exists select_all_as_service_or_admin on status_public.user_streak_freezes;
create policy select_all_as_service_or_admin on status_public.user_streak_freezes for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
grant select on status_public.user_streak_freezes to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

-- The days a freeze was spent on: they count as kept in every streak of the user.
create table if not exists status_public.user_frozen_days (
  user_id uuid not null,
  day date not null,
  created_at timestamptz not null default now(),
  primary key (user_id, day)
);
alter table status_public.user_frozen_days enable row level security;
comment on table status_public.user_frozen_days is
  E'The days a streak freeze was spent on, per user: missed, but kept in every streak. Read-only for every API role.';
drop policy if exists select_own on status_public.user_frozen_days;
create policy select_own on status_public.user_frozen_days for select to :USER_ROLE
  using (user_id = (select jwt_public.current_user_id()));
drop policy if exists select_all_as_service_or_admin on status_public.user_frozen_days;
create policy select_all_as_service_or_admin on status_public.user_frozen_days for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
grant select on status_public.user_frozen_days to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

create or replace function status_private.streak_freezes_of(user_id uuid) returns integer
  language sql stable
as $$
  select coalesce((select held.freezes from status_public.user_streak_freezes as held where held.user_id = streak_freezes_of.user_id), 0);
$$;
revoke all on function status_private.streak_freezes_of(uuid) from public;

-- A streak's length as of `today`: as streak_as_of, but still alive while the user's freezes cover the days missed
-- since its last day (days already frozen, and one freeze held for each other one).
create or replace function status_private.streak_kept_as_of(user_id uuid, current_length integer, last_day date, today date)
  returns integer
  language sql stable
as $$
  select case
    when last_day >= today - 1 then current_length
    when (today - 1 - last_day)
         - (select count(*) from status_public.user_frozen_days as frozen
            where frozen.user_id = streak_kept_as_of.user_id and frozen.day > last_day and frozen.day < today)
         <= status_private.streak_freezes_of(streak_kept_as_of.user_id) then current_length
    else 0
  end;
$$;
revoke all on function status_private.streak_kept_as_of(uuid, integer, date, date) from public;


-- Gives the user `freezes` more (1 to 1000; they hold at most 1000). Returns how many they hold now.
create or replace function status_public.grant_streak_freezes(user_id uuid, freezes integer) returns integer
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  held integer;
begin
  if grant_streak_freezes.user_id is null then
    raise exception 'Name the user to give streak freezes to' using errcode = 'AC400';
  end if;
  if grant_streak_freezes.freezes is null or grant_streak_freezes.freezes not between 1 and 1000 then
    raise exception 'Give 1 to 1000 streak freezes at a time, not %', coalesce(grant_streak_freezes.freezes::text, 'null')
      using errcode = 'AC400';
  end if;
  insert into status_public.user_streak_freezes as current_freezes (user_id, freezes)
    values (grant_streak_freezes.user_id, grant_streak_freezes.freezes)
    on conflict on constraint user_streak_freezes_pkey do update set freezes = current_freezes.freezes + excluded.freezes, updated_at = now()
    returning current_freezes.freezes into held;
  return held;
exception when check_violation then
  raise exception 'A user holds at most 1000 streak freezes' using errcode = 'AC400';
end;
$$;
comment on function status_public.grant_streak_freezes(uuid, integer) is
  E'Gives the user `freezes` streak freezes (1 to 1000; at most 1000 held): each day missed in their streaks spends one instead of breaking them. Returns how many they hold now. For the service role and admins.';
revoke all on function status_public.grant_streak_freezes(uuid, integer) from public;
grant execute on function status_public.grant_streak_freezes(uuid, integer) to :SERVICE_ROLE, :ADMIN_ROLE;

-- The streaks stage (migration 000009's version, and before it the freezes).
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  -- Only when someone holds a freeze or has spent one (a frozen day also keeps their other streaks).
  if exists (select from status_public.user_streak_freezes as held where held.freezes > 0)
     or exists (select from status_public.user_frozen_days) then
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

-- Progress: a streak is still alive while the user's freezes cover the days missed since its last day.
create or replace function status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date)
  returns table (current integer, target integer)
  language sql stable
as $$
  select coalesce((select status_private.streak_kept_as_of(streak.user_id, streak.current_length, streak.last_day, today)
                   from status_public.user_streaks as streak
                   where streak.user_id = streak_criterion_progress.user_id and streak.action is not distinct from criterion.action), 0),
         criterion.threshold;
$$;

-- The dashboard: the freezes held, and streaks alive while they cover the days missed.
do $$ begin
  if not exists (select from pg_attribute where attrelid = 'status_public.dashboard'::regclass and attname = 'streak_freezes') then
    alter type status_public.dashboard add attribute streak_freezes integer;
  end if;
end $$;
comment on column status_public.dashboard.streak_freezes is E'@notNull\nStreak freezes held: each day missed in the streaks spends one instead of breaking them.';
comment on column status_public.dashboard.current_streak is E'@notNull\nThe streak of any activity, in days (alive while streak freezes cover the days missed).';

create or replace function status_public.my_dashboard() returns status_public.dashboard
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in_user uuid := jwt_public.current_user_id();
  today date := (now() at time zone status_private.time_zone_of(jwt_public.current_user_id()))::date;
  dashboard status_public.dashboard;
begin
  if signed_in_user is null then
    raise exception 'Sign in to see your dashboard' using errcode = 'AC401';
  end if;
  dashboard.user_id := signed_in_user;
  dashboard.tier := status_public.my_tier();
  select coalesce(array_agg(progress) filter (where progress.unlocked), '{}'),
         coalesce(array_agg(progress) filter (where not progress.unlocked), '{}')
    into dashboard.unlocked, dashboard.locked
    from status_public.my_achievements() as progress;
  dashboard.almost_there := status_public.my_almost_there();
  dashboard.hidden_locked_count := status_public.hidden_locked_count();
  dashboard.streak_freezes := status_private.streak_freezes_of(signed_in_user);
  select coalesce(array_agg(row(tally.name, tally.count)::status_public.tally order by tally.name), '{}') into dashboard.tallies
    from status_public.user_achievements as tally where tally.user_id = signed_in_user;
  select coalesce(array_agg(row(streak.action,
                                status_private.streak_kept_as_of(signed_in_user, streak.current_length, streak.last_day, today),
                                streak.longest_length, streak.last_day)::status_public.streak_summary
                            order by streak.action nulls first), '{}')
    into dashboard.streaks
    from status_public.user_streaks as streak where streak.user_id = signed_in_user;
  select coalesce(status_private.streak_kept_as_of(signed_in_user, streak.current_length, streak.last_day, today), 0),
         coalesce(streak.longest_length, 0)
    into dashboard.current_streak, dashboard.longest_streak
    from (select 1) as one
    left join status_public.user_streaks as streak on streak.user_id = signed_in_user and streak.action is null;
  return dashboard;
end;
$$;

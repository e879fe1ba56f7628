--! Previous: sha1:021f46f557e27159da0c4fadff2c222eb095e67e
--! Hash: sha1:9de1e04c6816d6c3b8f4e97a88f8504435166434
--! Message: Progress reads in linear time: my_achievements aggregates each achievement's criteria once and joins them (no longer looked up in a CTE per achievement), and is PL/pgSQL (its plan kept for the session); my_dashboard reads it once (status_private.almost_there_of, the one home of the almost-there selection); the unused type user_tier dropped

--! split: 1-progress.sql
-- Progress reads in linear time, and the dashboard computes every achievement's progress once (issue 10's reads).
--
-- my_achievements() looked each achievement's criteria up in a CTE of every criterion's progress, twice per
-- achievement (its percent, its criteria): a CTE has no index, so that was achievements x criteria comparisons
-- (a catalog of 1,000 achievements: ~85 ms a call). Each achievement's percent and criteria are now aggregated
-- once, grouped by achievement, and joined. And it is PL/pgSQL: a SQL function that cannot be inlined (SECURITY
-- DEFINER, SET) is planned again on every call (~1.1 ms of its 1.5 with the demo catalog); PL/pgSQL keeps the plan
-- for the session.
--
-- my_dashboard read my_achievements() for its unlocked and locked lists, then my_almost_there() read it all
-- again. The almost-there selection now has one home, status_private.almost_there_of(progress, min_percent,
-- first), over a list of progress rows, which both call with the one they read.

create or replace function status_public.my_achievements() returns setof status_public.achievement_progress
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- Hidden achievements the user has not unlocked are left out: see hidden_locked_count in myDashboard.
  return query
  with me as (
    select jwt_public.current_user_id() as user_id,
           now() at time zone status_private.time_zone_of(jwt_public.current_user_id()) as local_now
  ), progress as (
    -- Per achievement: the mean of its criteria's percentages, and each criterion's progress.
    select criterion.achievement_id,
           floor(avg(least(100, 100.0 * criterion_progress.current / criterion_progress.target)))::integer as percent,
           array_agg(row(criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until,
                         criterion_progress.current, greatest(criterion_progress.target - criterion_progress.current, 0),
                         least(100, floor(100.0 * criterion_progress.current / criterion_progress.target))::integer,
                         criterion_progress.target)::status_public.criterion_progress
                     order by criterion.kind, criterion.action) as criteria
    from me
    cross join status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(criterion, me.user_id, null, me.local_now) as criterion_progress
    group by criterion.achievement_id
  )
  select achievement.id, achievement.name, achievement.description, achievement.icon, achievement.points, achievement.kind,
         achievement.hidden, achievement.available_from, achievement.available_until,
         unlock.id is not null, unlock.unlocked_at,
         case when unlock.id is not null then 100 else least(99, coalesce(progress.percent, 0)) end,
         coalesce(progress.criteria, '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  left join progress on progress.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
end;
$$;

-- my_achievements()'s rows in its order (the catalog's), for my_almost_there and the dashboard.
create or replace function status_private.almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer)
  returns status_public.almost_there[]
  language sql stable
as $$
  select array(
    select row(achievement.achievement_id, achievement.name, achievement.description, achievement.icon, achievement.points,
               achievement.kind, achievement.available_until, achievement.percent, totals.current, totals.target,
               totals.target - totals.current, achievement.criteria)::status_public.almost_there
    from unnest(progress) with ordinality as achievement
    cross join lateral (
      select coalesce(sum(least(criterion.current, criterion.target)), 0)::integer as current,
             coalesce(sum(criterion.target), 0)::integer as target
      from unnest(achievement.criteria) as criterion
    ) as totals
    where not achievement.unlocked and achievement.percent >= min_percent
      -- Only what can still be unlocked now: not before or after its time window.
      and (achievement.available_from is null or achievement.available_from <= now())
      and (achievement.available_until is null or achievement.available_until > now())
    -- Closest first; then the fewest steps left; then the catalog's order (the list's).
    order by achievement.percent desc, totals.target - totals.current, achievement.ordinality
    limit first);
$$;
comment on function status_private.almost_there_of(status_public.achievement_progress[], integer, integer) is
  E'The locked achievements of `progress` (my_achievements() rows, in its order) whose percent is at least `min_percent` and that can be unlocked now, closest first, at most `first`.';
revoke all on function status_private.almost_there_of(status_public.achievement_progress[], integer, integer) from public;

-- SECURITY DEFINER now (an API entry point, search_path pinned), to call status_private.almost_there_of; what
-- it reads is my_achievements(), which answers for the signed-in user alone.
create or replace function status_public.my_almost_there(min_percent integer default 80, first integer default 5)
  returns status_public.almost_there[]
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if jwt_public.current_user_id() is null then
    raise exception 'Sign in to see the achievements you are close to' using errcode = 'AC401';
  end if;
  if min_percent is null or min_percent not between 0 and 100 then
    raise exception 'minPercent must be from 0 to 100' using errcode = 'AC400';
  end if;
  if first is null or first not between 1 and 100 then
    raise exception 'first must be from 1 to 100' using errcode = 'AC400';
  end if;
  return status_private.almost_there_of(array(select progress from status_public.my_achievements() as progress), min_percent, first);
end;
$$;

create or replace function status_public.my_dashboard() returns status_public.dashboard
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in_user uuid := jwt_public.current_user_id();
  today date := (now() at time zone status_private.time_zone_of(jwt_public.current_user_id()))::date;
  dashboard status_public.dashboard;
  -- Every achievement the user can see, with progress, in the catalog's order: read once.
  progress status_public.achievement_progress[];
begin
  if signed_in_user is null then
    raise exception 'Sign in to see your dashboard' using errcode = 'AC401';
  end if;
  dashboard.user_id := signed_in_user;
  dashboard.tier := status_public.my_tier();
  progress := array(select achievement from status_public.my_achievements() as achievement);
  dashboard.unlocked := array(select achievement from unnest(progress) as achievement where achievement.unlocked);
  dashboard.locked := array(select achievement from unnest(progress) as achievement where not achievement.unlocked);
  -- As my_almost_there() with its defaults.
  dashboard.almost_there := status_private.almost_there_of(progress, 80, 5);
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

-- Unused since migration 000018 (the points trigger no longer collects the tiers that changed).
drop type if exists status_private.user_tier;

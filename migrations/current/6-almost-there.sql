-- "Almost there" (issue 11, engagement): the signed-in user's locked achievements closest to unlocking, each
-- with what remains. Progress comes from my_achievements(), itself from the criterion registry
-- (status_private.criterion_progress): one home for the progress maths. Each criterion now also carries the
-- registry's target, so that an achievement's current / target / remaining add its criteria's up.

do $$ begin
  alter type status_public.criterion_progress add attribute target integer;
exception when duplicate_column then null;
end $$;
comment on column status_public.criterion_progress.target is
  E'@notNull\nThe value `current` must reach: count and streak: the threshold; time_of_day: 1.';

-- my_achievements() as in migration 000008 (7-progress.sql), with each criterion's target.
create or replace function status_public.my_achievements() returns setof status_public.achievement_progress
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  -- Hidden achievements the user has not unlocked are left out: see hidden_locked_count in myDashboard.
  with me as (
    select jwt_public.current_user_id() as user_id,
           now() at time zone status_private.time_zone_of(jwt_public.current_user_id()) as local_now
  ), criteria as (
    select criterion.achievement_id, criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until,
           progress.current, progress.target
    from me
    cross join status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(criterion, me.user_id, null, me.local_now) as progress
  )
  select achievement.id, achievement.name, achievement.description, achievement.icon, achievement.points, achievement.kind,
         achievement.hidden, achievement.available_from, achievement.available_until,
         unlock.id is not null, unlock.unlocked_at,
         case when unlock.id is not null then 100
              else least(99, coalesce((select floor(avg(least(100, 100.0 * c.current / c.target)))::integer
                                       from criteria c where c.achievement_id = achievement.id), 0))
         end,
         coalesce((select array_agg(row(c.kind, c.action, c.threshold, c.hour_from, c.hour_until, c.current,
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer,
                                        c.target
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;

do $$ begin
  create type status_public.almost_there as (
    achievement_id text,
    name text,
    description text,
    icon text,
    points integer,
    kind status_public.achievement_kind,
    available_until timestamptz,
    percent integer,
    current integer,
    target integer,
    remaining integer,
    criteria status_public.criterion_progress[]
  );
exception when duplicate_object then null;
end $$;
comment on type status_public.almost_there is
  E'A locked achievement the signed-in user is close to unlocking, with what remains.';
comment on column status_public.almost_there.achievement_id is E'@notNull';
comment on column status_public.almost_there.name is E'@notNull';
comment on column status_public.almost_there.description is E'@notNull';
comment on column status_public.almost_there.points is E'@notNull';
comment on column status_public.almost_there.kind is E'@notNull';
comment on column status_public.almost_there.available_until is E'When it can no longer be unlocked (NULL: never).';
comment on column status_public.almost_there.percent is E'@notNull\nAs in myAchievements: the mean of the criteria''s percentages, at most 99 while locked.';
comment on column status_public.almost_there.current is E'@notNull\nThe criteria''s current values added up, each capped at its target.';
comment on column status_public.almost_there.target is E'@notNull\nThe criteria''s targets added up.';
comment on column status_public.almost_there.remaining is E'@notNull\nWhat is left: target - current (the criteria''s `remaining` added up).';
comment on column status_public.almost_there.criteria is E'@notNull\n@notNullItems';

-- SECURITY INVOKER: it reads only my_achievements(), which answers for the signed-in user alone.
create or replace function status_public.my_almost_there(min_percent integer default 80, first integer default 5)
  returns status_public.almost_there[]
  language plpgsql stable
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
  return array(
    select row(progress.achievement_id, progress.name, progress.description, progress.icon, progress.points, progress.kind,
               progress.available_until, progress.percent, totals.current, totals.target, totals.target - totals.current,
               progress.criteria)::status_public.almost_there
    from status_public.my_achievements() with ordinality as progress
    cross join lateral (
      select coalesce(sum(least(criterion.current, criterion.target)), 0)::integer as current,
             coalesce(sum(criterion.target), 0)::integer as target
      from unnest(progress.criteria) as criterion
    ) as totals
    where not progress.unlocked and progress.percent >= min_percent
      -- Only what can still be unlocked now: not before or after its time window.
      and (progress.available_from is null or progress.available_from <= now())
      and (progress.available_until is null or progress.available_until > now())
    -- Closest first; then the fewest steps left; then the catalog's order (my_achievements' own).
    order by progress.percent desc, totals.target - totals.current, progress.ordinality
    limit first);
end;
$$;
comment on function status_public.my_almost_there(integer, integer) is
  E'@notNullItems\nThe signed-in user''s locked achievements whose progress is at least `minPercent` (0 to 100, default 80), closest first (then the fewest steps left, then the catalog''s order), at most `first` (1 to 100, default 5) of them, each with what remains. Hidden achievements stay hidden; only achievements that can be unlocked now are listed. Null (with an UNAUTHENTICATED error) when not signed in.';
grant execute on function status_public.my_almost_there(integer, integer) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

-- The dashboard lists them too, with my_almost_there()'s defaults.
do $$ begin
  alter type status_public.dashboard add attribute almost_there status_public.almost_there[];
exception when duplicate_column then null;
end $$;
comment on column status_public.dashboard.almost_there is
  E'@notNull\n@notNullItems\nThe locked achievements closest to unlocking, as `myAlmostThere` with its defaults: at least 80 percent, at most 5.';

-- my_dashboard() as it stands (migrations/schema.sql), with almost_there.
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
  select coalesce(array_agg(row(tally.name, tally.count)::status_public.tally order by tally.name), '{}') into dashboard.tallies
    from status_public.user_achievements as tally where tally.user_id = signed_in_user;
  select coalesce(array_agg(row(streak.action, status_private.streak_as_of(streak.current_length, streak.last_day, today),
                                streak.longest_length, streak.last_day)::status_public.streak_summary
                            order by streak.action nulls first), '{}')
    into dashboard.streaks
    from status_public.user_streaks as streak where streak.user_id = signed_in_user;
  select coalesce(status_private.streak_as_of(streak.current_length, streak.last_day, today), 0), coalesce(streak.longest_length, 0)
    into dashboard.current_streak, dashboard.longest_streak
    from (select 1) as one
    left join status_public.user_streaks as streak on streak.user_id = signed_in_user and streak.action is null;
  return dashboard;
end;
$$;

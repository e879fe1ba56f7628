-- Progress towards each achievement, from the same registry of criterion kinds as the unlock stage
-- (3-criteria.sql): current and target per criterion, as of now in the user's time zone.
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
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;

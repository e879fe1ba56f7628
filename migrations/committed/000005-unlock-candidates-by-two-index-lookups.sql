--! Previous: sha1:a5539839a50f95061df0e45e7d7ef3354ca63e0d
--! Hash: sha1:4dbd66c455ce53d93ba7f41d0396a54faf750ab5
--! Message: unlock candidates by two index lookups

create or replace function status_private.tg_user_steps__unlock_achievements() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  local_time timestamp := NEW.occurred_at at time zone status_private.time_zone_of(NEW.user_id);
begin
  if NEW.count < 0 then
    return null;
  end if;
  -- Only achievements with a criterion naming this action (or an any-activity streak) are candidates,
  -- so the cost does not grow with the catalog. The unique key makes each unlock happen exactly once,
  -- even when concurrent transactions cross the threshold together.
  with candidates as (
    select achievement.id, achievement.points
    from status_public.achievements as achievement
    -- Two index lookups, not one OR: with an OR, a generic plan (which PostgreSQL may switch to for
    -- this trigger's cached statement) scans every criterion, and the cost would grow with the catalog.
    where achievement.id in (
        select criterion.achievement_id from status_public.achievement_criteria as criterion
        where criterion.action = NEW.name
        union all
        select criterion.achievement_id from status_public.achievement_criteria as criterion
        where criterion.action is null and criterion.kind = 'streak')
      and (achievement.available_from is null or achievement.available_from <= NEW.occurred_at)
      and (achievement.available_until is null or NEW.occurred_at < achievement.available_until)
      and not exists (
        select from status_public.achievement_unlocks as unlock
        where unlock.user_id = NEW.user_id and unlock.achievement_id = achievement.id)
      and not exists (
        select from status_public.achievement_criteria as criterion
        where criterion.achievement_id = achievement.id
          and not status_private.criterion_holds(criterion, NEW.user_id, NEW.name, local_time))
  ), unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
    select NEW.user_id, candidates.id, candidates.points, NEW.id from candidates
    on conflict (user_id, achievement_id) do nothing
    returning id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select NEW.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
  return null;
end;
$$;

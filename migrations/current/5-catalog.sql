-- Catalog as code (issue 11; src/catalog/): a retired state for achievements that a catalog file removes while
-- users hold them, and the two counts a plan reports that need every user's progress through the engine's own
-- functions (the criterion registry, tier_for), which no API role may call.

-- Retired: removed from the catalog file while users held it. The row stays so that the unlocks (and the points
-- they awarded) stay; its criteria are deleted, so that it never unlocks again (the unlock stage finds
-- achievements through their criteria), and it is hidden, so that only its holders see it.
alter table status_public.achievements add column if not exists retired_at timestamptz;
comment on column status_public.achievements.retired_at is
  E'When a catalog apply retired it (removed from the catalog while users held it): it no longer unlocks and only its holders see it. NULL: in the catalog.';
grant insert (retired_at), update (retired_at) on status_public.achievements to :ADMIN_ROLE;

-- A retired achievement is nothing left to discover: it is not counted among the hidden ones still locked.
create or replace function status_public.hidden_locked_count() returns integer
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select count(*)::integer from status_public.achievements as achievement
  where achievement.hidden
    and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = jwt_public.current_user_id() and unlock.achievement_id = achievement.id);
$$;
comment on function status_public.hidden_locked_count() is E'How many hidden achievements the signed-in user has not unlocked yet.';

-- The plan's impact on achievements, as the catalog stands in the caller's transaction (a plan runs it after
-- its changes, in a savepoint it rolls back). Definer: it reads every user's progress through
-- status_private.criterion_progress, the registry the unlock stage uses, at each user's local time as
-- myAchievements does; it returns counts only.
drop function if exists status_public.catalog_unlock_impact(text[]);
create function status_public.catalog_unlock_impact(achievement_ids text[])
  returns table (achievement_id text, holders integer, qualifying integer)
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select achievement.id,
         (select count(*)::integer from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id),
         case when achievement.retired_at is null
                   and (achievement.available_from is null or achievement.available_from <= now())
                   and (achievement.available_until is null or now() < achievement.available_until)
           then (select count(*)::integer
                 from status_public.user_scores as score
                 cross join lateral (select now() at time zone status_private.time_zone_of(score.user_id) as local_now) as moment
                 where not exists (select from status_public.achievement_unlocks as unlock
                                   where unlock.user_id = score.user_id and unlock.achievement_id = achievement.id)
                   -- Every criterion holds (none: never, as in the unlock stage).
                   and (select bool_and(exists (
                          select from status_private.criterion_progress(criterion, score.user_id, null, moment.local_now) as progress
                          where progress.current >= progress.target))
                        from status_public.achievement_criteria as criterion
                        where criterion.achievement_id = achievement.id))
           else 0
         end
  from status_public.achievements as achievement
  where achievement.id = any(achievement_ids)
  order by achievement.id;
$$;
comment on function status_public.catalog_unlock_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per achievement, how many users hold it and how many active users who do not would meet all its criteria now, while it is available.';
revoke all on function status_public.catalog_unlock_impact(text[]) from public;
grant execute on function status_public.catalog_unlock_impact(text[]) to :ADMIN_ROLE;

-- The plan's impact on tiers: the users whose stored tier differs from the tier their points give under the
-- tiers as they stand in the caller's transaction. Definer: status_private.tier_for is the scores stage's own.
drop function if exists status_public.catalog_tier_impact();
create function status_public.catalog_tier_impact()
  returns table (from_tier text, to_tier text, users integer)
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select moved.from_tier, moved.to_tier, count(*)::integer
  from (select score.tier as from_tier, status_private.tier_for(score.points) as to_tier from status_public.user_scores as score) as moved
  where moved.from_tier is distinct from moved.to_tier
  group by moved.from_tier, moved.to_tier
  order by count(*) desc, moved.from_tier, moved.to_tier;
$$;
comment on function status_public.catalog_tier_impact() is
  E'@behavior -*\nFor catalog plans (admins): how many users would move from one tier to another under the current tiers.';
revoke all on function status_public.catalog_tier_impact() from public;
grant execute on function status_public.catalog_tier_impact() to :ADMIN_ROLE;

--! Previous: sha1:ed06c5995f483e27419c36b189296a9c06a6b287
--! Hash: sha1:48a8a8429f11e1549e72df73412593612accedf0
--! Message: One home for a criterion's JSON form: rule versions and unlock provenance both build it with criterion_rule

--! split: 1-current.sql
-- One home for a criterion's JSON form ({kind, action, threshold, hourFrom, hourUntil}): a rule version's
-- `criteria` (current_rules) and an unlock's `criteria_values` (the provenance trigger) each built it apart.

create or replace function status_private.criterion_rule(criterion status_public.achievement_criteria) returns jsonb
  language sql immutable
as $$
  select jsonb_build_object('kind', criterion.kind, 'action', criterion.action, 'threshold', criterion.threshold,
                            'hourFrom', criterion.hour_from, 'hourUntil', criterion.hour_until);
$$;
comment on function status_private.criterion_rule(status_public.achievement_criteria) is
  E'A criterion as rule versions and provenance store it: {kind, action, threshold, hourFrom, hourUntil}.';
revoke all on function status_private.criterion_rule(status_public.achievement_criteria) from public;

create or replace function status_private.current_rules(achievement_ids text[])
  returns table (achievement_id text, points integer, available_from timestamptz, available_until timestamptz, criteria jsonb)
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select achievement.id, achievement.points, achievement.available_from, achievement.available_until,
         coalesce((select jsonb_agg(status_private.criterion_rule(criterion)
                                    order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until)
                   from status_public.achievement_criteria as criterion where criterion.achievement_id = achievement.id), '[]')
  from status_public.achievements as achievement
  where achievement.id = any (achievement_ids);
$$;

create or replace function status_private.tg_achievement_unlocks__provenance() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  step status_public.user_steps;
begin
  select * into step from status_public.user_steps where id = NEW.step_id;
  select version.version into NEW.rule_version
    from status_public.achievement_rule_versions as version
    where version.achievement_id = NEW.achievement_id
    order by version.version desc limit 1;
  select max(multiplier_window.multiplier) into NEW.points_multiplier
    from status_public.points_multipliers as multiplier_window
    where multiplier_window.ends_at > step.occurred_at and multiplier_window.starts_at <= step.occurred_at;
  if NEW.points_multiplier is not null then
    NEW.points := round(NEW.points * NEW.points_multiplier)::integer;
  end if;
  -- As the unlock stage evaluated them: the step's action, at the user's local time of the step.
  select coalesce(jsonb_agg(status_private.criterion_rule(criterion) || jsonb_build_object('current', progress.current, 'target', progress.target)
                            order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until), '[]')
    into NEW.criteria_values
    from status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(
      criterion, NEW.user_id, step.name, step.occurred_at at time zone status_private.time_zone_of(NEW.user_id)) as progress
    where criterion.achievement_id = NEW.achievement_id;
  return NEW;
end;
$$;

--! Previous: sha1:89787717926edd8c9cc30ef2c7c0bd6945b77890
--! Hash: sha1:c06cbb64df25f8e02a63bee96eee0fe37362a83a
--! Message: One home for an unlock's provenance: status_private.unlock_provenance_at (inlined SQL), used by the unlock stage's insert and by the _060_provenance row trigger, which each computed the rule version, the multiplier and the criteria values

--! split: 1-current.sql
-- One home for an unlock's provenance: status_private.unlock_provenance_at, used by the unlock stage's insert and by
-- the _060_provenance row trigger (other inserts: a backfill's, an import's), which computed the same three values
-- each in its own copy.

-- What an unlock of `achievement_id` by `user_id` at a step of `action` records of how it was earned: the rules'
-- current version, the points multiplier in force at `occurred_at` (the highest; none: null), and each criterion's
-- progress as the unlock stage evaluates it (the step's action, at the user's `local_time`). SQL, stable and not
-- strict, so it is inlined into the unlock stage's insert (one row; no function call per unlock).
create or replace function status_private.unlock_provenance_at(achievement_id text, user_id uuid, action text,
                                                               occurred_at timestamptz, local_time timestamp)
  returns table (rule_version integer, points_multiplier numeric, criteria_values jsonb)
  language sql stable
as $$
  select (select version.version from status_public.achievement_rule_versions as version
          where version.achievement_id = unlock_provenance_at.achievement_id order by version.version desc limit 1),
         (select max(multiplier_window.multiplier) from status_public.points_multipliers as multiplier_window
          where multiplier_window.ends_at > unlock_provenance_at.occurred_at and multiplier_window.starts_at <= unlock_provenance_at.occurred_at),
         (select coalesce(jsonb_agg(status_private.criterion_rule(criterion) || jsonb_build_object('current', progress.current, 'target', progress.target)
                                    order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until), '[]')
          from status_public.achievement_criteria as criterion
          cross join lateral status_private.criterion_progress(criterion, unlock_provenance_at.user_id, unlock_provenance_at.action,
                                                               unlock_provenance_at.local_time) as progress
          where criterion.achievement_id = unlock_provenance_at.achievement_id);
$$;
revoke all on function status_private.unlock_provenance_at(text, uuid, text, timestamptz, timestamp) from public;

-- Stage 4, unchanged but for its provenance, now unlock_provenance_at's.
create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql volatile
  set plan_cache_mode = force_generic_plan
as $$
declare
  found_unlocks status_private.unlock_candidate[];
begin
  select array_agg(row(candidates.user_id, candidates.achievement_id, candidates.points, candidates.step_id)::status_private.unlock_candidate
                   -- Catalog order, so that a user's cursors number simultaneous unlocks as the catalog lists them.
                   order by candidates.user_id, candidates.position, candidates.achievement_id)
    into found_unlocks
    from (
      select step.user_id, step.id as step_id, achievement.id as achievement_id, achievement.points, achievement.position
      from unnest(steps) as step
      cross join lateral status_private.achievements_to_check(step.user_id, step.name, step.occurred_at) as achievement
      where step.count > 0
        -- Every criterion holds: per candidate, its criteria by index (a scalar subquery, not a join the plan
        -- could turn into a scan of every criterion).
        and (select coalesce(bool_and(exists (
                select from status_private.criterion_progress(criterion, step.user_id, step.name, step.local_time) as progress
                where progress.current >= progress.target)), true)
             from status_public.achievement_criteria as criterion
             where criterion.achievement_id = achievement.id)
    ) as candidates;
  if found_unlocks is null then
    return;
  end if;
  -- The cursors: each user's next ones, one upsert per user in user order (the row stays locked until commit,
  -- so cursors follow the order in which the users' transactions commit). A candidate that a concurrent
  -- transaction unlocked first inserts nothing below and leaves its cursor unused, as the row trigger did.
  -- The provenance (unlock_provenance_at, as _060_provenance computes it for other inserts). The unique key makes each unlock happen exactly once, even when concurrent
  -- transactions cross the threshold together (the loser's insert does nothing).
  with found as (
    select found.user_id, found.achievement_id, found.points, found.step_id, found.position,
           step.name, step.occurred_at, step.local_time,
           row_number() over (partition by found.user_id order by found.position) as nth,
           count(*) over (partition by found.user_id) as of_user
    from unnest(found_unlocks) with ordinality as found (user_id, achievement_id, points, step_id, position)
    join unnest(steps) as step on step.id = found.step_id
  ), cursors as (
    insert into status_private.user_event_cursors as taken (user_id, last_cursor)
    select found.user_id, found.of_user from found where found.nth = 1
    order by found.user_id
    on conflict (user_id) do update set last_cursor = taken.last_cursor + excluded.last_cursor
    returning taken.user_id, taken.last_cursor
  ), unlocked as (
    insert into status_public.achievement_unlocks
      (user_id, achievement_id, points, step_id, cursor, rule_version, points_multiplier, criteria_values)
    select found.user_id, found.achievement_id,
           case when provenance.points_multiplier is null then found.points
                else round(found.points * provenance.points_multiplier)::integer end,
           found.step_id, (cursors.last_cursor - found.of_user + found.nth)::integer,
           provenance.rule_version, provenance.points_multiplier, provenance.criteria_values
    from found
    join cursors on cursors.user_id = found.user_id
    cross join lateral status_private.unlock_provenance_at(found.achievement_id, found.user_id, found.name, found.occurred_at, found.local_time) as provenance
    order by found.position
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
end;
$$;

-- The row trigger for the other inserts: the same provenance, at the step's time and the user's local time.
create or replace function status_private.tg_achievement_unlocks__provenance() returns trigger
  language plpgsql security definer
  set search_path to 'pg_catalog', 'public', 'pg_temp'
  set plan_cache_mode to 'force_generic_plan'
as $$
declare
  step status_public.user_steps;
begin
  select * into step from status_public.user_steps where id = NEW.step_id;
  select provenance.rule_version, provenance.points_multiplier, provenance.criteria_values
    into NEW.rule_version, NEW.points_multiplier, NEW.criteria_values
    from status_private.unlock_provenance_at(NEW.achievement_id, NEW.user_id, step.name, step.occurred_at,
                                             step.occurred_at at time zone status_private.time_zone_of(NEW.user_id)) as provenance;
  if NEW.points_multiplier is not null then
    NEW.points := round(NEW.points * NEW.points_multiplier)::integer;
  end if;
  return NEW;
end;
$$;

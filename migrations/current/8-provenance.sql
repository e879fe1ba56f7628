-- Rule versions and provenance (issue 11): every change to an achievement's rules (its criteria, points and
-- availability) makes a new version of them; every unlock records the version it was granted under and the
-- values of its criteria at that moment, beside the step that completed it (achievement_unlocks.step_id).
-- Presentation (name, description, icon, hidden, position) is not a rule: changing it makes no version.
-- Unlocks are never taken back by a later version.

create table if not exists status_public.achievement_rule_versions (
  achievement_id text not null references status_public.achievements on update cascade on delete cascade,
  version integer not null check (version >= 1),
  points integer not null,
  available_from timestamptz,
  available_until timestamptz,
  criteria jsonb not null,
  created_at timestamptz not null default now(),
  primary key (achievement_id, version)
);
alter table status_public.achievement_rule_versions enable row level security;
comment on table status_public.achievement_rule_versions is
  E'The rules of each achievement as they were, one version per change of its criteria, points or availability (version 1: as created). Kept by triggers on achievements and achievement_criteria; read-only for every API role.';
comment on column status_public.achievement_rule_versions.criteria is
  E'The criteria of this version: a list of {kind, action, threshold, hourFrom, hourUntil}.';
comment on column status_public.achievement_rule_versions.created_at is E'When these rules took effect.';
comment on constraint achievement_rule_versions_achievement_id_fkey on status_public.achievement_rule_versions is
  E'@notNull\n@fieldName achievement\n@foreignFieldName ruleVersions';

drop policy if exists select_visible on status_public.achievement_rule_versions;
-- As the achievement's criteria: whoever may see the achievement (achievements' own row-level security).
create policy select_visible on status_public.achievement_rule_versions for select using (
  exists (select from status_public.achievements where achievements.id = achievement_rule_versions.achievement_id));
grant select on status_public.achievement_rule_versions to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

-- The rules of achievements as they are now, in one canonical form (what a version stores).
create or replace function status_private.current_rules(achievement_ids text[])
  returns table (achievement_id text, points integer, available_from timestamptz, available_until timestamptz, criteria jsonb)
  language sql stable
  set search_path to pg_catalog, public, pg_temp
as $$
  select achievement.id, achievement.points, achievement.available_from, achievement.available_until,
         coalesce((select jsonb_agg(jsonb_build_object('kind', criterion.kind, 'action', criterion.action, 'threshold', criterion.threshold,
                                                       'hourFrom', criterion.hour_from, 'hourUntil', criterion.hour_until)
                                    order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until)
                   from status_public.achievement_criteria as criterion where criterion.achievement_id = achievement.id), '[]')
  from status_public.achievements as achievement
  where achievement.id = any (achievement_ids);
$$;
revoke all on function status_private.current_rules(text[]) from public;

-- A new version for each of these achievements whose rules differ from their latest version (none: version 1).
create or replace function status_private.record_rule_versions(achievement_ids text[]) returns void
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  -- Two transactions changing one achievement's rules number their versions one after the other.
  perform from status_public.achievements where id = any (achievement_ids) order by id for update;
  insert into status_public.achievement_rule_versions (achievement_id, version, points, available_from, available_until, criteria)
  select rules.achievement_id, coalesce(latest.version, 0) + 1, rules.points, rules.available_from, rules.available_until, rules.criteria
  from status_private.current_rules(achievement_ids) as rules
  left join lateral (
    select version.* from status_public.achievement_rule_versions as version
    where version.achievement_id = rules.achievement_id order by version.version desc limit 1
  ) as latest on true
  where latest.version is null
     or (latest.points, latest.available_from, latest.available_until, latest.criteria)
        is distinct from (rules.points, rules.available_from, rules.available_until, rules.criteria);
end;
$$;
revoke all on function status_private.record_rule_versions(text[]) from public;

create or replace function status_private.tg_achievements__rule_versions() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform status_private.record_rule_versions(array(select changed.id from changed));
  return null;
end;
$$;
revoke all on function status_private.tg_achievements__rule_versions() from public;

create or replace function status_private.tg_achievement_criteria__rule_versions() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  perform status_private.record_rule_versions(array(select changed.achievement_id from changed));
  return null;
end;
$$;
revoke all on function status_private.tg_achievement_criteria__rule_versions() from public;

-- One trigger per event: a trigger with transition tables may have one event only. An update of a criterion
-- that moves it to another achievement versions both (old and new rows).
drop trigger if exists _900_rule_versions_insert on status_public.achievements;
create trigger _900_rule_versions_insert after insert on status_public.achievements
  referencing new table as changed for each statement execute function status_private.tg_achievements__rule_versions();
drop trigger if exists _900_rule_versions_update on status_public.achievements;
create trigger _900_rule_versions_update after update on status_public.achievements
  referencing new table as changed for each statement execute function status_private.tg_achievements__rule_versions();
drop trigger if exists _900_rule_versions_insert on status_public.achievement_criteria;
create trigger _900_rule_versions_insert after insert on status_public.achievement_criteria
  referencing new table as changed for each statement execute function status_private.tg_achievement_criteria__rule_versions();
drop trigger if exists _900_rule_versions_update_new on status_public.achievement_criteria;
create trigger _900_rule_versions_update_new after update on status_public.achievement_criteria
  referencing new table as changed for each statement execute function status_private.tg_achievement_criteria__rule_versions();
drop trigger if exists _900_rule_versions_update_old on status_public.achievement_criteria;
create trigger _900_rule_versions_update_old after update on status_public.achievement_criteria
  referencing old table as changed for each statement execute function status_private.tg_achievement_criteria__rule_versions();
drop trigger if exists _900_rule_versions_delete on status_public.achievement_criteria;
create trigger _900_rule_versions_delete after delete on status_public.achievement_criteria
  referencing old table as changed for each statement execute function status_private.tg_achievement_criteria__rule_versions();

-- Version 1 of the achievements that exist now.
select status_private.record_rule_versions(array(select id from status_public.achievements));

-- Provenance on each unlock. Unlocks made before rule versions were recorded have none (NULL).
alter table status_public.achievement_unlocks add column if not exists rule_version integer;
alter table status_public.achievement_unlocks add column if not exists criteria_values jsonb;
-- No foreign key to the version (a renamed achievement would cascade to unlocks along two paths): `rules` below.
comment on column status_public.achievement_unlocks.rule_version is
  E'The version of the achievement''s rules the unlock was granted under (`rules`; NULL: unlocked before versions were recorded).';
comment on column status_public.achievement_unlocks.criteria_values is
  E'Each criterion of those rules when the step (`userStepByStepId`) completed them: a list of {kind, action, threshold, hourFrom, hourUntil, current, target}.';

-- Points multipliers ("double points weekend"): an unlock whose step happened in a window gets its points
-- multiplied (the highest multiplier when windows overlap: they do not stack), recorded on the unlock; the
-- ledger, scores and leaderboards take the unlock's points.
create table if not exists status_public.points_multipliers (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  multiplier numeric(6, 2) not null check (multiplier > 0 and multiplier <= 100),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  check (ends_at > starts_at)
);
create index if not exists points_multipliers_ends_at_idx on status_public.points_multipliers (ends_at);
alter table status_public.points_multipliers enable row level security;
comment on table status_public.points_multipliers is
  E'Windows in which unlocks award multiplied points ("double points weekend"): an unlock whose step happened in [startsAt, endsAt) gets its achievement''s points times the multiplier (the highest one when windows overlap). Everyone reads them (to show a banner); admins manage them.';
drop policy if exists select_all on status_public.points_multipliers;
create policy select_all on status_public.points_multipliers for select using (true);
drop policy if exists manage_as_admin on status_public.points_multipliers;
create policy manage_as_admin on status_public.points_multipliers to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.points_multipliers to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (name, multiplier, starts_at, ends_at), update (name, multiplier, starts_at, ends_at), delete
  on status_public.points_multipliers to :ADMIN_ROLE;

-- The banner's question: which multiplier is in force now (the highest), if any.
create or replace function status_public.active_points_multiplier() returns status_public.points_multipliers
  language sql stable
as $$
  select multiplier_window.* from status_public.points_multipliers as multiplier_window
  where multiplier_window.ends_at > now() and multiplier_window.starts_at <= now()
  order by multiplier_window.multiplier desc, multiplier_window.ends_at, multiplier_window.id
  limit 1;
$$;
comment on function status_public.active_points_multiplier() is
  E'The points multiplier in force now (the highest, when windows overlap), or null.';
revoke all on function status_public.active_points_multiplier() from public;
grant execute on function status_public.active_points_multiplier() to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

alter table status_public.achievement_unlocks add column if not exists points_multiplier numeric(6, 2);
comment on column status_public.achievement_unlocks.points_multiplier is
  E'The points multiplier in force at the step (`pointsMultipliers`), if any: `points` is the rules'' points times it, rounded.';

-- Before each unlock is written: its points under the multiplier in force at its step, and its provenance.
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
  select coalesce(jsonb_agg(jsonb_build_object('kind', criterion.kind, 'action', criterion.action, 'threshold', criterion.threshold,
                                               'hourFrom', criterion.hour_from, 'hourUntil', criterion.hour_until,
                                               'current', progress.current, 'target', progress.target)
                            order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until), '[]')
    into NEW.criteria_values
    from status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(
      criterion, NEW.user_id, step.name, step.occurred_at at time zone status_private.time_zone_of(NEW.user_id)) as progress
    where criterion.achievement_id = NEW.achievement_id;
  return NEW;
end;
$$;
revoke all on function status_private.tg_achievement_unlocks__provenance() from public;

-- AchievementUnlock.rules in GraphQL.
create or replace function status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks)
  returns status_public.achievement_rule_versions
  language sql stable
as $$
  select version.* from status_public.achievement_rule_versions as version
  where version.achievement_id = unlock.achievement_id and version.version = unlock.rule_version;
$$;
comment on function status_public.achievement_unlocks_rules(status_public.achievement_unlocks) is
  E'The rules the unlock was granted under (NULL: unlocked before versions were recorded).';
revoke all on function status_public.achievement_unlocks_rules(status_public.achievement_unlocks) from public;
grant execute on function status_public.achievement_unlocks_rules(status_public.achievement_unlocks) to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
drop trigger if exists _060_provenance on status_public.achievement_unlocks;
create trigger _060_provenance before insert on status_public.achievement_unlocks
  for each row execute function status_private.tg_achievement_unlocks__provenance();

-- "Why do I have this, since when, under which rules": the unlock, with its rules (`rules`), the step that
-- completed it (`userStepByStepId`) and its criteria's values then (`criteriaValues`).
create or replace function status_public.unlock_provenance(achievement_id text, user_id uuid default null)
  returns status_public.achievement_unlocks
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  me uuid := jwt_public.current_user_id();
  found status_public.achievement_unlocks;
begin
  if unlock_provenance.user_id is null then
    if me is null then
      raise exception 'Sign in, or name the user whose unlock to explain' using errcode = 'AC401';
    end if;
    unlock_provenance.user_id := me;
  elsif unlock_provenance.user_id is distinct from me and not status_private.caller_acts_for_anyone() then
    if me is null then
      raise exception 'Sign in to ask about your unlocks' using errcode = 'AC401';
    end if;
    raise exception 'You may only ask about your own unlocks' using errcode = 'AC403', hint = 'Leave userId out.';
  end if;
  select unlock.* into found from status_public.achievement_unlocks as unlock
    where unlock.user_id = unlock_provenance.user_id and unlock.achievement_id = unlock_provenance.achievement_id;
  if found.id is null then
    raise exception 'No unlock of "%" for that user', unlock_provenance.achievement_id using errcode = 'AC404',
      hint = 'Query `myAchievements` for what you have unlocked.';
  end if;
  return found;
end;
$$;
comment on function status_public.unlock_provenance(text, uuid) is
  E'Why a user holds an achievement: the unlock (since when, the points), the rules it was granted under (`rules`: their version, criteria, points), the step that completed it and the values of its criteria then. The signed-in user for their own unlocks (leave `userId` out); the service and admins for anyone.';
revoke all on function status_public.unlock_provenance(text, uuid) from public;
grant execute on function status_public.unlock_provenance(text, uuid) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

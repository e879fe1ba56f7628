-- The event path: one statement-level trigger on user_steps runs the stages below in order, once per
-- statement (a batch of steps is one pass per stage, not one trigger chain per row). It replaces the five
-- row triggers (score row, tally, streaks, unlocks, levels) that ran ~ten PL/pgSQL hops per step.
--
-- Order within a statement: each user's steps apply one at a time, in the order they happened (occurred_at,
-- then id), exactly as if they had been recorded one by one; different users' steps go together. So the
-- driver runs "rounds": round k holds every user's k-th step of the statement, and every stage sees at most
-- one step per user (a single event is one round of one step).
--
-- Stages (each a function taking the round's steps):
--   1. count_steps          the user's score row, then tallies (user_achievements)
--   2. extend_streaks       streaks per action and for any activity (user_streaks)
--   3. unlock_achievements  achievements whose criteria all hold (achievement_unlocks, points_ledger; the
--                           ledger's statement trigger then does scores, tiers and leaderboards)
--   4. achieve_levels       levels with every requirement met (user_levels)
-- Notifications: row triggers on achievement_unlocks / user_levels / the score stage, sent on commit.

do $$ begin
  create type status_private.pipeline_step as (
    id uuid, user_id uuid, name text, count integer, occurred_at timestamptz,
    -- occurred_at in the user's time zone: streak days and time-of-day criteria use it
    local_time timestamp
  );
exception when duplicate_object then null;
end $$;

-- Stage 1: the score row (so that every user with a step counts in rarity percentages), then the tally. A
-- tally never goes below zero, and one back at zero loses its row (as upstream's does).
create or replace function status_private.count_steps(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
declare
  starting_tier text := status_private.tier_for(0);
  taken_back status_private.pipeline_step;
  tally_id uuid;
  remaining integer;
begin
  insert into status_public.user_scores (user_id, points, tier)
    select step.user_id, 0, starting_tier from unnest(steps) as step
    order by step.user_id
    on conflict (user_id) do nothing;
  -- One upsert: concurrent steps of the same user and name serialise on the tally row, so the count is exact.
  insert into status_public.user_achievements as tally (user_id, name, count)
    select step.user_id, step.name, step.count from unnest(steps) as step where step.count > 0
    order by step.user_id, step.name
    on conflict (user_id, name) do update set count = tally.count + excluded.count;
  -- Taking back (rare: one statement each). An upsert, not an update, so that it waits for a concurrent first
  -- step's uncommitted row and takes back from it; back at zero, the row (locked by us since) goes.
  for taken_back in select * from unnest(steps) as step where step.count < 0 loop
    insert into status_public.user_achievements as tally (user_id, name, count)
      values (taken_back.user_id, taken_back.name, 0)
      on conflict (user_id, name) do update set count = greatest(tally.count + taken_back.count, 0)
      returning id, count into tally_id, remaining;
    if remaining = 0 then
      delete from status_public.user_achievements where id = tally_id;
    end if;
  end loop;
end;
$$;

-- Stage 2: one streak for the action and one for any activity, by calendar day in the user's time zone. A
-- step dated before the last day counted (a backdated one) changes nothing; taking a step back neither.
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  insert into status_public.user_streaks as streak (user_id, action, current_length, longest_length, last_day)
    select step.user_id, actions.action, 1, 1, step.local_time::date
    from unnest(steps) as step
    cross join lateral (values (step.name), (null)) as actions (action)
    where step.count > 0
    order by step.user_id, actions.action
    on conflict (user_id, action) do update
      set current_length = case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            when excluded.last_day > streak.last_day + 1 then 1
            else streak.current_length
          end,
          longest_length = greatest(streak.longest_length, case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end),
          last_day = greatest(streak.last_day, excluded.last_day),
          updated_at = now();
end;
$$;

-- Stage 3: the achievements a step may unlock are those with a criterion naming its action (or an
-- any-activity streak), available when it happened, not unlocked yet, whose every criterion holds (the
-- registry in criterion_progress). So the cost does not grow with the catalog. The unique key makes each
-- unlock happen exactly once, even when concurrent transactions cross the threshold together.
create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  with candidates as (
    select step.user_id, step.id as step_id, achievement.id as achievement_id, achievement.points, achievement.position
    from unnest(steps) as step
    cross join lateral (
      -- Two index lookups, not one OR (an OR would scan every criterion in a generic plan).
      select criterion.achievement_id from status_public.achievement_criteria as criterion where criterion.action = step.name
      union
      select criterion.achievement_id from status_public.achievement_criteria as criterion
        where criterion.action is null and criterion.kind = 'streak'
    ) as named
    join status_public.achievements as achievement on achievement.id = named.achievement_id
    where step.count > 0
      and (achievement.available_from is null or achievement.available_from <= step.occurred_at)
      and (achievement.available_until is null or step.occurred_at < achievement.available_until)
      and not exists (
        select from status_public.achievement_unlocks as unlock
        where unlock.user_id = step.user_id and unlock.achievement_id = achievement.id)
      and not exists (
        select from status_public.achievement_criteria as criterion
        where criterion.achievement_id = achievement.id
          and not exists (
            select from status_private.criterion_progress(criterion, step.user_id, step.name, step.local_time) as progress
            where progress.current >= progress.target))
  ), unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
    select candidates.user_id, candidates.achievement_id, candidates.points, candidates.step_id from candidates
    -- Catalog order, so that a user's cursors number simultaneous unlocks as the catalog lists them.
    order by candidates.user_id, candidates.position, candidates.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
end;
$$;

-- Stage 4: levels that need the step's action, not achieved yet, with no requirement left unmet.
create or replace function status_private.achieve_levels(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  insert into status_public.user_levels (user_id, level, step_id)
  select distinct step.user_id, requirement.level, step.id
  from unnest(steps) as step
  join status_public.level_requirements as requirement on requirement.name = step.name
  where step.count > 0
    and not exists (
      select from status_public.user_levels as achieved
      where achieved.user_id = step.user_id and achieved.level = requirement.level)
    and not exists (
      select from status_public.level_requirements as other
      left join status_public.user_achievements as tally on tally.user_id = step.user_id and tally.name = other.name
      where other.level = requirement.level and coalesce(tally.count, 0) < other.required_count)
  on conflict (user_id, level) do nothing;
end;
$$;

-- One round's steps (at most one per user) through the four stages, in order.
create or replace function status_private.run_stages(steps status_private.pipeline_step[]) returns void
  language plpgsql
as $$
begin
  perform status_private.count_steps(steps);
  perform status_private.extend_streaks(steps);
  perform status_private.unlock_achievements(steps);
  perform status_private.achieve_levels(steps);
end;
$$;

-- The driver: the statement's steps, in rounds (see the top of this file), through the four stages.
create or replace function status_private.tg_user_steps__event_path() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  -- Every step of the statement, by round (each user's k-th step in round k), then user.
  ordered status_private.pipeline_step[];
  round_sizes integer[];
  first integer := 1;
begin
  select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.occurred_at,
                       numbered.occurred_at at time zone coalesce(profile.time_zone, 'UTC'))::status_private.pipeline_step
                   order by numbered.round, numbered.user_id)
    into ordered
    from (select new_steps.*, row_number() over (partition by new_steps.user_id order by new_steps.occurred_at, new_steps.id) as round
          from new_steps) as numbered
    left join status_public.user_profiles as profile on profile.user_id = numbered.user_id;
  select array_agg(per_round.size order by per_round.round) into round_sizes
    from (select numbered.round, count(*)::integer as size
          from (select row_number() over (partition by new_steps.user_id order by new_steps.occurred_at, new_steps.id) as round
                from new_steps) as numbered
          group by numbered.round) as per_round;
  for round in 1 .. coalesce(cardinality(round_sizes), 0) loop
    perform status_private.run_stages(ordered[first : first + round_sizes[round] - 1]);
    first := first + round_sizes[round];
  end loop;
  return null;
end;
$$;

drop trigger if exists _050_score_row on status_public.user_steps;
drop trigger if exists _100_tally on status_public.user_steps;
drop trigger if exists _200_streaks on status_public.user_steps;
drop trigger if exists _300_unlock_achievements on status_public.user_steps;
drop trigger if exists _400_levels on status_public.user_steps;
drop trigger if exists _100_event_path on status_public.user_steps;
create trigger _100_event_path after insert on status_public.user_steps
  referencing new table as new_steps
  for each statement execute function status_private.tg_user_steps__event_path();

drop function if exists status_private.tg_user_steps__score_row();
drop function if exists status_private.tg_user_steps__tally();
drop function if exists status_private.tg_user_steps__streaks();
drop function if exists status_private.tg_user_steps__unlock_achievements();
drop function if exists status_private.tg_user_steps__levels();

-- The glossary's words (README "Glossary") in the descriptions GraphQL shows: a step is one recorded event of an
-- action; its amount is the reference's `count`; a tally is a user's total amount of one action.
comment on column status_public.user_steps.user_id is E'The user credited with the step.';
comment on column status_public.user_steps.name is E'The action performed (the reference API''s column name).';
comment on column status_public.user_steps.count is E'The amount: how many times the action was performed (negative takes back).';
comment on column status_public.user_steps.idempotency_key is E'Optional key, unique per user: recording again with the same key returns the first result and counts nothing.';
comment on table status_public.user_achievements is
  E'The tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';
comment on column status_public.user_achievements.count is E'The tally: the user''s total amount of the action (at least 1: a tally back at zero is removed).';

-- Backfill (issue 11): after a catalog change, users whose past steps meet a new or changed rule get the
-- achievement as if they had earned it at the step that made it true: that step is the unlock's step and time,
-- the points are dated then (so they land on the boards of that period), tiers follow from the points, the
-- provenance records the rules in force now. In batches of users, one transaction each (live traffic waits for
-- no more than one batch's rows), resumable from the last batch done, exactly once however often it runs and
-- whatever live events do meanwhile (the unlock's unique key decides; points follow only inserted unlocks).

-- When a criterion first held for a user, replaying their steps in the order they happened: the criterion
-- registry's second question (criterion_progress says how far a user is now). A kind has a branch here too.
-- Every function is plain SQL and returns no row when the criterion never held.

-- count: the step at which the running tally of `action` first reached `threshold`.
create or replace function status_private.count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select running.id, running.occurred_at
  from (select step.id, step.occurred_at, sum(step.count) over (order by step.occurred_at, step.id) as tally
        from status_public.user_steps as step
        where step.user_id = count_criterion_met_at.user_id and step.name = criterion.action) as running
  where running.tally >= criterion.threshold
  order by running.occurred_at, running.id
  limit 1;
$$;

-- streak: the first step on the day the user's run of consecutive local days with `action` (NULL: any action)
-- first reached `threshold` days.
create or replace function status_private.streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with step_days as (
    select step.id, step.occurred_at, (step.occurred_at at time zone status_private.time_zone_of(streak_criterion_met_at.user_id))::date as day
    from status_public.user_steps as step
    where step.user_id = streak_criterion_met_at.user_id and step.count > 0
      and (criterion.action is null or step.name = criterion.action)
  ), runs as (
    -- Consecutive days share day - (its rank): one value per run.
    select days.day, days.day - (row_number() over (order by days.day))::integer as run
    from (select distinct step_days.day from step_days) as days
  ), reached as (
    select min(runs.day) + (criterion.threshold - 1) as day
    from runs group by runs.run having count(*) >= criterion.threshold
    order by 1 limit 1
  )
  select step_days.id, step_days.occurred_at from step_days join reached using (day)
  order by step_days.occurred_at, step_days.id
  limit 1;
$$;

-- time_of_day: the first step of `action` at a local hour in [hour_from, hour_until).
create or replace function status_private.time_of_day_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select step.id, step.occurred_at
  from status_public.user_steps as step
  cross join lateral (
    select extract(hour from step.occurred_at at time zone status_private.time_zone_of(time_of_day_criterion_met_at.user_id)) as hour
  ) as local
  where step.user_id = time_of_day_criterion_met_at.user_id and step.name = criterion.action
    and case when criterion.hour_from < criterion.hour_until then local.hour >= criterion.hour_from and local.hour < criterion.hour_until
             else local.hour >= criterion.hour_from or local.hour < criterion.hour_until end
  order by step.occurred_at, step.id
  limit 1;
$$;

create or replace function status_private.criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select * from status_private.count_criterion_met_at(criterion, user_id) where criterion.kind = 'count'
  union all
  select * from status_private.streak_criterion_met_at(criterion, user_id) where criterion.kind = 'streak'
  union all
  select * from status_private.time_of_day_criterion_met_at(criterion, user_id) where criterion.kind = 'time_of_day';
$$;
comment on function status_private.criterion_met_at(status_public.achievement_criteria, uuid) is
  E'The step at which the criterion first held for the user, replaying their steps (none: never): the criterion registry''s second question, for backfills.';

-- The step at which all the achievement's criteria held (the last of them to hold), inside its availability
-- window: when they held before the window opened, the user's first step inside it (what held is assumed to
-- hold still: exact for counts that were not taken back). None: not earned.
create or replace function status_private.achievement_met_at(achievement status_public.achievements, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with met as (
    select criterion_met.step_id, criterion_met.occurred_at, count(*) over () as criteria, count(criterion_met.step_id) over () as held
    from status_public.achievement_criteria as criterion
    left join lateral status_private.criterion_met_at(criterion, achievement_met_at.user_id) as criterion_met on true
    where criterion.achievement_id = achievement.id
  ), completed as (
    select met.step_id, met.occurred_at from met where met.criteria = met.held
    order by met.occurred_at desc, met.step_id desc limit 1
  )
  select completed.step_id, completed.occurred_at from completed
  where (achievement.available_from is null or achievement.available_from <= completed.occurred_at)
    and (achievement.available_until is null or completed.occurred_at < achievement.available_until)
  union all
  (select step.id, step.occurred_at from completed
   join status_public.user_steps as step
     on step.user_id = achievement_met_at.user_id and step.occurred_at >= achievement.available_from
    and (achievement.available_until is null or step.occurred_at < achievement.available_until)
   where completed.occurred_at < achievement.available_from
   order by step.occurred_at, step.id limit 1);
$$;

-- Each backfill: what it covers, how far it got (users are taken in uuid order), and its tally.
create table if not exists status_private.backfill_runs (
  id bigint generated by default as identity primary key,
  achievement_ids text[] not null,
  notify boolean not null,
  after_user_id uuid,
  users_checked bigint not null default 0,
  unlocks bigint not null default 0,
  points bigint not null default 0,
  started_at timestamptz not null default now(),
  finished_at timestamptz
);
alter table status_private.backfill_runs enable row level security;
comment on table status_private.backfill_runs is
  E'Backfills (status_private.start_backfill): the achievements covered, whether users are notified, the last user done (resume point) and the counts so far.';

-- Notifications are sent unless the transaction says `achievements.quiet_notifications = on` (a quiet backfill).
create or replace function status_private.notify_user(user_id uuid, event text, id text) returns void
  language sql
as $$
  -- Ids only (payloads are limited to 8000 bytes); subscribers re-read the rows under their own RLS.
  -- Sent only if the transaction commits.
  select pg_notify('achievements:' || user_id::text, json_build_object('event', event, 'id', id)::text)
  where coalesce(current_setting('achievements.quiet_notifications', true), '') <> 'on';
$$;

-- A backfill of these achievements (NULL: all of them); returns its id for backfill_batch / run_backfill.
create or replace function status_private.start_backfill(achievement_ids text[] default null, notify boolean default false)
  returns bigint
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  unknown text;
  run_id bigint;
begin
  select wanted into unknown from unnest(achievement_ids) as wanted
    where not exists (select from status_public.achievements where achievements.id = wanted) limit 1;
  if unknown is not null then
    raise exception 'No achievement "%"', unknown using errcode = 'AC404';
  end if;
  insert into status_private.backfill_runs (achievement_ids, notify)
    values (coalesce(achievement_ids, array(select id from status_public.achievements order by id)), coalesce(notify, false))
    returning id into run_id;
  return run_id;
end;
$$;

-- One batch of a backfill: the next `batch_size` users (who have a tally of an action the achievements name,
-- or any tally for a streak of any activity) after the run's resume point. Returns whether users remain.
-- Two callers of one run take turns (the run's row is locked); two runs, or live events, may overlap freely.
create or replace function status_private.backfill_batch(run_id bigint, batch_size integer default 500)
  returns boolean
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  run status_private.backfill_runs;
  actions text[];
  any_action boolean;
  batch uuid[];
  awarded_unlocks bigint;
  awarded_points bigint;
  quiet text := current_setting('achievements.quiet_notifications', true);
begin
  select * into run from status_private.backfill_runs where id = run_id for update;
  if run.id is null then
    raise exception 'No backfill %', run_id using errcode = 'AC404';
  end if;
  if run.finished_at is not null then
    return false;
  end if;
  select array_agg(distinct criterion.action) filter (where criterion.action is not null),
         coalesce(bool_or(criterion.action is null), false)
    into actions, any_action
    from status_public.achievement_criteria as criterion where criterion.achievement_id = any (run.achievement_ids);
  select array_agg(candidate.user_id order by candidate.user_id) into batch
    from (select distinct tally.user_id from status_public.user_achievements as tally
          where (run.after_user_id is null or tally.user_id > run.after_user_id)
            and (any_action or tally.name = any (actions))
          order by tally.user_id limit batch_size) as candidate;

  if not run.notify then
    perform set_config('achievements.quiet_notifications', 'on', true);
  end if;
  with earned as (
    select candidate.user_id, achievement.id as achievement_id, achievement.points, achievement.position, met.step_id, met.occurred_at
    from unnest(batch) as candidate (user_id)
    cross join status_public.achievements as achievement
    cross join lateral status_private.achievement_met_at(achievement, candidate.user_id) as met
    where achievement.id = any (run.achievement_ids)
      and not exists (select from status_public.achievement_unlocks as unlock
                      where unlock.user_id = candidate.user_id and unlock.achievement_id = achievement.id)
  ), unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id, unlocked_at)
    select earned.user_id, earned.achievement_id, earned.points, earned.step_id, earned.occurred_at from earned
    order by earned.user_id, earned.occurred_at, earned.position, earned.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points, unlocked_at
  ), ledger as (
    insert into status_public.points_ledger (user_id, points, unlock_id, created_at)
    select unlocked.user_id, unlocked.points, unlocked.id, unlocked.unlocked_at from unlocked where unlocked.points > 0
  )
  select count(*), coalesce(sum(unlocked.points), 0) into awarded_unlocks, awarded_points from unlocked;
  perform set_config('achievements.quiet_notifications', coalesce(quiet, ''), true);

  update status_private.backfill_runs
    set after_user_id = coalesce(batch[cardinality(batch)], after_user_id),
        users_checked = users_checked + coalesce(cardinality(batch), 0),
        unlocks = unlocks + awarded_unlocks,
        points = points + awarded_points,
        finished_at = case when coalesce(cardinality(batch), 0) < batch_size then now() end
    where id = run_id;
  return coalesce(cardinality(batch), 0) = batch_size;
end;
$$;

-- Tiers after their boundaries moved (tiers are stored with the score, as of its last change): the next
-- `batch_size` users with a score after `after_user_id` get the tier of their points. Returns how many changed
-- and the batch's last user (NULL when none were left), to pass to the next call. Quiet: no tier-up toast.
create or replace function status_private.retier_batch(after_user_id uuid, batch_size integer default 1000,
                                                       out changed integer, out last_user_id uuid)
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  select (array_agg(batch.user_id order by batch.user_id desc))[1] into last_user_id
    from (select score.user_id from status_public.user_scores as score
          where retier_batch.after_user_id is null or score.user_id > retier_batch.after_user_id
          order by score.user_id limit batch_size) as batch;
  update status_public.user_scores as score set tier = status_private.tier_for(score.points)
    where (retier_batch.after_user_id is null or score.user_id > retier_batch.after_user_id) and score.user_id <= last_user_id
      and score.tier is distinct from status_private.tier_for(score.points);
  get diagnostics changed = row_count;
end;
$$;

-- The whole backfill from psql or pg_cron, committing after each batch: `call status_private.run_backfill(id)`
-- outside a transaction block. (A procedure that commits may not be SECURITY DEFINER nor set search_path: it
-- names everything in full.)
create or replace procedure status_private.run_backfill(run_id bigint, batch_size integer default 500)
  language plpgsql
as $$
begin
  while status_private.backfill_batch(run_id, batch_size) loop
    commit;
  end loop;
  commit;
  call status_private.retier_users(batch_size);
end;
$$;

-- Every user's tier, batch by batch, committing each (after tiers changed).
create or replace procedure status_private.retier_users(batch_size integer default 1000)
  language plpgsql
as $$
declare
  batch record;
  after uuid;
begin
  loop
    select * into batch from status_private.retier_batch(after, batch_size);
    exit when batch.last_user_id is null;
    after := batch.last_user_id;
    commit;
  end loop;
end;
$$;

revoke all on function status_private.retier_batch(uuid, integer) from public;
revoke all on procedure status_private.retier_users(integer) from public;
revoke all on function status_private.count_criterion_met_at(status_public.achievement_criteria, uuid) from public;
revoke all on function status_private.streak_criterion_met_at(status_public.achievement_criteria, uuid) from public;
revoke all on function status_private.time_of_day_criterion_met_at(status_public.achievement_criteria, uuid) from public;
revoke all on function status_private.criterion_met_at(status_public.achievement_criteria, uuid) from public;
revoke all on function status_private.achievement_met_at(status_public.achievements, uuid) from public;
revoke all on function status_private.start_backfill(text[], boolean) from public;
revoke all on function status_private.backfill_batch(bigint, integer) from public;
revoke all on procedure status_private.run_backfill(bigint, integer) from public;

-- Backfill for admins and applies (issue 11, on migration 000009's 9-backfill.sql): admins start a backfill over
-- GraphQL (`startBackfill`) or with an apply (`applyCatalog(backfill: true)`, `npm run catalog -- apply --backfill`)
-- and read its progress (`backfillRuns`); a worker in the server (src/backfill-worker.ts) runs the batches, claiming
-- a run with `for update skip locked`, so that two workers never run one batch twice. A run now also achieves the
-- levels that users' steps meet, replays streaks with the days the user froze, re-tiers as a last phase of its own
-- (so that a resumed run re-tiers too), and the catalog plan counts what a backfill would award with the
-- backfill's own functions (backfill_awards, backfill_level_awards).

-- The step at which the running tally of `action` first reached `threshold` (counts, and levels' requirements).
create or replace function status_private.step_count_reached_at(user_id uuid, action text, threshold integer)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select running.id, running.occurred_at
  from (select step.id, step.occurred_at, sum(step.count) over (order by step.occurred_at, step.id) as tally
        from status_public.user_steps as step
        where step.user_id = step_count_reached_at.user_id and step.name = step_count_reached_at.action) as running
  where running.tally >= step_count_reached_at.threshold
  order by running.occurred_at, running.id
  limit 1;
$$;
revoke all on function status_private.step_count_reached_at(uuid, text, integer) from public;

create or replace function status_private.count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select * from status_private.step_count_reached_at(count_criterion_met_at.user_id, criterion.action, criterion.threshold);
$$;

-- streak: the first step on the day the user's run of local days with `action` (NULL: any action) first reached
-- `threshold` days. A day the user froze (user_frozen_days, migration 000010) keeps the run going without
-- counting in it, as the streaks stage does live.
create or replace function status_private.streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with step_days as (
    select step.id, step.occurred_at, (step.occurred_at at time zone status_private.time_zone_of(streak_criterion_met_at.user_id))::date as day
    from status_public.user_steps as step
    where step.user_id = streak_criterion_met_at.user_id and step.count > 0
      and (criterion.action is null or step.name = criterion.action)
  ), days as (
    select distinct step_days.day, true as active from step_days
    union all
    select frozen.day, false from status_public.user_frozen_days as frozen
    where frozen.user_id = streak_criterion_met_at.user_id
      and not exists (select from step_days where step_days.day = frozen.day)
  ), runs as (
    -- Consecutive days (active or frozen) share day - (its rank): one value per run.
    select days.day, days.active, days.day - (row_number() over (order by days.day))::integer as run from days
  ), lengths as (
    select runs.day, runs.active, count(*) filter (where runs.active) over (partition by runs.run order by runs.day) as length from runs
  ), reached as (
    select min(lengths.day) as day from lengths where lengths.active and lengths.length >= criterion.threshold
  )
  select step_days.id, step_days.occurred_at from step_days join reached using (day)
  order by step_days.occurred_at, step_days.id
  limit 1;
$$;

-- The step at which all the level's requirements held (the last of them to hold); none: not achieved (a level
-- without requirements is never achieved, as in the achieve_levels stage).
create or replace function status_private.level_met_at(level_name text, user_id uuid)
  returns table (step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  with met as (
    select reached.step_id, reached.occurred_at
    from status_public.level_requirements as requirement
    left join lateral status_private.step_count_reached_at(level_met_at.user_id, requirement.name, requirement.required_count) as reached on true
    where requirement.level = level_met_at.level_name
  )
  select met.step_id, met.occurred_at from met
  where not exists (select from met as unmet where unmet.step_id is null)
  order by met.occurred_at desc, met.step_id desc
  limit 1;
$$;
revoke all on function status_private.level_met_at(text, uuid) from public;

-- The users a backfill of these achievements and levels looks at, in uuid order after `after_user_id`: those with
-- a tally of an action that they name (any tally for a streak of any activity). NULL max_users: all of them.
create or replace function status_private.backfill_candidates(achievement_ids text[], level_names text[], after_user_id uuid, max_users integer)
  returns setof uuid
  language sql stable
as $$
  with actions as (
    select criterion.action from status_public.achievement_criteria as criterion
    where criterion.achievement_id = any (backfill_candidates.achievement_ids)
    union
    select requirement.name from status_public.level_requirements as requirement
    where requirement.level = any (backfill_candidates.level_names)
  )
  select distinct tally.user_id from status_public.user_achievements as tally
  where (backfill_candidates.after_user_id is null or tally.user_id > backfill_candidates.after_user_id)
    and (exists (select from actions where actions.action is null) or tally.name in (select actions.action from actions))
  order by tally.user_id
  limit backfill_candidates.max_users;
$$;
revoke all on function status_private.backfill_candidates(text[], text[], uuid, integer) from public;

-- What a backfill awards these users: the achievements (not retired) they do not hold and whose criteria their
-- steps met, at the step that made them true. The backfill inserts these; the catalog plan counts them.
create or replace function status_private.backfill_awards(achievement_ids text[], user_ids uuid[])
  returns table (user_id uuid, achievement_id text, points integer, "position" integer, step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select candidate.user_id, achievement.id, achievement.points, achievement.position, met.step_id, met.occurred_at
  from unnest(backfill_awards.user_ids) as candidate (user_id)
  cross join status_public.achievements as achievement
  cross join lateral status_private.achievement_met_at(achievement, candidate.user_id) as met
  where achievement.id = any (backfill_awards.achievement_ids) and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = candidate.user_id and unlock.achievement_id = achievement.id);
$$;
revoke all on function status_private.backfill_awards(text[], uuid[]) from public;

-- The levels these users have not achieved and whose requirements their steps met, at the step that did it.
create or replace function status_private.backfill_level_awards(level_names text[], user_ids uuid[])
  returns table (user_id uuid, level text, step_id uuid, occurred_at timestamptz)
  language sql stable
as $$
  select candidate.user_id, level.name, met.step_id, met.occurred_at
  from unnest(backfill_level_awards.user_ids) as candidate (user_id)
  cross join status_public.levels as level
  cross join lateral status_private.level_met_at(level.name, candidate.user_id) as met
  where level.name = any (backfill_level_awards.level_names)
    and not exists (select from status_public.user_levels as achieved where achieved.user_id = candidate.user_id and achieved.level = level.name);
$$;
revoke all on function status_private.backfill_level_awards(text[], uuid[]) from public;

-- A run's levels, batch size, phases and failures. A run awards users (after_user_id is its resume point) until
-- users_done_at, then re-tiers every scored user (retier_after_user_id), then is finished.
alter table status_private.backfill_runs add column if not exists level_names text[] not null default '{}';
alter table status_private.backfill_runs add column if not exists batch_size integer not null default 500;
alter table status_private.backfill_runs add column if not exists users_total bigint;
alter table status_private.backfill_runs add column if not exists levels_achieved bigint not null default 0;
alter table status_private.backfill_runs add column if not exists users_done_at timestamptz;
alter table status_private.backfill_runs add column if not exists retier_after_user_id uuid;
alter table status_private.backfill_runs add column if not exists retiered bigint not null default 0;
alter table status_private.backfill_runs add column if not exists last_error text;
alter table status_private.backfill_runs add column if not exists failed_at timestamptz;
alter table status_private.backfill_runs drop constraint if exists backfill_runs_batch_size_check;
alter table status_private.backfill_runs add constraint backfill_runs_batch_size_check check (batch_size between 1 and 10000);
-- Runs that finished before the phases existed had nothing left to do.
update status_private.backfill_runs set users_done_at = finished_at where finished_at is not null and users_done_at is null;
-- The worker's claim: the oldest unfinished run.
create index if not exists backfill_runs_unfinished_idx on status_private.backfill_runs (id) where finished_at is null;
comment on table status_private.backfill_runs is
  E'Backfills (start_backfill): the achievements and levels covered, whether users are notified, the batch size, how far the users phase got (after_user_id) and the re-tiering after it, the counts so far, the last failure.';

-- A run's state, for admins.
do $$ begin
  if not exists (select from pg_type where typname = 'backfill_state' and typnamespace = 'status_public'::regnamespace) then
    create type status_public.backfill_state as enum ('pending', 'awarding', 'retiering', 'finished');
  end if;
end $$;
comment on type status_public.backfill_state is
  E'pending: no batch ran yet; awarding: batches of users are being awarded; retiering: users are done, tiers are being brought to their points; finished.';

-- Admins read runs through this view (the table is private); the view reads it with its owner's rights.
create or replace view status_public.backfill_runs with (security_barrier) as
  select run.id, run.achievement_ids, run.level_names as levels, run.notify, run.batch_size,
         case when run.finished_at is not null then 'finished'
              when run.users_done_at is not null then 'retiering'
              when run.users_checked = 0 and run.after_user_id is null then 'pending'
              else 'awarding' end::status_public.backfill_state as state,
         run.users_total::integer, run.users_checked::integer, run.unlocks::integer, run.points::integer,
         run.levels_achieved::integer, run.retiered::integer,
         run.started_at, run.finished_at, run.last_error, run.failed_at
  from status_private.backfill_runs as run;
comment on view status_public.backfill_runs is
  E'@primaryKey id\n@behavior -insert -update -delete\nBackfills (admins): what each covers, its state and progress (usersChecked of usersTotal), what it awarded, its last failure. Started by startBackfill or applyCatalog(backfill: true); run by the server''s backfill worker or npm run backfill -- --resume.';
comment on column status_public.backfill_runs.achievement_ids is E'@notNull\n@notNullItems\nThe achievements it awards.';
comment on column status_public.backfill_runs.levels is E'@notNull\n@notNullItems\nThe levels it awards.';
comment on column status_public.backfill_runs.notify is E'@notNull\nWhether users get live notifications of what it awards (false: quietly, the summary only).';
comment on column status_public.backfill_runs.batch_size is E'@notNull\nUsers per transaction.';
comment on column status_public.backfill_runs.state is E'@notNull';
comment on column status_public.backfill_runs.users_total is E'The users it looks at (those with a tally of an action its achievements or levels name), counted when it started.';
comment on column status_public.backfill_runs.users_checked is E'@notNull\nUsers done so far.';
comment on column status_public.backfill_runs.unlocks is E'@notNull\nUnlocks awarded so far.';
comment on column status_public.backfill_runs.points is E'@notNull\nPoints awarded so far.';
comment on column status_public.backfill_runs.levels_achieved is E'@notNull\nLevels awarded so far.';
comment on column status_public.backfill_runs.retiered is E'@notNull\nUsers moved to the tier of their points (after tier boundaries moved).';
comment on column status_public.backfill_runs.started_at is E'@notNull';
comment on column status_public.backfill_runs.last_error is E'The last batch''s failure (retried by the worker a minute later), null once a batch succeeds.';
revoke all on status_public.backfill_runs from public;
grant select on status_public.backfill_runs to :ADMIN_ROLE;

-- A backfill of these achievements and levels (NULL: all of each; an empty array: none); returns its id for
-- backfill_batch / run_backfill / work_on_backfill. The server's worker is woken at commit.
drop function if exists status_private.start_backfill(text[], boolean);
create or replace function status_private.start_backfill(achievement_ids text[] default null, notify boolean default false,
                                                         level_names text[] default null, batch_size integer default 500)
  returns bigint
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  unknown text;
  covered text[] := coalesce(achievement_ids, array(select id from status_public.achievements order by id));
  covered_levels text[] := coalesce(level_names, array(select name from status_public.levels order by name));
  run_id bigint;
begin
  select wanted into unknown from unnest(achievement_ids) as wanted
    where not exists (select from status_public.achievements where achievements.id = wanted) limit 1;
  if unknown is not null then
    raise exception 'No achievement "%"', unknown using errcode = 'AC404';
  end if;
  select wanted into unknown from unnest(level_names) as wanted
    where not exists (select from status_public.levels where levels.name = wanted) limit 1;
  if unknown is not null then
    raise exception 'No level "%"', unknown using errcode = 'AC404';
  end if;
  if batch_size is null or batch_size not between 1 and 10000 then
    raise exception 'A batch is 1 to 10000 users, not %', coalesce(batch_size::text, 'null') using errcode = 'AC400';
  end if;
  insert into status_private.backfill_runs (achievement_ids, level_names, notify, batch_size, users_total)
    values (covered, covered_levels, coalesce(notify, false), batch_size,
            (select count(*) from status_private.backfill_candidates(covered, covered_levels, null, null)))
    returning id into run_id;
  perform pg_notify('achievements:backfill', run_id::text);
  return run_id;
end;
$$;
revoke all on function status_private.start_backfill(text[], boolean, text[], integer) from public;

-- One batch of a backfill (batch_size NULL: the run's): while users remain, the next users after the resume point
-- get what backfill_awards and backfill_level_awards say; then, batch by batch, every scored user gets the tier of
-- their points. Returns whether work remains. Two callers of one run take turns (the run's row is locked); two
-- runs, or live events, may overlap freely (the unlocks' and levels' unique keys decide, points follow inserted
-- unlocks only).
create or replace function status_private.backfill_batch(run_id bigint, batch_size integer default null)
  returns boolean
  language plpgsql
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  run status_private.backfill_runs;
  size integer;
  batch uuid[];
  awarded_unlocks bigint;
  awarded_points bigint;
  awarded_levels bigint;
  tiers record;
  quiet text := current_setting('achievements.quiet_notifications', true);
begin
  select * into run from status_private.backfill_runs where id = run_id for update;
  if run.id is null then
    raise exception 'No backfill %', run_id using errcode = 'AC404';
  end if;
  if run.finished_at is not null then
    return false;
  end if;
  size := coalesce(batch_size, run.batch_size);

  if run.users_done_at is not null then
    select * into tiers from status_private.retier_batch(run.retier_after_user_id, size);
    update status_private.backfill_runs
      set retier_after_user_id = tiers.last_user_id, retiered = backfill_runs.retiered + tiers.changed,
          finished_at = case when tiers.last_user_id is null then now() end
      where id = run_id;
    return tiers.last_user_id is not null;
  end if;

  batch := array(select status_private.backfill_candidates(run.achievement_ids, run.level_names, run.after_user_id, size));
  if not run.notify then
    perform set_config('achievements.quiet_notifications', 'on', true);
  end if;
  with unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id, unlocked_at)
    select earned.user_id, earned.achievement_id, earned.points, earned.step_id, earned.occurred_at
    from status_private.backfill_awards(run.achievement_ids, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.position, earned.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points, unlocked_at
  ), ledger as (
    insert into status_public.points_ledger (user_id, points, unlock_id, created_at)
    select unlocked.user_id, unlocked.points, unlocked.id, unlocked.unlocked_at from unlocked where unlocked.points > 0
  )
  select count(*), coalesce(sum(unlocked.points), 0) into awarded_unlocks, awarded_points from unlocked;
  with achieved as (
    insert into status_public.user_levels (user_id, level, step_id, achieved_at)
    select earned.user_id, earned.level, earned.step_id, earned.occurred_at
    from status_private.backfill_level_awards(run.level_names, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.level
    on conflict (user_id, level) do nothing
    returning 1
  )
  select count(*) into awarded_levels from achieved;
  perform set_config('achievements.quiet_notifications', coalesce(quiet, ''), true);

  update status_private.backfill_runs
    set after_user_id = coalesce(batch[cardinality(batch)], after_user_id),
        users_checked = users_checked + cardinality(batch),
        unlocks = unlocks + awarded_unlocks,
        points = backfill_runs.points + awarded_points,
        levels_achieved = levels_achieved + awarded_levels,
        users_done_at = case when cardinality(batch) < size then now() end
    where id = run_id;
  return true;
end;
$$;

-- The server's worker (src/backfill-worker.ts, as the authenticator), and the CLI: one batch of run `run_id`, or
-- (NULL) of the oldest unfinished run that no other worker holds and that did not fail in the last
-- `retry_after_seconds`. The claim is the run's row lock, held until this transaction ends: a worker that dies
-- mid-batch leaves nothing done and the run to the next claim. A failing batch is rolled back and recorded on the
-- run (last_error); the caller gets the error back. No row: nothing to do.
-- Definer: it writes derived tables, as the event path's triggers do. Executable by the authenticator only.
create or replace function status_private.work_on_backfill(run_id bigint default null, retry_after_seconds double precision default 60,
                                                           out claimed_run bigint, out more boolean, out error_code text, out error_message text)
  returns setof record
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
begin
  if run_id is null then
    select run.id into claimed_run from status_private.backfill_runs as run
      where run.finished_at is null
        and (run.failed_at is null or run.failed_at < now() - make_interval(secs => retry_after_seconds))
      order by run.id limit 1
      for update skip locked;
    if claimed_run is null then
      return;
    end if;
  else
    claimed_run := run_id;
  end if;
  begin
    more := status_private.backfill_batch(claimed_run);
    update status_private.backfill_runs as run set last_error = null, failed_at = null where run.id = claimed_run and run.last_error is not null;
  exception when others then
    get stacked diagnostics error_code = returned_sqlstate, error_message = message_text;
    if error_code = 'AC404' then
      raise;
    end if;
    update status_private.backfill_runs as run set last_error = error_message, failed_at = now() where run.id = claimed_run;
    more := true;
  end;
  return next;
end;
$$;
comment on function status_private.work_on_backfill(bigint, double precision) is
  E'One batch of a backfill (the given run, or the oldest unfinished one no other worker holds): for the server''s backfill worker and the CLI.';
revoke all on function status_private.work_on_backfill(bigint, double precision) from public;
grant execute on function status_private.work_on_backfill(bigint, double precision) to :AUTHENTICATOR_ROLE;

-- The whole backfill from psql or pg_cron, committing after each batch (users, then tiers): `call
-- status_private.run_backfill(id)` outside a transaction block. (A procedure that commits may not be SECURITY
-- DEFINER nor set search_path: it names everything in full.)
create or replace procedure status_private.run_backfill(run_id bigint, batch_size integer default null)
  language plpgsql
as $$
begin
  while status_private.backfill_batch(run_id, batch_size) loop
    commit;
  end loop;
  commit;
end;
$$;

-- Admins: starts a backfill of these achievements and levels (NULL: all of each; an empty list: none), which the
-- server's backfill worker runs batch by batch after this transaction commits. Returns the run (pending).
-- Definer: it writes the private runs table. Executable by admins only.
create or replace function status_public.start_backfill(achievement_ids text[] default null, levels text[] default null,
                                                        notify boolean default false, batch_size integer default 500)
  returns status_public.backfill_runs
  language plpgsql volatile security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  run_id bigint := status_private.start_backfill(start_backfill.achievement_ids, start_backfill.notify,
                                                 start_backfill.levels, start_backfill.batch_size);
  started status_public.backfill_runs;
begin
  select run.* into started from status_public.backfill_runs as run where run.id = run_id;
  return started;
end;
$$;
comment on function status_public.start_backfill(text[], text[], boolean, integer) is
  E'@notNull\nAdmins: awards the achievements (default: all) and levels (default: all; [] for none) to the users whose past steps meet them, as if earned at the step that made them true (points dated then, tiers after), quietly unless `notify`. Runs in the background, `batchSize` users per transaction: read its progress with `backfillRunById` or `allBackfillRuns`. Running it twice awards nothing twice.';
revoke all on function status_public.start_backfill(text[], text[], boolean, integer) from public;
grant execute on function status_public.start_backfill(text[], text[], boolean, integer) to :ADMIN_ROLE;

-- The plan's counts, with the backfill's own functions: "qualifying" is what a backfill would award.
create or replace function status_public.catalog_unlock_impact(achievement_ids text[])
  returns table (achievement_id text, holders integer, qualifying integer)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with awards as (
    select earned.achievement_id, count(*)::integer as qualifying
    from status_private.backfill_awards(
      catalog_unlock_impact.achievement_ids,
      array(select status_private.backfill_candidates(catalog_unlock_impact.achievement_ids, '{}', null, null))) as earned
    group by earned.achievement_id
  )
  select achievement.id,
         (select count(*)::integer from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id),
         coalesce(awards.qualifying, 0)
  from status_public.achievements as achievement
  left join awards on awards.achievement_id = achievement.id
  where achievement.id = any (catalog_unlock_impact.achievement_ids)
  order by achievement.id;
$$;
comment on function status_public.catalog_unlock_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per achievement, how many users hold it and how many a backfill would award it to (the backfill''s own function: users whose past steps met it, in its availability window).';

create or replace function status_public.catalog_level_impact(level_names text[])
  returns table (level text, holders integer, qualifying integer)
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  with awards as (
    select earned.level, count(*)::integer as qualifying
    from status_private.backfill_level_awards(
      catalog_level_impact.level_names,
      array(select status_private.backfill_candidates('{}', catalog_level_impact.level_names, null, null))) as earned
    group by earned.level
  )
  select level.name,
         (select count(*)::integer from status_public.user_levels as achieved where achieved.level = level.name),
         coalesce(awards.qualifying, 0)
  from status_public.levels as level
  left join awards on awards.level = level.name
  where level.name = any (catalog_level_impact.level_names)
  order by level.name;
$$;
comment on function status_public.catalog_level_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per level, how many users achieved it and how many a backfill would award it to (users whose past steps meet its requirements).';
revoke all on function status_public.catalog_level_impact(text[]) from public;
grant execute on function status_public.catalog_level_impact(text[]) to :ADMIN_ROLE;

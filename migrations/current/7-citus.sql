-- Issue 12, item 4: the schema stays distributable by user_id (Citus; docs/scaling.md). Every table with a
-- user_id column has it in its primary key and in every unique constraint, and a foreign key between two such
-- tables joins on user_id as well, so that a key never spans two users' rows (on Citus: never two shards).
-- test/db/distributable.test.ts reads the catalogs and fails on a table that breaks this.
--
-- The primary keys of the tables keyed by a random `id` become (id, user_id): id first, so that lookups by id
-- alone keep their index on one node. GraphQL stays as it was: the lookups by id (`userStepById`...) come from
-- a `@unique id` smart tag (ids are gen_random_uuid(): unique by construction, no longer by an index), the
-- composite key's own lookup is hidden, and the relations keep their names (`@fieldName`, `@foreignFieldName`).
-- Relay global ids (the library preset with Amber's NodePlugin) now encode (id, userId): README, section 3.

-- The foreign keys onto the keys that change go first, and come back composite below.
alter table status_private.recorded_action_results drop constraint if exists recorded_action_results_step_id_fkey;
alter table status_public.achievement_unlocks drop constraint if exists achievement_unlocks_step_id_fkey;
alter table status_public.user_levels drop constraint if exists user_levels_step_id_fkey;
alter table status_public.points_ledger drop constraint if exists points_ledger_unlock_id_fkey;

alter table status_public.user_steps drop constraint if exists user_steps_pkey;
alter table status_public.user_steps add constraint user_steps_pkey primary key (id, user_id);
alter table status_public.achievement_unlocks drop constraint if exists achievement_unlocks_pkey;
alter table status_public.achievement_unlocks add constraint achievement_unlocks_pkey primary key (id, user_id);
alter table status_public.points_ledger drop constraint if exists points_ledger_pkey;
alter table status_public.points_ledger add constraint points_ledger_pkey primary key (id, user_id);
alter table status_public.user_achievements drop constraint if exists user_achievements_pkey;
alter table status_public.user_achievements add constraint user_achievements_pkey primary key (id, user_id);
alter table status_public.user_streaks drop constraint if exists user_streaks_pkey;
alter table status_public.user_streaks add constraint user_streaks_pkey primary key (id, user_id);

-- An idempotency key's stored result names its user, as its step does.
alter table status_private.recorded_action_results add column if not exists user_id uuid;
update status_private.recorded_action_results as recorded set user_id = step.user_id
  from status_public.user_steps as step
  where recorded.user_id is null and step.id = recorded.step_id;
alter table status_private.recorded_action_results alter column user_id set not null;
alter table status_private.recorded_action_results drop constraint if exists recorded_action_results_pkey;
alter table status_private.recorded_action_results add constraint recorded_action_results_pkey primary key (step_id, user_id);
alter table status_private.recorded_action_results add constraint recorded_action_results_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete cascade;

alter table status_public.achievement_unlocks add constraint achievement_unlocks_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete cascade;
comment on constraint achievement_unlocks_step_id_fkey on status_public.achievement_unlocks is
  E'@notNull\n@fieldName userStepByStepId\n@foreignFieldName achievementUnlocksByStepId';
-- A deleted step leaves the level achieved: only step_id becomes NULL (user_id stays).
alter table status_public.user_levels add constraint user_levels_step_id_fkey
  foreign key (step_id, user_id) references status_public.user_steps (id, user_id) on delete set null (step_id);
comment on constraint user_levels_step_id_fkey on status_public.user_levels is
  E'@fieldName userStepByStepId\n@foreignFieldName userLevelsByStepId';
alter table status_public.points_ledger add constraint points_ledger_unlock_id_fkey
  foreign key (unlock_id, user_id) references status_public.achievement_unlocks (id, user_id) on delete cascade;
comment on constraint points_ledger_unlock_id_fkey on status_public.points_ledger is
  E'@fieldName achievementUnlockByUnlockId\n@foreignFieldName pointsLedgersByUnlockId';

-- The foreign keys' indexes (for cascades, and for PostGraphile, which exposes a backward relation only over
-- an index), on both columns now, in place of those on the id alone.
drop index if exists status_public.achievement_unlocks_step_id_idx;
create index achievement_unlocks_step_id_idx on status_public.achievement_unlocks (step_id, user_id);
drop index if exists status_public.user_levels_step_id_idx;
create index user_levels_step_id_idx on status_public.user_levels (step_id, user_id);
drop index if exists status_public.points_ledger_unlock_id_idx;
create index points_ledger_unlock_id_idx on status_public.points_ledger (unlock_id, user_id);

-- GraphQL: the lookups, updates and deletes by id as before (wherever a role has the grants), none by (id, userId).
comment on constraint user_steps_pkey on status_public.user_steps is E'@behavior -single -update -delete';
comment on constraint achievement_unlocks_pkey on status_public.achievement_unlocks is E'@behavior -single -update -delete';
comment on constraint points_ledger_pkey on status_public.points_ledger is E'@behavior -single -update -delete';
comment on constraint user_achievements_pkey on status_public.user_achievements is E'@behavior -single -update -delete';
comment on constraint user_streaks_pkey on status_public.user_streaks is E'@behavior -single -update -delete';
comment on table status_public.user_steps is
  E'@unique id\nAppend-only log of every step a user performed. Written by the service role and by the tg_achievement* triggers.';
comment on table status_public.achievement_unlocks is
  E'@unique id\nEach achievement a user unlocked: exactly once per user and achievement, with the points it awarded.';
comment on table status_public.points_ledger is
  E'@unique id\nAppend-only record of every point awarded.';
comment on table status_public.user_achievements is
  E'@unique id\nThe tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';
comment on table status_public.user_streaks is
  E'@unique id\nConsecutive calendar days (in the user''s time zone) with at least one step, per action and for any activity (`action` NULL). A streak whose last day is before yesterday is broken: read it with `currentStreak`.';

-- The functions that write and read the stored results, with the user named (otherwise as migrations/schema.sql
-- has them: record_action, recorded_result, record_actions).
create or replace function status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz) returns status_public.record_action_result
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  catalog_action status_public.actions;
  previous status_public.user_steps;
  step status_public.user_steps;
  result status_public.record_action_result;
  deadlocks integer := 0;
begin
  select * into catalog_action from status_public.actions where actions.name = record_action.action;
  if not found then
    raise exception 'Unknown action "%"', record_action.action
      using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
  end if;
  if amount is null or amount < 1 or amount > catalog_action.max_amount then
    raise exception 'The amount must be a whole number from 1 to % for "%", got %', catalog_action.max_amount, record_action.action, coalesce(amount::text, 'null')
      using errcode = 'AC400';
  end if;
  if idempotency_key is not null and length(idempotency_key) not between 1 and 200 then
    raise exception 'The idempotency key must be 1 to 200 characters'
      using errcode = 'AC400';
  end if;

  -- Concurrent retries: the insert waits for the first one and then finds its row.
  loop
    if idempotency_key is not null then
      select * into previous from status_public.user_steps
        where user_steps.user_id = record_action.user_id and user_steps.idempotency_key = record_action.idempotency_key;
      if found then
        return status_private.recorded_result(previous, record_action.action, amount);
      end if;
    end if;
    -- The step and its event path run in a savepoint: when this transaction is chosen as the victim of a
    -- deadlock (another transaction writing the same users' rows in another order), the savepoint's rollback
    -- releases what the step locked and the step is tried again, after a short pause that lets the other
    -- transaction go first, a few times before the error reaches the caller.
    begin
      if idempotency_key is null then
        insert into status_public.user_steps (user_id, name, count, occurred_at)
          values (record_action.user_id, record_action.action, amount, coalesce(occurred_at, now()))
          returning * into step;
      else
        insert into status_public.user_steps (user_id, name, count, idempotency_key, occurred_at)
          values (record_action.user_id, record_action.action, amount, idempotency_key, coalesce(occurred_at, now()))
          on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
          returning * into step;
      end if;
    exception when deadlock_detected then
      deadlocks := deadlocks + 1;
      if deadlocks >= 3 then
        raise;
      end if;
      perform pg_sleep(0.02 * deadlocks + 0.02 * random());
      continue;
    end;
    exit when found;
  end loop;

  select * into result from status_private.step_results(array[step]);
  if idempotency_key is not null then
    insert into status_private.recorded_action_results (step_id, user_id, result) values (step.id, step.user_id, to_jsonb(result));
  end if;
  return result;
end;
$$;

create or replace function status_private.recorded_result(previous status_public.user_steps, action text, amount integer) returns status_public.record_action_result
  language plpgsql stable
as $$
declare
  result status_public.record_action_result;
begin
  if previous.name <> action or previous.count <> amount then
    raise exception 'The idempotency key "%" was already used for % x "%"', previous.idempotency_key, previous.count, previous.name
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
  select populated.* into result
    from status_private.recorded_action_results as recorded,
         jsonb_populate_record(null::status_public.record_action_result, recorded.result) as populated
    where recorded.step_id = previous.id and recorded.user_id = previous.user_id;
  if not found then
    raise exception 'The idempotency key "%" was already used for a step recorded another way', previous.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
  return result;
end;
$$;

create or replace function status_public.record_actions(events status_public.action_event[]) returns setof status_public.record_action_result
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in uuid := jwt_public.current_user_id();
  for_anyone boolean := status_private.caller_acts_for_anyone();
  -- 0 (or nonsense) is the default: a batch always has a bound.
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
  problem record;
  previous status_public.user_steps;
  -- The events to insert (in input order) and their positions.
  steps status_public.user_steps[];
  step_positions bigint[];
  -- The answers so far, and the position of each.
  answers status_public.record_action_result[];
  answer_positions bigint[];
  round_steps status_public.user_steps[];
  round_positions bigint[];
  fresh status_public.user_steps[];
  fresh_positions bigint[];
  taken_numbers bigint[]; -- the round's steps (by number) whose key a concurrent call took
  round_answers status_public.record_action_result[];
  -- The ids' first 32 bits count up from a random base in the order given, so that a user's events that
  -- happened at the same moment apply in that order (the event path orders by occurred_at, then id).
  id_base bigint := floor(random() * (4294967295 - 100000000));
begin
  if not for_anyone and signed_in is null then
    raise exception 'Sign in to record actions' using errcode = 'AC401';
  end if;
  if events is null then
    raise exception 'events is required (an empty list records nothing)' using errcode = 'AC400';
  end if;
  if cardinality(events) > max_events then
    raise exception 'At most % events a call, got %', max_events, cardinality(events)
      using errcode = 'AC400', hint = 'Split the batch (achievements.record_actions_max_events).';
  end if;

  -- Each event with its user, amount, catalog action and earlier step of the same key; the first that cannot
  -- be recorded, and why (a retried key with another action or amount counts: recorded_result says why).
  select checked.*, problems.problem into problem
    from (select listed.position, event.user_id, listed.action, event.amount, listed.idempotency_key, listed.occurred_at,
                 catalog_action.name is not null as known, catalog_action.client_reportable, catalog_action.max_amount,
                 earlier.id as previous_id, earlier.name as previous_action, earlier.count as previous_amount,
                 earlier.id is not null and not exists (select from status_private.recorded_action_results as recorded
                                                       where recorded.step_id = earlier.id and recorded.user_id = earlier.user_id) as previous_unrecorded,
                 row_number() over (partition by event.user_id, listed.idempotency_key order by listed.position) as key_use
          from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
          cross join lateral (select coalesce(listed.user_id, case when not for_anyone then signed_in end) as user_id,
                                     coalesce(listed.amount, 1) as amount) as event
          left join status_public.actions as catalog_action on catalog_action.name = listed.action
          -- By the key's index, one event at a time, and only for an event with a key (a join could hash the
          -- whole step log; `limit 1`, the key being unique, keeps it a lookup).
          left join lateral (
            select step.* from status_public.user_steps as step
            where listed.idempotency_key is not null and step.user_id = event.user_id and step.idempotency_key = listed.idempotency_key
            limit 1
          ) as earlier on true) as checked
    cross join lateral (
      select case
        when checked.user_id is null then 'no user'
        when not for_anyone and checked.user_id <> signed_in then 'not yours'
        when not for_anyone and checked.occurred_at is not null then 'occurred_at'
        when not checked.known then 'unknown action'
        when not for_anyone and not checked.client_reportable then 'not reportable'
        when checked.amount < 1 or checked.amount > checked.max_amount then 'amount'
        when checked.idempotency_key is not null and length(checked.idempotency_key) not between 1 and 200 then 'key length'
        when checked.idempotency_key is not null and checked.key_use > 1 then 'key twice'
        when checked.previous_id is not null
             and (checked.previous_action <> checked.action or checked.previous_amount <> checked.amount or checked.previous_unrecorded)
          then 'key taken'
      end as problem) as problems
    where problems.problem is not null
    order by checked.position
    limit 1;
  if problem.problem = 'no user' then
    raise exception 'Event %: name the user (userId)', problem.position using errcode = 'AC400';
  elsif problem.problem = 'not yours' then
    raise exception 'Event %: you can record only your own actions', problem.position
      using errcode = 'AC403', hint = 'Leave userId out, or record for others with the service role.';
  elsif problem.problem = 'occurred_at' then
    raise exception 'Event %: only the service role sets occurredAt', problem.position using errcode = 'AC403';
  elsif problem.problem = 'unknown action' then
    raise exception 'Event %: unknown action "%"', problem.position, problem.action
      using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
  elsif problem.problem = 'not reportable' then
    raise exception 'Event %: the action "%" cannot be reported by a client', problem.position, problem.action
      using errcode = 'AC403', hint = 'Your backend records it with the service role.';
  elsif problem.problem = 'amount' then
    raise exception 'Event %: the amount must be a whole number from 1 to % for "%", got %', problem.position, problem.max_amount, problem.action, problem.amount
      using errcode = 'AC400';
  elsif problem.problem = 'key length' then
    raise exception 'Event %: the idempotency key must be 1 to 200 characters', problem.position using errcode = 'AC400';
  elsif problem.problem = 'key twice' then
    raise exception 'Event %: the idempotency key "%" is used twice in the batch', problem.position, problem.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  elsif problem.problem = 'key taken' then
    select * into previous from status_public.user_steps where user_steps.id = problem.previous_id and user_steps.user_id = problem.user_id;
    perform status_private.recorded_result(previous, problem.action, problem.amount); -- raises its AC409
  end if;

  -- Retried keys: their original results. The others: the steps to insert.
  select coalesce(array_agg(status_private.recorded_result(earlier.step, listed.action, coalesce(listed.amount, 1)) order by listed.position)
                    filter (where earlier.id is not null), '{}'),
         coalesce(array_agg(listed.position order by listed.position) filter (where earlier.id is not null), '{}'),
         coalesce(array_agg(row(status_private.batch_step_id(id_base + listed.position), coalesce(listed.user_id, signed_in), listed.action,
                                coalesce(listed.amount, 1), listed.idempotency_key, now(), coalesce(listed.occurred_at, now()))::status_public.user_steps
                            order by listed.position) filter (where earlier.id is null), '{}'),
         coalesce(array_agg(listed.position order by listed.position) filter (where earlier.id is null), '{}')
    into answers, answer_positions, steps, step_positions
    from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
    left join lateral (
      select step, step.id from status_public.user_steps as step
      where listed.idempotency_key is not null
        and step.user_id = coalesce(listed.user_id, signed_in) and step.idempotency_key = listed.idempotency_key
      limit 1
    ) as earlier on true;

  -- The rate limits: every new event, in one call (per bucket, in user order).
  perform status_private.spend_record_actions_allowance(array(select step.user_id from unnest(steps) as step),
    case when for_anyone then coalesce(signed_in, '00000000-0000-0000-0000-000000000000') end);

  -- One insert a round: the event path runs once for all its users, and step_results reads each event's result
  -- right after it. A key that a concurrent call took meanwhile: that call's result, as for a retry.
  for round_steps, round_positions in
    select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.idempotency_key,
                         numbered.created_at, numbered.occurred_at)::status_public.user_steps order by numbered.position),
           array_agg(numbered.position order by numbered.position)
    from (select step.*, step_positions[step.n] as position,
                 row_number() over (partition by step.user_id order by step.occurred_at, step.id) as round
          from unnest(steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)) as numbered
    group by numbered.round
    order by numbered.round
  loop
    with inserted as (
      insert into status_public.user_steps (id, user_id, name, count, idempotency_key, created_at, occurred_at)
      select step.* from unnest(round_steps) as step
      on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
      returning id
    )
    select coalesce(array_agg(row(listed.id, listed.user_id, listed.name, listed.count, listed.idempotency_key, listed.created_at,
                                  listed.occurred_at)::status_public.user_steps order by listed.n) filter (where listed.fresh), '{}'),
           coalesce(array_agg(round_positions[listed.n] order by listed.n) filter (where listed.fresh), '{}'),
           coalesce(array_agg(listed.n order by listed.n) filter (where not listed.fresh), '{}')
      into fresh, fresh_positions, taken_numbers
      from (select listed.*, listed.id in (select inserted.id from inserted) as fresh
            from unnest(round_steps) with ordinality as listed (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)) as listed;
    if cardinality(taken_numbers) > 0 then
      select answers || array_agg(status_private.recorded_result(taken.earlier, step.name, step.count) order by step.n),
             answer_positions || array_agg(round_positions[step.n] order by step.n)
        into answers, answer_positions
        from unnest(round_steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)
        cross join lateral (
          select earlier from status_public.user_steps as earlier
          where earlier.user_id = step.user_id and earlier.idempotency_key = step.idempotency_key
          limit 1
        ) as taken
        where step.n = any (taken_numbers);
    end if;
    -- step_results answers in the order of `fresh`.
    round_answers := array(select result from status_private.step_results(fresh) as result);
    insert into status_private.recorded_action_results (step_id, user_id, result)
      select result.step_id, step.user_id, to_jsonb(result)
      from unnest(round_answers) as result
      join unnest(fresh) as step on step.id = result.step_id and step.user_id = result.user_id
      where step.idempotency_key is not null;
    answers := answers || round_answers;
    answer_positions := answer_positions || fresh_positions;
  end loop;
  return query
    select answer.step_id, answer.user_id, answer.action, answer.amount, answer.tally, answer.unlocked, answer.points_awarded,
           answer.total_points, answer.tier_before, answer.tier_after, answer.current_streak, answer.levels_achieved
    from unnest(answers) with ordinality as answer (step_id, user_id, action, amount, tally, unlocked, points_awarded, total_points,
                                                    tier_before, tier_after, current_streak, levels_achieved, n)
    join unnest(answer_positions) with ordinality as placed (position, n) on placed.n = answer.n
    order by placed.position;
end;
$$;

-- The streaks stage asked whether anyone at all held a freeze: now whether the steps' users do.
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  -- Only when one of the steps' users holds a freeze or has spent one (a frozen day also keeps their other
  -- streaks). Looked up by those users, never across all of them (docs/scaling.md: a read of the whole table
  -- here was a query on every shard for every event).
  if exists (select from unnest(steps) as step join status_public.user_streak_freezes as held on held.user_id = step.user_id
             where held.freezes > 0)
     or exists (select from unnest(steps) as step join status_public.user_frozen_days as frozen on frozen.user_id = step.user_id) then
    with gaps as (
      -- The step's streaks that it would break: its action's and any activity's.
      select step.user_id, step.local_time::date as day, streak.action, streak.last_day
      from unnest(steps) as step
      join status_public.user_streaks as streak
        on streak.user_id = step.user_id and (streak.action = step.name or streak.action is null)
      where step.count > 0 and step.local_time::date > streak.last_day + 1
    ), needed as (
      -- The days missed in them that are not frozen yet.
      select distinct gaps.user_id, missed.day::date as day
      from gaps cross join lateral generate_series(gaps.last_day + 1, gaps.day - 1, interval '1 day') as missed (day)
      where not exists (select from status_public.user_frozen_days as frozen
                        where frozen.user_id = gaps.user_id and frozen.day = missed.day::date)
    ), kept as (
      -- The users who hold a freeze for each of those days (or need none): all their streaks go on.
      select users.user_id, count(needed.day)::integer as days
      from (select distinct gaps.user_id from gaps) as users
      left join needed on needed.user_id = users.user_id
      group by users.user_id
      having count(needed.day) <= status_private.streak_freezes_of(users.user_id)
    ), spent as (
      update status_public.user_streak_freezes as held set freezes = held.freezes - kept.days, updated_at = now()
      from kept where held.user_id = kept.user_id and kept.days > 0
    ), frozen as (
      insert into status_public.user_frozen_days (user_id, day)
      select needed.user_id, needed.day from needed join kept on kept.user_id = needed.user_id
    )
    -- The streaks' last day moves to the day before the step's, so that the upsert below extends them.
    update status_public.user_streaks as streak set last_day = gaps.day - 1
      from gaps join kept on kept.user_id = gaps.user_id
      where streak.user_id = gaps.user_id and streak.action is not distinct from gaps.action;
  end if;
  insert into status_public.user_streaks as streak (user_id, action, current_length, longest_length, last_day)
    select step.user_id, actions.action, 1, 1, step.local_time::date
    from unnest(steps) as step
    cross join lateral (values (step.name), (null)) as actions (action)
    where step.count > 0
    order by step.user_id, actions.action
    on conflict (user_id, action) do update
      set current_length = case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end,
          longest_length = greatest(streak.longest_length, case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end),
          last_day = excluded.last_day,
          updated_at = now()
      where excluded.last_day > streak.last_day;
end;
$$;

--! Previous: sha1:482638721e446b4933e14b5481cc5a1bfcb94c96
--! Hash: sha1:89787717926edd8c9cc30ef2c7c0bd6945b77890
--! Message: One home for the batch checks: status_private.check_action_events, shared by recordActions and importActions (what a used idempotency key needs is its parameter)

--! split: 1-current.sql
-- One home for the batch checks: status_private.check_action_events, used by record_actions and import_actions
-- (which repeated them), with the one rule in which they differ (what a used idempotency key needs) a parameter.

-- The checks of a batch of events (recordActions, importActions), all before anything is written: raises for the
-- first event that cannot be recorded, naming its position. `for_anyone`: the service role or an admin (any
-- user, occurredAt, any action); else the events are `signed_in`'s own, of client-reportable actions.
-- `retries_need_results`: a used key must have a stored result to answer with (recordActions answers a retry
-- with it; importActions skips the event), so a key used by a step recorded another way is taken.
create or replace function status_private.check_action_events(events status_public.action_event[], for_anyone boolean,
                                                              signed_in uuid, retries_need_results boolean) returns void
  language plpgsql stable
as $$
declare
  problem record;
  previous status_public.user_steps;
begin
  -- Each event with its user, amount, catalog action and earlier step of the same key; the first that cannot
  -- be recorded, and why (a retried key with another action or amount counts: recorded_result says why).
  select checked.*, problems.problem into problem
    from (select listed.position, event.user_id, listed.action, event.amount, listed.idempotency_key, listed.occurred_at,
                 catalog_action.name is not null as known, catalog_action.client_reportable, catalog_action.max_amount,
                 earlier.id as previous_id, earlier.name as previous_action, earlier.count as previous_amount,
                 retries_need_results and earlier.id is not null
                   and not exists (select from status_private.recorded_action_results as recorded
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
  elsif problem.problem = 'key taken' and retries_need_results then
    select * into previous from status_public.user_steps where user_steps.id = problem.previous_id and user_steps.user_id = problem.user_id;
    perform status_private.recorded_result(previous, problem.action, problem.amount); -- raises its AC409
  elsif problem.problem = 'key taken' then
    raise exception 'Event %: the idempotency key "%" was already used for % x "%"', problem.position, problem.idempotency_key,
                    problem.previous_amount, problem.previous_action
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
end;
$$;
revoke all on function status_private.check_action_events(status_public.action_event[], boolean, uuid, boolean) from public;

-- recordActions: unchanged but for its checks, now check_action_events'.
create or replace function status_public.record_actions(events status_public.action_event[]) returns setof status_public.record_action_result
  language plpgsql security definer
  set search_path to 'pg_catalog', 'public', 'pg_temp'
as $$
declare
  signed_in uuid := jwt_public.current_user_id();
  for_anyone boolean := status_private.caller_acts_for_anyone();
  -- 0 (or nonsense) is the default: a batch always has a bound.
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
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

  perform status_private.check_action_events(events, for_anyone, signed_in, true);

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
      -- They record nothing: their users' allowance back (it was spent above, before the insert waited for them).
      perform status_private.give_back_user_allowances(
        array(select step.user_id from unnest(round_steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)
              where step.n = any (taken_numbers)));
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

-- importActions: unchanged but for its checks, now check_action_events'.
create or replace function status_public.import_actions(events status_public.action_event[], notify boolean default false)
  returns status_public.import_actions_result
  language plpgsql volatile security definer
  set search_path to 'pg_catalog', 'public', 'pg_temp'
as $$
declare
  -- The same bound as record_actions (0 or nonsense: the default).
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
  quiet text := current_setting('achievements.quiet_notifications', true);
  token text := gen_random_uuid()::text;
  -- As record_actions: the ids' first 32 bits count up in the order given, so that a user's events that happened
  -- at the same moment apply (and sort in user_steps) in that order.
  id_base bigint := floor(random() * (4294967295 - 100000000));
  steps status_private.pipeline_step[];   -- the steps whose effects are derived here, in each user's order
  imported_ids uuid[];                    -- every step imported (these and the live path's)
  imported_users uuid[];
  found_unlocks status_private.unlock_candidate[];
  found_levels status_public.user_levels[];
  awards status_private.board_award[];
  summary status_public.import_actions_result;
  starting_tier text := status_private.tier_for(0);
begin
  if not status_private.caller_acts_for_anyone() then
    raise exception 'Only the service role and admins import actions'
      using errcode = 'AC403', hint = 'Record your own actions with recordActions.';
  end if;
  if events is null then
    raise exception 'events is required (an empty list imports nothing)' using errcode = 'AC400';
  end if;
  if cardinality(events) > max_events then
    raise exception 'At most % events a call, got %', max_events, cardinality(events)
      using errcode = 'AC400', hint = 'Split the import (achievements.record_actions_max_events).';
  end if;

  -- Imports of the same users wait for each other (in user order: no deadlock between two imports).
  perform pg_advisory_xact_lock(hashtext('status_public.import_actions'), hashtext(listed.user_id::text))
    from (select distinct listed.user_id from unnest(events) as listed where listed.user_id is not null order by 1) as listed;
  -- The users' tallies and streaks as they stand, locked (in user order, as the live path locks them): the
  -- streaks are written below from their state before the import, and a live event of these users waits.
  perform from status_public.user_achievements as tally
    where tally.user_id in (select listed.user_id from unnest(events) as listed)
    order by tally.user_id, tally.name for update;
  perform from status_public.user_streaks as streak
    where streak.user_id in (select listed.user_id from unnest(events) as listed)
    order by streak.user_id, streak.action for update;

  -- record_actions's checks for the service role, all or nothing.
  perform status_private.check_action_events(events, true, null, false);

  perform set_config('achievements.quiet_notifications', case when notify then coalesce(quiet, '') else 'on' end, true);

  -- Users who hold a streak freeze or have spent one: their steps take the live path (extend_streaks spends
  -- freezes step by step), quietly as the rest. Retried keys are skipped.
  with inserted as (
    insert into status_public.user_steps (id, user_id, name, count, idempotency_key, occurred_at)
    select status_private.batch_step_id(id_base + listed.position), listed.user_id, listed.action, coalesce(listed.amount, 1),
           listed.idempotency_key, coalesce(listed.occurred_at, now())
    from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
    where (exists (select from status_public.user_streak_freezes as held where held.user_id = listed.user_id and held.freezes > 0)
           or exists (select from status_public.user_frozen_days as frozen where frozen.user_id = listed.user_id))
    order by listed.position
    on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
    returning id, user_id
  )
  select coalesce(array_agg(inserted.id), '{}'), coalesce(array_agg(distinct inserted.user_id), '{}')
    into imported_ids, imported_users
    from inserted;

  -- The others in one insert that skips the event path.
  insert into status_private.import_tokens (backend_pid, transaction_id, token)
    values (pg_backend_pid(), pg_current_xact_id(), token)
    on conflict (backend_pid) do update set transaction_id = excluded.transaction_id, token = excluded.token;
  perform set_config('achievements.import_token', token, true);
  with inserted as (
    insert into status_public.user_steps (id, user_id, name, count, idempotency_key, occurred_at)
    select status_private.batch_step_id(id_base + listed.position), listed.user_id, listed.action, coalesce(listed.amount, 1),
           listed.idempotency_key, coalesce(listed.occurred_at, now())
    from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
    where not exists (select from status_public.user_streak_freezes as held where held.user_id = listed.user_id and held.freezes > 0)
      and not exists (select from status_public.user_frozen_days as frozen where frozen.user_id = listed.user_id)
    order by listed.position
    -- A key that a concurrent call took meanwhile: skipped too.
    on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
    returning id, user_id, name, count, occurred_at
  )
  select array_agg(row(inserted.id, inserted.user_id, inserted.name, inserted.count, inserted.occurred_at,
                       inserted.occurred_at at time zone coalesce(profile.time_zone, 'UTC'))::status_private.pipeline_step
                   order by inserted.user_id, inserted.occurred_at, inserted.id)
    into steps
    from inserted
    left join status_public.user_profiles as profile on profile.user_id = inserted.user_id;
  perform set_config('achievements.import_token', '', true);
  delete from status_private.import_tokens where backend_pid = pg_backend_pid();

  if steps is not null then
    imported_ids := imported_ids || array(select step.id from unnest(steps) as step);
    imported_users := imported_users || array(select distinct step.user_id from unnest(steps) as step);

    -- Unlocks and levels first, from the state before the steps: at each step, as the live path evaluates it after
    -- the step (the same candidates: achievements whose criteria name its action, or an any-activity streak; in
    -- their availability window; not unlocked yet), with each criterion as it stood then: a count is the tally
    -- before the import plus the user's imported steps up to this one; a streak is its state after the last step
    -- that changed it (import_streak_states), as of this step's day; a time of day asks the criterion registry
    -- (it depends on the step alone). The first step at which all hold unlocks. A new criterion kind that reads
    -- state needs its as-of branch here too (test/db/status_public/import_actions.test.ts compares with replay).
    with states as (
      select * from status_private.import_streak_states(steps)
    ), numbered as (
      -- Each step with its user's imported total of its action up to it (what a count of its own action adds).
      select step.*, sum(step.count) over (partition by step.user_id, step.name order by step.n) as running
      from unnest(steps) with ordinality as step (id, user_id, name, count, occurred_at, local_time, n)
    ), candidates as (
      select distinct on (step.user_id, achievement.id) step.user_id, step.id as step_id, step.n, achievement.id as achievement_id,
             achievement.points, achievement.position
      from numbered as step
      cross join lateral status_private.achievements_to_check(step.user_id, step.name, step.occurred_at) as achievement
      where (select coalesce(bool_and(case criterion.kind
                when 'count' then
                  coalesce((select tally.count from status_public.user_achievements as tally
                            where tally.user_id = step.user_id and tally.name = criterion.action), 0)
                  + case when criterion.action = step.name then step.running
                         else (select coalesce(sum(earlier.count), 0) from numbered as earlier
                               where earlier.user_id = step.user_id and earlier.name = criterion.action and earlier.n <= step.n) end
                  >= criterion.threshold
                when 'streak' then
                  coalesce((select case when state.last_day >= step.local_time::date - 1 then state.current_length else 0 end
                            from (select changed.current_length, changed.last_day, changed.n from states as changed
                                  where changed.user_id = step.user_id and changed.action is not distinct from criterion.action and changed.n <= step.n
                                  union all
                                  select prior.current_length, prior.last_day, 0 from status_public.user_streaks as prior
                                  where prior.user_id = step.user_id and prior.action is not distinct from criterion.action) as state
                            order by state.n desc limit 1), 0)
                  >= criterion.threshold
                else exists (select from status_private.criterion_progress(criterion, step.user_id, step.name, step.local_time) as progress
                             where progress.current >= progress.target)
              end), true)
             from status_public.achievement_criteria as criterion
             where criterion.achievement_id = achievement.id)
      order by step.user_id, achievement.id, step.n
    )
    select array_agg(row(candidates.user_id, candidates.achievement_id, candidates.points, candidates.step_id)::status_private.unlock_candidate
                     -- As the live path numbers a user's cursors: by step, then in catalog order.
                     order by candidates.user_id, candidates.n, candidates.position, candidates.achievement_id)
      into found_unlocks
      from candidates;

    -- Levels: at the first step of one of a level's actions after which every requirement's tally is reached
    -- (none to look for, the usual case, when no requirement names the steps' actions).
    if exists (select from unnest(steps) as step
               where exists (select from status_public.level_requirements as requirement where requirement.name = step.name)) then
      select array_agg(row(reached.user_id, reached.level, null, reached.step_id, null)::status_public.user_levels
                       order by reached.user_id, reached.n, reached.level)
        into found_levels
        from (
          select distinct on (step.user_id, requirement.level) step.user_id, requirement.level, step.id as step_id, step.n
          from unnest(steps) with ordinality as step (id, user_id, name, count, occurred_at, local_time, n)
          join status_public.level_requirements as requirement on requirement.name = step.name
          where not exists (select from status_public.user_levels as achieved
                            where achieved.user_id = step.user_id and achieved.level = requirement.level)
            and not exists (
              select from status_public.level_requirements as other
              where other.level = requirement.level
                and coalesce((select tally.count from status_public.user_achievements as tally
                              where tally.user_id = step.user_id and tally.name = other.name), 0)
                    + (select coalesce(sum(earlier.count), 0) from unnest(steps) with ordinality as earlier (id, user_id, name, count, occurred_at, local_time, n)
                       where earlier.user_id = step.user_id and earlier.name = other.name and earlier.n <= step.n)
                    < other.required_count)
          order by step.user_id, requirement.level, step.n
        ) as reached;
    end if;

    -- Scores (as count_steps: a row at zero points for a new user), then the tallies in one upsert.
    insert into status_public.user_scores (user_id, points, tier)
      select distinct step.user_id, 0, starting_tier from unnest(steps) as step
      order by step.user_id
      on conflict (user_id) do nothing;
    insert into status_public.user_achievements as tally (user_id, name, count)
      select step.user_id, step.name, sum(step.count)::integer from unnest(steps) as step
      group by step.user_id, step.name
      order by step.user_id, step.name
      on conflict (user_id, name) do update set count = tally.count + excluded.count;

    -- The ranked actions' boards: each user's sum per board, reached at their last step in it.
    select array_agg(row(per_board.name, per_board.period, per_board.period_start, per_board.user_id, per_board.points,
                         per_board.reached_at)::status_private.board_award
                     order by per_board.name, per_board.period, per_board.period_start, per_board.user_id)
      into awards
      from (select step.name, board.period, status_private.period_start(board.period, step.occurred_at) as period_start, step.user_id,
                   sum(step.count)::integer as points, max(step.occurred_at) as reached_at
            from unnest(steps) as step
            join status_public.actions as ranked on ranked.name = step.name and ranked.ranked
            cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
            group by 1, 2, 3, 4) as per_board;
    if awards is not null then
      perform status_private.add_to_boards(awards);
    end if;

    -- Streaks: each one's state after its last changing step.
    insert into status_public.user_streaks as streak (user_id, action, current_length, longest_length, last_day)
      select distinct on (changed.user_id, changed.action) changed.user_id, changed.action, changed.current_length,
             changed.longest_length, changed.last_day
      from status_private.import_streak_states(steps) as changed
      order by changed.user_id, changed.action, changed.n desc
      on conflict (user_id, action) do update
        set current_length = excluded.current_length,
            longest_length = greatest(streak.longest_length, excluded.longest_length),
            last_day = excluded.last_day,
            updated_at = now();

    -- Unlocks exactly once (the unique key), their points through the ledger (its trigger: scores, tiers, point
    -- boards), then the levels.
    if found_unlocks is not null then
      with unlocked as (
        insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
        select found.user_id, found.achievement_id, found.points, found.step_id
        from unnest(found_unlocks) with ordinality as found (user_id, achievement_id, points, step_id, position)
        order by found.position
        on conflict (user_id, achievement_id) do nothing
        returning id, user_id, points
      )
      insert into status_public.points_ledger (user_id, points, unlock_id)
      select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
    end if;
    if found_levels is not null then
      insert into status_public.user_levels (user_id, level, step_id)
      select found.user_id, found.level, found.step_id
      from unnest(found_levels) with ordinality as found (user_id, level, achieved_at, step_id, cursor, position)
      order by found.position
      on conflict (user_id, level) do nothing;
    end if;
  end if;
  perform set_config('achievements.quiet_notifications', coalesce(quiet, ''), true);

  -- What the imported steps did (the live path's users included), found by their step ids.
  select cardinality(events), cardinality(imported_ids), cardinality(events) - cardinality(imported_ids), cardinality(imported_users),
         (select count(*) from status_public.achievement_unlocks as unlock
          where unlock.user_id = any (imported_users) and unlock.step_id = any (imported_ids)),
         (select coalesce(sum(unlock.points), 0) from status_public.achievement_unlocks as unlock
          where unlock.user_id = any (imported_users) and unlock.step_id = any (imported_ids)),
         (select count(*) from status_public.user_levels as achieved
          where achieved.user_id = any (imported_users) and achieved.step_id = any (imported_ids))
    into summary.events, summary.imported, summary.skipped, summary.users, summary.unlocks, summary.points, summary.levels_achieved;
  return summary;
end;
$$;

--! Previous: sha1:d6ab98c32f3b2bdfb35c5fc9b5828c2a9245e399
--! Hash: sha1:f48fefdb5914ef44e2a48c398e57d1f55c19c268
--! Message: A batch event whose key a concurrent call took gives its user's allowance back

--! split: 1-current.sql
-- A batch event whose idempotency key a concurrent call took while this one waited (a retry in flight, maybe
-- through another server) records nothing, but its user's allowance had been spent before the insert found
-- out: given back now (record_action waits for the key before spending instead: 6-nodes.sql of 000012; a batch
-- would need a lock per event). Only the users' rows, which this call already holds (it took from them): the
-- service client's shards are not touched, so no new lock is taken. test/db/status_public/rate_limit.test.ts.
create or replace function status_private.give_back_user_allowances(user_ids uuid[]) returns void
  language sql
as $$
  update status_private.record_action_allowances as allowance
    set tokens = least(allowance.tokens + given.amount,
                       status_private.record_action_rate_setting('record_action_rate_limit', 60))
    from (select listed.user_id, count(*)::integer as amount from unnest(user_ids) as listed (user_id) group by listed.user_id) as given
    where allowance.subject_kind = 'user' and allowance.user_id = given.user_id and allowance.shard = 0
      and status_private.record_action_rate_setting('record_action_rate_limit', 60) > 0;
$$;
revoke all on function status_private.give_back_user_allowances(uuid[]) from public;

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

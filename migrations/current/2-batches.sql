-- Batches (issue 10): record_actions checks its events, spends the rate limits and builds its answers in a
-- few set-based statements instead of a loop per event. A batch takes each user's tokens (and the service
-- client's) in one statement for all its events, still in user order (concurrent batches lock the users'
-- buckets in the same order: no deadlock), and is still refused whole, with the same AC429 error, when a
-- bucket lacks the events; the single-event path (take_record_action_allowance) keeps its behaviour.

-- The AC429 error of a bucket that lacks tokens (one home for the message of the single event and the batch).
create or replace function status_private.refuse_record_actions(subject_kind text, max_calls integer, window_seconds integer, wait_seconds double precision)
  returns void
  language plpgsql volatile
as $$
declare
  retry_after double precision := greatest(1, ceil(coalesce(wait_seconds, window_seconds)));
begin
  raise exception 'Too many recorded actions %: at most % every % s; retry in % s',
      case subject_kind when 'user' then 'for this user' else 'by this service client' end, max_calls, window_seconds, retry_after
    using errcode = 'AC429',
          detail = json_build_object('retryAfterSeconds', retry_after)::text,
          hint = format('Retry in %s s (with the same idempotency key).', retry_after);
end;
$$;
revoke all on function status_private.refuse_record_actions(text, integer, integer, double precision) from public;

-- One token of a bucket (one event), as before; its refusal now raised by refuse_record_actions.
create or replace function status_private.take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer)
  returns void
  language plpgsql
as $$
declare
  shards integer := case when subject_kind = 'service' then least(16, max_calls) else 1 end;
  -- The real time, not the transaction's start: a bucket refills while transactions run.
  moment timestamptz := clock_timestamp();
  taken boolean := false;
  wait_seconds double precision;
begin
  if max_calls < 1 then
    return;
  end if;
  if shards = 1 then
    -- One statement: concurrent calls for the user wait for each other on the row, then see what is left.
    insert into status_private.record_action_allowances as allowance (subject_kind, user_id, shard, tokens, refilled_at)
      values (subject_kind, subject, 0, max_calls - 1, moment)
      on conflict on constraint record_action_allowances_pkey do update
        set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, max_calls, window_seconds, moment) - 1,
            refilled_at = moment
        where status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, max_calls, window_seconds, moment) >= 1;
    taken := found;
  else
    for attempt in 1..2 loop
      -- A row with a token left that no concurrent call holds.
      with free as (
        select allowance.shard from status_private.record_action_allowances as allowance
        where allowance.subject_kind = take_record_action_allowance.subject_kind
          and allowance.user_id = take_record_action_allowance.subject
          and allowance.shard < shards
          and status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) >= 1
        order by allowance.shard
        limit 1
        for update skip locked
      )
      update status_private.record_action_allowances as allowance
        set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                       status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) - 1,
            refilled_at = moment
        from free
        where allowance.subject_kind = take_record_action_allowance.subject_kind
          and allowance.user_id = take_record_action_allowance.subject
          and allowance.shard = free.shard;
      taken := found;
      exit when taken;
      -- The client's first call (or a raised limit): create its missing rows, full, and look again.
      insert into status_private.record_action_allowances (subject_kind, user_id, shard, tokens, refilled_at)
        select subject_kind, subject, shard, status_private.allowance_of_shard(max_calls, shards, shard), moment
        from generate_series(0, shards - 1) as shard
        on conflict on constraint record_action_allowances_pkey do nothing;
      exit when not found;
    end loop;
    -- Every row with tokens is held by a concurrent call (or none has any): wait for each in turn, then
    -- look at what it has left. Only near the limit, or with more than 16 concurrent calls.
    if not taken then
      for shard_number in 0 .. shards - 1 loop
        update status_private.record_action_allowances as allowance
          set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                         status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) - 1,
              refilled_at = moment
          where allowance.subject_kind = take_record_action_allowance.subject_kind
            and allowance.user_id = take_record_action_allowance.subject
            and allowance.shard = shard_number
            and status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                  status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) >= 1;
        taken := found;
        exit when taken;
      end loop;
    end if;
  end if;

  if not taken then
    -- The soonest any row of the bucket has a whole token again.
    select min((1 - status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, capacity, window_seconds, moment))
               * window_seconds / capacity)
      into wait_seconds
      from status_private.record_action_allowances as allowance,
           status_private.allowance_of_shard(max_calls, shards, allowance.shard) as capacity
      where allowance.subject_kind = take_record_action_allowance.subject_kind
        and allowance.user_id = take_record_action_allowance.subject
        and allowance.shard < shards;
    perform status_private.refuse_record_actions(subject_kind, max_calls, window_seconds, wait_seconds);
  end if;
end;
$$;
revoke all on function status_private.take_record_action_allowance(text, uuid, integer, integer) from public;

-- `amounts[i]` tokens of user `user_ids[i]`'s bucket (each user once), in one statement, in user order.
-- A user whose bucket lacks them refuses the whole call (the first such user in user order is named by the
-- error's wait: until their bucket holds their events, or is full).
create or replace function status_private.take_user_allowances(user_ids uuid[], amounts integer[], max_calls integer, window_seconds integer)
  returns void
  language plpgsql
as $$
declare
  moment timestamptz := clock_timestamp();
  taken integer;
  refused record;
begin
  if max_calls < 1 then
    return;
  end if;
  -- Excluded tokens = max_calls - the user's amount: a new row starts full, less the amount.
  insert into status_private.record_action_allowances as allowance (subject_kind, user_id, shard, tokens, refilled_at)
    select 'user', wanted.user_id, 0, max_calls - wanted.amount, moment
    from unnest(user_ids, amounts) as wanted (user_id, amount)
    where wanted.amount <= max_calls
    order by wanted.user_id
    on conflict on constraint record_action_allowances_pkey do update
      set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, max_calls, window_seconds, moment)
                   - (max_calls - excluded.tokens),
          refilled_at = moment
      where status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, max_calls, window_seconds, moment)
            >= max_calls - excluded.tokens;
  get diagnostics taken = row_count;
  if taken = cardinality(user_ids) then
    return;
  end if;
  -- The refused users' rows were left as they were (and are locked by this call): their refilled_at is older.
  select wanted.amount, allowance.tokens, allowance.refilled_at into refused
    from unnest(user_ids, amounts) as wanted (user_id, amount)
    left join status_private.record_action_allowances as allowance
      on allowance.subject_kind = 'user' and allowance.user_id = wanted.user_id and allowance.shard = 0
    where allowance.refilled_at is distinct from moment
    order by wanted.user_id
    limit 1;
  perform status_private.refuse_record_actions('user', max_calls, window_seconds,
    (least(refused.amount, max_calls)
     - coalesce(status_private.refilled_tokens(refused.tokens, refused.refilled_at, max_calls, window_seconds, moment), max_calls))
    * window_seconds / max_calls);
end;
$$;
revoke all on function status_private.take_user_allowances(uuid[], integer[], integer, integer) from public;

-- `amount` tokens of a service client's bucket (its shards, as take_record_action_allowance): from one shard
-- that holds them all and that no concurrent call holds, in one statement; otherwise from the shards in shard
-- order, each locked in that order (waiting for concurrent calls), when together they hold them.
create or replace function status_private.take_service_allowance(service_client uuid, amount integer, max_calls integer, window_seconds integer)
  returns void
  language plpgsql
as $$
declare
  shards integer := least(16, max_calls);
  moment timestamptz := clock_timestamp();
  available double precision;
begin
  if max_calls < 1 or amount < 1 then
    return;
  end if;
  -- The client's first call (or a raised limit): its missing rows, full.
  if (select count(*) from status_private.record_action_allowances as allowance
      where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard < shards) < shards then
    insert into status_private.record_action_allowances (subject_kind, user_id, shard, tokens, refilled_at)
      select 'service', service_client, shard, status_private.allowance_of_shard(max_calls, shards, shard), moment
      from generate_series(0, shards - 1) as shard
      on conflict on constraint record_action_allowances_pkey do nothing;
  end if;
  with free as (
    select allowance.shard from status_private.record_action_allowances as allowance
    where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard < shards
      and status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
            status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) >= amount
    order by allowance.shard
    limit 1
    for update skip locked
  )
  update status_private.record_action_allowances as allowance
    set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                   status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) - amount,
        refilled_at = moment
    from free
    where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard = free.shard;
  if found then
    return;
  end if;

  -- Every shard, locked in shard order (the values read are the locked rows'); the whole tokens of each, taken
  -- in that order until the amount is met.
  select sum(floor(status_private.refilled_tokens(locked.tokens, locked.refilled_at,
               status_private.allowance_of_shard(max_calls, shards, locked.shard), window_seconds, moment))) into available
    from (select allowance.shard, allowance.tokens, allowance.refilled_at from status_private.record_action_allowances as allowance
          where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard < shards
          order by allowance.shard
          for update) as locked;
  if available >= amount then
    with whole as (
      select allowance.shard, refilled.tokens, floor(refilled.tokens) as whole_tokens
      from status_private.record_action_allowances as allowance
      cross join lateral (select status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                            status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment) as tokens) as refilled
      where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard < shards
    ), taking as (
      -- What the shards before this one give, then this one's share of what is still wanted.
      select whole.shard, whole.tokens,
             least(whole.whole_tokens, greatest(amount - (sum(whole.whole_tokens) over (order by whole.shard) - whole.whole_tokens), 0)) as take
      from whole
    )
    update status_private.record_action_allowances as allowance
      set tokens = taking.tokens - taking.take, refilled_at = moment
      from taking
      where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard = taking.shard
        and taking.take > 0;
    return;
  end if;
  -- Until the bucket refills what is missing (its shards refill max_calls every window together).
  perform status_private.refuse_record_actions('service', max_calls, window_seconds,
    (least(amount, max_calls) - coalesce((
       select sum(status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                    status_private.allowance_of_shard(max_calls, shards, allowance.shard), window_seconds, moment))
       from status_private.record_action_allowances as allowance
       where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard < shards), 0))
    * window_seconds / max_calls);
end;
$$;
revoke all on function status_private.take_service_allowance(uuid, integer, integer, integer) from public;

-- The rate limits of a batch: one token per event (`user_ids`: the user of each event that counts; a retried
-- key does not) from the service client's bucket (when `service_client` is given), then from each user's.
create or replace function status_private.spend_record_actions_allowance(user_ids uuid[], service_client uuid)
  returns void
  language plpgsql
as $$
declare
  window_seconds integer := coalesce(nullif(status_private.record_action_rate_setting('record_action_rate_window_seconds', 60), 0), 60);
begin
  if cardinality(user_ids) = 0 then
    return;
  end if;
  if service_client is not null then
    perform status_private.take_service_allowance(service_client, cardinality(user_ids),
      status_private.record_action_rate_setting('record_action_service_rate_limit', 6000), window_seconds);
  end if;
  perform status_private.take_user_allowances(per_user.user_ids, per_user.amounts,
      status_private.record_action_rate_setting('record_action_rate_limit', 60), window_seconds)
    from (select array_agg(events.user_id order by events.user_id) as user_ids, array_agg(events.amount order by events.user_id) as amounts
          from (select listed.user_id, count(*)::integer as amount from unnest(user_ids) as listed (user_id) group by listed.user_id) as events) as per_user;
end;
$$;
revoke all on function status_private.spend_record_actions_allowance(uuid[], uuid) from public;

-- The batch. Its events are checked in one query (the first bad event, in order, with the checks one event
-- made when the loop checked them one by one), its rate limits spent in one call, then one insert and one
-- read of the results a round (every user's k-th event in round k), as in migration 000008.
create or replace function status_public.record_actions(events status_public.action_event[])
  returns setof status_public.record_action_result
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
                                                       where recorded.step_id = earlier.id) as previous_unrecorded,
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
    select * into previous from status_public.user_steps where user_steps.id = problem.previous_id;
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
    insert into status_private.recorded_action_results (step_id, result)
      select result.step_id, to_jsonb(result)
      from unnest(round_answers) as result
      join unnest(fresh) as step on step.id = result.step_id
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

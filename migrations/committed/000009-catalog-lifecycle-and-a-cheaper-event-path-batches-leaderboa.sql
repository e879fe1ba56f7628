--! Previous: sha1:8e3d3d2c7af8165376c2880e68c892a4c5064df7
--! Hash: sha1:936b44f7fb4a826c729728a09b635a19e7412ff8
--! Message: Catalog lifecycle and a cheaper event path: batches, leaderboard reads, fewer writes per event, catalog as code, almost there, outbox and webhooks, rule versions and provenance, points multipliers, backfill

--! split: 2-batches.sql
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

--! split: 3-leaderboard-reads.sql
-- Leaderboard reads, cheaper (issue 10's read goal). Measured on bench:reads' database (100,000 users) with
-- EXPLAIN ANALYZE and auto_explain (nested statements): the index scans themselves cost a few hundredths of a
-- millisecond; the rest was around them: a PL/pgSQL call (with its SET clauses) for each rank_of() inside the
-- page's statement, the executor setting up a subplan per histogram lookup (even those never run), a second
-- lookup of the page's score rows by key, two histogram lookups per page, and my_rank() summing the board's
-- buckets twice (for the rank, then for the board's size). Now:
-- - the histogram counts are LANGUAGE sql table functions (users_above, users_up_to, users_at) that
--   PostgreSQL inlines into the calling statement (no SET clause, no SECURITY DEFINER, arguments without
--   subqueries: the conditions for inlining);
-- - a page needs one histogram lookup (for its first score), none for the first page, and comes with its
--   points from the caller's own index scan;
-- - my_rank() counts the users above and up to the user's points: each histogram row is read once;
-- - each public function is PL/pgSQL whose statements keep one generic plan per session.
-- rank_of() and board_users() stay as scalar wrappers for ad-hoc callers (tests, benchmarks).

-- How many visible users have more than `points` on a board: the folded histogram (higher buckets, then
-- higher points in the same bucket) plus the deltas not folded yet. The one home of the rank maths.
create or replace function status_private.users_above(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.period = board and buckets.period_start = board_start and buckets.bucket > users_above.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start
                      and counts.points > users_above.points and counts.points < (users_above.points / 100 + 1) * 100), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points > users_above.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_above(status_public.leaderboard_period, date, integer) is
  E'How many visible users have more than `points` on the board (folded histogram plus pending deltas): a rank is 1 + this. Inlined into the reads that call it.';

-- How many visible users have exactly `points` on a board (folded plus pending).
create or replace function status_private.users_at(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select counts.users from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start and counts.points = users_at.points), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points = users_at.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_at(status_public.leaderboard_period, date, integer) is
  E'How many visible users have exactly `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

-- How many visible users have at most `points` (the mirror of users_above: together they scan each level of
-- the histogram once, where users_above plus a sum of the whole board scanned it twice).
create or replace function status_private.users_up_to(board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select (coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                    where buckets.period = board and buckets.period_start = board_start and buckets.bucket < users_up_to.points / 100), 0)
        + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                    where counts.period = board and counts.period_start = board_start
                      and counts.points >= users_up_to.points / 100 * 100 and counts.points <= users_up_to.points), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start and deltas.points <= users_up_to.points), 0))::integer
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
comment on function status_private.users_up_to(status_public.leaderboard_period, date, integer) is
  E'How many visible users have at most `points` on the board (folded histogram plus pending deltas). Inlined into the reads that call it.';

create or replace function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
begin
  return 1 + (select above.users from status_private.users_above(board, board_start, rank_of.points) as above);
end;
$$;

-- How many visible users the board has: those with more than 0 points (every score is positive).
create or replace function status_private.board_users(board status_public.leaderboard_period, board_start date) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
begin
  return (select above.users from status_private.users_above(board, board_start, 0) as above);
end;
$$;

-- A page of entries (top N, or the window around a user): visible users in board order, with their points.
-- The page is contiguous in board order, so the histogram is needed for its first score only (users before
-- the page may share it); every other rank is the number of users before the page (`page_offset`, when the
-- caller knows it) plus the rank within the page. The page comes as arrays from the caller's own index scan
-- (no second lookup of its score rows). Plain SQL, inlined into the caller's statement when its arguments are
-- variables (an argument holding a subquery would stop the inlining).
drop function if exists status_private.leaderboard_entries(status_public.leaderboard_period, date, uuid[]);
create or replace function status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date,
                                                              page_users uuid[], page_points integer[], page_offset integer)
  returns setof status_public.leaderboard_entry
  language sql stable
as $$
  with first_score as materialized (
    select 1 + above.users as rank,
           -- Around a user the page's offset is unknown: the users above its first score, plus those with that
           -- score, less the page's own.
           coalesce(page_offset,
                    above.users + (select at_first.users from status_private.users_at(board, board_start, page_points[1]) as at_first)
                                - cardinality(array_positions(page_points, page_points[1]))) as users_before_page
    from (select case when page_offset = 0 then 0 -- no one is before the first page
                      else (select above.users from status_private.users_above(board, board_start, page_points[1]) as above)
                 end as users
          offset 0) as above -- a fence: looked up once, though referred to twice
  ), ranked as (
    select page.user_id, page.points, page.place,
           case when page.points = page_points[1] then first_score.rank
                else first_score.users_before_page + (rank() over (order by page.points desc))::integer
           end as rank
    from unnest(page_users, page_points) with ordinality as page(user_id, points, place)
    cross join first_score
  )
  select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
         case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
  from ranked
  left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
  left join status_public.user_scores as overall on overall.user_id = ranked.user_id
  left join status_public.tiers as tier on tier.name = overall.tier
  order by ranked.place;
$$;

-- The public reads. Each is SECURITY DEFINER (ranks count other users' rows, which row-level security hides
-- from a user) and PL/pgSQL with forced generic plans: its statements are planned once per session (they are
-- index lookups by key, right for every argument), never again per call for a custom plan.
-- No bitmap scans, as in rank_of: plain index scans over the deltas mark folded (deleted) ones dead.
create or replace function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10, "offset" integer default 0)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  board_start date := status_private.period_start(period, now());
  page_users uuid[];
  page_points integer[];
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  select coalesce(array_agg(page.user_id order by page.points desc, page.reached_at, page.user_id), '{}'),
         coalesce(array_agg(page.points order by page.points desc, page.reached_at, page.user_id), '{}')
    into page_users, page_points
    from (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard.period and score.period_start = board_start and score.visible
          order by score.points desc, score.reached_at, score.user_id
          limit first offset "offset") as page;
  return query select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, "offset");
end;
$$;

create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME')
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  -- One statement: the user's score row, the users above it and those up to it (the board's size).
  select mine.points, 1 + above.users,
         -- The visible users, plus the viewer when not among them (no points yet, or opted out).
         above.users + up_to.users + case when mine.visible then 0 else 1 end
    into result.points, result.rank, result.total_users
    from (select coalesce(max(score.points), 0) as points, coalesce(bool_or(score.visible), false) as visible
          from status_public.leaderboard_scores as score
          where score.period = my_rank.period and score.period_start = board_start and score.user_id = me) as mine
    cross join lateral status_private.users_above(period, board_start, mine.points) as above
    cross join lateral status_private.users_up_to(period, board_start, mine.points) as up_to;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;

-- The users just above and just below the signed-in one. Each side is two index ranges (the same points on
-- one side of the user, then other points), not one OR, which would walk the board from its top.
create or replace function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
  set enable_bitmapscan to off
as $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
  page_users uuid[];
  page_points integer[];
begin
  if me is null then
    raise exception 'Sign in to see the leaderboard around you' using errcode = 'AC401';
  end if;
  if radius is null or radius not between 1 and 50 then
    raise exception 'radius must be from 1 to 50' using errcode = 'AC400';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  -- The visible users nearest the user's place in board order (the lowest scores for a user not on the
  -- board: they are "around" a user with no points), and the user when visible, in board order.
  select coalesce(array_agg(near.user_id order by near.points desc, near.reached_at, near.user_id), '{}'),
         coalesce(array_agg(near.points order by near.points desc, near.reached_at, near.user_id), '{}')
    into page_users, page_points
    from (
      (select above.user_id, above.points, above.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
          order by score.reached_at desc, score.user_id desc
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points > coalesce(mine.points, 0)
          order by score.points, score.reached_at desc, score.user_id desc
          limit radius)
       ) as above
       order by above.points, above.reached_at desc, above.user_id desc
       limit radius)
      union all
      (select below.user_id, below.points, below.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) > (mine.reached_at, me)
          order by score.reached_at, score.user_id
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points < mine.points
          order by score.points desc, score.reached_at, score.user_id
          limit radius)
       ) as below
       order by below.points desc, below.reached_at, below.user_id
       limit radius)
      union all
      select me, mine.points, mine.reached_at where mine.visible
    ) as near;
  if mine.visible is false then
    -- Opted out: the window of visible users, and the user's own row with the rank they would have, in board order.
    return query
      select entry.*
      from (select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, null)
            union all
            select * from status_private.leaderboard_entries(period, board_start, array[me], array[mine.points], null)) as entry
      join status_public.leaderboard_scores as score
        on score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = entry.user_id
      order by entry.points desc, score.reached_at, entry.user_id;
    return;
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, page_users, page_points, null);
end;
$$;

--! split: 4-event-path-cost.sql
-- Issue 10, the cost of one event: the same event path (migration 000008) with fewer rows written and fewer
-- statements run per event (bench/README.md, "The cost of one event", has the measurements). Each change says
-- what it saves where it is made. Behaviour is unchanged: the unlock in the action's transaction, exactly
-- once, notifications on commit, idempotent retries, exact ranks.

-- Entry: a step without an idempotency key is a plain insert. Its unique key (user_id, idempotency_key) cannot
-- conflict on a NULL key, and ON CONFLICT costs a speculative insertion (a speculative-insertion lock, a
-- pre-check of the key, and a confirmation record in the WAL) on every event.
create or replace function status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz)
  returns status_public.record_action_result
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
    insert into status_private.recorded_action_results (step_id, result) values (step.id, to_jsonb(result));
  end if;
  return result;
end;
$$;

-- Stage 2: a streak already at (or past) the step's day does not move, so it is not rewritten: before, every
-- event wrote a new version of both of the user's streak rows (the same values and a new updated_at).
-- updated_at is now when the streak last moved. The upsert still locks the row it leaves alone (so a
-- concurrent step of the same day waits, as before); a filter before the upsert would save that lock too, but
-- its generic plan, made while user_streaks is small, scans the table on every event.
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

-- Stage 3: most events unlock nothing. The candidates are found first, and only when there are some does the
-- stage insert unlocks and ledger rows: a statement-level trigger fires even for an insert of no rows, so the
-- points trigger (scores, tiers, boards) used to run on every event.
-- An achievement already unlocked is left out before its criteria are evaluated.
-- A candidate unlock, between the search and the insert (a type of its own, not the table's row type, which
-- changes whenever achievement_unlocks gains a column).
do $$ begin
  create type status_private.unlock_candidate as (user_id uuid, achievement_id text, points integer, step_id uuid);
exception when duplicate_object then null;
end $$;
create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
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
      cross join lateral (
        -- Two index lookups, not one OR (an OR would scan every criterion in a generic plan).
        select criterion.achievement_id from status_public.achievement_criteria as criterion where criterion.action = step.name
        union
        select criterion.achievement_id from status_public.achievement_criteria as criterion
          where criterion.action is null and criterion.kind = 'streak'
      ) as named
      -- By primary key, one candidate at a time (offset 0 keeps it a lookup): a plan cached while the catalog
      -- was small would otherwise hash the whole catalog on every event once it has grown. Not unlocked yet:
      -- checked here, before the criteria.
      cross join lateral (
        select achievement.* from status_public.achievements as achievement
        where achievement.id = named.achievement_id
          and not exists (
            select from status_public.achievement_unlocks as unlock
            where unlock.user_id = step.user_id and unlock.achievement_id = achievement.id)
        offset 0
      ) as achievement
      where step.count > 0
        and (achievement.available_from is null or achievement.available_from <= step.occurred_at)
        and (achievement.available_until is null or step.occurred_at < achievement.available_until)
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
  -- The unique key makes each unlock happen exactly once, even when concurrent transactions cross the
  -- threshold together (the loser's insert does nothing).
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
end;
$$;

-- Stage 4: most actions count towards no level (in the demo catalog, none of `tasks_completed`'s): one probe
-- of the requirements' key then, instead of the insert's plan over levels, requirements and tallies.
create or replace function status_private.achieve_levels(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
begin
  if not exists (
    select from unnest(steps) as step
    where step.count > 0
      -- By the requirements' key (name, level), whatever the cached plan.
      and (select true from status_public.level_requirements as requirement where requirement.name = step.name limit 1)
  ) then
    return;
  end if;
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

-- Scores: the points trigger returns at once when the statement inserted no ledger rows, and skips the tier
-- notifications and the histogram's deltas when there are none (a statement each). Otherwise as in 000008.
create or replace function status_private.tg_points_ledger__scores() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
declare
  -- Each user's awards of the statement, summed (period NULL), and per board.
  user_awards status_private.board_award[];
  awards status_private.board_award[];
  -- Points only added (the usual case): one upsert each for the scores and the boards.
  only_gains boolean;
  tiers_before status_private.user_tier[];
  tiers_changed status_private.user_tier[];
  moves status_private.histogram_move[];
begin
  select array_agg(row(null, null, per_user.user_id, per_user.points, per_user.reached_at)::status_private.board_award
                   order by per_user.user_id),
         bool_and(per_user.points > 0)
    into user_awards, only_gains
    from (select awarded.user_id, sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded group by awarded.user_id) as per_user;
  -- A statement trigger runs even for an insert of no rows: nothing to do then.
  if user_awards is null then
    return null;
  end if;
  select array_agg(row(per_board.period, per_board.period_start, per_board.user_id, per_board.points, per_board.reached_at)::status_private.board_award
                   order by per_board.period, per_board.period_start, per_board.user_id)
    into awards
    from (select board.period, status_private.period_start(board.period, awarded.created_at) as period_start, awarded.user_id,
                 sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
          group by 1, 2, 3) as per_board;

  -- Scores and tiers, and a notification for each tier that changed.
  if only_gains then
    -- The tier before is the tier of the points before.
    with upserted as (
      insert into status_public.user_scores as current_score (user_id, points, tier, reached_at)
      select award.user_id, award.points, status_private.tier_for(award.points), award.reached_at
      from unnest(user_awards) as award
      order by award.user_id
      on conflict (user_id) do update
        set points = current_score.points + excluded.points,
            tier = status_private.tier_for(current_score.points + excluded.points),
            reached_at = excluded.reached_at
      returning current_score.user_id, current_score.points, current_score.tier, (current_score.xmax = 0) as inserted
    )
    select coalesce(array_agg(row(upserted.user_id, upserted.tier)::status_private.user_tier), '{}') into tiers_changed
      from upserted join unnest(user_awards) as award using (user_id)
      where upserted.inserted or upserted.tier is distinct from status_private.tier_for(upserted.points - award.points);
  else
    -- Points taken back (never below zero). The tiers before, the score rows locked in one order (no deadlock
    -- between two statements awarding the same users); rows for the users who have none; then the others'
    -- new scores (a new statement, so that it also sees a row that a concurrent first award inserted meanwhile).
    select coalesce(array_agg(row(score.user_id, score.tier)::status_private.user_tier), '{}') into tiers_before
      from (select score.user_id, score.tier from status_public.user_scores as score
            where score.user_id in (select award.user_id from unnest(user_awards) as award)
            order by score.user_id
            for update) as score;
    with inserted as (
      insert into status_public.user_scores (user_id, points, tier, reached_at)
      select award.user_id, greatest(award.points, 0), status_private.tier_for(greatest(award.points, 0)), award.reached_at
      from unnest(user_awards) as award
      where not exists (select from unnest(tiers_before) as before where before.user_id = award.user_id)
      order by award.user_id
      on conflict (user_id) do nothing
      returning user_id, tier
    )
    select coalesce(array_agg(row(inserted.user_id, inserted.tier)::status_private.user_tier), '{}') into tiers_changed from inserted;
    with updated as (
      update status_public.user_scores as score
        set points = greatest(score.points + award.points, 0),
            tier = status_private.tier_for(greatest(score.points + award.points, 0)),
            reached_at = award.reached_at
        from unnest(user_awards) as award
        where score.user_id = award.user_id
          and not exists (select from unnest(tiers_changed) as inserted where inserted.user_id = award.user_id)
        returning score.user_id, score.tier
    )
    select tiers_changed || coalesce(array_agg(row(updated.user_id, updated.tier)::status_private.user_tier), '{}') into tiers_changed
      from updated
      left join unnest(tiers_before) as before on before.user_id = updated.user_id
      where updated.tier is distinct from before.tier;
  end if;
  if cardinality(tiers_changed) > 0 then
    perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
      from unnest(tiers_changed) as changed;
  end if;

  -- The boards: each period's score. A board holds positive scores only: one that falls to zero or below
  -- leaves it. After a take-back, the existing rows are moved (or leave) first.
  if not only_gains then
    with moved as (
      update status_public.leaderboard_scores as score
        set points = score.points + award.points, reached_at = award.reached_at
        from unnest(awards) as award
        where score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
          and award.points <> 0 and score.points + award.points > 0
        returning score.period, score.period_start, score.points - award.points as from_points, score.points as to_points, score.visible
    ), left_board as (
      delete from status_public.leaderboard_scores as score
        using unnest(awards) as award
        where score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
          and score.points + award.points <= 0
        returning score.period, score.period_start, score.points as from_points, null::integer as to_points, score.visible
    )
    select array_agg(row(changed.period, changed.period_start, changed.from_points, changed.to_points)::status_private.histogram_move)
      into moves
      from (select * from moved union all select * from left_board) as changed
      where changed.visible;
  end if;
  -- Gains: every board in one upsert. After a take-back: the boards the user is new to (or that a concurrent
  -- first award created meanwhile: added to, as an existing row).
  with joined as (
    insert into status_public.leaderboard_scores as score (period, period_start, user_id, points, reached_at, visible)
    select award.period, award.period_start, award.user_id, award.points, award.reached_at,
           not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = award.user_id), false)
    from unnest(awards) as award
    where award.points > 0
      and (only_gains or not exists (
        select from status_public.leaderboard_scores as existing
        where existing.period = award.period and existing.period_start = award.period_start and existing.user_id = award.user_id))
    on conflict (period, period_start, user_id) do update
      set points = score.points + excluded.points, reached_at = excluded.reached_at
    returning score.period, score.period_start, score.user_id, score.points, score.visible, (score.xmax = 0) as inserted
  )
  select coalesce(moves, '{}') || coalesce(array_agg(row(joined.period, joined.period_start,
                                                         case when not joined.inserted then joined.points - award.points end,
                                                         joined.points)::status_private.histogram_move), '{}')
    into moves
    from joined
    join unnest(awards) as award using (period, period_start, user_id)
    where joined.visible;
  if cardinality(moves) > 0 then
    perform status_private.append_histogram_moves(moves);
  end if;
  return null;
end;
$$;

--! split: 5-catalog.sql
-- Catalog as code (issue 11; src/catalog/): a retired state for achievements that a catalog file removes while
-- users hold them, and the two counts a plan reports that need every user's progress through the engine's own
-- functions (the criterion registry, tier_for), which no API role may call.

-- Retired: removed from the catalog file while users held it. The row stays so that the unlocks (and the points
-- they awarded) stay; its criteria are deleted, so that it never unlocks again (the unlock stage finds
-- achievements through their criteria), and it is hidden, so that only its holders see it.
alter table status_public.achievements add column if not exists retired_at timestamptz;
comment on column status_public.achievements.retired_at is
  E'When a catalog apply retired it (removed from the catalog while users held it): it no longer unlocks and only its holders see it. NULL: in the catalog.';
grant insert (retired_at), update (retired_at) on status_public.achievements to :ADMIN_ROLE;

-- A retired achievement is nothing left to discover: it is not counted among the hidden ones still locked.
create or replace function status_public.hidden_locked_count() returns integer
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select count(*)::integer from status_public.achievements as achievement
  where achievement.hidden
    and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = jwt_public.current_user_id() and unlock.achievement_id = achievement.id);
$$;
comment on function status_public.hidden_locked_count() is E'How many hidden achievements the signed-in user has not unlocked yet.';

-- The plan's impact on achievements, as the catalog stands in the caller's transaction (a plan runs it after
-- its changes, in a savepoint it rolls back). Definer: it reads every user's progress through
-- status_private.criterion_progress, the registry the unlock stage uses, at each user's local time as
-- myAchievements does; it returns counts only.
drop function if exists status_public.catalog_unlock_impact(text[]);
create function status_public.catalog_unlock_impact(achievement_ids text[])
  returns table (achievement_id text, holders integer, qualifying integer)
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select achievement.id,
         (select count(*)::integer from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id),
         case when achievement.retired_at is null
                   and (achievement.available_from is null or achievement.available_from <= now())
                   and (achievement.available_until is null or now() < achievement.available_until)
           then (select count(*)::integer
                 from status_public.user_scores as score
                 cross join lateral (select now() at time zone status_private.time_zone_of(score.user_id) as local_now) as moment
                 where not exists (select from status_public.achievement_unlocks as unlock
                                   where unlock.user_id = score.user_id and unlock.achievement_id = achievement.id)
                   -- Every criterion holds (none: never, as in the unlock stage).
                   and (select bool_and(exists (
                          select from status_private.criterion_progress(criterion, score.user_id, null, moment.local_now) as progress
                          where progress.current >= progress.target))
                        from status_public.achievement_criteria as criterion
                        where criterion.achievement_id = achievement.id))
           else 0
         end
  from status_public.achievements as achievement
  where achievement.id = any(achievement_ids)
  order by achievement.id;
$$;
comment on function status_public.catalog_unlock_impact(text[]) is
  E'@behavior -*\nFor catalog plans (admins): per achievement, how many users hold it and how many active users who do not would meet all its criteria now, while it is available.';
revoke all on function status_public.catalog_unlock_impact(text[]) from public;
grant execute on function status_public.catalog_unlock_impact(text[]) to :ADMIN_ROLE;

-- The plan's impact on tiers: the users whose stored tier differs from the tier their points give under the
-- tiers as they stand in the caller's transaction. Definer: status_private.tier_for is the scores stage's own.
drop function if exists status_public.catalog_tier_impact();
create function status_public.catalog_tier_impact()
  returns table (from_tier text, to_tier text, users integer)
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  select moved.from_tier, moved.to_tier, count(*)::integer
  from (select score.tier as from_tier, status_private.tier_for(score.points) as to_tier from status_public.user_scores as score) as moved
  where moved.from_tier is distinct from moved.to_tier
  group by moved.from_tier, moved.to_tier
  order by count(*) desc, moved.from_tier, moved.to_tier;
$$;
comment on function status_public.catalog_tier_impact() is
  E'@behavior -*\nFor catalog plans (admins): how many users would move from one tier to another under the current tiers.';
revoke all on function status_public.catalog_tier_impact() from public;
grant execute on function status_public.catalog_tier_impact() to :ADMIN_ROLE;

--! split: 6-almost-there.sql
-- "Almost there" (issue 11, engagement): the signed-in user's locked achievements closest to unlocking, each
-- with what remains. Progress comes from my_achievements(), itself from the criterion registry
-- (status_private.criterion_progress): one home for the progress maths. Each criterion now also carries the
-- registry's target, so that an achievement's current / target / remaining add its criteria's up.

do $$ begin
  alter type status_public.criterion_progress add attribute target integer;
exception when duplicate_column then null;
end $$;
comment on column status_public.criterion_progress.target is
  E'@notNull\nThe value `current` must reach: count and streak: the threshold; time_of_day: 1.';

-- my_achievements() as in migration 000008 (7-progress.sql), with each criterion's target.
create or replace function status_public.my_achievements() returns setof status_public.achievement_progress
  language sql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
  -- Hidden achievements the user has not unlocked are left out: see hidden_locked_count in myDashboard.
  with me as (
    select jwt_public.current_user_id() as user_id,
           now() at time zone status_private.time_zone_of(jwt_public.current_user_id()) as local_now
  ), criteria as (
    select criterion.achievement_id, criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until,
           progress.current, progress.target
    from me
    cross join status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(criterion, me.user_id, null, me.local_now) as progress
  )
  select achievement.id, achievement.name, achievement.description, achievement.icon, achievement.points, achievement.kind,
         achievement.hidden, achievement.available_from, achievement.available_until,
         unlock.id is not null, unlock.unlocked_at,
         case when unlock.id is not null then 100
              else least(99, coalesce((select floor(avg(least(100, 100.0 * c.current / c.target)))::integer
                                       from criteria c where c.achievement_id = achievement.id), 0))
         end,
         coalesce((select array_agg(row(c.kind, c.action, c.threshold, c.hour_from, c.hour_until, c.current,
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer,
                                        c.target
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;

do $$ begin
  create type status_public.almost_there as (
    achievement_id text,
    name text,
    description text,
    icon text,
    points integer,
    kind status_public.achievement_kind,
    available_until timestamptz,
    percent integer,
    current integer,
    target integer,
    remaining integer,
    criteria status_public.criterion_progress[]
  );
exception when duplicate_object then null;
end $$;
comment on type status_public.almost_there is
  E'A locked achievement the signed-in user is close to unlocking, with what remains.';
comment on column status_public.almost_there.achievement_id is E'@notNull';
comment on column status_public.almost_there.name is E'@notNull';
comment on column status_public.almost_there.description is E'@notNull';
comment on column status_public.almost_there.points is E'@notNull';
comment on column status_public.almost_there.kind is E'@notNull';
comment on column status_public.almost_there.available_until is E'When it can no longer be unlocked (NULL: never).';
comment on column status_public.almost_there.percent is E'@notNull\nAs in myAchievements: the mean of the criteria''s percentages, at most 99 while locked.';
comment on column status_public.almost_there.current is E'@notNull\nThe criteria''s current values added up, each capped at its target.';
comment on column status_public.almost_there.target is E'@notNull\nThe criteria''s targets added up.';
comment on column status_public.almost_there.remaining is E'@notNull\nWhat is left: target - current (the criteria''s `remaining` added up).';
comment on column status_public.almost_there.criteria is E'@notNull\n@notNullItems';

-- SECURITY INVOKER: it reads only my_achievements(), which answers for the signed-in user alone.
create or replace function status_public.my_almost_there(min_percent integer default 80, first integer default 5)
  returns status_public.almost_there[]
  language plpgsql stable
as $$
begin
  if jwt_public.current_user_id() is null then
    raise exception 'Sign in to see the achievements you are close to' using errcode = 'AC401';
  end if;
  if min_percent is null or min_percent not between 0 and 100 then
    raise exception 'minPercent must be from 0 to 100' using errcode = 'AC400';
  end if;
  if first is null or first not between 1 and 100 then
    raise exception 'first must be from 1 to 100' using errcode = 'AC400';
  end if;
  return array(
    select row(progress.achievement_id, progress.name, progress.description, progress.icon, progress.points, progress.kind,
               progress.available_until, progress.percent, totals.current, totals.target, totals.target - totals.current,
               progress.criteria)::status_public.almost_there
    from status_public.my_achievements() with ordinality as progress
    cross join lateral (
      select coalesce(sum(least(criterion.current, criterion.target)), 0)::integer as current,
             coalesce(sum(criterion.target), 0)::integer as target
      from unnest(progress.criteria) as criterion
    ) as totals
    where not progress.unlocked and progress.percent >= min_percent
      -- Only what can still be unlocked now: not before or after its time window.
      and (progress.available_from is null or progress.available_from <= now())
      and (progress.available_until is null or progress.available_until > now())
    -- Closest first; then the fewest steps left; then the catalog's order (my_achievements' own).
    order by progress.percent desc, totals.target - totals.current, progress.ordinality
    limit first);
end;
$$;
comment on function status_public.my_almost_there(integer, integer) is
  E'@notNullItems\nThe signed-in user''s locked achievements whose progress is at least `minPercent` (0 to 100, default 80), closest first (then the fewest steps left, then the catalog''s order), at most `first` (1 to 100, default 5) of them, each with what remains. Hidden achievements stay hidden; only achievements that can be unlocked now are listed. Null (with an UNAUTHENTICATED error) when not signed in.';
grant execute on function status_public.my_almost_there(integer, integer) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

-- The dashboard lists them too, with my_almost_there()'s defaults.
do $$ begin
  alter type status_public.dashboard add attribute almost_there status_public.almost_there[];
exception when duplicate_column then null;
end $$;
comment on column status_public.dashboard.almost_there is
  E'@notNull\n@notNullItems\nThe locked achievements closest to unlocking, as `myAlmostThere` with its defaults: at least 80 percent, at most 5.';

-- my_dashboard() as it stands (migrations/schema.sql), with almost_there.
create or replace function status_public.my_dashboard() returns status_public.dashboard
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in_user uuid := jwt_public.current_user_id();
  today date := (now() at time zone status_private.time_zone_of(jwt_public.current_user_id()))::date;
  dashboard status_public.dashboard;
begin
  if signed_in_user is null then
    raise exception 'Sign in to see your dashboard' using errcode = 'AC401';
  end if;
  dashboard.user_id := signed_in_user;
  dashboard.tier := status_public.my_tier();
  select coalesce(array_agg(progress) filter (where progress.unlocked), '{}'),
         coalesce(array_agg(progress) filter (where not progress.unlocked), '{}')
    into dashboard.unlocked, dashboard.locked
    from status_public.my_achievements() as progress;
  dashboard.almost_there := status_public.my_almost_there();
  dashboard.hidden_locked_count := status_public.hidden_locked_count();
  select coalesce(array_agg(row(tally.name, tally.count)::status_public.tally order by tally.name), '{}') into dashboard.tallies
    from status_public.user_achievements as tally where tally.user_id = signed_in_user;
  select coalesce(array_agg(row(streak.action, status_private.streak_as_of(streak.current_length, streak.last_day, today),
                                streak.longest_length, streak.last_day)::status_public.streak_summary
                            order by streak.action nulls first), '{}')
    into dashboard.streaks
    from status_public.user_streaks as streak where streak.user_id = signed_in_user;
  select coalesce(status_private.streak_as_of(streak.current_length, streak.last_day, today), 0), coalesce(streak.longest_length, 0)
    into dashboard.current_streak, dashboard.longest_streak
    from (select 1) as one
    left join status_public.user_streaks as streak on streak.user_id = signed_in_user and streak.action is null;
  return dashboard;
end;
$$;

--! split: 7-outbox.sql
-- Events for backends (issue 11): every unlock, tier change and level is also written to an outbox, in the
-- transaction that made it, by statement triggers of its own on the tables where they land (the event path's
-- stages are not touched). A publisher (status_private.publish_outbox_events, run by the webhook dispatcher,
-- src/webhook-dispatcher.ts) then gives the committed events their position, the cursor of the service's
-- `achievementEvents` stream, and queues one webhook delivery per subscribed endpoint.
--
-- Why a publisher: an identity id is taken when a row is inserted, not when its transaction commits, so a reader
-- that resumed after the highest id it saw could skip a lower id that committed later. Positions are given by one
-- publisher at a time (an advisory lock held until its commit) to the events committed when it runs, so a later
-- publication always has higher positions and becomes visible after the earlier one: a cursor never skips an
-- event. The event path itself locks nothing shared: each transaction only appends its own rows.

-- What happened: the `kind` of an event and the kinds an endpoint subscribes to.
do $$
begin
  create type status_public.achievement_event_kind as enum ('achievement_unlocked', 'tier_changed', 'level_achieved');
exception when duplicate_object then null;
end;
$$;
comment on type status_public.achievement_event_kind is
  E'What an event for backends says happened: an unlock, a tier change or a level achieved.';

do $$
begin
  create type status_public.webhook_delivery_state as enum ('pending', 'delivered', 'dead');
exception when duplicate_object then null;
end;
$$;
comment on type status_public.webhook_delivery_state is
  E'`pending`: to be sent (again) at `nextAttemptAt`; `delivered`: the endpoint answered 2xx; `dead`: every attempt failed (an admin may retry it).';

create table if not exists status_private.outbox_events (
  id bigint generated by default as identity primary key,
  kind status_public.achievement_event_kind not null,
  user_id uuid not null,
  occurred_at timestamptz not null,
  payload jsonb not null,
  -- NULL until published (status_private.publish_outbox_events); then the event's place in the stream.
  position bigint,
  -- NULL until published.
  published_at timestamptz
);
-- Partial indexes: an insert on the event path adds two index entries (the key and the unpublished one), not three.
create index if not exists outbox_events_unpublished on status_private.outbox_events (id) where position is null;
create unique index if not exists outbox_events_position on status_private.outbox_events (position) where position is not null;
alter table status_private.outbox_events enable row level security;
-- No policy and no grant: only the owner's functions below read and write it.
comment on table status_private.outbox_events is
  E'Every unlock, tier change and level achieved, written in the transaction that made it; published (given a position) after commit for webhooks and `achievementEvents`.';

create sequence if not exists status_private.outbox_event_positions as bigint;

create table if not exists status_public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  url text not null check (url ~ '^https?://[^\s]+$' and length(url) <= 2000),
  description text not null default '' check (length(description) <= 1000),
  kinds status_public.achievement_event_kind[] not null default enum_range(null::status_public.achievement_event_kind)
    check (cardinality(kinds) >= 1 and array_position(kinds, null) is null),
  enabled boolean not null default true,
  secret_hint text not null,
  created_at timestamptz not null default now()
);
alter table status_public.webhook_endpoints enable row level security;
drop policy if exists manage_as_admin on status_public.webhook_endpoints;
create policy manage_as_admin on status_public.webhook_endpoints for all to :ADMIN_ROLE using (true) with check (true);
grant select, update (url, description, kinds, enabled), delete on status_public.webhook_endpoints to :ADMIN_ROLE;
comment on table status_public.webhook_endpoints is
  E'@behavior -insert\nWhere events for backends are posted, signed (Standard Webhooks). Admins only: create one with `createWebhookEndpoint`, which shows its secret once.';
comment on column status_public.webhook_endpoints.url is E'The http(s) URL events are POSTed to.';
comment on column status_public.webhook_endpoints.kinds is E'@notNullItems\nThe kinds of events sent to it.';
comment on column status_public.webhook_endpoints.enabled is E'Disabled: no new deliveries are queued for it (queued ones are still sent).';
comment on column status_public.webhook_endpoints.secret_hint is E'The start of the signing secret, to tell secrets apart (the secret itself is shown only once).';

-- The signing secrets (`whsec_` + base64 of 32 random bytes), apart, so that no API role can read one: each is
-- shown once, by create_webhook_endpoint and rotate_webhook_endpoint_secret. Kept in clear: HMAC needs it.
create table if not exists status_private.webhook_endpoint_secrets (
  endpoint_id uuid primary key references status_public.webhook_endpoints (id) on delete cascade,
  secret text not null
);
alter table status_private.webhook_endpoint_secrets enable row level security;
-- No policy and no grant: only the owner's functions below read and write it.
comment on table status_private.webhook_endpoint_secrets is E'Each webhook endpoint''s signing secret.';

create table if not exists status_public.webhook_deliveries (
  -- The delivery id, sent as `webhook-id`: the same for every attempt, so a receiver can drop duplicates.
  id uuid primary key default gen_random_uuid(),
  endpoint_id uuid not null references status_public.webhook_endpoints (id) on delete cascade,
  event_id bigint not null references status_private.outbox_events (id) on delete cascade,
  state status_public.webhook_delivery_state not null default 'pending',
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  -- NULL before the first attempt.
  last_attempt_at timestamptz,
  -- NULL when the last attempt succeeded or none was made.
  last_error text,
  -- NULL until delivered.
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (endpoint_id, event_id)
);
create index if not exists webhook_deliveries_due on status_public.webhook_deliveries (next_attempt_at) where state = 'pending';
create index if not exists webhook_deliveries_event on status_public.webhook_deliveries (event_id);
alter table status_public.webhook_deliveries enable row level security;
drop policy if exists manage_as_admin on status_public.webhook_deliveries;
create policy manage_as_admin on status_public.webhook_deliveries for all to :ADMIN_ROLE using (true) with check (true);
grant select, delete on status_public.webhook_deliveries to :ADMIN_ROLE;
comment on table status_public.webhook_deliveries is
  E'@behavior -insert -update\nEach event to send to each endpoint, with its attempts. Admins see the dead letters (`state: DEAD`), retry one with `retryWebhookDelivery` or delete it.';
comment on column status_public.webhook_deliveries.id is E'The delivery id (the `webhook-id` header): the same for every attempt.';
comment on column status_public.webhook_deliveries.event_id is E'The event''s id in the outbox.';
comment on column status_public.webhook_deliveries.state is E'@behavior +filterBy\nWhere the delivery stands (filter on `DEAD` for the dead letters).';
comment on column status_public.webhook_deliveries.next_attempt_at is E'When a pending delivery is (re)sent.';
comment on column status_public.webhook_deliveries.last_error is E'Why the last attempt failed (HTTP status, timeout, connection error).';

-- The outbox rows, from the statement triggers below: one row per unlock, tier change or level, none otherwise.
-- Definer (no API role writes the outbox): a catalog change can fire them as an admin (deleting a tier sets
-- `user_scores.tier` to NULL, a tier change). No `plan_cache_mode` SET as the stages have: they run on every
-- statement of the event path, and each SET clause costs every call.

create or replace function status_private.tg_achievement_unlocks__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
  select 'achievement_unlocked', unlock.user_id, unlock.unlocked_at,
         jsonb_build_object('userId', unlock.user_id, 'unlockId', unlock.id, 'achievementId', unlock.achievement_id,
                            'achievementName', achievement.name, 'points', unlock.points, 'cursor', unlock.cursor,
                            'unlockedAt', unlock.unlocked_at)
  from new_unlocks as unlock
  join status_public.achievements as achievement on achievement.id = unlock.achievement_id
  order by unlock.user_id, unlock.cursor;
  if found then
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;
drop trigger if exists _600_outbox on status_public.achievement_unlocks;
create trigger _600_outbox after insert on status_public.achievement_unlocks
  referencing new table as new_unlocks for each statement execute function status_private.tg_achievement_unlocks__outbox();

create or replace function status_private.tg_user_levels__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
  select 'level_achieved', achieved.user_id, achieved.achieved_at,
         jsonb_build_object('userId', achieved.user_id, 'level', achieved.level, 'cursor', achieved.cursor,
                            'achievedAt', achieved.achieved_at)
  from new_levels as achieved
  order by achieved.user_id, achieved.cursor;
  if found then
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;
drop trigger if exists _600_outbox on status_public.user_levels;
create trigger _600_outbox after insert on status_public.user_levels
  referencing new table as new_levels for each statement execute function status_private.tg_user_levels__outbox();

-- A tier change: an updated score row whose tier differs, or a new score row with points. A row created at
-- 0 points by a user's first step holds the starting tier: that is no change.
create or replace function status_private.tg_user_scores__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  if TG_OP = 'INSERT' then
    insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
    select 'tier_changed', score.user_id, score.reached_at,
           jsonb_build_object('userId', score.user_id, 'tier', score.tier, 'previousTier', null, 'points', score.points)
    from new_scores as score
    where score.points > 0
    order by score.user_id;
  else
    insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
    select 'tier_changed', score.user_id, score.reached_at,
           jsonb_build_object('userId', score.user_id, 'tier', score.tier, 'previousTier', before.tier, 'points', score.points)
    from new_scores as score
    join old_scores as before using (user_id)
    where score.tier is distinct from before.tier
    order by score.user_id;
  end if;
  if found then
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;
drop trigger if exists _600_outbox_inserted on status_public.user_scores;
create trigger _600_outbox_inserted after insert on status_public.user_scores
  referencing new table as new_scores for each statement execute function status_private.tg_user_scores__outbox();
drop trigger if exists _600_outbox_updated on status_public.user_scores;
create trigger _600_outbox_updated after update on status_public.user_scores
  referencing old table as old_scores new table as new_scores for each statement execute function status_private.tg_user_scores__outbox();

-- Publishing: positions for the committed events, and their deliveries.

create or replace function status_private.publish_outbox_events(max_events integer default 1000) returns integer
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  published integer;
begin
  if current_setting('transaction_isolation') <> 'read committed' then
    -- Each statement below must see what committed before the lock was taken.
    raise exception 'publish_outbox_events runs at read committed only' using errcode = 'AC400';
  end if;
  -- One publisher at a time, until it commits: the next one's positions are higher and its events, committed
  -- later, are seen by its next statement (a new snapshot at read committed).
  perform pg_advisory_xact_lock(hashtext('status_private.publish_outbox_events'));
  with publishing as (
    -- In id order (a transaction's events in the order it wrote them); nextval numbers the rows as they come.
    select next.id, nextval('status_private.outbox_event_positions') as position
    from (select event.id from status_private.outbox_events as event
          where event.position is null order by event.id limit max_events) as next
  ), published_events as (
    update status_private.outbox_events as event
      set position = publishing.position, published_at = now()
      from publishing
      where event.id = publishing.id
      returning event.id, event.kind
  ), queued as (
    insert into status_public.webhook_deliveries (endpoint_id, event_id)
    select endpoint.id, published_events.id
    from published_events
    join status_public.webhook_endpoints as endpoint on endpoint.enabled and published_events.kind = any (endpoint.kinds)
    order by published_events.id
    on conflict (endpoint_id, event_id) do nothing
  )
  select count(*)::integer into published from published_events;
  if published > 0 then
    -- Wakes the `achievementEvents` subscriptions and the dispatchers (delivered after this commits).
    perform pg_notify('achievements:outbox_published', '');
  end if;
  return published;
end;
$$;
comment on function status_private.publish_outbox_events(integer) is
  E'Gives the committed, unpublished outbox events (up to `max_events`, in id order) their positions and queues their webhook deliveries; returns how many it published. One publisher at a time; the webhook dispatcher runs it.';

-- Who a delivery goes to and what it says: the Standard Webhooks body {type, timestamp, data}.
drop type if exists status_private.webhook_request cascade;
create type status_private.webhook_request as (
  delivery_id uuid,
  attempt integer,
  url text,
  secret text,
  body text
);

create or replace function status_private.claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer)
  returns setof status_private.webhook_request
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- A delivery whose last attempt's dispatcher stopped (its lease ran out) and that has no attempt left.
  update status_public.webhook_deliveries as delivery
    set state = 'dead', last_error = coalesce(delivery.last_error, 'the dispatcher stopped during the last attempt')
    where delivery.state = 'pending' and delivery.next_attempt_at <= now() and delivery.attempts >= max_attempts;
  -- Claimed for lease_seconds (the request's timeout and a margin): a dispatcher killed meanwhile leaves it to be
  -- claimed again when the lease ends, with the same delivery id.
  return query
  with due as (
    select delivery.id from status_public.webhook_deliveries as delivery
    where delivery.state = 'pending' and delivery.next_attempt_at <= now() and delivery.attempts < max_attempts
    order by delivery.next_attempt_at
    limit max_deliveries
    for update skip locked
  ), claimed as (
    update status_public.webhook_deliveries as delivery
      set attempts = delivery.attempts + 1, last_attempt_at = now(), next_attempt_at = now() + make_interval(secs => lease_seconds)
      from due
      where delivery.id = due.id
      returning delivery.id, delivery.attempts, delivery.endpoint_id, delivery.event_id
  )
  select claimed.id, claimed.attempts, endpoint.url, secret.secret,
         jsonb_build_object('type', event.kind, 'timestamp', event.occurred_at,
                            'data', event.payload || jsonb_build_object('position', event.position::text))::text
  from claimed
  join status_public.webhook_endpoints as endpoint on endpoint.id = claimed.endpoint_id
  join status_private.webhook_endpoint_secrets as secret on secret.endpoint_id = claimed.endpoint_id
  join status_private.outbox_events as event on event.id = claimed.event_id;
end;
$$;
comment on function status_private.claim_webhook_deliveries(integer, double precision, integer) is
  E'The webhook dispatcher''s claim: up to `max_deliveries` due deliveries (skipping those another dispatcher holds), each leased for `lease_seconds`, with its URL, secret and body.';

create or replace function status_private.record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision)
  returns void
  language sql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
  -- Success (error NULL) counts whichever attempt it was; a failure only if no later attempt was claimed since.
  update status_public.webhook_deliveries as delivery
    set state = case when error is null then 'delivered' when retry_in_seconds is null then 'dead' else 'pending' end::status_public.webhook_delivery_state,
        delivered_at = case when error is null then now() end,
        last_error = record_webhook_attempt.error,
        next_attempt_at = case when error is null or retry_in_seconds is null then delivery.next_attempt_at
                               else now() + make_interval(secs => retry_in_seconds) end
    where delivery.id = record_webhook_attempt.delivery_id
      and delivery.state = 'pending'
      and (error is null or delivery.attempts = record_webhook_attempt.attempt);
$$;
comment on function status_private.record_webhook_attempt(uuid, integer, text, double precision) is
  E'The outcome of a delivery attempt: delivered (error NULL), to retry in `retry_in_seconds`, or dead (no retry).';

create or replace function status_private.prune_outbox(older_than interval) returns integer
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  pruned integer;
begin
  -- Events published before the cutoff whose deliveries are all delivered, with those deliveries (cascade).
  -- Unpublished events, and events with a pending or dead delivery, stay.
  delete from status_private.outbox_events as event
    where event.published_at < now() - older_than
      and not exists (select from status_public.webhook_deliveries as delivery
                      where delivery.event_id = event.id and delivery.state <> 'delivered');
  get diagnostics pruned = row_count;
  return pruned;
end;
$$;
comment on function status_private.prune_outbox(interval) is
  E'Deletes the events published more than `older_than` ago and their deliveries, unless one is pending or dead; returns how many events.';

grant execute on function status_private.publish_outbox_events(integer), status_private.claim_webhook_deliveries(integer, double precision, integer),
  status_private.record_webhook_attempt(uuid, integer, text, double precision), status_private.prune_outbox(interval)
  to :AUTHENTICATOR_ROLE;

-- Admins: endpoints and dead letters.

drop type if exists status_public.webhook_endpoint_secret cascade;
create type status_public.webhook_endpoint_secret as (
  endpoint_id uuid,
  secret text
);
comment on type status_public.webhook_endpoint_secret is E'An endpoint''s signing secret, shown this once.';
comment on column status_public.webhook_endpoint_secret.endpoint_id is E'@notNull\nThe endpoint.';
comment on column status_public.webhook_endpoint_secret.secret is E'@notNull\nThe secret to verify signatures with (`whsec_` + base64): store it now, it cannot be read again.';

create or replace function status_private.new_webhook_secret() returns text
  language sql volatile
as $$
  -- 32 bytes from two v4 uuids (gen_random_uuid uses the operating system's strong random source).
  select 'whsec_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64');
$$;

create or replace function status_public.create_webhook_endpoint(
  url text,
  kinds status_public.achievement_event_kind[] default null,
  description text default ''
) returns status_public.webhook_endpoint_secret
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
-- Definer: it writes the secret, which no API role may write or read. Executable by admins only.
declare
  new_secret text := status_private.new_webhook_secret();
  created status_public.webhook_endpoint_secret;
begin
  insert into status_public.webhook_endpoints (url, kinds, description, secret_hint)
    values (create_webhook_endpoint.url, coalesce(create_webhook_endpoint.kinds, enum_range(null::status_public.achievement_event_kind)),
            coalesce(create_webhook_endpoint.description, ''), left(new_secret, 12) || '…')
    returning id into created.endpoint_id;
  insert into status_private.webhook_endpoint_secrets (endpoint_id, secret) values (created.endpoint_id, new_secret);
  created.secret := new_secret;
  return created;
end;
$$;
comment on function status_public.create_webhook_endpoint(text, status_public.achievement_event_kind[], text) is
  E'@notNull\nAdmins: registers a webhook endpoint for `kinds` (default: all) and returns its signing secret, this once.';

create or replace function status_public.rotate_webhook_endpoint_secret(endpoint_id uuid) returns status_public.webhook_endpoint_secret
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
-- Definer: it writes the secret. Executable by admins only.
declare
  new_secret text := status_private.new_webhook_secret();
  rotated status_public.webhook_endpoint_secret;
begin
  update status_public.webhook_endpoints as endpoint set secret_hint = left(new_secret, 12) || '…'
    where endpoint.id = rotate_webhook_endpoint_secret.endpoint_id
    returning endpoint.id into rotated.endpoint_id;
  if rotated.endpoint_id is null then
    raise exception 'No webhook endpoint %', endpoint_id using errcode = 'AC404', hint = 'Query `allWebhookEndpoints` for the ids.';
  end if;
  update status_private.webhook_endpoint_secrets as kept set secret = new_secret where kept.endpoint_id = rotated.endpoint_id;
  rotated.secret := new_secret;
  return rotated;
end;
$$;
comment on function status_public.rotate_webhook_endpoint_secret(uuid) is
  E'@notNull\nAdmins: gives the endpoint a new signing secret (used from the next attempt on) and returns it, this once.';

create or replace function status_public.retry_webhook_delivery(delivery_id uuid) returns status_public.webhook_deliveries
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
-- Definer: deliveries are written by the dispatcher's functions only. Executable by admins only.
declare
  retried status_public.webhook_deliveries;
begin
  update status_public.webhook_deliveries as delivery
    set state = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = null
    where delivery.id = retry_webhook_delivery.delivery_id and delivery.state = 'dead'
    returning delivery.* into retried;
  if retried.id is null then
    if exists (select from status_public.webhook_deliveries as delivery where delivery.id = retry_webhook_delivery.delivery_id) then
      raise exception 'Webhook delivery % is not dead', delivery_id using errcode = 'AC409', hint = 'Only dead deliveries are retried.';
    end if;
    raise exception 'No webhook delivery %', delivery_id using errcode = 'AC404';
  end if;
  perform pg_notify('achievements:outbox_published', '');
  return retried;
end;
$$;
comment on function status_public.retry_webhook_delivery(uuid) is
  E'@notNull\nAdmins: sends a dead delivery again (same delivery id, attempts from zero).';

create or replace function status_public.webhook_deliveries_payload(delivery status_public.webhook_deliveries) returns jsonb
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  -- Definer: the outbox is private. Executable by admins only, who see every delivery.
  select event.payload from status_private.outbox_events as event where event.id = delivery.event_id;
$$;
comment on function status_public.webhook_deliveries_payload(status_public.webhook_deliveries) is
  E'@notNull\nThe event''s data (what the body''s `data` holds).';

create or replace function status_public.webhook_deliveries_kind(delivery status_public.webhook_deliveries) returns status_public.achievement_event_kind
  language sql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
  -- Definer: the outbox is private. Executable by admins only.
  select event.kind from status_private.outbox_events as event where event.id = delivery.event_id;
$$;
comment on function status_public.webhook_deliveries_kind(status_public.webhook_deliveries) is E'@notNull\nThe event''s kind.';

grant execute on function status_public.create_webhook_endpoint(text, status_public.achievement_event_kind[], text),
  status_public.rotate_webhook_endpoint_secret(uuid), status_public.retry_webhook_delivery(uuid),
  status_public.webhook_deliveries_payload(status_public.webhook_deliveries),
  status_public.webhook_deliveries_kind(status_public.webhook_deliveries)
  to :ADMIN_ROLE;

-- The service: every user's published events, in order, from a position.

drop type if exists status_public.achievement_event cascade;
create type status_public.achievement_event as (
  position bigint,
  kind status_public.achievement_event_kind,
  user_id uuid,
  occurred_at timestamptz,
  payload jsonb
);
comment on type status_public.achievement_event is E'An unlock, tier change or level of any user, for backends.';
comment on column status_public.achievement_event.position is
  E'@notNull\nThe event''s place in the stream (increasing; gaps are possible): resume with `after:` the last one received.';
comment on column status_public.achievement_event.kind is E'@notNull\nWhat happened.';
comment on column status_public.achievement_event.user_id is E'@notNull\nThe user it happened to.';
comment on column status_public.achievement_event.occurred_at is E'@notNull\nWhen it happened (the unlock, the level, the points that changed the tier).';
comment on column status_public.achievement_event.payload is
  E'@notNull\nWhat a backend needs: `userId` and, by kind, `achievementId`, `achievementName`, `points`, `unlockId`, `cursor` (the user''s catch-up cursor); `tier`, `previousTier`, `points`; `level`, `cursor`.';

create or replace function status_public.achievement_events(after_position bigint default 0, max_events integer default 100)
  returns status_public.achievement_event[]
  language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
-- Definer: the outbox is private; only the service (a trusted backend) may read every user's events.
begin
  if not pg_has_role(coalesce(nullif(current_setting('role'), 'none'), session_user)::name, ':SERVICE_ROLE', 'usage') then
    raise exception 'Only the service role may read every user''s events' using errcode = 'AC403',
      hint = 'Users subscribe to their own: achievementUnlocked, tierChanged, levelAchieved.';
  end if;
  if max_events is null or max_events not between 1 and 1000 or after_position is null or after_position < 0 then
    raise exception 'maxEvents must be from 1 to 1000 and afterPosition at least 0' using errcode = 'AC400';
  end if;
  -- An array (not a set): PostGraphile then adds no pagination arguments of its own beside max_events.
  return coalesce((
    select array_agg(row(event.position, event.kind, event.user_id, event.occurred_at, event.payload)::status_public.achievement_event
                     order by event.position)
    from (select * from status_private.outbox_events as event
          where event.position > after_position
          order by event.position
          limit max_events) as event
  ), '{}');
end;
$$;
comment on function status_public.achievement_events(bigint, integer) is
  E'@notNullItems\nThe service role: every user''s published events after `afterPosition` (exclusive; 0: from the oldest kept), in order, up to `maxEvents` (1 to 1000). The subscription `achievementEvents` streams the same.';
grant execute on function status_public.achievement_events(bigint, integer) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--! split: 8-provenance.sql
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

--! split: 9-backfill.sql
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

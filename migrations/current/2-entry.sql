-- The entry of one event (issue 10): the rate limit and what runs before the step's insert, cheaper.

-- The buckets are a rate limit's bookkeeping, rewritten on every event: no WAL for them. After a crash (or a
-- failover) they start empty, that is with every allowance full; replicas have no rows to read (nothing reads
-- the table there: the rate limit runs on the primary, in the mutations).
alter table status_private.record_action_allowances set unlogged;
comment on table status_private.record_action_allowances is
  E'The recordAction rate limit''s token buckets: one row per user, up to 16 per service client. Unlogged: after a crash every allowance starts full.';

-- One SQL expression (inlined into its callers' expressions), not a PL/pgSQL call per setting.
create or replace function status_private.record_action_rate_setting(name text, fallback integer) returns integer
  language sql stable
as $$
  select coalesce(case when current_setting('achievements.' || name, true) ~ '^\s*[0-9]{1,9}\s*$'
                       then current_setting('achievements.' || name, true)::integer end,
                  fallback);
$$;

create or replace function status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid) returns void
  language plpgsql
as $$
declare
  window_seconds integer := coalesce(nullif(status_private.record_action_rate_setting('record_action_rate_window_seconds', 60), 0), 60);
  service_max integer := case when service_client is not null then status_private.record_action_rate_setting('record_action_service_rate_limit', 6000) else 0 end;
  -- As take_record_action_allowance shards it (at least 1: no division by zero when the limit is off).
  service_shards integer := greatest(1, least(16, service_max));
  user_max integer := status_private.record_action_rate_setting('record_action_rate_limit', 60);
  -- The real time, not the transaction's start: a bucket refills while transactions run.
  moment timestamptz := clock_timestamp();
  service_taken boolean;
  user_taken boolean;
begin
  if user_id is null then
    return; -- record_action refuses it
  end if;
  if idempotency_key is not null then
    -- Taken before the call locks any row of its own, and held until its commit or rollback.
    perform pg_advisory_xact_lock(hashtext('status_private.spend_record_action_allowance'),
                                  hashtext(spend_record_action_allowance.user_id::text || '/' || spend_record_action_allowance.idempotency_key));
    if exists (
      select from status_public.user_steps
      where user_steps.user_id = spend_record_action_allowance.user_id and user_steps.idempotency_key = spend_record_action_allowance.idempotency_key
    ) then
      return;
    end if;
  end if;

  -- The usual case in one statement: a token from a shard of the service client's bucket that no concurrent
  -- call holds (as take_record_action_allowance's first look), then, only if one was taken (the service's row
  -- is always locked before the user's), the user's token. Anything else (the client's first call, every
  -- shard held or empty, the user's bucket empty) goes to take_record_action_allowance, which waits, creates
  -- the rows, or refuses: nothing was written for the bucket it retries.
  with free as (
    select allowance.shard from status_private.record_action_allowances as allowance
    where allowance.subject_kind = 'service' and allowance.user_id = service_client
      and service_max >= 1 and allowance.shard < service_shards
      and status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
            status_private.allowance_of_shard(service_max, service_shards, allowance.shard), window_seconds, moment) >= 1
    order by allowance.shard
    limit 1
    for update skip locked
  ), service as (
    update status_private.record_action_allowances as allowance
      set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at,
                     status_private.allowance_of_shard(service_max, service_shards, allowance.shard), window_seconds, moment) - 1,
          refilled_at = moment
      -- By the whole key (a lookup of the one row, not a join over the client's 16).
      where allowance.subject_kind = 'service' and allowance.user_id = service_client and allowance.shard = (select free.shard from free)
      returning 1
  ), by_user as (
    insert into status_private.record_action_allowances as allowance (subject_kind, user_id, shard, tokens, refilled_at)
      select 'user', spend_record_action_allowance.user_id, 0, user_max - 1, moment
      where user_max >= 1 and (service_max < 1 or exists (select from service))
      on conflict on constraint record_action_allowances_pkey do update
        set tokens = status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, user_max, window_seconds, moment) - 1,
            refilled_at = moment
        where status_private.refilled_tokens(allowance.tokens, allowance.refilled_at, user_max, window_seconds, moment) >= 1
      returning 1
  )
  select service_max < 1 or exists (select from service), user_max < 1 or exists (select from by_user)
    into service_taken, user_taken;
  if not service_taken then
    perform status_private.take_record_action_allowance('service', service_client, service_max, window_seconds);
  end if;
  if not user_taken then
    perform status_private.take_record_action_allowance('user', user_id, user_max, window_seconds);
  end if;
end;
$$;

-- The two entry points pin the plan cache mode for the whole call (the rate limit's statement and
-- status_private.record_action's); status_private.record_action itself runs as its callers do (both SECURITY
-- DEFINER with the pinned search_path), without a GUC frame of its own on every event.
create or replace function status_public.record_action(action text, amount integer default 1, idempotency_key text default null) returns status_public.record_action_result
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
declare
  user_id uuid := jwt_public.current_user_id();
begin
  if user_id is null then
    raise exception 'Sign in to record an action' using errcode = 'AC401';
  end if;
  if exists (select from status_public.actions where actions.name = record_action.action and not client_reportable) then
    raise exception 'The action "%" cannot be reported by a client', action
      using errcode = 'AC403', hint = 'Your backend records it with the service role (recordActionFor).';
  end if;
  perform status_private.spend_record_action_allowance(user_id, idempotency_key, null);
  return status_private.record_action(user_id, action, amount, idempotency_key, null);
end;
$$;

create or replace function status_public.record_action_for(user_id uuid, action text, amount integer default 1, idempotency_key text default null,
                                                          occurred_at timestamptz default null) returns status_public.record_action_result
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
begin
  -- The service client is the token's sub; a direct SQL caller without one counts as the nil uuid.
  perform status_private.spend_record_action_allowance(record_action_for.user_id, idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return status_private.record_action(record_action_for.user_id, action, amount, idempotency_key, occurred_at);
end;
$$;

-- Called only by the two functions above (SECURITY DEFINER, search_path pinned, plan cache mode set): it runs
-- with their rights and settings.
create or replace function status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz)
  returns status_public.record_action_result
  language plpgsql
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

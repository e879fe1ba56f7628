-- Recording actions: record_action (one event) and record_actions (a batch), both through inserts into
-- user_steps (the event path runs in its statement trigger) and one read of what the steps changed
-- (status_private.step_results). A batch is one insert a round (every user's k-th event in round k, as the
-- event path orders them): one pass per stage for all its users, and each event's result as of that event.

-- What the steps just inserted changed, as record_action reports it, in the order given; at most one step per
-- user (one round).
create or replace function status_private.step_results(steps status_public.user_steps[])
  returns setof status_public.record_action_result
  language sql stable
as $$
  select step.id, step.user_id, step.name, step.count,
         coalesce(tally.count, 0),
         coalesce(awarded.unlocked, '{}'), coalesce(awarded.points, 0),
         score.points,
         status_private.tier_for(score.points - coalesce(awarded.points, 0)),
         score.tier,
         -- As of the step's day (a backdated step reports the streak it had then).
         coalesce(status_private.streak_as_of(streak.current_length, streak.last_day,
                    (step.occurred_at at time zone coalesce(profile.time_zone, 'UTC'))::date), 0),
         coalesce((select array_agg(achieved.level order by achieved.level) from status_public.user_levels as achieved
                   where achieved.step_id = step.id), '{}')
  from unnest(steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, position)
  left join lateral (
    select array_agg(row(unlock.id, unlock.achievement_id, achievement.name, unlock.points)::status_public.unlocked_achievement
                     order by achievement.position, achievement.id) as unlocked,
           sum(unlock.points)::integer as points
    from status_public.achievement_unlocks as unlock
    join status_public.achievements as achievement on achievement.id = unlock.achievement_id
    where unlock.step_id = step.id
  ) as awarded on true
  left join status_public.user_achievements as tally on tally.user_id = step.user_id and tally.name = step.name
  left join status_public.user_scores as score on score.user_id = step.user_id
  left join status_public.user_streaks as streak on streak.user_id = step.user_id and streak.action is null
  left join status_public.user_profiles as profile on profile.user_id = step.user_id
  order by step.position;
$$;

-- Whether the role that called into a SECURITY DEFINER function may act for any user (inside one, current_user
-- is the function's owner, so jwt_public.current_role_acts_for_anyone() would say yes to everyone): the role
-- set for the transaction (SET ROLE, as the server does), else the session's login role.
create or replace function status_private.caller_acts_for_anyone() returns boolean
  language sql stable
as $$
  select pg_has_role(caller.role, ':SERVICE_ROLE', 'usage') or pg_has_role(caller.role, ':ADMIN_ROLE', 'usage')
  from (select coalesce(nullif(current_setting('role'), 'none'), session_user)::name as role) as caller;
$$;

-- One event. A retry with the same idempotency key returns the original result and counts nothing again.
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
      insert into status_public.user_steps (user_id, name, count, idempotency_key, occurred_at)
        values (record_action.user_id, record_action.action, amount, idempotency_key, coalesce(occurred_at, now()))
        on conflict on constraint user_steps_user_id_idempotency_key_key do nothing
        returning * into step;
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

-- The stored result of a step recorded before with the same idempotency key, when it was the same action
-- and amount; otherwise a CONFLICT.
create or replace function status_private.recorded_result(previous status_public.user_steps, action text, amount integer)
  returns status_public.record_action_result
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
    where recorded.step_id = previous.id;
  if not found then
    raise exception 'The idempotency key "%" was already used for a step recorded another way', previous.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;
  return result;
end;
$$;

-- A batch: `events` for any users (the service role) or for the signed-in user (user_id NULL or theirs, and
-- client-reportable actions only), at most achievements.record_actions_max_events (default 1000) a call.
-- All or nothing: an invalid event fails the call with its position. Each event spends the rate limit as a
-- single call would. Per-event results, in the order given; events whose idempotency key was used before
-- return the original result and count nothing again.
do $$ begin
  create type status_public.action_event as (user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz);
exception when duplicate_object then null;
end $$;
comment on type status_public.action_event is
  E'One event of a recordActions batch: `userId` (the service role: any user; a user: NULL or their own id) performed `action` `amount` times (default 1), at `occurredAt` (the service role only; default now), with an optional `idempotencyKey`.';

comment on column status_public.action_event.user_id is E'The user who performed the action (the service role: required; a user: leave it out, or their own id).';
comment on column status_public.action_event.action is E'@notNull\nThe action performed (a name from `actions`).';
comment on column status_public.action_event.amount is E'How many times (default 1; at most the action''s `maxAmount`).';
comment on column status_public.action_event.idempotency_key is E'Optional key, unique per user: a retry with it returns the original result and counts nothing again.';
comment on column status_public.action_event.occurred_at is E'When it happened (the service role only; default now): streaks and time-of-day criteria use it.';

-- A step id whose first 32 bits are `number` (random below).
create or replace function status_private.batch_step_id(number bigint) returns uuid
  language sql volatile
as $$
  select overlay(replace(gen_random_uuid()::text, '-', '') placing lpad(to_hex(number), 8, '0') from 1)::uuid;
$$;

create or replace function status_public.record_actions(events status_public.action_event[])
  returns setof status_public.record_action_result
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
declare
  signed_in uuid := jwt_public.current_user_id();
  for_anyone boolean := status_private.caller_acts_for_anyone();
  max_events integer := status_private.record_action_rate_setting('record_actions_max_events', 1000);
  event record;
  event_user uuid;
  amount integer;
  catalog_action status_public.actions;
  previous status_public.user_steps;
  -- By position: the steps to insert (id NULL for a retry), and the results.
  steps status_public.user_steps[] := '{}';
  results status_public.record_action_result[] := '{}';
  round_steps status_public.user_steps[];
  round_positions bigint[];
  fresh status_public.user_steps[];
  fresh_positions bigint[];
  taken_positions bigint[];
  taken_position bigint;
  fresh_number integer;
  fresh_result status_public.record_action_result;
  -- The ids' first 32 bits count up from a random base in the order given, so that a user's events that
  -- happened at the same moment apply in that order (the event path orders by occurred_at, then id).
  id_base bigint := floor(random() * (4294967295 - 100000000));
begin
  if not for_anyone and signed_in is null then
    raise exception 'Sign in to record actions' using errcode = 'AC401';
  end if;
  if cardinality(events) > max_events then
    raise exception 'At most % events a call, got %', max_events, cardinality(events)
      using errcode = 'AC400', hint = 'Split the batch (achievements.record_actions_max_events).';
  end if;
  for event in select * from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position) loop
    event_user := coalesce(event.user_id, case when not for_anyone then signed_in end);
    amount := coalesce(event.amount, 1);
    if event_user is null then
      raise exception 'Event %: name the user (userId)', event.position using errcode = 'AC400';
    end if;
    if not for_anyone and event_user <> signed_in then
      raise exception 'Event %: you can record only your own actions', event.position
        using errcode = 'AC403', hint = 'Leave userId out, or record for others with the service role.';
    end if;
    if not for_anyone and event.occurred_at is not null then
      raise exception 'Event %: only the service role sets occurredAt', event.position using errcode = 'AC403';
    end if;
    select * into catalog_action from status_public.actions where actions.name = event.action;
    if not found then
      raise exception 'Event %: unknown action "%"', event.position, event.action
        using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
    end if;
    if not for_anyone and not catalog_action.client_reportable then
      raise exception 'Event %: the action "%" cannot be reported by a client', event.position, event.action
        using errcode = 'AC403', hint = 'Your backend records it with the service role.';
    end if;
    if amount < 1 or amount > catalog_action.max_amount then
      raise exception 'Event %: the amount must be a whole number from 1 to % for "%", got %', event.position, catalog_action.max_amount, event.action, amount
        using errcode = 'AC400';
    end if;
    if event.idempotency_key is not null and length(event.idempotency_key) not between 1 and 200 then
      raise exception 'Event %: the idempotency key must be 1 to 200 characters', event.position using errcode = 'AC400';
    end if;
    if event.idempotency_key is not null and exists (
      select from unnest(steps) as earlier where earlier.user_id = event_user and earlier.idempotency_key = event.idempotency_key
    ) then
      raise exception 'Event %: the idempotency key "%" is used twice in the batch', event.position, event.idempotency_key
        using errcode = 'AC409', hint = 'Use a new key for a new action.';
    end if;
    previous := null;
    if event.idempotency_key is not null then
      select * into previous from status_public.user_steps
        where user_steps.user_id = event_user and user_steps.idempotency_key = event.idempotency_key;
    end if;
    if previous.id is not null then
      results[event.position] := status_private.recorded_result(previous, event.action, amount);
      steps[event.position] := row(null, event_user, event.action, amount, event.idempotency_key, null, null)::status_public.user_steps;
    else
      steps[event.position] := row(status_private.batch_step_id(id_base + event.position), event_user, event.action, amount, event.idempotency_key, now(),
                                   coalesce(event.occurred_at, now()))::status_public.user_steps;
    end if;
  end loop;

  -- The rate limits, user by user in one order (concurrent batches lock the users' buckets alike: no deadlock).
  for event in select step.user_id from unnest(steps) as step where step.id is not null order by step.user_id loop
    perform status_private.spend_record_action_allowance(event.user_id, null,
      case when for_anyone then coalesce(signed_in, '00000000-0000-0000-0000-000000000000') end);
  end loop;

  -- One insert a round: the event path runs once for all its users, and step_results reads each event's result
  -- right after it. A key that a concurrent call took meanwhile: that call's result, as for a retry.
  for round_steps, round_positions in
    select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.idempotency_key,
                         numbered.created_at, numbered.occurred_at)::status_public.user_steps order by numbered.position),
           array_agg(numbered.position order by numbered.position)
    from (select step.*, row_number() over (partition by step.user_id order by step.occurred_at, step.id) as round
          from unnest(steps) with ordinality as step (id, user_id, name, count, idempotency_key, created_at, occurred_at, position)
          where step.id is not null) as numbered
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
           coalesce(array_agg(round_positions[listed.n] order by listed.n) filter (where not listed.fresh), '{}')
      into fresh, fresh_positions, taken_positions
      from (select listed.*, listed.id in (select inserted.id from inserted) as fresh
            from unnest(round_steps) with ordinality as listed (id, user_id, name, count, idempotency_key, created_at, occurred_at, n)) as listed;
    foreach taken_position in array taken_positions loop
      select * into previous from status_public.user_steps
        where user_steps.user_id = steps[taken_position].user_id and user_steps.idempotency_key = steps[taken_position].idempotency_key;
      results[taken_position] := status_private.recorded_result(previous, steps[taken_position].name, steps[taken_position].count);
    end loop;
    -- step_results answers in the order of `fresh`.
    fresh_number := 0;
    for fresh_result in select * from status_private.step_results(fresh) loop
      fresh_number := fresh_number + 1;
      results[fresh_positions[fresh_number]] := fresh_result;
      if steps[fresh_positions[fresh_number]].idempotency_key is not null then
        insert into status_private.recorded_action_results (step_id, result) values (fresh_result.step_id, to_jsonb(fresh_result));
      end if;
    end loop;
  end loop;
  return query select * from unnest(results);
end;
$$;
comment on function status_public.record_actions(status_public.action_event[]) is
  E'@notNull\nRecords a batch of events in one call and returns each one\'s result, in order: the service role for any users (and `occurredAt`, for imports), a user for themselves (client-reportable actions). A user\'s events apply in the order they happened, as if recorded one by one. All or nothing; at most 1000 events a call (achievements.record_actions_max_events); each event counts against the rate limits; a retried idempotency key returns the original result.';
grant execute on function status_public.record_actions(status_public.action_event[]) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE;

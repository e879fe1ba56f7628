--! Previous: sha1:f10496fa85fda86593c27348826a556881d46c08
--! Hash: sha1:9586d6e9ca99863b3b5b908966752abd129491b2
--! Message: Reference compatibility, install configuration, rate limit in the database, catch-up cursor, pg_temp last, non-null types

--! split: 1-reference-compat.sql
-- Compatibility with the reference package @pgpm/achievements: its SQL API name for name, so that its own
-- test suite (test/compat/) passes against this schema. Idempotent: graphile-migrate watch re-runs it.

--------------------------------------------------------------------------------------------------
-- The tally: upstream's columns exactly (id, user_id, name, count, created_at), and a tally that returns to
-- zero has no row, as upstream's (a step taken back removed it). Unlike upstream, taking a step back removes
-- only that step: progress from other steps stays.

create or replace function status_private.tg_user_steps__tally() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  tally_id uuid;
  remaining integer;
begin
  -- One upsert: concurrent steps for the same user and name serialise on the tally row, so the count is exact.
  insert into status_public.user_achievements as tally (user_id, name, count)
    values (NEW.user_id, NEW.name, greatest(NEW.count, 0))
    on conflict (user_id, name) do update
      set count = greatest(tally.count + NEW.count, 0)
    returning id, count into tally_id, remaining;
  -- Back to zero: remove the row. This transaction holds its lock since the upsert, so nobody changed it in
  -- between; a concurrent step waits for us, then (the row gone) inserts a fresh one.
  if remaining = 0 then
    delete from status_public.user_achievements where id = tally_id;
  end if;
  return null;
end;
$$;

alter table status_public.user_achievements drop column if exists updated_at;
comment on table status_public.user_achievements is
  E'The running tally of each user''s steps, by step name. Kept by a trigger on user_steps; read-only for every API role. A tally that returns to zero has no row.';
comment on column status_public.user_achievements.count is E'How many times the user performed the step (at least 1: a tally back at zero is removed).';

--------------------------------------------------------------------------------------------------
-- Requirements of equal priority come in the order they were created, as upstream's do (it returned them in
-- physical order). No new column (`select *` must give upstream's columns): a new requirement's id carries
-- its creation number in its first 48 bits (a version 8 uuid, random below that), so `order by priority, id`
-- is creation order. Ids given explicitly are kept as given.

create sequence if not exists status_public.level_requirements_creation_order
  as bigint minvalue 1 maxvalue 281474976710655 no cycle; -- 2^48 - 1: the number fits the id's first 48 bits
comment on sequence status_public.level_requirements_creation_order is E'Creation numbers of level requirements: the first 48 bits of their ids.';
grant usage on sequence status_public.level_requirements_creation_order to :ADMIN_ROLE;

-- Inline rather than a function: a column default runs as the inserting role (an admin), which may not
-- execute status_private functions.
alter table status_public.level_requirements alter column id set default (
  overlay(overlay(replace(gen_random_uuid()::text, '-', '')
    placing lpad(to_hex(nextval('status_public.level_requirements_creation_order')), 12, '0') from 1)
    placing '8' from 13)::uuid
);

-- Requirements created before this migration keep their ids (random: among equal priorities they keep a
-- stable, arbitrary order); the numbers continue above their first 48 bits, so new ones come after them.
select setval('status_public.level_requirements_creation_order', existing.highest)
from (select max(('x' || left(replace(id::text, '-', ''), 12))::bit(48)::bigint) as highest from status_public.level_requirements) as existing
where existing.highest > (select last_value from status_public.level_requirements_creation_order);

comment on column status_public.level_requirements.priority is E'Display order: lower first; equal priorities in the order the requirements were created.';

--------------------------------------------------------------------------------------------------
-- steps_required and user_achieved with upstream's parameter names (`vlevel`, `vrole_id`), so calls in named
-- notation (`steps_required(vlevel => 'newbie')`) work. Renaming a parameter needs drop + create. GraphQL
-- keeps the readable names `level` and `userId` (plugins/reference-argument-names.ts).

drop function if exists status_public.user_achieved(text, uuid);
drop function if exists status_public.steps_required(text, uuid);

create function status_public.steps_required(vlevel text, vrole_id uuid default jwt_public.current_user_id())
  returns setof status_public.level_requirements
  language plpgsql stable
as $$
begin
  if not exists (select from status_public.levels where levels.name = vlevel) then
    raise exception 'Unknown level "%"', vlevel
      using errcode = 'AC404', hint = 'Query `levels` for the names that exist.';
  end if;
  if vrole_id is null then
    raise exception 'Sign in, or name the user whose progress you want'
      using errcode = 'AC401';
  end if;
  if vrole_id is distinct from jwt_public.current_user_id()
     and not jwt_public.current_role_acts_for_anyone() then
    raise exception 'You may only ask about your own progress'
      using errcode = 'AC403';
  end if;

  return query
    select requirement.id, requirement.name, requirement.level,
           requirement.required_count - coalesce(tally.count, 0) as required_count,
           requirement.priority
    from status_public.level_requirements as requirement
    left join status_public.user_achievements as tally
      on tally.user_id = vrole_id and tally.name = requirement.name
    where requirement.level = vlevel
      and coalesce(tally.count, 0) < requirement.required_count
    -- Equal priorities: creation order (ids begin with a creation number, see above).
    order by requirement.priority, requirement.id;
end;
$$;
comment on function status_public.steps_required(text, uuid) is
  E'The requirements of `level` that the user has not met yet, each with the remaining count in `requiredCount`, ordered by priority, then in the order the requirements were created. The user defaults to the signed-in one; only the service and admins may ask about others. An unknown level is an error.';

create function status_public.user_achieved(vlevel text, vrole_id uuid default jwt_public.current_user_id())
  returns boolean
  language sql stable
as $$
  select not exists (select from status_public.steps_required(vlevel, vrole_id));
$$;
comment on function status_public.user_achieved(text, uuid) is
  E'True when the user has met every requirement of `level`. Same rules as `stepsRequired`: an unknown level is an error, not "achieved".';

grant execute on function status_public.steps_required(text, uuid), status_public.user_achieved(text, uuid)
  to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--------------------------------------------------------------------------------------------------
-- Upstream's step helpers, same names, parameters and types, routed through the engine: each writes a
-- user_steps row (or none), whose triggers keep the tally, streaks, unlocks, points and levels.
-- Security invoker: the caller needs its own right to insert steps, which the service role has (and the
-- database owner). Executable by them only: upstream's were SECURITY DEFINER and executable by everyone.

create or replace function status_private.user_completed_step(step text, user_id uuid default jwt_public.current_user_id())
  returns void
  language plpgsql volatile
as $$
begin
  if user_completed_step.user_id is null then
    raise exception 'Sign in, or name the user who completed the step' using errcode = 'AC401';
  end if;
  insert into status_public.user_steps (user_id, name, count) values (user_completed_step.user_id, step, 1);
end;
$$;
comment on function status_private.user_completed_step(text, uuid) is
  E'The user (default: the signed-in one) performed `step` once.';

create or replace function status_private.user_incompleted_step(step text, user_id uuid default jwt_public.current_user_id())
  returns void
  language plpgsql volatile
as $$
begin
  if user_incompleted_step.user_id is null then
    raise exception 'Sign in, or name the user whose step to take back' using errcode = 'AC401';
  end if;
  -- One step back, only when there is one to take back: never below zero, and the rest of the tally stays
  -- (upstream deleted every step of that name and the tally).
  insert into status_public.user_steps (user_id, name, count)
    select user_incompleted_step.user_id, step, -1
    where exists (select from status_public.user_achievements as tally
                  where tally.user_id = user_incompleted_step.user_id and tally.name = step);
end;
$$;
comment on function status_private.user_incompleted_step(text, uuid) is
  E'Takes back one step `step` of the user (default: the signed-in one), if they have any; never below zero.';

create or replace function status_private.upsert_achievement(vuser_id uuid, vname text, vcount integer)
  returns void
  language sql volatile
as $$
  -- One step of `vcount` (negative: steps back, the tally never below zero); 0 or NULL records nothing.
  insert into status_public.user_steps (user_id, name, count)
    select vuser_id, vname, vcount where vcount <> 0;
$$;
comment on function status_private.upsert_achievement(uuid, text, integer) is
  E'Adds `vcount` steps `vname` for the user (negative takes steps back, never below zero; 0 records nothing).';

-- The service role may call these three, and nothing else in status_private (no other grant exists there).
grant usage on schema status_private to :SERVICE_ROLE;
grant execute on function
  status_private.user_completed_step(text, uuid), status_private.user_incompleted_step(text, uuid),
  status_private.upsert_achievement(uuid, text, integer)
  to :SERVICE_ROLE;

--! split: 2-configurable-user-claim.sql
-- Where jwt_public.current_user_id() finds the signed-in user, from two placeholders (.gmrc; the installer
-- sets them from its options):
--   :USER_ID_SETTING  the setting to read (default jwt.claims.user_id, which our server sets);
--   :USER_ID_CLAIM    empty (default): the setting holds the uuid itself; else the setting holds JSON (PostgREST
--                     and Supabase set request.jwt.claims to the token's claims) and this key of it is the uuid.
-- A missing, empty or malformed value, or one that is not a canonical uuid, is NULL, never an error.
-- It is on the hot path (policies call it once per statement, triggers once per row): the plain setting stays
-- an inlinable SQL function; only the JSON form pays for a PL/pgSQL block, since PostgreSQL 15 cannot test
-- JSON for validity without catching the error (that block makes it parallel restricted, as it must be).
-- Idempotent: create or replace, so graphile-migrate watch can re-run it.
do $do$
begin
  if ':USER_ID_CLAIM' = '' then
    create or replace function jwt_public.current_user_id() returns uuid
      language sql stable parallel safe
    as $$
      -- Only a canonical uuid counts: a missing or malformed claim is NULL, never an error.
      select case
        when current_setting(':USER_ID_SETTING', true) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        then current_setting(':USER_ID_SETTING', true)::uuid
      end;
    $$;
  else
    create or replace function jwt_public.current_user_id() returns uuid
      language plpgsql stable parallel restricted
    as $$
    declare
      claims text := current_setting(':USER_ID_SETTING', true);
      user_id text;
    begin
      if claims is null or claims = '' then
        return null;
      end if;
      begin
        -- json, not jsonb: ->> stops at the key instead of building the whole document. Not an object: NULL.
        user_id := claims::json ->> ':USER_ID_CLAIM';
      exception when data_exception then
        return null; -- malformed JSON, or an escape text cannot hold (\u0000)
      end;
      if user_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return user_id::uuid;
      end if;
      return null;
    end;
    $$;
  end if;
end
$do$;
comment on function jwt_public.current_user_id() is E'The signed-in user (the JWT''s `sub`), or NULL.';

--! split: 3-hardening.sql
-- Hardening (issue #9): the recordAction rate limit in the database, a catch-up cursor that cannot skip a
-- commit, and pg_temp last in the search_path of every SECURITY DEFINER function.
-- Idempotent (graphile-migrate watch re-runs it): create or replace, `if not exists`, checks before changes.

--------------------------------------------------------------------------------------------------
-- The recordAction / recordActionFor rate limit, enforced where the action is recorded, so no document
-- shape (aliases, fragments), no number of server processes and no direct SQL caller escapes it.
--
-- Token buckets: each subject may make `limit` calls at once, and gets them back steadily over the window.
-- Subjects: each user recorded for ('user': the signed-in user of recordAction, the userId of
-- recordActionFor), and each service client ('service': the service token's sub) for recordActionFor and
-- the steps the service inserts itself (createUserStep, below).
-- A user's bucket is one row, locked until commit only by that user's own calls (which already wait for
-- each other on the user's streak row). A service client records for many users, so its bucket is split
-- into up to 16 rows that share its allowance: a call takes a token from a row no other transaction holds
-- (skip locked), so a client's concurrent calls do not queue behind each other.
--
-- The limits are settings of the transaction, which the server sets from its configuration (pgSettings, see
-- plugins/request-limits.ts) so that API callers cannot change them; a session without them gets the
-- database's own values (`alter database ... set achievements.record_action_rate_limit = '120'`), else the
-- defaults below. 0 turns a limit off. (A direct SQL caller sets its own session's settings, as it sets
-- jwt.claims.*: for it the limit guards against accidents, not against itself.)
--   achievements.record_action_rate_limit            calls per user and window (default 60)
--   achievements.record_action_service_rate_limit    calls per service client and window (default 6000)
--   achievements.record_action_rate_window_seconds   the window (default 60)

create table if not exists status_private.record_action_allowances (
  subject_kind text not null check (subject_kind in ('user', 'service')),
  -- The user recorded for ('user'), or the service client: its token's sub, which is its user id ('service').
  user_id uuid not null,
  -- A service client's bucket is split into rows 0 .. least(16, limit) - 1; a user's is row 0.
  shard smallint not null check (shard between 0 and 15),
  -- The calls left in this row at refilled_at.
  tokens double precision not null,
  refilled_at timestamptz not null,
  primary key (subject_kind, user_id, shard)
);
comment on table status_private.record_action_allowances is E'The recordAction rate limit''s token buckets: one row per user, up to 16 per service client.';
alter table status_private.record_action_allowances enable row level security;

-- A setting of the rate limit: the transaction's (or database's) value when it is a whole number, else the default.
create or replace function status_private.record_action_rate_setting(name text, fallback integer) returns integer
  language sql stable
as $$
  select coalesce(case when setting ~ '^\s*[0-9]{1,9}\s*$' then setting::integer end, fallback)
  from (select current_setting('achievements.' || name, true) as setting) as current;
$$;

-- How many of a bucket's `max_calls` calls row `shard` of `shards` holds (the rows add up to max_calls).
create or replace function status_private.allowance_of_shard(max_calls integer, shards integer, shard integer) returns integer
  language sql immutable
as $$
  select max_calls / shards + (shard < max_calls % shards)::integer;
$$;

-- The tokens of a bucket row at `moment`: what it had, plus its share of the allowance for the time since, at most full.
create or replace function status_private.refilled_tokens(
  tokens double precision, refilled_at timestamptz, capacity integer, window_seconds integer, moment timestamptz
) returns double precision
  language sql immutable
as $$
  select least(capacity::double precision,
               tokens + greatest(extract(epoch from moment - refilled_at)::double precision, 0) * capacity / window_seconds);
$$;

-- Takes one call from the subject's bucket, or raises AC429 (RATE_LIMITED) saying when to retry.
create or replace function status_private.take_record_action_allowance(
  subject_kind text, subject uuid, max_calls integer, window_seconds integer
) returns void
  language plpgsql volatile
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
    wait_seconds := greatest(1, ceil(coalesce(wait_seconds, window_seconds)));
    raise exception 'Too many recorded actions %: at most % every % s; retry in % s',
        case subject_kind when 'user' then 'for this user' else 'by this service client' end, max_calls, window_seconds, wait_seconds
      using errcode = 'AC429',
            detail = json_build_object('retryAfterSeconds', wait_seconds)::text,
            hint = format('Retry in %s s (with the same idempotency key).', wait_seconds);
  end if;
end;
$$;

-- The rate limit of one recordAction (service_client NULL) or recordActionFor call. A retry with an
-- idempotency key already used returns the stored result (status_private.record_action) and spends
-- nothing. Only calls that record something spend: a refused or failing call rolls back with the rest.
create or replace function status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid)
  returns void
  language plpgsql volatile
as $$
declare
  window_seconds integer := coalesce(nullif(status_private.record_action_rate_setting('record_action_rate_window_seconds', 60), 0), 60);
begin
  if user_id is null then
    return; -- record_action refuses it
  end if;
  if idempotency_key is not null and exists (
    select from status_public.user_steps
    where user_steps.user_id = spend_record_action_allowance.user_id and user_steps.idempotency_key = spend_record_action_allowance.idempotency_key
  ) then
    return;
  end if;
  if service_client is not null then
    perform status_private.take_record_action_allowance('service', service_client,
      status_private.record_action_rate_setting('record_action_service_rate_limit', 6000), window_seconds);
  end if;
  perform status_private.take_record_action_allowance('user', user_id,
    status_private.record_action_rate_setting('record_action_rate_limit', 60), window_seconds);
end;
$$;

create or replace function status_public.record_action(action text, amount integer default 1, idempotency_key text default null)
  returns status_public.record_action_result
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
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
comment on function status_public.record_action(text, integer, text) is
  E'Records that the signed-in user performed `action` (`amount` times; a client-reportable action only) and returns what changed: the tally, unlocked achievements, points, tier, streak and levels. With an `idempotencyKey`, a retry returns the original result and counts nothing again. Rate limited per user (RATE_LIMITED).';

create or replace function status_public.record_action_for(
  user_id uuid, action text, amount integer default 1, idempotency_key text default null, occurred_at timestamptz default null
) returns status_public.record_action_result
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- The service client is the token's sub; a direct SQL caller without one counts as the nil uuid.
  perform status_private.spend_record_action_allowance(record_action_for.user_id, idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return status_private.record_action(record_action_for.user_id, action, amount, idempotency_key, occurred_at);
end;
$$;
comment on function status_public.record_action_for(uuid, text, integer, text, timestamptz) is
  E'For the service role (a trusted backend): records that `userId` performed `action`, at `occurredAt` (default: now). Same result and idempotency as `recordAction`. Rate limited per service client and per user recorded for (RATE_LIMITED).';

-- The service's other way to record: steps it inserts itself (GraphQL createUserStep, the reference helpers
-- status_private.user_completed_step...) spend the same allowances. Only the service role's own inserts:
-- the trigger's WHEN sees the inserting role, which is the owner for the engine's SECURITY DEFINER paths
-- (record_action, which spent already, and the tg_achievement* triggers, the application's own writes).
create or replace function status_private.tg_user_steps__rate_limit() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  perform status_private.spend_record_action_allowance(NEW.user_id, NEW.idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return NEW;
end;
$$;
drop trigger if exists _010_rate_limit on status_public.user_steps;
create trigger _010_rate_limit before insert on status_public.user_steps
  for each row when (current_user = ':SERVICE_ROLE') execute function status_private.tg_user_steps__rate_limit();

--------------------------------------------------------------------------------------------------
-- Catch-up cursors. unlocked_at is the transaction's start time, so an unlock from a transaction that
-- started before the last unlock a client saw but committed after it has an earlier unlocked_at, and
-- `unlocked_at > last seen` misses it. Instead every unlock and level takes the next number of a per-user
-- counter, whose row stays locked until the transaction ends: the user's next event waits for that commit,
-- so per user, cursor order is commit order, and "everything after the last cursor I saw" misses nothing.
-- (A rolled-back or conflicting insert leaves a gap; gaps are harmless.)

create table if not exists status_private.user_event_cursors (
  user_id uuid primary key,
  last_cursor integer not null check (last_cursor >= 1)
);
comment on table status_private.user_event_cursors is E'The last catch-up cursor given to each user''s unlocks and levels.';
alter table status_private.user_event_cursors enable row level security;

alter table status_public.achievement_unlocks add column if not exists cursor integer;
alter table status_public.user_levels add column if not exists cursor integer;

-- Rows from before the cursors: numbered per user in the order of their times, after any cursor given.
with events as (
  select 'unlock' as kind, unlock.id::text as key, unlock.user_id, unlock.unlocked_at as happened_at
    from status_public.achievement_unlocks as unlock where unlock.cursor is null
  union all
  select 'level', achieved.level, achieved.user_id, achieved.achieved_at
    from status_public.user_levels as achieved where achieved.cursor is null
), numbered as (
  select events.kind, events.key, events.user_id,
         coalesce((select taken.last_cursor from status_private.user_event_cursors as taken where taken.user_id = events.user_id), 0)
           + row_number() over (partition by events.user_id order by events.happened_at, events.kind desc, events.key) as cursor
  from events
), unlocks as (
  update status_public.achievement_unlocks as unlock set cursor = numbered.cursor
    from numbered where numbered.kind = 'unlock' and unlock.id::text = numbered.key
), levels as (
  update status_public.user_levels as achieved set cursor = numbered.cursor
    from numbered where numbered.kind = 'level' and achieved.user_id = numbered.user_id and achieved.level = numbered.key
)
insert into status_private.user_event_cursors as taken (user_id, last_cursor)
  select numbered.user_id, max(numbered.cursor) from numbered group by numbered.user_id
  on conflict (user_id) do update set last_cursor = greatest(taken.last_cursor, excluded.last_cursor);

alter table status_public.achievement_unlocks alter column cursor set not null;
alter table status_public.user_levels alter column cursor set not null;
create unique index if not exists achievement_unlocks_user_id_cursor_idx on status_public.achievement_unlocks (user_id, cursor);
comment on column status_public.achievement_unlocks.cursor is
  E'The catch-up cursor: increases with each of the user''s unlocks and levels in the order their transactions committed. Pass the last one you received to `myUnlocksSince`.';
comment on column status_public.user_levels.cursor is
  E'The catch-up cursor (shared with the user''s unlocks): increases in the order the transactions committed.';

create or replace function status_private.tg__take_user_cursor() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  insert into status_private.user_event_cursors as taken (user_id, last_cursor) values (NEW.user_id, 1)
    on conflict (user_id) do update set last_cursor = taken.last_cursor + 1
    returning taken.last_cursor into NEW.cursor;
  return NEW;
end;
$$;
drop trigger if exists _050_take_cursor on status_public.achievement_unlocks;
create trigger _050_take_cursor before insert on status_public.achievement_unlocks
  for each row execute function status_private.tg__take_user_cursor();
drop trigger if exists _050_take_cursor on status_public.user_levels;
create trigger _050_take_cursor before insert on status_public.user_levels
  for each row execute function status_private.tg__take_user_cursor();

drop function if exists status_public.my_unlocks_since(timestamptz);
create or replace function status_public.my_unlocks_since(cursor integer) returns setof status_public.achievement_unlocks
  language sql stable security invoker
as $$
  select unlock.*
    from status_public.achievement_unlocks as unlock
    where unlock.user_id = (select jwt_public.current_user_id())
      and unlock.cursor > my_unlocks_since.cursor
    order by unlock.cursor;
$$;
comment on function status_public.my_unlocks_since(integer) is
  E'The signed-in user''s unlocks after `cursor` (exclusive), in the order they committed: a subscriber that was disconnected calls it with the `cursor` of the last toast it received (0: all) to catch up on what it missed.';
revoke execute on function status_public.my_unlocks_since(integer) from public;
grant execute on function status_public.my_unlocks_since(integer) to :USER_ROLE;

--------------------------------------------------------------------------------------------------
-- pg_temp last in every SECURITY DEFINER function's search_path: without it PostgreSQL searches pg_temp
-- first for tables and views, where any caller can create a temporary table that shadows ours.
-- (test/db/security/search_path.test.ts checks every such function, so a new one cannot regress.)
do $$
declare
  definer regprocedure;
begin
  for definer in
    select p.oid::regprocedure from pg_catalog.pg_proc as p
    where p.prosecdef
      and p.pronamespace::regnamespace::text in ('status_public', 'status_private', 'jwt_public')
      and not coalesce('search_path=pg_catalog, public, pg_temp' = any(p.proconfig), false)
  loop
    execute format('alter function %s set search_path = pg_catalog, public, pg_temp', definer);
  end loop;
end
$$;

--! split: 4-non-null-types.sql
-- Non-null where the SQL guarantees it, so that generated client types need no null checks there.
-- PostgreSQL cannot declare a composite type's attribute NOT NULL, so PostGraphile makes every one
-- nullable, and every function result: the smart tag `@notNull` on an attribute's or a function's
-- comment makes it non-null in GraphQL, and `@notNullItems` (plugins/non-null-lists.ts) an array's items.
-- Each tag below is backed by the code that builds the value (cited); an attribute that can be NULL keeps
-- no tag and says when. Functions about "me" (my_dashboard, my_tier...) stay nullable at the root: they
-- are null with an UNAUTHENTICATED error when nobody is signed in, and must not wipe the rest of a query.
-- Idempotent: comments are replaced as a whole.

-- status_private.record_action: every attribute comes from the step just inserted (not-null columns),
-- the tally and score rows and the any-activity streak its triggers wrote for that step, or a
-- coalesce(..., '{}') / coalesce(sum(...), 0); a retry returns the same result, stored as JSON.
comment on column status_public.unlocked_achievement.unlock_id is E'@notNull';
comment on column status_public.unlocked_achievement.achievement_id is E'@notNull';
comment on column status_public.unlocked_achievement.name is E'@notNull';
comment on column status_public.unlocked_achievement.points is E'@notNull';

comment on column status_public.record_action_result.step_id is E'@notNull';
comment on column status_public.record_action_result.user_id is E'@notNull';
comment on column status_public.record_action_result.action is E'@notNull';
comment on column status_public.record_action_result.amount is E'@notNull';
comment on column status_public.record_action_result.tally is E'@notNull\nThe user''s tally of the action after this step.';
comment on column status_public.record_action_result.unlocked is E'@notNull\n@notNullItems\nThe achievements this step unlocked.';
comment on column status_public.record_action_result.points_awarded is E'@notNull';
comment on column status_public.record_action_result.total_points is E'@notNull';
comment on column status_public.record_action_result.tier_before is E'The tier before this step''s points (NULL when no tier starts at or below them).';
comment on column status_public.record_action_result.tier_after is E'The tier after this step''s points (NULL when no tier starts at or below them).';
comment on column status_public.record_action_result.current_streak is E'@notNull\nThe user''s streak of any activity, in days, as of the action''s day.';
comment on column status_public.record_action_result.levels_achieved is E'@notNull\n@notNullItems\nThe levels this step achieved for the first time.';

-- record_action raises or returns its result; record_action_for returns record_action's; set_my_profile
-- raises or returns the row it upserted. The tag goes in front of each function's description as it
-- stands, which the migration that (re)creates the function writes.
do $$
declare
  fn regprocedure;
  description text;
begin
  foreach fn in array array[
    'status_public.record_action(text, integer, text)',
    'status_public.record_action_for(uuid, text, integer, text, timestamptz)',
    'status_public.set_my_profile(text, text, boolean)'
  ]::regprocedure[] loop
    description := coalesce(obj_description(fn, 'pg_proc'), '');
    if description !~ '^@notNull(\n|$)' then
      -- %s: a regprocedure prints as a quoted, schema-qualified signature.
      execute format('comment on function %s is %L', fn, E'@notNull\n' || description);
    end if;
  end loop;
end
$$;

-- status_public.my_achievements: ids, names, points, kinds and flags from not-null catalog columns, the
-- rest by case/coalesce; criteria by coalesce(array_agg(row(...)), '{}').
comment on column status_public.criterion_progress.kind is E'@notNull';
comment on column status_public.criterion_progress.action is E'The action counted (NULL: a streak of any activity).';
comment on column status_public.criterion_progress.threshold is E'The count or streak to reach (NULL for time_of_day).';
comment on column status_public.criterion_progress.hour_from is E'time_of_day: the first local hour (NULL for other kinds).';
comment on column status_public.criterion_progress.hour_until is E'time_of_day: the local hour the window ends before (NULL for other kinds).';
comment on column status_public.criterion_progress.current is E'@notNull\ncount: the tally; streak: the current streak in days; time_of_day: 1 once met (by the unlock), else 0.';
comment on column status_public.criterion_progress.remaining is E'@notNull\nWhat is left: count and streak: threshold - current (0 when met); time_of_day: 0 or 1.';
comment on column status_public.criterion_progress.percent is E'@notNull';

comment on column status_public.achievement_progress.achievement_id is E'@notNull';
comment on column status_public.achievement_progress.name is E'@notNull';
comment on column status_public.achievement_progress.description is E'@notNull';
comment on column status_public.achievement_progress.points is E'@notNull';
comment on column status_public.achievement_progress.kind is E'@notNull';
comment on column status_public.achievement_progress.hidden is E'@notNull';
comment on column status_public.achievement_progress.unlocked is E'@notNull';
comment on column status_public.achievement_progress.unlocked_at is E'When the user unlocked it (NULL while locked).';
comment on column status_public.achievement_progress.percent is E'@notNull\n0 to 100; 100 only when unlocked. Several criteria: the mean of their percentages (each capped at 100), and at most 99 until the achievement unlocks.';
comment on column status_public.achievement_progress.criteria is E'@notNull\n@notNullItems';

-- status_private.tier_progress, called by my_tier with coalesce(points, 0): points and percent are
-- never NULL; the tier and the next one are NULL below the lowest tier and above the highest.
comment on column status_public.tier_progress.points is E'@notNull';
comment on column status_public.tier_progress.tier is E'The user''s tier (NULL when no tier starts at or below their points).';
comment on column status_public.tier_progress.badge is E'The tier''s badge (NULL with the tier).';
comment on column status_public.tier_progress.next_tier is E'The next tier (NULL at the top tier).';
comment on column status_public.tier_progress.next_badge is E'The next tier''s badge (NULL at the top tier).';
comment on column status_public.tier_progress.next_tier_min_points is E'The points the next tier starts at (NULL at the top tier).';
comment on column status_public.tier_progress.percent is E'@notNull\nThe tutorial''s formula: (points - tier minimum) / (next minimum - tier minimum) x 100; 100 at the top tier.';

-- status_public.my_dashboard: from not-null user_streaks and user_achievements columns.
comment on column status_public.streak_summary.action is E'The action (NULL: any activity).';
comment on column status_public.streak_summary.current is E'@notNull';
comment on column status_public.streak_summary.longest is E'@notNull';
comment on column status_public.streak_summary.last_day is E'@notNull';

comment on column status_public.tally.name is E'@notNull';
comment on column status_public.tally.count is E'@notNull';

-- my_dashboard raises unless someone is signed in, then sets every attribute: the user, my_tier() (one
-- row, always), coalesce(array_agg(...), '{}') for the arrays, counts and coalesced streak lengths.
comment on column status_public.dashboard.user_id is E'@notNull';
comment on column status_public.dashboard.tier is E'@notNull';
comment on column status_public.dashboard.unlocked is E'@notNull\n@notNullItems';
comment on column status_public.dashboard.locked is E'@notNull\n@notNullItems';
comment on column status_public.dashboard.hidden_locked_count is E'@notNull';
comment on column status_public.dashboard.tallies is E'@notNull\n@notNullItems';
comment on column status_public.dashboard.current_streak is E'@notNull\nThe streak of any activity, in days.';
comment on column status_public.dashboard.longest_streak is E'@notNull';
comment on column status_public.dashboard.streaks is E'@notNull\n@notNullItems';

-- Relations to a row that every role able to read the referencing row can read too (PostGraphile makes
-- them nullable because row-level security could hide the row at the other end): a criterion is visible
-- only with its achievement; an unlock is read by its own user (who sees the achievements they unlocked,
-- hidden ones included, and their own steps), the service or an admin (who see all); levels are public.
-- The foreign keys are not null and cascade on delete. (Relations through nullable keys stay nullable.)
comment on constraint achievement_criteria_achievement_id_fkey on status_public.achievement_criteria is E'@notNull';
comment on constraint achievement_unlocks_achievement_id_fkey on status_public.achievement_unlocks is E'@notNull';
comment on constraint achievement_unlocks_step_id_fkey on status_public.achievement_unlocks is E'@notNull';
comment on constraint level_requirements_level_fkey on status_public.level_requirements is E'@notNull';
comment on constraint user_levels_level_fkey on status_public.user_levels is E'@notNull';

--! Previous: -
--! Hash: sha1:f77a4ddb28227efa304c0c077a7f7a2c9220c92c
--! Message: foundation: reference SQL API, tally, trigger functions, RLS

-- Errors raised here use the project's SQLSTATE class "AC"; src/errors.ts maps them to GraphQL codes:
--   AC400 BAD_USER_INPUT, AC401 UNAUTHENTICATED, AC403 FORBIDDEN, AC404 NOT_FOUND, AC409 CONFLICT.

-- Functions are not executable by PUBLIC unless granted on purpose.
alter default privileges revoke execute on functions from public;

create schema jwt_public;
create schema status_public;
create schema status_private;

comment on schema status_public is E'The achievements API: everything GraphQL exposes.';
comment on schema status_private is E'Trigger functions and internals; never exposed, never executable by API roles.';

grant usage on schema jwt_public, status_public to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--------------------------------------------------------------------------------------------------
-- Identity from the verified JWT (the server sets jwt.claims.* for each transaction).

create function jwt_public.current_user_id() returns uuid
  language sql stable parallel safe
as $$
  -- Only a canonical uuid counts: a missing or malformed claim is NULL, never an error.
  select case
    when current_setting('jwt.claims.user_id', true) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    then current_setting('jwt.claims.user_id', true)::uuid
  end;
$$;
comment on function jwt_public.current_user_id() is E'The signed-in user (the JWT''s `sub`), or NULL.';

create function jwt_public.current_role_acts_for_anyone() returns boolean
  language sql stable parallel safe
as $$
  -- The service (a trusted backend) and admins may read and act for any user.
  select pg_has_role(current_user, ':SERVICE_ROLE', 'usage') or pg_has_role(current_user, ':ADMIN_ROLE', 'usage');
$$;
comment on function jwt_public.current_role_acts_for_anyone() is E'True for the service and admin roles, which may act for any user.';

grant execute on function jwt_public.current_user_id(), jwt_public.current_role_acts_for_anyone()
  to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--------------------------------------------------------------------------------------------------
-- Levels and their requirements (the reference package's catalog), managed by admins.

create table status_public.levels (
  name text primary key check (length(name) between 1 and 100 and name = btrim(name)),
  created_at timestamptz not null default now()
);
comment on table status_public.levels is E'Progression stages (for example newbie, intermediate, expert). A level is achieved when all its requirements are met.';
comment on column status_public.levels.name is E'The level''s identifier.';

create table status_public.level_requirements (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 100 and name = btrim(name)),
  level text not null references status_public.levels (name) on update cascade on delete cascade,
  required_count integer not null default 1 check (required_count >= 1),
  priority integer not null default 100,
  unique (name, level)
);
create index level_requirements_level_priority_idx on status_public.level_requirements (level, priority, name);
comment on table status_public.level_requirements is E'What a user must do, and how often, to achieve a level.';
comment on column status_public.level_requirements.name is E'The step (action) to perform, for example `make_post`.';
comment on column status_public.level_requirements.level is E'The level this requirement belongs to.';
comment on column status_public.level_requirements.required_count is E'How many times the step must be performed (at least 1). In the rows of `stepsRequired`: how many remain.';
comment on column status_public.level_requirements.priority is E'Display order: lower first, then by name.';

--------------------------------------------------------------------------------------------------
-- The step log and the tally it feeds.

create table status_public.user_steps (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  name text not null check (length(name) between 1 and 100 and name = btrim(name)),
  -- Negative counts take a step back (the toggle triggers do this); the tally never goes below zero.
  count integer not null default 1 check (count <> 0),
  -- NULL: the writer gave no key. A key is unique per user, so a retried request counts once.
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  created_at timestamptz not null default now(),
  unique (user_id, idempotency_key)
);
create index user_steps_user_id_name_idx on status_public.user_steps (user_id, name);
comment on table status_public.user_steps is E'Append-only log of every step a user performed. Written by the service role and by the tg_achievement* triggers.';
comment on column status_public.user_steps.user_id is E'The user credited with the step.';
comment on column status_public.user_steps.name is E'The step (action) performed.';
comment on column status_public.user_steps.count is E'How many steps this row counts (negative to take steps back).';
comment on column status_public.user_steps.idempotency_key is E'Optional key, unique per user: recording a step again with the same key is a CONFLICT and counts nothing.';

create table status_public.user_achievements (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  name text not null,
  count integer not null default 0 check (count >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (user_id, name)
);
comment on table status_public.user_achievements is E'The running tally of each user''s steps, by step name. Kept by a trigger on user_steps; read-only for every API role.';
comment on column status_public.user_achievements.count is E'How many times the user performed the step (never below zero).';

create function status_private.tg_user_steps__tally() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  -- One upsert: concurrent steps for the same user and name serialise on the tally row, so the count is exact.
  insert into status_public.user_achievements as tally (user_id, name, count)
    values (NEW.user_id, NEW.name, greatest(NEW.count, 0))
    on conflict (user_id, name) do update
      set count = greatest(tally.count + NEW.count, 0), updated_at = now();
  return null;
end;
$$;
create trigger _100_tally after insert on status_public.user_steps
  for each row execute function status_private.tg_user_steps__tally();

--------------------------------------------------------------------------------------------------
-- Progress queries (the reference package's API).

create function status_public.steps_required(level text, user_id uuid default jwt_public.current_user_id())
  returns setof status_public.level_requirements
  language plpgsql stable
as $$
begin
  if not exists (select from status_public.levels where levels.name = steps_required.level) then
    raise exception 'Unknown level "%"', steps_required.level
      using errcode = 'AC404', hint = 'Query `levels` for the names that exist.';
  end if;
  if steps_required.user_id is null then
    raise exception 'Sign in, or name the user whose progress you want'
      using errcode = 'AC401';
  end if;
  if steps_required.user_id is distinct from jwt_public.current_user_id()
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
      on tally.user_id = steps_required.user_id and tally.name = requirement.name
    where requirement.level = steps_required.level
      and coalesce(tally.count, 0) < requirement.required_count
    order by requirement.priority, requirement.name;
end;
$$;
comment on function status_public.steps_required(text, uuid) is
  E'The requirements of `level` that the user has not met yet, each with the remaining count in `requiredCount`, ordered by priority then name. The user defaults to the signed-in one; only the service and admins may ask about others. An unknown level is an error.';

create function status_public.user_achieved(level text, user_id uuid default jwt_public.current_user_id())
  returns boolean
  language sql stable
as $$
  select not exists (select from status_public.steps_required(user_achieved.level, user_achieved.user_id));
$$;
comment on function status_public.user_achieved(text, uuid) is
  E'True when the user has met every requirement of `level`. Same rules as `stepsRequired`: an unknown level is an error, not "achieved".';

grant execute on function status_public.steps_required(text, uuid), status_public.user_achieved(text, uuid)
  to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--------------------------------------------------------------------------------------------------
-- Trigger functions that turn writes to application tables into steps (the reference package's API):
--   execute function status_private.tg_achievement('column_name', 'step_name' [, 'user_column']);
-- The optional third argument names the row's column that holds the user to credit (a uuid); without it
-- the signed-in user is credited; with neither, nothing is counted and the application's write succeeds.

-- A column's value in a row, as jsonb (NULL for SQL NULL); a clear error when the column does not exist.
create function status_private.trigger_column_value(row_data jsonb, column_name text, trigger_name name, table_name regclass)
  returns jsonb
  language plpgsql immutable
as $$
begin
  if row_data is null then
    return null;
  end if;
  if not row_data ? column_name then
    raise exception 'Trigger "%" on table % names the column "%", which the table does not have', trigger_name, table_name, column_name
      using errcode = 'undefined_column';
  end if;
  return nullif(row_data -> column_name, 'null'::jsonb);
end;
$$;

-- The arguments every tg_achievement* trigger takes, (column_name, step_name [, user_column]), checked and
-- as a 1-based array (TG_ARGV is 0-based).
create function status_private.trigger_arguments(trigger_args text[], trigger_name name, table_name regclass)
  returns text[]
  language plpgsql immutable
as $$
declare
  args text[] := array(select unnest(trigger_args));
begin
  if cardinality(args) not between 2 and 3 or '' = any(args) then
    raise exception 'Trigger "%" on table % takes (column_name, step_name [, user_column]), got %', trigger_name, table_name, args
      using errcode = 'invalid_parameter_value';
  end if;
  return args;
end;
$$;

-- What the four tg_achievement* functions share: read the trigger's arguments and the column's old and
-- new values, count the steps that `mode` gives for this change, and record them for the user to credit
-- (see above). Modes:
--   set:            +1 when the column is set (insert with a value, update to another non-null value)
--   toggle:         +1 on NULL -> value, -1 on value -> NULL
--   boolean:        +1 each time the column becomes TRUE
--   toggle_boolean: +1 on FALSE/NULL -> TRUE, -1 on TRUE -> FALSE/NULL
-- Deletes count nothing.
create function status_private.count_column_change(
  mode text, operation text, trigger_args text[], trigger_name name, table_name regclass, old_row jsonb, new_row jsonb
) returns void
  language plpgsql volatile
as $$
declare
  args text[] := status_private.trigger_arguments(trigger_args, trigger_name, table_name);
  old_value jsonb;
  new_value jsonb;
  was_on boolean;
  is_on boolean;
  delta integer;
  credited_user uuid;
begin
  if operation not in ('INSERT', 'UPDATE') then
    return;
  end if;
  if operation = 'UPDATE' then
    old_value := status_private.trigger_column_value(old_row, args[1], trigger_name, table_name);
  end if;
  new_value := status_private.trigger_column_value(new_row, args[1], trigger_name, table_name);

  if mode in ('boolean', 'toggle_boolean') then
    if jsonb_typeof(old_value) <> 'boolean' or jsonb_typeof(new_value) <> 'boolean' then
      raise exception 'Trigger "%" on table % needs a boolean column, but "%" is not boolean', trigger_name, table_name, args[1]
        using errcode = 'datatype_mismatch';
    end if;
    was_on := coalesce(old_value = 'true'::jsonb, false);
    is_on := coalesce(new_value = 'true'::jsonb, false);
  else
    was_on := old_value is not null;
    is_on := new_value is not null;
  end if;

  delta := case mode
    when 'set' then (new_value is not null and new_value is distinct from old_value)::integer
    when 'boolean' then (is_on and not was_on)::integer
    else is_on::integer - was_on::integer -- toggle, toggle_boolean
  end;
  if delta = 0 then
    return;
  end if;

  if args[3] is null then
    credited_user := jwt_public.current_user_id();
  else
    credited_user := (status_private.trigger_column_value(new_row, args[3], trigger_name, table_name) #>> '{}')::uuid;
  end if;
  if credited_user is not null then
    insert into status_public.user_steps (user_id, name, count) values (credited_user, args[2], delta);
  end if;
end;
$$;

create function status_private.tg_achievement() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  perform status_private.count_column_change('set', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;

create function status_private.tg_achievement_toggle() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  perform status_private.count_column_change('toggle', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;

create function status_private.tg_achievement_boolean() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  perform status_private.count_column_change('boolean', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;

create function status_private.tg_achievement_toggle_boolean() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  perform status_private.count_column_change('toggle_boolean', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;

comment on function status_private.tg_achievement() is
  E'Trigger: one step each time the column is set (insert with a value, or update to another non-null value). Arguments: (column_name, step_name [, user_column]).';
comment on function status_private.tg_achievement_toggle() is
  E'Trigger: one step when the column goes from NULL to a value; back to NULL takes it back. Arguments: (column_name, step_name [, user_column]).';
comment on function status_private.tg_achievement_boolean() is
  E'Trigger: one step each time the boolean column becomes TRUE. Arguments: (column_name, step_name [, user_column]).';
comment on function status_private.tg_achievement_toggle_boolean() is
  E'Trigger: one step on FALSE/NULL -> TRUE; TRUE -> FALSE/NULL takes it back. Arguments: (column_name, step_name [, user_column]).';

--------------------------------------------------------------------------------------------------
-- Row-level security and grants. Everyone reads the catalog; only admins write it. Users read their own
-- steps and tallies; the service and admins read everyone's; only the service records steps directly.
-- Nobody but the trigger above writes tallies.

alter table status_public.levels enable row level security;
create policy select_all on status_public.levels for select using (true);
create policy manage_as_admin on status_public.levels for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.levels to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (name), update (name), delete on status_public.levels to :ADMIN_ROLE;

alter table status_public.level_requirements enable row level security;
create policy select_all on status_public.level_requirements for select using (true);
create policy manage_as_admin on status_public.level_requirements for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.level_requirements to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (name, level, required_count, priority), update (name, level, required_count, priority), delete
  on status_public.level_requirements to :ADMIN_ROLE;

alter table status_public.user_steps enable row level security;
create policy select_own on status_public.user_steps for select to :USER_ROLE
  using (user_id = (select jwt_public.current_user_id()));
create policy select_all_as_service_or_admin on status_public.user_steps for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
create policy insert_as_service on status_public.user_steps for insert to :SERVICE_ROLE with check (true);
grant select on status_public.user_steps to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (user_id, name, count, idempotency_key) on status_public.user_steps to :SERVICE_ROLE;

alter table status_public.user_achievements enable row level security;
create policy select_own on status_public.user_achievements for select to :USER_ROLE
  using (user_id = (select jwt_public.current_user_id()));
create policy select_all_as_service_or_admin on status_public.user_achievements for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
grant select on status_public.user_achievements to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

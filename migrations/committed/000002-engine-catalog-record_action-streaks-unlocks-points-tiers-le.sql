--! Previous: sha1:f77a4ddb28227efa304c0c077a7f7a2c9220c92c
--! Hash: sha1:652fc8f4e7824e8f65855c7d75c1ae0f40322d6d
--! Message: engine: catalog, record_action, streaks, unlocks, points, tiers, levels, progress, dashboard

--------------------------------------------------------------------------------------------------
-- The catalog: actions, achievements and their criteria, tiers. Everyone reads it (hidden achievements
-- excepted, see below); only admins write it.

create table status_public.actions (
  name text primary key check (name ~ '^[a-z][a-z0-9_]{0,99}$'),
  description text not null default '' check (length(description) <= 1000),
  -- Anti-cheat: a signed-in user may record only actions marked so; the rest come from the service role
  -- (a trusted backend) or from table triggers.
  client_reportable boolean not null default false,
  max_amount integer not null default 100 check (max_amount between 1 and 1000000),
  created_at timestamptz not null default now()
);
comment on table status_public.actions is E'What users do (`tasks_completed`, `logins`, ...): the names that `recordAction` accepts and that criteria count.';
comment on column status_public.actions.client_reportable is E'Whether a signed-in user may record this action for themselves. Otherwise only the service role (or a table trigger) records it.';
comment on column status_public.actions.max_amount is E'The largest `amount` one `recordAction` call may carry.';

create type status_public.achievement_kind as enum ('milestone', 'streak', 'challenge', 'hidden', 'time_limited');
comment on type status_public.achievement_kind is E'How an achievement is presented; what unlocks it is its criteria.';

create table status_public.achievements (
  id text primary key check (id ~ '^[a-z][a-z0-9_]{0,99}$'),
  name text not null check (length(name) between 1 and 200),
  description text not null default '' check (length(description) <= 1000),
  points integer not null default 0 check (points between 0 and 1000000),
  icon text check (length(icon) <= 200),
  kind status_public.achievement_kind not null default 'milestone',
  hidden boolean not null default false,
  -- NULL: no bound on that side. Only actions that occur inside the window unlock the achievement.
  available_from timestamptz,
  available_until timestamptz,
  position integer not null default 0,
  created_at timestamptz not null default now(),
  check (available_until > available_from)
);
comment on table status_public.achievements is E'The achievements users can unlock. Each unlocks, once per user, when all its criteria hold. A hidden achievement is visible to a user only once they unlocked it.';
comment on column status_public.achievements.id is E'The stable identifier, for example `tasks_completed_10`.';
comment on column status_public.achievements.points is E'Points awarded, once, on unlock.';
comment on column status_public.achievements.hidden is E'Secret until unlocked: users who have not unlocked it do not see it (only their count of hidden achievements still locked).';
comment on column status_public.achievements.available_from is E'Time-limited achievements: actions before this time do not unlock it.';
comment on column status_public.achievements.available_until is E'Time-limited achievements: actions from this time on do not unlock it.';
comment on column status_public.achievements.position is E'Display order: lower first, then by id.';

create type status_public.criterion_kind as enum ('count', 'streak', 'time_of_day');

create table status_public.achievement_criteria (
  id uuid primary key default gen_random_uuid(),
  achievement_id text not null references status_public.achievements (id) on update cascade on delete cascade,
  kind status_public.criterion_kind not null,
  -- For a streak, NULL means any activity; count and time_of_day criteria name an action.
  action text references status_public.actions (name) on update cascade on delete restrict,
  -- count: the tally to reach; streak: the number of consecutive days.
  threshold integer check (threshold between 1 and 100000000),
  -- time_of_day: the local hours [hour_from, hour_until); a window with hour_from > hour_until wraps midnight.
  hour_from integer check (hour_from between 0 and 23),
  hour_until integer check (hour_until between 1 and 24),
  check (case kind
    when 'count' then action is not null and threshold is not null and hour_from is null and hour_until is null
    when 'streak' then threshold is not null and hour_from is null and hour_until is null
    when 'time_of_day' then action is not null and threshold is null and hour_from is not null and hour_until is not null and hour_from <> hour_until
  end)
);
create index achievement_criteria_achievement_id_idx on status_public.achievement_criteria (achievement_id);
-- Which achievements an action can unlock: the hot path's only catalog lookup.
create index achievement_criteria_action_idx on status_public.achievement_criteria (action);
comment on table status_public.achievement_criteria is E'What unlocks an achievement: all its criteria must hold. count: the user''s tally of `action` >= `threshold`. streak: the user''s current streak of `action` (NULL: any activity) >= `threshold` consecutive days. time_of_day: the action is performed at a local hour in [`hourFrom`, `hourUntil`).';

create table status_public.tiers (
  name text primary key check (length(name) between 1 and 100),
  min_points integer not null unique check (min_points >= 0),
  badge text not null default '' check (length(badge) <= 100)
);
comment on table status_public.tiers is E'Point tiers: a user is in the tier with the highest `minPoints` not above their points.';

--------------------------------------------------------------------------------------------------
-- User profiles: display name, time zone (streaks and time-of-day criteria use it), leaderboard opt-out.

create table status_public.user_profiles (
  user_id uuid primary key,
  display_name text check (length(display_name) between 1 and 100),
  time_zone text not null default 'UTC' check (length(time_zone) <= 100),
  leaderboard_opt_out boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on column status_public.user_profiles.display_name is E'The name shown on leaderboards (NULL: none chosen).';
comment on column status_public.user_profiles.time_zone is E'An IANA time zone name, for example `Europe/Paris`: streaks count calendar days, and time-of-day criteria local hours, in it.';

create function status_private.tg_user_profiles__check_time_zone() returns trigger
  language plpgsql stable
as $$
begin
  if not exists (select from pg_catalog.pg_timezone_names where name = NEW.time_zone) then
    raise exception 'Unknown time zone "%"', NEW.time_zone
      using errcode = 'AC400', hint = 'Use an IANA time zone name, for example Europe/Paris or UTC.';
  end if;
  NEW.updated_at := now();
  return NEW;
end;
$$;
create trigger _100_check_time_zone before insert or update on status_public.user_profiles
  for each row execute function status_private.tg_user_profiles__check_time_zone();

--------------------------------------------------------------------------------------------------
-- What the engine derives from steps, written only by trigger functions.

alter table status_public.user_steps
  add column occurred_at timestamptz not null default now();
comment on column status_public.user_steps.occurred_at is E'When the action happened (defaults to when it was recorded; only the service may set it). Streaks, time-of-day criteria and time-limited achievements use it.';

create table status_public.user_streaks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  -- NULL: the streak of any activity.
  action text,
  current_length integer not null check (current_length >= 1),
  longest_length integer not null check (longest_length >= current_length),
  -- The last local calendar day with activity.
  last_day date not null,
  updated_at timestamptz not null default now(),
  unique nulls not distinct (user_id, action)
);
comment on table status_public.user_streaks is E'Consecutive calendar days (in the user''s time zone) with at least one step, per action and for any activity (`action` NULL). A streak whose last day is before yesterday is broken: read it with `currentStreak`.';

create table status_public.achievement_unlocks (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  achievement_id text not null references status_public.achievements (id) on update cascade on delete cascade,
  points integer not null check (points >= 0),
  unlocked_at timestamptz not null default now(),
  -- The step that unlocked it.
  step_id uuid not null references status_public.user_steps (id) on delete cascade,
  unique (user_id, achievement_id)
);
create index achievement_unlocks_achievement_id_idx on status_public.achievement_unlocks (achievement_id);
create index achievement_unlocks_step_id_idx on status_public.achievement_unlocks (step_id);
comment on table status_public.achievement_unlocks is E'Each achievement a user unlocked: exactly once per user and achievement, with the points it awarded.';

create table status_public.points_ledger (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null,
  points integer not null check (points <> 0),
  unlock_id uuid references status_public.achievement_unlocks (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index points_ledger_user_id_idx on status_public.points_ledger (user_id, created_at);
create index points_ledger_unlock_id_idx on status_public.points_ledger (unlock_id);
comment on table status_public.points_ledger is E'Append-only record of every point awarded.';

create table status_public.user_scores (
  user_id uuid primary key,
  points integer not null default 0 check (points >= 0),
  tier text references status_public.tiers (name) on update cascade on delete set null,
  -- When the user reached their current points: the earlier, the higher within a tie.
  reached_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
comment on table status_public.user_scores is E'Each active user''s points and tier, kept from the points ledger.';
comment on column status_public.user_scores.tier is E'The tier for these points (NULL when no tier starts at or below them).';

create table status_public.user_levels (
  user_id uuid not null,
  level text not null references status_public.levels (name) on update cascade on delete cascade,
  achieved_at timestamptz not null default now(),
  step_id uuid references status_public.user_steps (id) on delete set null,
  primary key (user_id, level)
);
create index user_levels_step_id_idx on status_public.user_levels (step_id);
comment on table status_public.user_levels is E'The levels each user achieved, recorded once, when first achieved.';

-- The result of each recordAction call with an idempotency key, so a retry returns it unchanged.
create table status_private.recorded_action_results (
  step_id uuid primary key references status_public.user_steps (id) on delete cascade,
  result jsonb not null
);

--------------------------------------------------------------------------------------------------
-- Helpers of the event path.

create function status_private.time_zone_of(user_id uuid) returns text
  language sql stable
as $$
  select coalesce((select time_zone from status_public.user_profiles where user_profiles.user_id = time_zone_of.user_id), 'UTC');
$$;

create function status_private.tier_for(points integer) returns text
  language sql stable
as $$
  select name from status_public.tiers where min_points <= tier_for.points order by min_points desc limit 1;
$$;

-- The length of a streak as of `today` (its last day before yesterday: broken, 0).
create function status_private.streak_as_of(current_length integer, last_day date, today date) returns integer
  language sql immutable
as $$
  select case when last_day >= today - 1 then current_length else 0 end;
$$;

create function status_private.notify_user(user_id uuid, event text, id text) returns void
  language sql volatile
as $$
  -- Ids only (payloads are limited to 8000 bytes); subscribers re-read the rows under their own RLS.
  -- Sent only if the transaction commits.
  select pg_notify('achievements:' || user_id::text, json_build_object('event', event, 'id', id)::text);
$$;

--------------------------------------------------------------------------------------------------
-- The event path, in trigger order on user_steps (each step only touches what it names):
--   _100_tally (above), _200_streaks, _300_unlock_achievements, _400_levels.
-- Unlocks write the points ledger, whose trigger keeps the score and tier. Steps that take progress
-- back (count < 0) only change the tally: unlocks and levels are never taken back.

create function status_private.tg_user_steps__streaks() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  today date := (NEW.occurred_at at time zone status_private.time_zone_of(NEW.user_id))::date;
begin
  if NEW.count < 0 then
    return null;
  end if;
  -- One streak for the action and one for any activity. An action dated before the last day counted
  -- (a backdated one) changes nothing.
  insert into status_public.user_streaks as streak (user_id, action, current_length, longest_length, last_day)
    values (NEW.user_id, NEW.name, 1, 1, today), (NEW.user_id, null, 1, 1, today)
    on conflict (user_id, action) do update
      set current_length = case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            when excluded.last_day > streak.last_day + 1 then 1
            else streak.current_length
          end,
          longest_length = greatest(streak.longest_length, case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end),
          last_day = greatest(streak.last_day, excluded.last_day),
          updated_at = now();
  return null;
end;
$$;
create trigger _200_streaks after insert on status_public.user_steps
  for each row execute function status_private.tg_user_steps__streaks();

-- Whether one criterion holds for a user at the step being recorded.
create function status_private.criterion_holds(
  criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp
) returns boolean
  language sql stable
as $$
  select case criterion.kind
    when 'count' then coalesce((
      select tally.count from status_public.user_achievements as tally
      where tally.user_id = criterion_holds.user_id and tally.name = criterion.action), 0) >= criterion.threshold
    when 'streak' then coalesce((
      select status_private.streak_as_of(streak.current_length, streak.last_day, local_time::date)
      from status_public.user_streaks as streak
      where streak.user_id = criterion_holds.user_id and streak.action is not distinct from criterion.action), 0) >= criterion.threshold
    when 'time_of_day' then criterion.action = criterion_holds.action and case
      when criterion.hour_from < criterion.hour_until
        then extract(hour from local_time) >= criterion.hour_from and extract(hour from local_time) < criterion.hour_until
      else extract(hour from local_time) >= criterion.hour_from or extract(hour from local_time) < criterion.hour_until
    end
  end;
$$;

create function status_private.tg_user_steps__unlock_achievements() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  local_time timestamp := NEW.occurred_at at time zone status_private.time_zone_of(NEW.user_id);
begin
  if NEW.count < 0 then
    return null;
  end if;
  -- Only achievements with a criterion naming this action (or an any-activity streak) are candidates,
  -- so the cost does not grow with the catalog. The unique key makes each unlock happen exactly once,
  -- even when concurrent transactions cross the threshold together.
  with candidates as (
    select achievement.id, achievement.points
    from status_public.achievements as achievement
    -- Two index lookups, not one OR: with an OR, a generic plan (which PostgreSQL may switch to for
    -- this trigger's cached statement) scans every criterion, and the cost would grow with the catalog.
    where achievement.id in (
        select criterion.achievement_id from status_public.achievement_criteria as criterion
        where criterion.action = NEW.name
        union all
        select criterion.achievement_id from status_public.achievement_criteria as criterion
        where criterion.action is null and criterion.kind = 'streak')
      and (achievement.available_from is null or achievement.available_from <= NEW.occurred_at)
      and (achievement.available_until is null or NEW.occurred_at < achievement.available_until)
      and not exists (
        select from status_public.achievement_unlocks as unlock
        where unlock.user_id = NEW.user_id and unlock.achievement_id = achievement.id)
      and not exists (
        select from status_public.achievement_criteria as criterion
        where criterion.achievement_id = achievement.id
          and not status_private.criterion_holds(criterion, NEW.user_id, NEW.name, local_time))
  ), unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
    select NEW.user_id, candidates.id, candidates.points, NEW.id from candidates
    on conflict (user_id, achievement_id) do nothing
    returning id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select NEW.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
  return null;
end;
$$;
create trigger _300_unlock_achievements after insert on status_public.user_steps
  for each row execute function status_private.tg_user_steps__unlock_achievements();

create function status_private.tg_user_steps__levels() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  if NEW.count < 0 then
    return null;
  end if;
  -- Levels that need this step, not yet achieved, with no requirement left unmet.
  insert into status_public.user_levels (user_id, level, step_id)
  select distinct NEW.user_id, requirement.level, NEW.id
  from status_public.level_requirements as requirement
  where requirement.name = NEW.name
    and not exists (
      select from status_public.user_levels as achieved
      where achieved.user_id = NEW.user_id and achieved.level = requirement.level)
    and not exists (
      select from status_public.level_requirements as other
      left join status_public.user_achievements as tally on tally.user_id = NEW.user_id and tally.name = other.name
      where other.level = requirement.level and coalesce(tally.count, 0) < other.required_count)
  on conflict (user_id, level) do nothing;
  return null;
end;
$$;
create trigger _400_levels after insert on status_public.user_steps
  for each row execute function status_private.tg_user_steps__levels();

create function status_private.tg_points_ledger__score() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
declare
  tier_before text;
  score status_public.user_scores;
begin
  select tier into tier_before from status_public.user_scores where user_id = NEW.user_id for update;
  insert into status_public.user_scores as current_score (user_id, points, tier, reached_at)
    values (NEW.user_id, greatest(NEW.points, 0), status_private.tier_for(greatest(NEW.points, 0)), NEW.created_at)
    on conflict (user_id) do update
      set points = greatest(current_score.points + NEW.points, 0),
          tier = status_private.tier_for(greatest(current_score.points + NEW.points, 0)),
          reached_at = NEW.created_at
    returning * into score;
  if score.tier is distinct from tier_before then
    perform status_private.notify_user(NEW.user_id, 'tier_changed', coalesce(score.tier, ''));
  end if;
  return null;
end;
$$;
create trigger _100_score after insert on status_public.points_ledger
  for each row execute function status_private.tg_points_ledger__score();

-- Notifies the row's user: TG_ARGV[0] is the event, TG_ARGV[1] the column holding the id to send.
create function status_private.tg__notify_user() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  perform status_private.notify_user(NEW.user_id, TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]);
  return null;
end;
$$;
create trigger _500_notify after insert on status_public.achievement_unlocks
  for each row execute function status_private.tg__notify_user('achievement_unlocked', 'id');
create trigger _500_notify after insert on status_public.user_levels
  for each row execute function status_private.tg__notify_user('level_achieved', 'level');

-- A user who acts gets a score row (0 points) on their first step, so that "active users" are counted.
create function status_private.tg_user_steps__score_row() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public
as $$
begin
  insert into status_public.user_scores (user_id, points, tier)
    values (NEW.user_id, 0, status_private.tier_for(0))
    on conflict (user_id) do nothing;
  return null;
end;
$$;
create trigger _050_score_row after insert on status_public.user_steps
  for each row execute function status_private.tg_user_steps__score_row();

--------------------------------------------------------------------------------------------------
-- Recording actions: the API's write path.

create type status_public.unlocked_achievement as (
  unlock_id uuid,
  achievement_id text,
  name text,
  points integer
);

create type status_public.record_action_result as (
  step_id uuid,
  user_id uuid,
  action text,
  amount integer,
  -- The user's tally of the action after this step.
  tally integer,
  unlocked status_public.unlocked_achievement[],
  points_awarded integer,
  total_points integer,
  tier_before text,
  tier_after text,
  -- The user's streak of any activity, in days, as of the action's day.
  current_streak integer,
  levels_achieved text[]
);
comment on type status_public.record_action_result is E'What one recorded action changed.';

-- Records one action for a user and returns what changed. Shared by record_action (the signed-in user)
-- and record_action_for (the service role); API roles cannot call it directly.
create function status_private.record_action(
  user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz
) returns status_public.record_action_result
  language plpgsql volatile security definer set search_path = pg_catalog, public
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

  -- A retry returns the original result and counts nothing again. Concurrent retries: the insert waits
  -- for the first one and then finds its row.
  loop
    if idempotency_key is not null then
      select * into previous from status_public.user_steps
        where user_steps.user_id = record_action.user_id and user_steps.idempotency_key = record_action.idempotency_key;
      if found then
        if previous.name <> record_action.action or previous.count <> record_action.amount then
          raise exception 'The idempotency key "%" was already used for % x "%"', idempotency_key, previous.count, previous.name
            using errcode = 'AC409', hint = 'Use a new key for a new action.';
        end if;
        select populated.* into result
          from status_private.recorded_action_results as recorded,
               jsonb_populate_record(null::status_public.record_action_result, recorded.result) as populated
          where recorded.step_id = previous.id;
        if not found then
          raise exception 'The idempotency key "%" was already used for a step recorded another way', idempotency_key
            using errcode = 'AC409', hint = 'Use a new key for a new action.';
        end if;
        return result;
      end if;
    end if;
    -- The step and everything its triggers do run in a savepoint: when this transaction is chosen as the
    -- victim of a deadlock (a transaction elsewhere awarding points in several statements can lock shared
    -- leaderboard rows out of order), the savepoint's rollback releases what the step locked and the
    -- step is tried again, after a short pause that lets the other transaction go first, a few times
    -- before the error reaches the caller.
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

  -- The triggers on user_steps did the work; collect what they changed.
  result.step_id := step.id;
  result.user_id := step.user_id;
  result.action := step.name;
  result.amount := step.count;
  select count into result.tally from status_public.user_achievements as tally
    where tally.user_id = step.user_id and tally.name = step.name;
  select coalesce(array_agg(row(unlock.id, unlock.achievement_id, achievement.name, unlock.points)::status_public.unlocked_achievement
                            order by achievement.position, achievement.id), '{}'),
         coalesce(sum(unlock.points), 0)
    into result.unlocked, result.points_awarded
    from status_public.achievement_unlocks as unlock
    join status_public.achievements as achievement on achievement.id = unlock.achievement_id
    where unlock.step_id = step.id;
  select score.points, score.tier into result.total_points, result.tier_after
    from status_public.user_scores as score where score.user_id = step.user_id;
  result.tier_before := status_private.tier_for(result.total_points - result.points_awarded);
  -- As of the action's day (a backdated action reports the streak it had then).
  select status_private.streak_as_of(streak.current_length, streak.last_day,
           (step.occurred_at at time zone status_private.time_zone_of(step.user_id))::date)
    into result.current_streak
    from status_public.user_streaks as streak where streak.user_id = step.user_id and streak.action is null;
  select coalesce(array_agg(achieved.level order by achieved.level), '{}') into result.levels_achieved
    from status_public.user_levels as achieved where achieved.step_id = step.id;

  if idempotency_key is not null then
    insert into status_private.recorded_action_results (step_id, result) values (step.id, to_jsonb(result));
  end if;
  return result;
end;
$$;

create function status_public.record_action(action text, amount integer default 1, idempotency_key text default null)
  returns status_public.record_action_result
  language plpgsql volatile security definer set search_path = pg_catalog, public
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
  return status_private.record_action(user_id, action, amount, idempotency_key, null);
end;
$$;
comment on function status_public.record_action(text, integer, text) is
  E'Records that the signed-in user performed `action` (`amount` times; a client-reportable action only) and returns what changed: the tally, unlocked achievements, points, tier, streak and levels. With an `idempotencyKey`, a retry returns the original result and counts nothing again.';

create function status_public.record_action_for(
  user_id uuid, action text, amount integer default 1, idempotency_key text default null, occurred_at timestamptz default null
) returns status_public.record_action_result
  language sql volatile security definer set search_path = pg_catalog, public
as $$
  select status_private.record_action(user_id, action, amount, idempotency_key, occurred_at);
$$;
comment on function status_public.record_action_for(uuid, text, integer, text, timestamptz) is
  E'For the service role (a trusted backend): records that `userId` performed `action`, at `occurredAt` (default: now). Same result and idempotency as `recordAction`.';

--------------------------------------------------------------------------------------------------
-- Profiles.

create function status_public.set_my_profile(display_name text default null, time_zone text default null, leaderboard_opt_out boolean default null)
  returns status_public.user_profiles
  language plpgsql volatile
as $$
declare
  user_id uuid := jwt_public.current_user_id();
  profile status_public.user_profiles;
begin
  if user_id is null then
    raise exception 'Sign in to change your profile' using errcode = 'AC401';
  end if;
  -- Arguments left NULL keep their value.
  insert into status_public.user_profiles as current_profile (user_id, display_name, time_zone, leaderboard_opt_out)
    values (user_id, display_name, coalesce(time_zone, 'UTC'), coalesce(leaderboard_opt_out, false))
    on conflict on constraint user_profiles_pkey do update
      set display_name = coalesce(set_my_profile.display_name, current_profile.display_name),
          time_zone = coalesce(set_my_profile.time_zone, current_profile.time_zone),
          leaderboard_opt_out = coalesce(set_my_profile.leaderboard_opt_out, current_profile.leaderboard_opt_out)
    returning * into profile;
  return profile;
end;
$$;
comment on function status_public.set_my_profile(text, text, boolean) is
  E'Creates or updates the signed-in user''s profile; arguments left out keep their value. An unknown time zone is an error.';

--------------------------------------------------------------------------------------------------
-- Reading progress.

create type status_public.criterion_progress as (
  kind status_public.criterion_kind,
  action text,
  threshold integer,
  hour_from integer,
  hour_until integer,
  -- count: the tally; streak: the current streak in days; time_of_day: 1 once met (by the unlock), else 0.
  current integer,
  -- What is left: count and streak: threshold - current (0 when met); time_of_day: 0 or 1.
  remaining integer,
  percent integer
);

create type status_public.achievement_progress as (
  achievement_id text,
  name text,
  description text,
  icon text,
  points integer,
  kind status_public.achievement_kind,
  hidden boolean,
  available_from timestamptz,
  available_until timestamptz,
  unlocked boolean,
  unlocked_at timestamptz,
  -- 0 to 100; 100 only when unlocked. Several criteria: the mean of their percentages (each capped at
  -- 100), and at most 99 until the achievement unlocks.
  percent integer,
  criteria status_public.criterion_progress[]
);

-- The read functions below are SECURITY DEFINER (they use status_private helpers) and so filter by the
-- signed-in user themselves.
create function status_public.my_achievements() returns setof status_public.achievement_progress
  language sql stable security definer set search_path = pg_catalog, public
as $$
  -- Hidden achievements the user has not unlocked are left out: see hidden_locked_count in myDashboard.
  with me as (
    select jwt_public.current_user_id() as user_id,
           (now() at time zone status_private.time_zone_of(jwt_public.current_user_id()))::date as today
  ), criteria as (
    select criterion.achievement_id, criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until,
           case criterion.kind
             when 'count' then coalesce(tally.count, 0)
             when 'streak' then coalesce(status_private.streak_as_of(streak.current_length, streak.last_day, me.today), 0)
             else case when unlock.id is null then 0 else 1 end
           end as current,
           coalesce(criterion.threshold, 1) as target
    from me
    cross join status_public.achievement_criteria as criterion
    left join status_public.user_achievements as tally on criterion.kind = 'count' and tally.user_id = me.user_id and tally.name = criterion.action
    left join status_public.user_streaks as streak on criterion.kind = 'streak' and streak.user_id = me.user_id and streak.action is not distinct from criterion.action
    left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = criterion.achievement_id
  )
  select achievement.id, achievement.name, achievement.description, achievement.icon, achievement.points, achievement.kind,
         achievement.hidden, achievement.available_from, achievement.available_until,
         unlock.id is not null, unlock.unlocked_at,
         case when unlock.id is not null then 100
              else least(99, coalesce((select floor(avg(least(100, 100.0 * c.current / c.target)))::integer
                                       from criteria c where c.achievement_id = achievement.id), 0))
         end,
         coalesce((select array_agg(row(c.kind, c.action, c.threshold, c.hour_from, c.hour_until, c.current,
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;
comment on function status_public.my_achievements() is
  E'Every achievement the signed-in user can see, with their progress: unlocked or not, percent (0 to 100, 100 only when unlocked; several criteria: the mean of their percentages, at most 99 until unlocked) and what remains per criterion.';

-- How many hidden achievements the user has not unlocked: the one thing users may know about them.
create function status_public.hidden_locked_count() returns integer
  language sql stable security definer set search_path = pg_catalog, public
as $$
  select count(*)::integer from status_public.achievements as achievement
  where achievement.hidden
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = jwt_public.current_user_id() and unlock.achievement_id = achievement.id);
$$;
comment on function status_public.hidden_locked_count() is E'How many hidden achievements the signed-in user has not unlocked yet.';

-- Rarity: the share of active users (users with at least one step) who unlocked the achievement.
create function status_public.achievements_rarity_percent(achievement status_public.achievements) returns double precision
  language sql stable security definer set search_path = pg_catalog, public
as $$
  select round(100.0 * (select count(*) from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id)
               / nullif((select count(*) from status_public.user_scores), 0), 1)::double precision;
$$;
comment on function status_public.achievements_rarity_percent(status_public.achievements) is
  E'The percentage of active users (users who recorded at least one step) who unlocked this achievement; NULL while nobody is active.';

create type status_public.tier_progress as (
  points integer,
  tier text,
  badge text,
  next_tier text,
  next_badge text,
  next_tier_min_points integer,
  -- The tutorial's formula: (points - tier minimum) / (next minimum - tier minimum) * 100; 100 at the top tier.
  percent double precision
);

create function status_private.tier_progress(points integer) returns status_public.tier_progress
  language sql stable
as $$
  select points, current.name, current.badge, next.name, next.badge, next.min_points,
         case when next.name is null then 100
              else round(100.0 * (points - coalesce(current.min_points, 0)) / (next.min_points - coalesce(current.min_points, 0)), 1)::double precision
         end
  from (select 1) as one
  left join lateral (select * from status_public.tiers where min_points <= points order by min_points desc limit 1) as current on true
  left join lateral (select * from status_public.tiers where min_points > points order by min_points limit 1) as next on true;
$$;

create function status_public.my_tier() returns status_public.tier_progress
  language sql stable security definer set search_path = pg_catalog, public
as $$
  select status_private.tier_progress(coalesce(
    (select points from status_public.user_scores where user_id = jwt_public.current_user_id()), 0));
$$;
comment on function status_public.my_tier() is E'The signed-in user''s points, tier, next tier and progress to it.';

create type status_public.streak_summary as (
  action text,
  current integer,
  longest integer,
  last_day date
);

create type status_public.tally as (
  name text,
  count integer
);

create type status_public.dashboard as (
  user_id uuid,
  tier status_public.tier_progress,
  unlocked status_public.achievement_progress[],
  locked status_public.achievement_progress[],
  hidden_locked_count integer,
  tallies status_public.tally[],
  -- The streak of any activity.
  current_streak integer,
  longest_streak integer,
  streaks status_public.streak_summary[]
);

create function status_public.my_dashboard() returns status_public.dashboard
  language plpgsql stable security definer set search_path = pg_catalog, public
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
comment on function status_public.my_dashboard() is
  E'The signed-in user''s dashboard in one query: tier and progress to the next, points, unlocked achievements, locked ones with progress, the count of hidden ones still locked, tallies and streaks.';

--------------------------------------------------------------------------------------------------
-- Row-level security and grants.

-- The catalog: everyone reads it (hidden achievements only once unlocked); admins write it.
alter table status_public.actions enable row level security;
create policy select_all on status_public.actions for select using (true);
create policy manage_as_admin on status_public.actions for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.actions to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (name, description, client_reportable, max_amount), update (name, description, client_reportable, max_amount), delete
  on status_public.actions to :ADMIN_ROLE;

alter table status_public.achievements enable row level security;
create policy select_visible_anonymously on status_public.achievements for select to :ANONYMOUS_ROLE using (not hidden);
create policy select_visible on status_public.achievements for select to :USER_ROLE
  using (not hidden or exists (
    select from status_public.achievement_unlocks as unlock
    where unlock.achievement_id = achievements.id and unlock.user_id = (select jwt_public.current_user_id())));
create policy select_all_as_service_or_admin on status_public.achievements for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
create policy manage_as_admin on status_public.achievements for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.achievements to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (id, name, description, points, icon, kind, hidden, available_from, available_until, position),
      update (id, name, description, points, icon, kind, hidden, available_from, available_until, position), delete
  on status_public.achievements to :ADMIN_ROLE;

alter table status_public.achievement_criteria enable row level security;
-- A criterion is visible with its achievement (the policy on achievements applies to this subquery).
create policy select_visible on status_public.achievement_criteria for select
  using (exists (select from status_public.achievements where achievements.id = achievement_criteria.achievement_id));
create policy manage_as_admin on status_public.achievement_criteria for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.achievement_criteria to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (achievement_id, kind, action, threshold, hour_from, hour_until),
      update (achievement_id, kind, action, threshold, hour_from, hour_until), delete
  on status_public.achievement_criteria to :ADMIN_ROLE;

alter table status_public.tiers enable row level security;
create policy select_all on status_public.tiers for select using (true);
create policy manage_as_admin on status_public.tiers for all to :ADMIN_ROLE using (true) with check (true);
grant select on status_public.tiers to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (name, min_points, badge), update (name, min_points, badge), delete on status_public.tiers to :ADMIN_ROLE;

-- Profiles: users write their own (through set_my_profile); the service and admins read all.
alter table status_public.user_profiles enable row level security;
create policy select_own on status_public.user_profiles for select to :USER_ROLE using (user_id = (select jwt_public.current_user_id()));
create policy insert_own on status_public.user_profiles for insert to :USER_ROLE with check (user_id = (select jwt_public.current_user_id()));
create policy update_own on status_public.user_profiles for update to :USER_ROLE
  using (user_id = (select jwt_public.current_user_id())) with check (user_id = (select jwt_public.current_user_id()));
create policy select_all_as_service_or_admin on status_public.user_profiles for select to :SERVICE_ROLE, :ADMIN_ROLE using (true);
grant select on status_public.user_profiles to :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant insert (user_id, display_name, time_zone, leaderboard_opt_out), update (display_name, time_zone, leaderboard_opt_out)
  on status_public.user_profiles to :USER_ROLE;
comment on table status_public.user_profiles is E'@behavior -insert -update -delete\nA user''s display name, time zone and leaderboard choice. Users write their own with `setMyProfile`.';

-- Derived tables: users read their own rows, the service and admins everyone's; nobody writes them.
do $$
declare
  derived text;
begin
  foreach derived in array array['user_streaks', 'achievement_unlocks', 'points_ledger', 'user_scores', 'user_levels'] loop
    execute format('alter table status_public.%I enable row level security', derived);
    execute format('create policy select_own on status_public.%I for select to %I using (user_id = (select jwt_public.current_user_id()))', derived, ':USER_ROLE');
    execute format('create policy select_all_as_service_or_admin on status_public.%I for select to %I, %I using (true)', derived, ':SERVICE_ROLE', ':ADMIN_ROLE');
    execute format('grant select on status_public.%I to %I, %I, %I', derived, ':USER_ROLE', ':SERVICE_ROLE', ':ADMIN_ROLE');
  end loop;
end
$$;

alter table status_private.recorded_action_results enable row level security;

-- The service may date the steps it records.
grant insert (occurred_at) on status_public.user_steps to :SERVICE_ROLE;

grant execute on function status_public.record_action(text, integer, text) to :USER_ROLE, :ANONYMOUS_ROLE;
grant execute on function status_public.record_action_for(uuid, text, integer, text, timestamptz) to :SERVICE_ROLE;
grant execute on function status_public.set_my_profile(text, text, boolean) to :USER_ROLE, :ANONYMOUS_ROLE;
grant execute on function
  status_public.my_achievements(), status_public.hidden_locked_count(), status_public.my_tier(), status_public.my_dashboard()
  to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;
grant execute on function status_public.achievements_rarity_percent(status_public.achievements)
  to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE;

--
-- PostgreSQL database dump
--


SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: jwt_public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA jwt_public;


--
-- Name: status_private; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA status_private;


--
-- Name: SCHEMA status_private; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA status_private IS 'Trigger functions and internals; never exposed, never executable by API roles.';


--
-- Name: status_public; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA status_public;


--
-- Name: SCHEMA status_public; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA status_public IS 'The achievements API: everything GraphQL exposes.';


--
-- Name: leaderboard_period; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.leaderboard_period AS ENUM (
    'ALL_TIME',
    'MONTH',
    'WEEK',
    'DAY'
);


--
-- Name: TYPE leaderboard_period; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.leaderboard_period IS 'A leaderboard''s period: all time, or the current calendar month, week (from Monday) or day, in UTC. Points count in the period in which they were awarded.';


--
-- Name: board_award; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.board_award AS (
	period status_public.leaderboard_period,
	period_start date,
	user_id uuid,
	points integer,
	reached_at timestamp with time zone
);


--
-- Name: histogram_change; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.histogram_change AS (
	period status_public.leaderboard_period,
	period_start date,
	points integer,
	users integer
);


--
-- Name: histogram_move; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.histogram_move AS (
	period status_public.leaderboard_period,
	period_start date,
	from_points integer,
	to_points integer
);


--
-- Name: pipeline_step; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.pipeline_step AS (
	id uuid,
	user_id uuid,
	name text,
	count integer,
	occurred_at timestamp with time zone,
	local_time timestamp without time zone
);


--
-- Name: user_tier; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.user_tier AS (
	user_id uuid,
	tier text
);


--
-- Name: achievement_kind; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.achievement_kind AS ENUM (
    'milestone',
    'streak',
    'challenge',
    'hidden',
    'time_limited'
);


--
-- Name: TYPE achievement_kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.achievement_kind IS 'How an achievement is presented; what unlocks it is its criteria.';


--
-- Name: criterion_kind; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.criterion_kind AS ENUM (
    'count',
    'streak',
    'time_of_day'
);


--
-- Name: criterion_progress; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.criterion_progress AS (
	kind status_public.criterion_kind,
	action text,
	threshold integer,
	hour_from integer,
	hour_until integer,
	current integer,
	remaining integer,
	percent integer
);


--
-- Name: COLUMN criterion_progress.kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.kind IS '@notNull';


--
-- Name: COLUMN criterion_progress.action; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.action IS 'The action counted (NULL: a streak of any activity).';


--
-- Name: COLUMN criterion_progress.threshold; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.threshold IS 'The count or streak to reach (NULL for time_of_day).';


--
-- Name: COLUMN criterion_progress.hour_from; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.hour_from IS 'time_of_day: the first local hour (NULL for other kinds).';


--
-- Name: COLUMN criterion_progress.hour_until; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.hour_until IS 'time_of_day: the local hour the window ends before (NULL for other kinds).';


--
-- Name: COLUMN criterion_progress.current; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.current IS '@notNull
count: the tally; streak: the current streak in days; time_of_day: 1 once met (by the unlock), else 0.';


--
-- Name: COLUMN criterion_progress.remaining; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.remaining IS '@notNull
What is left: count and streak: threshold - current (0 when met); time_of_day: 0 or 1.';


--
-- Name: COLUMN criterion_progress.percent; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.percent IS '@notNull';


--
-- Name: achievement_progress; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.achievement_progress AS (
	achievement_id text,
	name text,
	description text,
	icon text,
	points integer,
	kind status_public.achievement_kind,
	hidden boolean,
	available_from timestamp with time zone,
	available_until timestamp with time zone,
	unlocked boolean,
	unlocked_at timestamp with time zone,
	percent integer,
	criteria status_public.criterion_progress[]
);


--
-- Name: COLUMN achievement_progress.achievement_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.achievement_id IS '@notNull';


--
-- Name: COLUMN achievement_progress.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.name IS '@notNull';


--
-- Name: COLUMN achievement_progress.description; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.description IS '@notNull';


--
-- Name: COLUMN achievement_progress.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.points IS '@notNull';


--
-- Name: COLUMN achievement_progress.kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.kind IS '@notNull';


--
-- Name: COLUMN achievement_progress.hidden; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.hidden IS '@notNull';


--
-- Name: COLUMN achievement_progress.unlocked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.unlocked IS '@notNull';


--
-- Name: COLUMN achievement_progress.unlocked_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.unlocked_at IS 'When the user unlocked it (NULL while locked).';


--
-- Name: COLUMN achievement_progress.percent; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.percent IS '@notNull
0 to 100; 100 only when unlocked. Several criteria: the mean of their percentages (each capped at 100), and at most 99 until the achievement unlocks.';


--
-- Name: COLUMN achievement_progress.criteria; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_progress.criteria IS '@notNull
@notNullItems';


--
-- Name: action_event; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.action_event AS (
	user_id uuid,
	action text,
	amount integer,
	idempotency_key text,
	occurred_at timestamp with time zone
);


--
-- Name: TYPE action_event; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.action_event IS 'One event of a recordActions batch: `userId` (the service role: any user; a user: NULL or their own id) performed `action` `amount` times (default 1), at `occurredAt` (the service role only; default now), with an optional `idempotencyKey`.';


--
-- Name: COLUMN action_event.user_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.action_event.user_id IS 'The user who performed the action (the service role: required; a user: leave it out, or their own id).';


--
-- Name: COLUMN action_event.action; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.action_event.action IS '@notNull
The action performed (a name from `actions`).';


--
-- Name: COLUMN action_event.amount; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.action_event.amount IS 'How many times (default 1; at most the action''s `maxAmount`).';


--
-- Name: COLUMN action_event.idempotency_key; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.action_event.idempotency_key IS 'Optional key, unique per user: a retry with it returns the original result and counts nothing again.';


--
-- Name: COLUMN action_event.occurred_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.action_event.occurred_at IS 'When it happened (the service role only; default now): streaks and time-of-day criteria use it.';


--
-- Name: streak_summary; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.streak_summary AS (
	action text,
	current integer,
	longest integer,
	last_day date
);


--
-- Name: COLUMN streak_summary.action; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.streak_summary.action IS 'The action (NULL: any activity).';


--
-- Name: COLUMN streak_summary.current; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.streak_summary.current IS '@notNull';


--
-- Name: COLUMN streak_summary.longest; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.streak_summary.longest IS '@notNull';


--
-- Name: COLUMN streak_summary.last_day; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.streak_summary.last_day IS '@notNull';


--
-- Name: tally; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.tally AS (
	name text,
	count integer
);


--
-- Name: COLUMN tally.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tally.name IS '@notNull';


--
-- Name: COLUMN tally.count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tally.count IS '@notNull';


--
-- Name: tier_progress; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.tier_progress AS (
	points integer,
	tier text,
	badge text,
	next_tier text,
	next_badge text,
	next_tier_min_points integer,
	percent double precision
);


--
-- Name: COLUMN tier_progress.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.points IS '@notNull';


--
-- Name: COLUMN tier_progress.tier; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.tier IS 'The user''s tier (NULL when no tier starts at or below their points).';


--
-- Name: COLUMN tier_progress.badge; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.badge IS 'The tier''s badge (NULL with the tier).';


--
-- Name: COLUMN tier_progress.next_tier; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.next_tier IS 'The next tier (NULL at the top tier).';


--
-- Name: COLUMN tier_progress.next_badge; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.next_badge IS 'The next tier''s badge (NULL at the top tier).';


--
-- Name: COLUMN tier_progress.next_tier_min_points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.next_tier_min_points IS 'The points the next tier starts at (NULL at the top tier).';


--
-- Name: COLUMN tier_progress.percent; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.tier_progress.percent IS '@notNull
The tutorial''s formula: (points - tier minimum) / (next minimum - tier minimum) x 100; 100 at the top tier.';


--
-- Name: dashboard; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.dashboard AS (
	user_id uuid,
	tier status_public.tier_progress,
	unlocked status_public.achievement_progress[],
	locked status_public.achievement_progress[],
	hidden_locked_count integer,
	tallies status_public.tally[],
	current_streak integer,
	longest_streak integer,
	streaks status_public.streak_summary[]
);


--
-- Name: COLUMN dashboard.user_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.user_id IS '@notNull';


--
-- Name: COLUMN dashboard.tier; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.tier IS '@notNull';


--
-- Name: COLUMN dashboard.unlocked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.unlocked IS '@notNull
@notNullItems';


--
-- Name: COLUMN dashboard.locked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.locked IS '@notNull
@notNullItems';


--
-- Name: COLUMN dashboard.hidden_locked_count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.hidden_locked_count IS '@notNull';


--
-- Name: COLUMN dashboard.tallies; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.tallies IS '@notNull
@notNullItems';


--
-- Name: COLUMN dashboard.current_streak; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.current_streak IS '@notNull
The streak of any activity, in days.';


--
-- Name: COLUMN dashboard.longest_streak; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.longest_streak IS '@notNull';


--
-- Name: COLUMN dashboard.streaks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.streaks IS '@notNull
@notNullItems';


--
-- Name: leaderboard_entry; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.leaderboard_entry AS (
	rank integer,
	user_id uuid,
	display_name text,
	points integer,
	tier text,
	badge text,
	medal text
);


--
-- Name: TYPE leaderboard_entry; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.leaderboard_entry IS '@behavior -*';


--
-- Name: leaderboard_rank; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.leaderboard_rank AS (
	rank integer,
	points integer,
	total_users integer,
	percentile double precision
);


--
-- Name: TYPE leaderboard_rank; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.leaderboard_rank IS '@behavior -*';


--
-- Name: unlocked_achievement; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.unlocked_achievement AS (
	unlock_id uuid,
	achievement_id text,
	name text,
	points integer
);


--
-- Name: COLUMN unlocked_achievement.unlock_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.unlocked_achievement.unlock_id IS '@notNull';


--
-- Name: COLUMN unlocked_achievement.achievement_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.unlocked_achievement.achievement_id IS '@notNull';


--
-- Name: COLUMN unlocked_achievement.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.unlocked_achievement.name IS '@notNull';


--
-- Name: COLUMN unlocked_achievement.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.unlocked_achievement.points IS '@notNull';


--
-- Name: record_action_result; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.record_action_result AS (
	step_id uuid,
	user_id uuid,
	action text,
	amount integer,
	tally integer,
	unlocked status_public.unlocked_achievement[],
	points_awarded integer,
	total_points integer,
	tier_before text,
	tier_after text,
	current_streak integer,
	levels_achieved text[]
);


--
-- Name: TYPE record_action_result; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.record_action_result IS 'What one recorded action changed.';


--
-- Name: COLUMN record_action_result.step_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.step_id IS '@notNull';


--
-- Name: COLUMN record_action_result.user_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.user_id IS '@notNull';


--
-- Name: COLUMN record_action_result.action; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.action IS '@notNull';


--
-- Name: COLUMN record_action_result.amount; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.amount IS '@notNull';


--
-- Name: COLUMN record_action_result.tally; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.tally IS '@notNull
The user''s tally of the action after this step.';


--
-- Name: COLUMN record_action_result.unlocked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.unlocked IS '@notNull
@notNullItems
The achievements this step unlocked.';


--
-- Name: COLUMN record_action_result.points_awarded; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.points_awarded IS '@notNull';


--
-- Name: COLUMN record_action_result.total_points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.total_points IS '@notNull';


--
-- Name: COLUMN record_action_result.tier_before; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.tier_before IS 'The tier before this step''s points (NULL when no tier starts at or below them).';


--
-- Name: COLUMN record_action_result.tier_after; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.tier_after IS 'The tier after this step''s points (NULL when no tier starts at or below them).';


--
-- Name: COLUMN record_action_result.current_streak; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.current_streak IS '@notNull
The user''s streak of any activity, in days, as of the action''s day.';


--
-- Name: COLUMN record_action_result.levels_achieved; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.record_action_result.levels_achieved IS '@notNull
@notNullItems
The levels this step achieved for the first time.';


--
-- Name: current_role_acts_for_anyone(); Type: FUNCTION; Schema: jwt_public; Owner: -
--

CREATE FUNCTION jwt_public.current_role_acts_for_anyone() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
  -- The service (a trusted backend) and admins may read and act for any user.
  select pg_has_role(current_user, 'achievements_service', 'usage') or pg_has_role(current_user, 'achievements_admin', 'usage');
$$;


--
-- Name: FUNCTION current_role_acts_for_anyone(); Type: COMMENT; Schema: jwt_public; Owner: -
--

COMMENT ON FUNCTION jwt_public.current_role_acts_for_anyone() IS 'True for the service and admin roles, which may act for any user.';


--
-- Name: current_user_id(); Type: FUNCTION; Schema: jwt_public; Owner: -
--

CREATE FUNCTION jwt_public.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $_$
      -- Only a canonical uuid counts: a missing or malformed claim is NULL, never an error.
      select case
        when current_setting('jwt.claims.user_id', true) ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        then current_setting('jwt.claims.user_id', true)::uuid
      end;
    $_$;


--
-- Name: FUNCTION current_user_id(); Type: COMMENT; Schema: jwt_public; Owner: -
--

COMMENT ON FUNCTION jwt_public.current_user_id() IS 'The signed-in user (the JWT''s `sub`), or NULL.';


--
-- Name: achieve_levels(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.achieve_levels(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
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


--
-- Name: allowance_of_shard(integer, integer, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.allowance_of_shard(max_calls integer, shards integer, shard integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
  select max_calls / shards + (shard < max_calls % shards)::integer;
$$;


--
-- Name: append_histogram_moves(status_private.histogram_move[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.append_histogram_moves(moves status_private.histogram_move[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  insert into status_private.leaderboard_count_deltas (period, period_start, points, users)
  select changes.period, changes.period_start, changes.points, sum(changes.users)::integer
  from (
    select move.period, move.period_start, move.from_points as points, -1 as users
      from unnest(moves) as move where move.from_points is not null
    union all
    select move.period, move.period_start, move.to_points, 1
      from unnest(moves) as move where move.to_points is not null
  ) as changes
  group by 1, 2, 3
  having sum(changes.users) <> 0;
end;
$$;


--
-- Name: batch_step_id(bigint); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.batch_step_id(number bigint) RETURNS uuid
    LANGUAGE sql
    AS $$
  select overlay(replace(gen_random_uuid()::text, '-', '') placing lpad(to_hex(number), 8, '0') from 1)::uuid;
$$;


--
-- Name: board_users(status_public.leaderboard_period, date); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.board_users(board status_public.leaderboard_period, board_start date) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_bitmapscan TO 'off'
    AS $$
begin
  return (coalesce((select sum(counts.users) from status_private.leaderboard_bucket_counts as counts
                    where counts.period = board and counts.period_start = board_start), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start), 0))::integer;
end;
$$;


--
-- Name: caller_acts_for_anyone(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.caller_acts_for_anyone() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select pg_has_role(caller.role, 'achievements_service', 'usage') or pg_has_role(caller.role, 'achievements_admin', 'usage')
  from (select coalesce(nullif(current_setting('role'), 'none'), session_user)::name as role) as caller;
$$;


--
-- Name: count_column_change(text, text, text[], name, regclass, jsonb, jsonb); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.count_column_change(mode text, operation text, trigger_args text[], trigger_name name, table_name regclass, old_row jsonb, new_row jsonb) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: achievement_criteria; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.achievement_criteria (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    achievement_id text NOT NULL,
    kind status_public.criterion_kind NOT NULL,
    action text,
    threshold integer,
    hour_from integer,
    hour_until integer,
    CONSTRAINT achievement_criteria_check CHECK (
CASE kind
    WHEN 'count'::status_public.criterion_kind THEN ((action IS NOT NULL) AND (threshold IS NOT NULL) AND (hour_from IS NULL) AND (hour_until IS NULL))
    WHEN 'streak'::status_public.criterion_kind THEN ((threshold IS NOT NULL) AND (hour_from IS NULL) AND (hour_until IS NULL))
    WHEN 'time_of_day'::status_public.criterion_kind THEN ((action IS NOT NULL) AND (threshold IS NULL) AND (hour_from IS NOT NULL) AND (hour_until IS NOT NULL) AND (hour_from <> hour_until))
    ELSE NULL::boolean
END),
    CONSTRAINT achievement_criteria_hour_from_check CHECK (((hour_from >= 0) AND (hour_from <= 23))),
    CONSTRAINT achievement_criteria_hour_until_check CHECK (((hour_until >= 1) AND (hour_until <= 24))),
    CONSTRAINT achievement_criteria_threshold_check CHECK (((threshold >= 1) AND (threshold <= 100000000)))
);


--
-- Name: TABLE achievement_criteria; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.achievement_criteria IS 'What unlocks an achievement: all its criteria must hold. count: the user''s tally of `action` >= `threshold`. streak: the user''s current streak of `action` (NULL: any activity) >= `threshold` consecutive days. time_of_day: the action is performed at a local hour in [`hourFrom`, `hourUntil`).';


--
-- Name: count_criterion_progress(status_public.achievement_criteria, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid) RETURNS TABLE(current integer, target integer)
    LANGUAGE sql STABLE
    AS $$
  select coalesce((select tally.count from status_public.user_achievements as tally
                   where tally.user_id = count_criterion_progress.user_id and tally.name = criterion.action), 0),
         criterion.threshold;
$$;


--
-- Name: count_steps(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.count_steps(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  starting_tier text := status_private.tier_for(0);
  taken_back status_private.pipeline_step;
  tally_id uuid;
  remaining integer;
begin
  insert into status_public.user_scores (user_id, points, tier)
    select step.user_id, 0, starting_tier from unnest(steps) as step
    order by step.user_id
    on conflict (user_id) do nothing;
  -- One upsert: concurrent steps of the same user and name serialise on the tally row, so the count is exact.
  insert into status_public.user_achievements as tally (user_id, name, count)
    select step.user_id, step.name, step.count from unnest(steps) as step where step.count > 0
    order by step.user_id, step.name
    on conflict (user_id, name) do update set count = tally.count + excluded.count;
  -- Taking back (rare: one statement each). An upsert, not an update, so that it waits for a concurrent first
  -- step's uncommitted row and takes back from it; back at zero, the row (locked by us since) goes.
  for taken_back in select * from unnest(steps) as step where step.count < 0 loop
    insert into status_public.user_achievements as tally (user_id, name, count)
      values (taken_back.user_id, taken_back.name, 0)
      on conflict (user_id, name) do update set count = greatest(tally.count + taken_back.count, 0)
      returning id, count into tally_id, remaining;
    if remaining = 0 then
      delete from status_public.user_achievements where id = tally_id;
    end if;
  end loop;
end;
$$;


--
-- Name: criterion_progress(status_public.achievement_criteria, uuid, text, timestamp without time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) RETURNS TABLE(current integer, target integer)
    LANGUAGE sql STABLE
    AS $$
  select * from status_private.count_criterion_progress(criterion, user_id) where criterion.kind = 'count'
  union all
  select * from status_private.streak_criterion_progress(criterion, user_id, local_time::date) where criterion.kind = 'streak'
  union all
  select * from status_private.time_of_day_criterion_progress(criterion, user_id, action, local_time) where criterion.kind = 'time_of_day';
$$;


--
-- Name: FUNCTION criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) IS 'How far the user is towards the criterion, as (current, target): the registry of criterion kinds that the unlock evaluation and the progress queries share.';


--
-- Name: extend_streaks(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.extend_streaks(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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
            when excluded.last_day > streak.last_day + 1 then 1
            else streak.current_length
          end,
          longest_length = greatest(streak.longest_length, case
            when excluded.last_day = streak.last_day + 1 then streak.current_length + 1
            else 1
          end),
          last_day = greatest(streak.last_day, excluded.last_day),
          updated_at = now();
end;
$$;


--
-- Name: fold_into_histogram(status_private.histogram_change[], integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.fold_into_histogram(changes status_private.histogram_change[], key_width integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if key_width = 1 then
    update status_private.leaderboard_point_counts as counts set users = counts.users + change.users
      from status_private.histogram_changes_by_key(changes, 1) as change
      where change.users < 0 and counts.period = change.period and counts.period_start = change.period_start and counts.points = change.key;
    insert into status_private.leaderboard_point_counts as counts (period, period_start, points, users)
      select change.period, change.period_start, change.key, change.users from status_private.histogram_changes_by_key(changes, 1) as change
      where change.users > 0
      on conflict (period, period_start, points) do update set users = counts.users + excluded.users;
    delete from status_private.leaderboard_point_counts as counts using status_private.histogram_changes_by_key(changes, 1) as change
      where counts.users = 0 and counts.period = change.period and counts.period_start = change.period_start and counts.points = change.key;
  else
    update status_private.leaderboard_bucket_counts as counts set users = counts.users + change.users
      from status_private.histogram_changes_by_key(changes, key_width) as change
      where change.users < 0 and counts.period = change.period and counts.period_start = change.period_start and counts.bucket = change.key;
    insert into status_private.leaderboard_bucket_counts as counts (period, period_start, bucket, users)
      select change.period, change.period_start, change.key, change.users from status_private.histogram_changes_by_key(changes, key_width) as change
      where change.users > 0
      on conflict (period, period_start, bucket) do update set users = counts.users + excluded.users;
    delete from status_private.leaderboard_bucket_counts as counts using status_private.histogram_changes_by_key(changes, key_width) as change
      where counts.users = 0 and counts.period = change.period and counts.period_start = change.period_start and counts.bucket = change.key;
  end if;
end;
$$;


--
-- Name: fold_leaderboard_deltas(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.fold_leaderboard_deltas() RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  changes status_private.histogram_change[];
begin
  if not pg_try_advisory_xact_lock(hashtext('status_private.fold_leaderboard_deltas')) then
    return 0;
  end if;
  with taken as (
    delete from status_private.leaderboard_count_deltas returning period, period_start, points, users
  )
  select array_agg(row(period, period_start, points, users)::status_private.histogram_change order by period, period_start, points)
    into changes
    from (select period, period_start, points, sum(users)::integer as users from taken group by 1, 2, 3 having sum(users) <> 0) as summed;
  if changes is null then
    return 0;
  end if;
  perform status_private.fold_into_histogram(changes, 1);
  perform status_private.fold_into_histogram(changes, 100);
  return cardinality(changes);
end;
$$;


--
-- Name: FUNCTION fold_leaderboard_deltas(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.fold_leaderboard_deltas() IS 'Folds the appended leaderboard deltas into the histogram; returns how many (board, points) changes it folded. Run it every second or so (the standalone server does); ranks are exact without it, only slower to read as deltas pile up.';


--
-- Name: histogram_changes_by_key(status_private.histogram_change[], integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.histogram_changes_by_key(changes status_private.histogram_change[], key_width integer) RETURNS TABLE(period status_public.leaderboard_period, period_start date, key integer, users integer)
    LANGUAGE sql IMMUTABLE
    AS $$
  select change.period, change.period_start, change.points / key_width, sum(change.users)::integer
  from unnest(changes) as change
  group by 1, 2, 3
  having sum(change.users) <> 0
  order by 1, 2, 3;
$$;


--
-- Name: leaderboard_entries(status_public.leaderboard_period, date, uuid[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date, user_ids uuid[]) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  return query
  with page as (
    select score.user_id, score.points, score.reached_at, score.visible
    from unnest(user_ids) as listed(user_id)
    join status_public.leaderboard_scores as score
      on score.period = board and score.period_start = board_start and score.user_id = listed.user_id
  ), on_board as (
    select page.user_id, page.points,
           rank() over (order by page.points desc) as page_rank,
           dense_rank() over (order by page.points desc) as score_number
    from page where page.visible
  ), anchors as materialized (
    -- The page's highest score may be shared with users before the page: its rank comes from the histogram.
    -- So does the next score's; the scores below it have all their users on the page.
    select status_private.rank_of(board, board_start, (select max(on_board.points) from on_board where on_board.score_number = 1)) as first_rank,
           status_private.rank_of(board, board_start, (select max(on_board.points) from on_board where on_board.score_number = 2)) as second_rank,
           (select min(on_board.page_rank) from on_board where on_board.score_number = 2) as second_page_rank
  ), ranked as (
    select page.*,
           case when not page.visible then status_private.rank_of(board, board_start, page.points) -- an opted-out viewer: the rank they would have
                when on_board.score_number = 1 then anchors.first_rank
                else anchors.second_rank + (on_board.page_rank - anchors.second_page_rank)::integer
           end as rank
    from page
    left join on_board on on_board.user_id = page.user_id
    cross join anchors
  )
  select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
         case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
  from ranked
  left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
  left join status_public.user_scores as overall on overall.user_id = ranked.user_id
  left join status_public.tiers as tier on tier.name = overall.tier
  order by ranked.points desc, ranked.reached_at, ranked.user_id;
end;
$$;


--
-- Name: notify_user(uuid, text, text); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.notify_user(user_id uuid, event text, id text) RETURNS void
    LANGUAGE sql
    AS $$
  -- Ids only (payloads are limited to 8000 bytes); subscribers re-read the rows under their own RLS.
  -- Sent only if the transaction commits.
  select pg_notify('achievements:' || user_id::text, json_build_object('event', event, 'id', id)::text);
$$;


--
-- Name: period_start(status_public.leaderboard_period, timestamp with time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.period_start(period status_public.leaderboard_period, at timestamp with time zone) RETURNS date
    LANGUAGE sql IMMUTABLE
    AS $$
  select case period
    when 'ALL_TIME' then '-infinity'::date
    when 'MONTH' then date_trunc('month', at at time zone 'UTC')::date
    when 'WEEK' then date_trunc('week', at at time zone 'UTC')::date
    when 'DAY' then (at at time zone 'UTC')::date
  end;
$$;


--
-- Name: rank_of(status_public.leaderboard_period, date, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_bitmapscan TO 'off'
    AS $$
begin
  -- 1 + the visible users with more points: the folded histogram (higher buckets, then higher points in the
  -- same bucket) plus the deltas not folded yet.
  return 1
    + coalesce((select sum(buckets.users) from status_private.leaderboard_bucket_counts as buckets
                where buckets.period = board and buckets.period_start = board_start and buckets.bucket > rank_of.points / 100), 0)::integer
    + coalesce((select sum(counts.users) from status_private.leaderboard_point_counts as counts
                where counts.period = board and counts.period_start = board_start
                  and counts.points > rank_of.points and counts.points < (rank_of.points / 100 + 1) * 100), 0)::integer
    + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                where deltas.period = board and deltas.period_start = board_start and deltas.points > rank_of.points), 0)::integer;
end;
$$;


--
-- Name: record_action(uuid, text, integer, text, timestamp with time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) RETURNS status_public.record_action_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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


--
-- Name: record_action_rate_setting(text, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_action_rate_setting(name text, fallback integer) RETURNS integer
    LANGUAGE plpgsql STABLE
    AS $_$
declare
  setting text := current_setting('achievements.' || name, true);
begin
  return coalesce(case when setting ~ '^\s*[0-9]{1,9}\s*$' then setting::integer end, fallback);
end;
$_$;


--
-- Name: user_steps; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_steps (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    count integer DEFAULT 1 NOT NULL,
    idempotency_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_steps_count_check CHECK ((count <> 0)),
    CONSTRAINT user_steps_idempotency_key_check CHECK (((length(idempotency_key) >= 1) AND (length(idempotency_key) <= 200))),
    CONSTRAINT user_steps_name_check CHECK ((((length(name) >= 1) AND (length(name) <= 100)) AND (name = btrim(name))))
);


--
-- Name: TABLE user_steps; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_steps IS 'Append-only log of every step a user performed. Written by the service role and by the tg_achievement* triggers.';


--
-- Name: COLUMN user_steps.user_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_steps.user_id IS 'The user credited with the step.';


--
-- Name: COLUMN user_steps.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_steps.name IS 'The action performed (the reference API''s column name).';


--
-- Name: COLUMN user_steps.count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_steps.count IS 'The amount: how many times the action was performed (negative takes back).';


--
-- Name: COLUMN user_steps.idempotency_key; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_steps.idempotency_key IS 'Optional key, unique per user: recording again with the same key returns the first result and counts nothing.';


--
-- Name: COLUMN user_steps.occurred_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_steps.occurred_at IS 'When the action happened (defaults to when it was recorded; only the service may set it). Streaks, time-of-day criteria and time-limited achievements use it.';


--
-- Name: recorded_result(status_public.user_steps, text, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.recorded_result(previous status_public.user_steps, action text, amount integer) RETURNS status_public.record_action_result
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: refilled_tokens(double precision, timestamp with time zone, integer, integer, timestamp with time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.refilled_tokens(tokens double precision, refilled_at timestamp with time zone, capacity integer, window_seconds integer, moment timestamp with time zone) RETURNS double precision
    LANGUAGE sql IMMUTABLE
    AS $$
  select least(capacity::double precision,
               tokens + greatest(extract(epoch from moment - refilled_at)::double precision, 0) * capacity / window_seconds);
$$;


--
-- Name: run_stages(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.run_stages(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  perform status_private.count_steps(steps);
  perform status_private.extend_streaks(steps);
  perform status_private.unlock_achievements(steps);
  perform status_private.achieve_levels(steps);
end;
$$;


--
-- Name: spend_record_action_allowance(uuid, text, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: step_results(status_public.user_steps[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.step_results(steps status_public.user_steps[]) RETURNS SETOF status_public.record_action_result
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: streak_as_of(integer, date, date); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_as_of(current_length integer, last_day date, today date) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
  select case when last_day >= today - 1 then current_length else 0 end;
$$;


--
-- Name: streak_criterion_progress(status_public.achievement_criteria, uuid, date); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date) RETURNS TABLE(current integer, target integer)
    LANGUAGE sql STABLE
    AS $$
  select coalesce((select status_private.streak_as_of(streak.current_length, streak.last_day, today)
                   from status_public.user_streaks as streak
                   where streak.user_id = streak_criterion_progress.user_id and streak.action is not distinct from criterion.action), 0),
         criterion.threshold;
$$;


--
-- Name: take_record_action_allowance(text, uuid, integer, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: tg__notify_user(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg__notify_user() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.notify_user(NEW.user_id, TG_ARGV[0], to_jsonb(NEW) ->> TG_ARGV[1]);
  return null;
end;
$$;


--
-- Name: tg__take_user_cursor(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg__take_user_cursor() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  insert into status_private.user_event_cursors as taken (user_id, last_cursor) values (NEW.user_id, 1)
    on conflict (user_id) do update set last_cursor = taken.last_cursor + 1
    returning taken.last_cursor into NEW.cursor;
  return NEW;
end;
$$;


--
-- Name: tg_achievement(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.count_column_change('set', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;


--
-- Name: FUNCTION tg_achievement(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.tg_achievement() IS 'Trigger: one step each time the column is set (insert with a value, or update to another non-null value). Arguments: (column_name, step_name [, user_column]).';


--
-- Name: tg_achievement_boolean(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_boolean() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.count_column_change('boolean', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;


--
-- Name: FUNCTION tg_achievement_boolean(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.tg_achievement_boolean() IS 'Trigger: one step each time the boolean column becomes TRUE. Arguments: (column_name, step_name [, user_column]).';


--
-- Name: tg_achievement_toggle(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_toggle() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.count_column_change('toggle', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;


--
-- Name: FUNCTION tg_achievement_toggle(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.tg_achievement_toggle() IS 'Trigger: one step when the column goes from NULL to a value; back to NULL takes it back. Arguments: (column_name, step_name [, user_column]).';


--
-- Name: tg_achievement_toggle_boolean(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_toggle_boolean() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.count_column_change('toggle_boolean', TG_OP, TG_ARGV, TG_NAME, TG_RELID::regclass, to_jsonb(OLD), to_jsonb(NEW));
  return coalesce(NEW, OLD);
end;
$$;


--
-- Name: FUNCTION tg_achievement_toggle_boolean(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.tg_achievement_toggle_boolean() IS 'Trigger: one step on FALSE/NULL -> TRUE; TRUE -> FALSE/NULL takes it back. Arguments: (column_name, step_name [, user_column]).';


--
-- Name: tg_points_ledger__scores(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_points_ledger__scores() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
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
  perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
    from unnest(tiers_changed) as changed;

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
  perform status_private.append_histogram_moves(moves);
  return null;
end;
$$;


--
-- Name: tg_user_profiles__check_time_zone(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_profiles__check_time_zone() RETURNS trigger
    LANGUAGE plpgsql STABLE
    AS $$
begin
  if not exists (select from pg_catalog.pg_timezone_names where name = NEW.time_zone) then
    raise exception 'Unknown time zone "%"', NEW.time_zone
      using errcode = 'AC400', hint = 'Use an IANA time zone name, for example Europe/Paris or UTC.';
  end if;
  NEW.updated_at := now();
  return NEW;
end;
$$;


--
-- Name: tg_user_profiles__leaderboard_visibility(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_profiles__leaderboard_visibility() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  moves status_private.histogram_move[];
begin
  with changed as (
    update status_public.leaderboard_scores set visible = not NEW.leaderboard_opt_out
    where user_id = NEW.user_id and visible = NEW.leaderboard_opt_out
    returning *
  )
  select array_agg(row(changed.period, changed.period_start,
                       case when changed.visible then null else changed.points end,
                       case when changed.visible then changed.points end)::status_private.histogram_move)
    into moves
    from changed;
  perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  return null;
end;
$$;


--
-- Name: tg_user_steps__event_path(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_steps__event_path() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  steps status_private.pipeline_step[];
begin
  -- Round k: each user's k-th step of the statement (in the order they happened), one step per user.
  for steps in
    select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.occurred_at,
                         numbered.occurred_at at time zone coalesce(profile.time_zone, 'UTC'))::status_private.pipeline_step
                     order by numbered.user_id)
    from (select new_steps.*, row_number() over (partition by new_steps.user_id order by new_steps.occurred_at, new_steps.id) as round
          from new_steps) as numbered
    left join status_public.user_profiles as profile on profile.user_id = numbered.user_id
    group by numbered.round
    order by numbered.round
  loop
    perform status_private.run_stages(steps);
  end loop;
  return null;
end;
$$;


--
-- Name: tg_user_steps__rate_limit(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_steps__rate_limit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.spend_record_action_allowance(NEW.user_id, NEW.idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return NEW;
end;
$$;


--
-- Name: tier_for(integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tier_for(points integer) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
begin
  return (select tier.name from status_public.tiers as tier where tier.min_points <= tier_for.points order by tier.min_points desc limit 1);
end;
$$;


--
-- Name: tier_progress(integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tier_progress(points integer) RETURNS status_public.tier_progress
    LANGUAGE sql STABLE
    AS $$
  select points, current.name, current.badge, next.name, next.badge, next.min_points,
         case when next.name is null then 100
              else round(100.0 * (points - coalesce(current.min_points, 0)) / (next.min_points - coalesce(current.min_points, 0)), 1)::double precision
         end
  from (select 1) as one
  left join lateral (select * from status_public.tiers where min_points <= points order by min_points desc limit 1) as current on true
  left join lateral (select * from status_public.tiers where min_points > points order by min_points limit 1) as next on true;
$$;


--
-- Name: time_of_day_criterion_progress(status_public.achievement_criteria, uuid, text, timestamp without time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.time_of_day_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) RETURNS TABLE(current integer, target integer)
    LANGUAGE sql STABLE
    AS $$
  select case
           when action is null then exists (
             select from status_public.achievement_unlocks as unlock
             where unlock.user_id = time_of_day_criterion_progress.user_id and unlock.achievement_id = criterion.achievement_id)::integer
           else (action = criterion.action and case
                   when criterion.hour_from < criterion.hour_until
                     then extract(hour from local_time) >= criterion.hour_from and extract(hour from local_time) < criterion.hour_until
                   else extract(hour from local_time) >= criterion.hour_from or extract(hour from local_time) < criterion.hour_until
                 end)::integer
         end,
         1;
$$;


--
-- Name: time_zone_of(uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.time_zone_of(user_id uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
begin
  return coalesce((select profile.time_zone from status_public.user_profiles as profile where profile.user_id = time_zone_of.user_id), 'UTC');
end;
$$;


--
-- Name: trigger_arguments(text[], name, regclass); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.trigger_arguments(trigger_args text[], trigger_name name, table_name regclass) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


--
-- Name: trigger_column_value(jsonb, text, name, regclass); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.trigger_column_value(row_data jsonb, column_name text, trigger_name name, table_name regclass) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    AS $$
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


--
-- Name: unlock_achievements(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.unlock_achievements(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  with candidates as (
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
    -- was small would otherwise hash the whole catalog on every event once it has grown.
    cross join lateral (
      select achievement.* from status_public.achievements as achievement where achievement.id = named.achievement_id offset 0
    ) as achievement
    where step.count > 0
      and (achievement.available_from is null or achievement.available_from <= step.occurred_at)
      and (achievement.available_until is null or step.occurred_at < achievement.available_until)
      and not exists (
        select from status_public.achievement_unlocks as unlock
        where unlock.user_id = step.user_id and unlock.achievement_id = achievement.id)
      -- Every criterion holds: per candidate, its criteria by index (a scalar subquery, not a join the plan
      -- could turn into a scan of every criterion).
      and (select coalesce(bool_and(exists (
              select from status_private.criterion_progress(criterion, step.user_id, step.name, step.local_time) as progress
              where progress.current >= progress.target)), true)
           from status_public.achievement_criteria as criterion
           where criterion.achievement_id = achievement.id)
  ), unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id)
    select candidates.user_id, candidates.achievement_id, candidates.points, candidates.step_id from candidates
    -- Catalog order, so that a user's cursors number simultaneous unlocks as the catalog lists them.
    order by candidates.user_id, candidates.position, candidates.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
end;
$$;


--
-- Name: upsert_achievement(uuid, text, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.upsert_achievement(vuser_id uuid, vname text, vcount integer) RETURNS void
    LANGUAGE sql
    AS $$
  -- One step of `vcount` (negative: steps back, the tally never below zero); 0 or NULL records nothing.
  insert into status_public.user_steps (user_id, name, count)
    select vuser_id, vname, vcount where vcount <> 0;
$$;


--
-- Name: FUNCTION upsert_achievement(vuser_id uuid, vname text, vcount integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.upsert_achievement(vuser_id uuid, vname text, vcount integer) IS 'Adds `vcount` steps `vname` for the user (negative takes steps back, never below zero; 0 records nothing).';


--
-- Name: user_completed_step(text, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.user_completed_step(step text, user_id uuid DEFAULT jwt_public.current_user_id()) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  if user_completed_step.user_id is null then
    raise exception 'Sign in, or name the user who completed the step' using errcode = 'AC401';
  end if;
  insert into status_public.user_steps (user_id, name, count) values (user_completed_step.user_id, step, 1);
end;
$$;


--
-- Name: FUNCTION user_completed_step(step text, user_id uuid); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.user_completed_step(step text, user_id uuid) IS 'The user (default: the signed-in one) performed `step` once.';


--
-- Name: user_incompleted_step(text, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.user_incompleted_step(step text, user_id uuid DEFAULT jwt_public.current_user_id()) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
  seen tid;
begin
  if user_incompleted_step.user_id is null then
    raise exception 'Sign in, or name the user whose step to take back' using errcode = 'AC401';
  end if;
  -- One take-back at a time per user and step, until commit. Read committed: the check below is a new
  -- statement, so it sees what the previous take-back committed (locks go only once it is visible).
  perform pg_advisory_xact_lock(hashtext('status_private.user_incompleted_step'),
                                hashtext(user_incompleted_step.user_id::text || '/' || step));
  -- One step back, only when there is one to take back: never below zero, and the rest of the tally stays
  -- (upstream deleted every step of that name and the tally).
  select tally.ctid into seen from status_public.user_achievements as tally
    where tally.user_id = user_incompleted_step.user_id and tally.name = step;
  if seen is null then
    return;
  end if;
  insert into status_public.user_steps (user_id, name, count) values (user_incompleted_step.user_id, step, -1);
  -- Repeatable read or serializable: the snapshot may predate a take-back that committed since. Our step
  -- then went to a newer tally than the one we saw, which is still visible (ours would be gone, replaced by
  -- our own update or delete). Answer as a row lock would: a serialization failure, to retry.
  if current_setting('transaction_isolation') <> 'read committed'
     and exists (select from status_public.user_achievements as tally where tally.ctid = seen) then
    raise exception 'could not serialize access due to a concurrent take-back of step "%"', step
      using errcode = 'serialization_failure';
  end if;
end;
$$;


--
-- Name: FUNCTION user_incompleted_step(step text, user_id uuid); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.user_incompleted_step(step text, user_id uuid) IS 'Takes back one step `step` of the user (default: the signed-in one), if they have any; never below zero.';


--
-- Name: achievements; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.achievements (
    id text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    points integer DEFAULT 0 NOT NULL,
    icon text,
    kind status_public.achievement_kind DEFAULT 'milestone'::status_public.achievement_kind NOT NULL,
    hidden boolean DEFAULT false NOT NULL,
    available_from timestamp with time zone,
    available_until timestamp with time zone,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT achievements_check CHECK ((available_until > available_from)),
    CONSTRAINT achievements_description_check CHECK ((length(description) <= 1000)),
    CONSTRAINT achievements_icon_check CHECK ((length(icon) <= 200)),
    CONSTRAINT achievements_id_check CHECK ((id ~ '^[a-z][a-z0-9_]{0,99}$'::text)),
    CONSTRAINT achievements_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT achievements_points_check CHECK (((points >= 0) AND (points <= 1000000)))
);


--
-- Name: TABLE achievements; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.achievements IS 'The achievements users can unlock. Each unlocks, once per user, when all its criteria hold. A hidden achievement is visible to a user only once they unlocked it.';


--
-- Name: COLUMN achievements.id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.id IS 'The stable identifier, for example `tasks_completed_10`.';


--
-- Name: COLUMN achievements.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.points IS 'Points awarded, once, on unlock.';


--
-- Name: COLUMN achievements.hidden; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.hidden IS 'Secret until unlocked: users who have not unlocked it do not see it (only their count of hidden achievements still locked).';


--
-- Name: COLUMN achievements.available_from; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.available_from IS 'Time-limited achievements: actions before this time do not unlock it.';


--
-- Name: COLUMN achievements.available_until; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.available_until IS 'Time-limited achievements: actions from this time on do not unlock it.';


--
-- Name: COLUMN achievements."position"; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements."position" IS 'Display order: lower first, then by id.';


--
-- Name: achievements_rarity_percent(status_public.achievements); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) RETURNS double precision
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select round(100.0 * (select count(*) from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id)
               / nullif((select count(*) from status_public.user_scores), 0), 1)::double precision;
$$;


--
-- Name: FUNCTION achievements_rarity_percent(achievement status_public.achievements); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) IS 'The percentage of active users (users who recorded at least one step) who unlocked this achievement; NULL while nobody is active.';


--
-- Name: hidden_locked_count(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.hidden_locked_count() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select count(*)::integer from status_public.achievements as achievement
  where achievement.hidden
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = jwt_public.current_user_id() and unlock.achievement_id = achievement.id);
$$;


--
-- Name: FUNCTION hidden_locked_count(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.hidden_locked_count() IS 'How many hidden achievements the signed-in user has not unlocked yet.';


--
-- Name: leaderboard(status_public.leaderboard_period, integer, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.leaderboard(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period, first integer DEFAULT 10, "offset" integer DEFAULT 0) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  board_start date := status_private.period_start(period, now());
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, array(
    select score.user_id from status_public.leaderboard_scores as score
    where score.period = leaderboard.period and score.period_start = board_start and score.visible
    order by score.points desc, score.reached_at, score.user_id
    limit first offset "offset"));
end;
$$;


--
-- Name: FUNCTION leaderboard(period status_public.leaderboard_period, first integer, "offset" integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) IS '@behavior -*';


--
-- Name: leaderboard_around_me(status_public.leaderboard_period, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period, radius integer DEFAULT 5) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
begin
  if me is null then
    raise exception 'Sign in to see the leaderboard around you' using errcode = 'AC401';
  end if;
  if radius is null or radius not between 1 and 50 then
    raise exception 'radius must be from 1 to 50' using errcode = 'AC400';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  if mine.user_id is null then
    -- Not on the board: the lowest scores are "around" a user with no points.
    return query select * from status_private.leaderboard_entries(period, board_start, array(
      select score.user_id from status_public.leaderboard_scores as score
      where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible and score.points > 0
      order by score.points, score.reached_at desc, score.user_id desc
      limit radius));
    return;
  end if;
  return query select * from status_private.leaderboard_entries(period, board_start, array(
    select above.user_id from (
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
       order by score.reached_at desc, score.user_id desc
       limit radius)
      union all
      (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
       where score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
         and score.points > mine.points
       order by score.points, score.reached_at desc, score.user_id desc
       limit radius)
    ) as above
    order by above.points, above.reached_at desc, above.user_id desc
    limit radius)
  || array(
    select below.user_id from (
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
  || array[me]);
end;
$$;


--
-- Name: FUNCTION leaderboard_around_me(period status_public.leaderboard_period, radius integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) IS '@behavior -*';


--
-- Name: my_achievements(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_achievements() RETURNS SETOF status_public.achievement_progress
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;


--
-- Name: FUNCTION my_achievements(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_achievements() IS 'Every achievement the signed-in user can see, with their progress: unlocked or not, percent (0 to 100, 100 only when unlocked; several criteria: the mean of their percentages, at most 99 until unlocked) and what remains per criterion.';


--
-- Name: my_dashboard(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_dashboard() RETURNS status_public.dashboard
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION my_dashboard(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_dashboard() IS 'The signed-in user''s dashboard in one query: tier and progress to the next, points, unlocked achievements, locked ones with progress, the count of hidden ones still locked, tallies and streaks.';


--
-- Name: my_rank(status_public.leaderboard_period); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_rank(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period) RETURNS status_public.leaderboard_rank
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  mine status_public.leaderboard_scores;
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  select * into mine from status_public.leaderboard_scores as score
    where score.period = my_rank.period and score.period_start = board_start and score.user_id = me;
  result.points := coalesce(mine.points, 0);
  result.rank := status_private.rank_of(period, board_start, result.points);
  -- The visible users, plus the viewer when not among them (no points yet, or opted out).
  result.total_users := status_private.board_users(period, board_start) + case when coalesce(mine.visible, false) then 0 else 1 end;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;


--
-- Name: FUNCTION my_rank(period status_public.leaderboard_period); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) IS '@behavior -*';


--
-- Name: my_tier(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_tier() RETURNS status_public.tier_progress
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  me uuid := jwt_public.current_user_id();
begin
  if me is null then
    raise exception 'Sign in to see your tier' using errcode = 'AC401';
  end if;
  return status_private.tier_progress(coalesce((select score.points from status_public.user_scores as score where score.user_id = me), 0));
end;
$$;


--
-- Name: FUNCTION my_tier(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_tier() IS 'The signed-in user''s points, tier, next tier and progress to it. Null (with an UNAUTHENTICATED error) when not signed in.';


--
-- Name: achievement_unlocks; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.achievement_unlocks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    achievement_id text NOT NULL,
    points integer NOT NULL,
    unlocked_at timestamp with time zone DEFAULT now() NOT NULL,
    step_id uuid NOT NULL,
    cursor integer NOT NULL,
    CONSTRAINT achievement_unlocks_points_check CHECK ((points >= 0))
);


--
-- Name: TABLE achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.achievement_unlocks IS 'Each achievement a user unlocked: exactly once per user and achievement, with the points it awarded.';


--
-- Name: COLUMN achievement_unlocks.cursor; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_unlocks.cursor IS 'The catch-up cursor: increases with each of the user''s unlocks and levels in the order their transactions committed. Pass the last one you received to `myUnlocksSince`.';


--
-- Name: my_unlocks_since(integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_unlocks_since(cursor integer) RETURNS SETOF status_public.achievement_unlocks
    LANGUAGE sql STABLE
    AS $$
  select unlock.*
    from status_public.achievement_unlocks as unlock
    where unlock.user_id = (select jwt_public.current_user_id())
      and unlock.cursor > my_unlocks_since.cursor
    order by unlock.cursor;
$$;


--
-- Name: FUNCTION my_unlocks_since(cursor integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_unlocks_since(cursor integer) IS 'The signed-in user''s unlocks after `cursor` (exclusive), in the order they committed: a subscriber that was disconnected calls it with the `cursor` of the last toast it received (0: all) to catch up on what it missed.';


--
-- Name: record_action(text, integer, text); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.record_action(action text, amount integer DEFAULT 1, idempotency_key text DEFAULT NULL::text) RETURNS status_public.record_action_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION record_action(action text, amount integer, idempotency_key text); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.record_action(action text, amount integer, idempotency_key text) IS '@notNull
Records that the signed-in user performed `action` (`amount` times; a client-reportable action only) and returns what changed: the tally, unlocked achievements, points, tier, streak and levels. With an `idempotencyKey`, a retry returns the original result and counts nothing again. Rate limited per user (RATE_LIMITED).';


--
-- Name: record_action_for(uuid, text, integer, text, timestamp with time zone); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.record_action_for(user_id uuid, action text, amount integer DEFAULT 1, idempotency_key text DEFAULT NULL::text, occurred_at timestamp with time zone DEFAULT NULL::timestamp with time zone) RETURNS status_public.record_action_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  -- The service client is the token's sub; a direct SQL caller without one counts as the nil uuid.
  perform status_private.spend_record_action_allowance(record_action_for.user_id, idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return status_private.record_action(record_action_for.user_id, action, amount, idempotency_key, occurred_at);
end;
$$;


--
-- Name: FUNCTION record_action_for(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.record_action_for(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) IS '@notNull
For the service role (a trusted backend): records that `userId` performed `action`, at `occurredAt` (default: now). Same result and idempotency as `recordAction`. Rate limited per service client and per user recorded for (RATE_LIMITED).';


--
-- Name: record_actions(status_public.action_event[]); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.record_actions(events status_public.action_event[]) RETURNS SETOF status_public.record_action_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  signed_in uuid := jwt_public.current_user_id();
  for_anyone boolean := status_private.caller_acts_for_anyone();
  -- 0 (or nonsense) is the default: a batch always has a bound.
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
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
  if events is null then
    raise exception 'events is required (an empty list records nothing)' using errcode = 'AC400';
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


--
-- Name: FUNCTION record_actions(events status_public.action_event[]); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.record_actions(events status_public.action_event[]) IS '@notNull
Records a batch of events in one call and returns each one''s result, in order: the service role for any users (and `occurredAt`, for imports), a user for themselves (client-reportable actions). A user''s events apply in the order they happened, as if recorded one by one. All or nothing; at most 1000 events a call (achievements.record_actions_max_events); each event counts against the rate limits; a retried idempotency key returns the original result.';


--
-- Name: user_profiles; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_profiles (
    user_id uuid NOT NULL,
    display_name text,
    time_zone text DEFAULT 'UTC'::text NOT NULL,
    leaderboard_opt_out boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_profiles_display_name_check CHECK (((length(display_name) >= 1) AND (length(display_name) <= 100))),
    CONSTRAINT user_profiles_time_zone_check CHECK ((length(time_zone) <= 100))
);


--
-- Name: TABLE user_profiles; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_profiles IS '@behavior -insert -update -delete
A user''s display name, time zone and leaderboard choice. Users write their own with `setMyProfile`.';


--
-- Name: COLUMN user_profiles.display_name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_profiles.display_name IS 'The name shown on leaderboards (NULL: none chosen).';


--
-- Name: COLUMN user_profiles.time_zone; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_profiles.time_zone IS 'An IANA time zone name, for example `Europe/Paris`: streaks count calendar days, and time-of-day criteria local hours, in it.';


--
-- Name: set_my_profile(text, text, boolean); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.set_my_profile(display_name text DEFAULT NULL::text, time_zone text DEFAULT NULL::text, leaderboard_opt_out boolean DEFAULT NULL::boolean) RETURNS status_public.user_profiles
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: FUNCTION set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean) IS '@notNull
Creates or updates the signed-in user''s profile; arguments left out keep their value. An unknown time zone is an error.';


--
-- Name: level_requirements_creation_order; Type: SEQUENCE; Schema: status_public; Owner: -
--

CREATE SEQUENCE status_public.level_requirements_creation_order
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    MAXVALUE 281474976710655
    CACHE 1;


--
-- Name: SEQUENCE level_requirements_creation_order; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON SEQUENCE status_public.level_requirements_creation_order IS 'Creation numbers of level requirements: the first 48 bits of their ids.';


--
-- Name: level_requirements; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.level_requirements (
    id uuid DEFAULT (OVERLAY(OVERLAY(replace((gen_random_uuid())::text, '-'::text, ''::text) PLACING lpad(to_hex(nextval('status_public.level_requirements_creation_order'::regclass)), 12, '0'::text) FROM 1) PLACING '8'::text FROM 13))::uuid NOT NULL,
    name text NOT NULL,
    level text NOT NULL,
    required_count integer DEFAULT 1 NOT NULL,
    priority integer DEFAULT 100 NOT NULL,
    CONSTRAINT level_requirements_name_check CHECK ((((length(name) >= 1) AND (length(name) <= 100)) AND (name = btrim(name)))),
    CONSTRAINT level_requirements_required_count_check CHECK ((required_count >= 1))
);


--
-- Name: TABLE level_requirements; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.level_requirements IS 'What a user must do, and how often, to achieve a level.';


--
-- Name: COLUMN level_requirements.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.level_requirements.name IS 'The step (action) to perform, for example `make_post`.';


--
-- Name: COLUMN level_requirements.level; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.level_requirements.level IS 'The level this requirement belongs to.';


--
-- Name: COLUMN level_requirements.required_count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.level_requirements.required_count IS 'How many times the step must be performed (at least 1). In the rows of `stepsRequired`: how many remain.';


--
-- Name: COLUMN level_requirements.priority; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.level_requirements.priority IS 'Display order: lower first; equal priorities in the order the requirements were created.';


--
-- Name: steps_required(text, uuid); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.steps_required(vlevel text, vrole_id uuid DEFAULT jwt_public.current_user_id()) RETURNS SETOF status_public.level_requirements
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: FUNCTION steps_required(vlevel text, vrole_id uuid); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) IS 'The requirements of `level` that the user has not met yet, each with the remaining count in `requiredCount`, ordered by priority, then in the order the requirements were created. The user defaults to the signed-in one; only the service and admins may ask about others. An unknown level is an error.';


--
-- Name: user_achieved(text, uuid); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid DEFAULT jwt_public.current_user_id()) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select not exists (select from status_public.steps_required(vlevel, vrole_id));
$$;


--
-- Name: FUNCTION user_achieved(vlevel text, vrole_id uuid); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) IS 'True when the user has met every requirement of `level`. Same rules as `stepsRequired`: an unknown level is an error, not "achieved".';


--
-- Name: leaderboard_bucket_counts; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_bucket_counts (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    bucket integer NOT NULL,
    users integer NOT NULL,
    CONSTRAINT leaderboard_bucket_counts_users_check CHECK ((users >= 0))
);


--
-- Name: TABLE leaderboard_bucket_counts; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_bucket_counts IS 'How many visible users have points in [100 x bucket, 100 x bucket + 100) in the period.';


--
-- Name: leaderboard_count_deltas; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_count_deltas (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    points integer NOT NULL,
    users integer NOT NULL,
    CONSTRAINT leaderboard_count_deltas_users_check CHECK ((users <> 0))
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='1000', autovacuum_vacuum_insert_scale_factor='0', autovacuum_vacuum_insert_threshold='1000');


--
-- Name: TABLE leaderboard_count_deltas; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_count_deltas IS 'Changes to the leaderboard histogram not folded into leaderboard_point_counts / leaderboard_bucket_counts yet (append-only: writers never lock a shared row).';


--
-- Name: leaderboard_point_counts; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_point_counts (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    points integer NOT NULL,
    users integer NOT NULL,
    CONSTRAINT leaderboard_point_counts_users_check CHECK ((users >= 0))
);


--
-- Name: TABLE leaderboard_point_counts; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_point_counts IS 'How many visible users have exactly `points` in the period: the histogram behind exact ranks.';


--
-- Name: record_action_allowances; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.record_action_allowances (
    subject_kind text NOT NULL,
    user_id uuid NOT NULL,
    shard smallint NOT NULL,
    tokens double precision NOT NULL,
    refilled_at timestamp with time zone NOT NULL,
    CONSTRAINT record_action_allowances_shard_check CHECK (((shard >= 0) AND (shard <= 15))),
    CONSTRAINT record_action_allowances_subject_kind_check CHECK ((subject_kind = ANY (ARRAY['user'::text, 'service'::text])))
);


--
-- Name: TABLE record_action_allowances; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.record_action_allowances IS 'The recordAction rate limit''s token buckets: one row per user, up to 16 per service client.';


--
-- Name: recorded_action_results; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.recorded_action_results (
    step_id uuid NOT NULL,
    result jsonb NOT NULL
);


--
-- Name: user_event_cursors; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.user_event_cursors (
    user_id uuid NOT NULL,
    last_cursor integer NOT NULL,
    CONSTRAINT user_event_cursors_last_cursor_check CHECK ((last_cursor >= 1))
);


--
-- Name: TABLE user_event_cursors; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.user_event_cursors IS 'The last catch-up cursor given to each user''s unlocks and levels.';


--
-- Name: actions; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.actions (
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    client_reportable boolean DEFAULT false NOT NULL,
    max_amount integer DEFAULT 100 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT actions_description_check CHECK ((length(description) <= 1000)),
    CONSTRAINT actions_max_amount_check CHECK (((max_amount >= 1) AND (max_amount <= 1000000))),
    CONSTRAINT actions_name_check CHECK ((name ~ '^[a-z][a-z0-9_]{0,99}$'::text))
);


--
-- Name: TABLE actions; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.actions IS 'What users do (`tasks_completed`, `logins`, ...): the names that `recordAction` accepts and that criteria count.';


--
-- Name: COLUMN actions.client_reportable; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.actions.client_reportable IS 'Whether a signed-in user may record this action for themselves. Otherwise only the service role (or a table trigger) records it.';


--
-- Name: COLUMN actions.max_amount; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.actions.max_amount IS 'The largest `amount` one `recordAction` call may carry.';


--
-- Name: leaderboard_scores; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.leaderboard_scores (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    user_id uuid NOT NULL,
    points integer NOT NULL,
    reached_at timestamp with time zone NOT NULL,
    visible boolean NOT NULL,
    CONSTRAINT leaderboard_scores_points_check CHECK ((points > 0))
);


--
-- Name: TABLE leaderboard_scores; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.leaderboard_scores IS '@behavior -*
Each user''s points per leaderboard period; read through the leaderboard queries.';


--
-- Name: levels; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.levels (
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT levels_name_check CHECK ((((length(name) >= 1) AND (length(name) <= 100)) AND (name = btrim(name))))
);


--
-- Name: TABLE levels; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.levels IS 'Progression stages (for example newbie, intermediate, expert). A level is achieved when all its requirements are met.';


--
-- Name: COLUMN levels.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.levels.name IS 'The level''s identifier.';


--
-- Name: points_ledger; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.points_ledger (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    points integer NOT NULL,
    unlock_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT points_ledger_points_check CHECK ((points <> 0))
);


--
-- Name: TABLE points_ledger; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.points_ledger IS 'Append-only record of every point awarded.';


--
-- Name: tiers; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.tiers (
    name text NOT NULL,
    min_points integer NOT NULL,
    badge text DEFAULT ''::text NOT NULL,
    CONSTRAINT tiers_badge_check CHECK ((length(badge) <= 100)),
    CONSTRAINT tiers_min_points_check CHECK ((min_points >= 0)),
    CONSTRAINT tiers_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)))
);


--
-- Name: TABLE tiers; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.tiers IS 'Point tiers: a user is in the tier with the highest `minPoints` not above their points.';


--
-- Name: user_achievements; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_achievements (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    count integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_achievements_count_check CHECK ((count >= 0))
);


--
-- Name: TABLE user_achievements; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_achievements IS 'The tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';


--
-- Name: COLUMN user_achievements.count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_achievements.count IS 'The tally: the user''s total amount of the action (at least 1: a tally back at zero is removed).';


--
-- Name: user_levels; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_levels (
    user_id uuid NOT NULL,
    level text NOT NULL,
    achieved_at timestamp with time zone DEFAULT now() NOT NULL,
    step_id uuid,
    cursor integer NOT NULL
);


--
-- Name: TABLE user_levels; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_levels IS 'The levels each user achieved, recorded once, when first achieved.';


--
-- Name: COLUMN user_levels.cursor; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_levels.cursor IS 'The catch-up cursor (shared with the user''s unlocks): increases in the order the transactions committed.';


--
-- Name: user_scores; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_scores (
    user_id uuid NOT NULL,
    points integer DEFAULT 0 NOT NULL,
    tier text,
    reached_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_scores_points_check CHECK ((points >= 0))
);


--
-- Name: TABLE user_scores; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_scores IS 'Each active user''s points and tier, kept from the points ledger.';


--
-- Name: COLUMN user_scores.tier; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_scores.tier IS 'The tier for these points (NULL when no tier starts at or below them).';


--
-- Name: user_streaks; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_streaks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    action text,
    current_length integer NOT NULL,
    longest_length integer NOT NULL,
    last_day date NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_streaks_check CHECK ((longest_length >= current_length)),
    CONSTRAINT user_streaks_current_length_check CHECK ((current_length >= 1))
);


--
-- Name: TABLE user_streaks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_streaks IS 'Consecutive calendar days (in the user''s time zone) with at least one step, per action and for any activity (`action` NULL). A streak whose last day is before yesterday is broken: read it with `currentStreak`.';


--
-- Name: leaderboard_bucket_counts leaderboard_bucket_counts_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.leaderboard_bucket_counts
    ADD CONSTRAINT leaderboard_bucket_counts_pkey PRIMARY KEY (period, period_start, bucket);


--
-- Name: leaderboard_point_counts leaderboard_point_counts_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.leaderboard_point_counts
    ADD CONSTRAINT leaderboard_point_counts_pkey PRIMARY KEY (period, period_start, points);


--
-- Name: record_action_allowances record_action_allowances_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.record_action_allowances
    ADD CONSTRAINT record_action_allowances_pkey PRIMARY KEY (subject_kind, user_id, shard);


--
-- Name: recorded_action_results recorded_action_results_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.recorded_action_results
    ADD CONSTRAINT recorded_action_results_pkey PRIMARY KEY (step_id);


--
-- Name: user_event_cursors user_event_cursors_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.user_event_cursors
    ADD CONSTRAINT user_event_cursors_pkey PRIMARY KEY (user_id);


--
-- Name: achievement_criteria achievement_criteria_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_criteria
    ADD CONSTRAINT achievement_criteria_pkey PRIMARY KEY (id);


--
-- Name: achievement_unlocks achievement_unlocks_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_unlocks
    ADD CONSTRAINT achievement_unlocks_pkey PRIMARY KEY (id);


--
-- Name: achievement_unlocks achievement_unlocks_user_id_achievement_id_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_unlocks
    ADD CONSTRAINT achievement_unlocks_user_id_achievement_id_key UNIQUE (user_id, achievement_id);


--
-- Name: achievements achievements_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievements
    ADD CONSTRAINT achievements_pkey PRIMARY KEY (id);


--
-- Name: actions actions_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.actions
    ADD CONSTRAINT actions_pkey PRIMARY KEY (name);


--
-- Name: leaderboard_scores leaderboard_scores_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.leaderboard_scores
    ADD CONSTRAINT leaderboard_scores_pkey PRIMARY KEY (period, period_start, user_id);


--
-- Name: level_requirements level_requirements_name_level_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.level_requirements
    ADD CONSTRAINT level_requirements_name_level_key UNIQUE (name, level);


--
-- Name: level_requirements level_requirements_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.level_requirements
    ADD CONSTRAINT level_requirements_pkey PRIMARY KEY (id);


--
-- Name: levels levels_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.levels
    ADD CONSTRAINT levels_pkey PRIMARY KEY (name);


--
-- Name: points_ledger points_ledger_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.points_ledger
    ADD CONSTRAINT points_ledger_pkey PRIMARY KEY (id);


--
-- Name: tiers tiers_min_points_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.tiers
    ADD CONSTRAINT tiers_min_points_key UNIQUE (min_points);


--
-- Name: tiers tiers_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.tiers
    ADD CONSTRAINT tiers_pkey PRIMARY KEY (name);


--
-- Name: user_achievements user_achievements_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_achievements
    ADD CONSTRAINT user_achievements_pkey PRIMARY KEY (id);


--
-- Name: user_achievements user_achievements_user_id_name_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_achievements
    ADD CONSTRAINT user_achievements_user_id_name_key UNIQUE (user_id, name);


--
-- Name: user_levels user_levels_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_levels
    ADD CONSTRAINT user_levels_pkey PRIMARY KEY (user_id, level);


--
-- Name: user_profiles user_profiles_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_profiles
    ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (user_id);


--
-- Name: user_scores user_scores_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_scores
    ADD CONSTRAINT user_scores_pkey PRIMARY KEY (user_id);


--
-- Name: user_steps user_steps_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_steps
    ADD CONSTRAINT user_steps_pkey PRIMARY KEY (id);


--
-- Name: user_steps user_steps_user_id_idempotency_key_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_steps
    ADD CONSTRAINT user_steps_user_id_idempotency_key_key UNIQUE (user_id, idempotency_key);


--
-- Name: user_streaks user_streaks_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_streaks
    ADD CONSTRAINT user_streaks_pkey PRIMARY KEY (id);


--
-- Name: user_streaks user_streaks_user_id_action_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_streaks
    ADD CONSTRAINT user_streaks_user_id_action_key UNIQUE NULLS NOT DISTINCT (user_id, action);


--
-- Name: leaderboard_count_deltas_period_points_idx; Type: INDEX; Schema: status_private; Owner: -
--

CREATE INDEX leaderboard_count_deltas_period_points_idx ON status_private.leaderboard_count_deltas USING btree (period, period_start, points) INCLUDE (users);


--
-- Name: achievement_criteria_achievement_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX achievement_criteria_achievement_id_idx ON status_public.achievement_criteria USING btree (achievement_id);


--
-- Name: achievement_criteria_action_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX achievement_criteria_action_idx ON status_public.achievement_criteria USING btree (action);


--
-- Name: achievement_unlocks_achievement_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX achievement_unlocks_achievement_id_idx ON status_public.achievement_unlocks USING btree (achievement_id);


--
-- Name: achievement_unlocks_step_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX achievement_unlocks_step_id_idx ON status_public.achievement_unlocks USING btree (step_id);


--
-- Name: achievement_unlocks_user_id_cursor_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE UNIQUE INDEX achievement_unlocks_user_id_cursor_idx ON status_public.achievement_unlocks USING btree (user_id, cursor);


--
-- Name: leaderboard_scores_listing_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX leaderboard_scores_listing_idx ON status_public.leaderboard_scores USING btree (period, period_start, points DESC, reached_at, user_id) WHERE visible;


--
-- Name: leaderboard_scores_user_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX leaderboard_scores_user_id_idx ON status_public.leaderboard_scores USING btree (user_id);


--
-- Name: level_requirements_level_priority_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX level_requirements_level_priority_idx ON status_public.level_requirements USING btree (level, priority, name);


--
-- Name: points_ledger_unlock_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX points_ledger_unlock_id_idx ON status_public.points_ledger USING btree (unlock_id);


--
-- Name: points_ledger_user_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX points_ledger_user_id_idx ON status_public.points_ledger USING btree (user_id, created_at);


--
-- Name: user_levels_step_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX user_levels_step_id_idx ON status_public.user_levels USING btree (step_id);


--
-- Name: user_steps_user_id_name_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX user_steps_user_id_name_idx ON status_public.user_steps USING btree (user_id, name);


--
-- Name: user_steps _010_rate_limit; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _010_rate_limit BEFORE INSERT ON status_public.user_steps FOR EACH ROW WHEN ((CURRENT_USER = 'achievements_service'::name)) EXECUTE FUNCTION status_private.tg_user_steps__rate_limit();


--
-- Name: achievement_unlocks _050_take_cursor; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _050_take_cursor BEFORE INSERT ON status_public.achievement_unlocks FOR EACH ROW EXECUTE FUNCTION status_private.tg__take_user_cursor();


--
-- Name: user_levels _050_take_cursor; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _050_take_cursor BEFORE INSERT ON status_public.user_levels FOR EACH ROW EXECUTE FUNCTION status_private.tg__take_user_cursor();


--
-- Name: user_profiles _100_check_time_zone; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _100_check_time_zone BEFORE INSERT OR UPDATE ON status_public.user_profiles FOR EACH ROW EXECUTE FUNCTION status_private.tg_user_profiles__check_time_zone();


--
-- Name: user_steps _100_event_path; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _100_event_path AFTER INSERT ON status_public.user_steps REFERENCING NEW TABLE AS new_steps FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_user_steps__event_path();


--
-- Name: points_ledger _100_scores; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _100_scores AFTER INSERT ON status_public.points_ledger REFERENCING NEW TABLE AS awarded FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_points_ledger__scores();


--
-- Name: user_profiles _200_leaderboard_visibility; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _200_leaderboard_visibility AFTER INSERT OR UPDATE OF leaderboard_opt_out ON status_public.user_profiles FOR EACH ROW EXECUTE FUNCTION status_private.tg_user_profiles__leaderboard_visibility();


--
-- Name: achievement_unlocks _500_notify; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _500_notify AFTER INSERT ON status_public.achievement_unlocks FOR EACH ROW EXECUTE FUNCTION status_private.tg__notify_user('achievement_unlocked', 'id');


--
-- Name: user_levels _500_notify; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _500_notify AFTER INSERT ON status_public.user_levels FOR EACH ROW EXECUTE FUNCTION status_private.tg__notify_user('level_achieved', 'level');


--
-- Name: recorded_action_results recorded_action_results_step_id_fkey; Type: FK CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.recorded_action_results
    ADD CONSTRAINT recorded_action_results_step_id_fkey FOREIGN KEY (step_id) REFERENCES status_public.user_steps(id) ON DELETE CASCADE;


--
-- Name: achievement_criteria achievement_criteria_achievement_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_criteria
    ADD CONSTRAINT achievement_criteria_achievement_id_fkey FOREIGN KEY (achievement_id) REFERENCES status_public.achievements(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: CONSTRAINT achievement_criteria_achievement_id_fkey ON achievement_criteria; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_criteria_achievement_id_fkey ON status_public.achievement_criteria IS '@notNull';


--
-- Name: achievement_criteria achievement_criteria_action_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_criteria
    ADD CONSTRAINT achievement_criteria_action_fkey FOREIGN KEY (action) REFERENCES status_public.actions(name) ON UPDATE CASCADE ON DELETE RESTRICT;


--
-- Name: achievement_unlocks achievement_unlocks_achievement_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_unlocks
    ADD CONSTRAINT achievement_unlocks_achievement_id_fkey FOREIGN KEY (achievement_id) REFERENCES status_public.achievements(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: CONSTRAINT achievement_unlocks_achievement_id_fkey ON achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_unlocks_achievement_id_fkey ON status_public.achievement_unlocks IS '@notNull';


--
-- Name: achievement_unlocks achievement_unlocks_step_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_unlocks
    ADD CONSTRAINT achievement_unlocks_step_id_fkey FOREIGN KEY (step_id) REFERENCES status_public.user_steps(id) ON DELETE CASCADE;


--
-- Name: CONSTRAINT achievement_unlocks_step_id_fkey ON achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_unlocks_step_id_fkey ON status_public.achievement_unlocks IS '@notNull';


--
-- Name: level_requirements level_requirements_level_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.level_requirements
    ADD CONSTRAINT level_requirements_level_fkey FOREIGN KEY (level) REFERENCES status_public.levels(name) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: CONSTRAINT level_requirements_level_fkey ON level_requirements; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT level_requirements_level_fkey ON status_public.level_requirements IS '@notNull';


--
-- Name: points_ledger points_ledger_unlock_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.points_ledger
    ADD CONSTRAINT points_ledger_unlock_id_fkey FOREIGN KEY (unlock_id) REFERENCES status_public.achievement_unlocks(id) ON DELETE CASCADE;


--
-- Name: user_levels user_levels_level_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_levels
    ADD CONSTRAINT user_levels_level_fkey FOREIGN KEY (level) REFERENCES status_public.levels(name) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: CONSTRAINT user_levels_level_fkey ON user_levels; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT user_levels_level_fkey ON status_public.user_levels IS '@notNull';


--
-- Name: user_levels user_levels_step_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_levels
    ADD CONSTRAINT user_levels_step_id_fkey FOREIGN KEY (step_id) REFERENCES status_public.user_steps(id) ON DELETE SET NULL;


--
-- Name: user_scores user_scores_tier_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_scores
    ADD CONSTRAINT user_scores_tier_fkey FOREIGN KEY (tier) REFERENCES status_public.tiers(name) ON UPDATE CASCADE ON DELETE SET NULL;


--
-- Name: leaderboard_bucket_counts; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_bucket_counts ENABLE ROW LEVEL SECURITY;

--
-- Name: leaderboard_count_deltas; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_count_deltas ENABLE ROW LEVEL SECURITY;

--
-- Name: leaderboard_point_counts; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_point_counts ENABLE ROW LEVEL SECURITY;

--
-- Name: record_action_allowances; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.record_action_allowances ENABLE ROW LEVEL SECURITY;

--
-- Name: recorded_action_results; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.recorded_action_results ENABLE ROW LEVEL SECURITY;

--
-- Name: user_event_cursors; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.user_event_cursors ENABLE ROW LEVEL SECURITY;

--
-- Name: achievement_criteria; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.achievement_criteria ENABLE ROW LEVEL SECURITY;

--
-- Name: achievement_unlocks; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.achievement_unlocks ENABLE ROW LEVEL SECURITY;

--
-- Name: achievements; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.achievements ENABLE ROW LEVEL SECURITY;

--
-- Name: actions; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.actions ENABLE ROW LEVEL SECURITY;

--
-- Name: user_steps insert_as_service; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY insert_as_service ON status_public.user_steps FOR INSERT TO achievements_service WITH CHECK (true);


--
-- Name: user_profiles insert_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY insert_own ON status_public.user_profiles FOR INSERT TO achievements_user WITH CHECK ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: leaderboard_scores; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.leaderboard_scores ENABLE ROW LEVEL SECURITY;

--
-- Name: level_requirements; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.level_requirements ENABLE ROW LEVEL SECURITY;

--
-- Name: levels; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.levels ENABLE ROW LEVEL SECURITY;

--
-- Name: achievement_criteria manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.achievement_criteria TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: achievements manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.achievements TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: actions manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.actions TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: level_requirements manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.level_requirements TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: levels manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.levels TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: tiers manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.tiers TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: points_ledger; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.points_ledger ENABLE ROW LEVEL SECURITY;

--
-- Name: actions select_all; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all ON status_public.actions FOR SELECT USING (true);


--
-- Name: level_requirements select_all; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all ON status_public.level_requirements FOR SELECT USING (true);


--
-- Name: levels select_all; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all ON status_public.levels FOR SELECT USING (true);


--
-- Name: tiers select_all; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all ON status_public.tiers FOR SELECT USING (true);


--
-- Name: achievement_unlocks select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.achievement_unlocks FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: achievements select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.achievements FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: leaderboard_scores select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.leaderboard_scores FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: points_ledger select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.points_ledger FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_achievements select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_achievements FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_levels select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_levels FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_profiles select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_profiles FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_scores select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_scores FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_steps select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_steps FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: user_streaks select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_streaks FOR SELECT TO achievements_service, achievements_admin USING (true);


--
-- Name: achievement_unlocks select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.achievement_unlocks FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: leaderboard_scores select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.leaderboard_scores FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: points_ledger select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.points_ledger FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_achievements select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_achievements FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_levels select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_levels FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_profiles select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_profiles FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_scores select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_scores FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_steps select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_steps FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_streaks select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_streaks FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: achievement_criteria select_visible; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_visible ON status_public.achievement_criteria FOR SELECT USING ((EXISTS ( SELECT
   FROM status_public.achievements
  WHERE (achievements.id = achievement_criteria.achievement_id))));


--
-- Name: achievements select_visible; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_visible ON status_public.achievements FOR SELECT TO achievements_user USING (((NOT hidden) OR (EXISTS ( SELECT
   FROM status_public.achievement_unlocks unlock
  WHERE ((unlock.achievement_id = achievements.id) AND (unlock.user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)))))));


--
-- Name: achievements select_visible_anonymously; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_visible_anonymously ON status_public.achievements FOR SELECT TO achievements_anonymous USING ((NOT hidden));


--
-- Name: tiers; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.tiers ENABLE ROW LEVEL SECURITY;

--
-- Name: user_profiles update_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY update_own ON status_public.user_profiles FOR UPDATE TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id))) WITH CHECK ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


--
-- Name: user_achievements; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_achievements ENABLE ROW LEVEL SECURITY;

--
-- Name: user_levels; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_levels ENABLE ROW LEVEL SECURITY;

--
-- Name: user_profiles; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_profiles ENABLE ROW LEVEL SECURITY;

--
-- Name: user_scores; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_scores ENABLE ROW LEVEL SECURITY;

--
-- Name: user_steps; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_steps ENABLE ROW LEVEL SECURITY;

--
-- Name: user_streaks; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_streaks ENABLE ROW LEVEL SECURITY;

--
-- Name: SCHEMA jwt_public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA jwt_public TO achievements_anonymous;
GRANT USAGE ON SCHEMA jwt_public TO achievements_user;
GRANT USAGE ON SCHEMA jwt_public TO achievements_service;
GRANT USAGE ON SCHEMA jwt_public TO achievements_admin;


--
-- Name: SCHEMA status_private; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA status_private TO achievements_service;
GRANT USAGE ON SCHEMA status_private TO achievements_authenticator;


--
-- Name: SCHEMA status_public; Type: ACL; Schema: -; Owner: -
--

GRANT USAGE ON SCHEMA status_public TO achievements_anonymous;
GRANT USAGE ON SCHEMA status_public TO achievements_user;
GRANT USAGE ON SCHEMA status_public TO achievements_service;
GRANT USAGE ON SCHEMA status_public TO achievements_admin;


--
-- Name: FUNCTION current_role_acts_for_anyone(); Type: ACL; Schema: jwt_public; Owner: -
--

REVOKE ALL ON FUNCTION jwt_public.current_role_acts_for_anyone() FROM PUBLIC;
GRANT ALL ON FUNCTION jwt_public.current_role_acts_for_anyone() TO achievements_anonymous;
GRANT ALL ON FUNCTION jwt_public.current_role_acts_for_anyone() TO achievements_user;
GRANT ALL ON FUNCTION jwt_public.current_role_acts_for_anyone() TO achievements_service;
GRANT ALL ON FUNCTION jwt_public.current_role_acts_for_anyone() TO achievements_admin;


--
-- Name: FUNCTION current_user_id(); Type: ACL; Schema: jwt_public; Owner: -
--

REVOKE ALL ON FUNCTION jwt_public.current_user_id() FROM PUBLIC;
GRANT ALL ON FUNCTION jwt_public.current_user_id() TO achievements_anonymous;
GRANT ALL ON FUNCTION jwt_public.current_user_id() TO achievements_user;
GRANT ALL ON FUNCTION jwt_public.current_user_id() TO achievements_service;
GRANT ALL ON FUNCTION jwt_public.current_user_id() TO achievements_admin;


--
-- Name: FUNCTION achieve_levels(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.achieve_levels(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION allowance_of_shard(max_calls integer, shards integer, shard integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.allowance_of_shard(max_calls integer, shards integer, shard integer) FROM PUBLIC;


--
-- Name: FUNCTION append_histogram_moves(moves status_private.histogram_move[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.append_histogram_moves(moves status_private.histogram_move[]) FROM PUBLIC;


--
-- Name: FUNCTION batch_step_id(number bigint); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.batch_step_id(number bigint) FROM PUBLIC;


--
-- Name: FUNCTION board_users(board status_public.leaderboard_period, board_start date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.board_users(board status_public.leaderboard_period, board_start date) FROM PUBLIC;


--
-- Name: FUNCTION caller_acts_for_anyone(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.caller_acts_for_anyone() FROM PUBLIC;


--
-- Name: FUNCTION count_column_change(mode text, operation text, trigger_args text[], trigger_name name, table_name regclass, old_row jsonb, new_row jsonb); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_column_change(mode text, operation text, trigger_args text[], trigger_name name, table_name regclass, old_row jsonb, new_row jsonb) FROM PUBLIC;


--
-- Name: TABLE achievement_criteria; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.achievement_criteria TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.achievement_criteria TO achievements_user;
GRANT SELECT ON TABLE status_public.achievement_criteria TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.achievement_id; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(achievement_id),UPDATE(achievement_id) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.kind; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(kind),UPDATE(kind) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.action; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(action),UPDATE(action) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.threshold; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(threshold),UPDATE(threshold) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.hour_from; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(hour_from),UPDATE(hour_from) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: COLUMN achievement_criteria.hour_until; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(hour_until),UPDATE(hour_until) ON TABLE status_public.achievement_criteria TO achievements_admin;


--
-- Name: FUNCTION count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION count_steps(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_steps(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) FROM PUBLIC;


--
-- Name: FUNCTION extend_streaks(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.extend_streaks(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION fold_into_histogram(changes status_private.histogram_change[], key_width integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.fold_into_histogram(changes status_private.histogram_change[], key_width integer) FROM PUBLIC;


--
-- Name: FUNCTION fold_leaderboard_deltas(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.fold_leaderboard_deltas() FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.fold_leaderboard_deltas() TO achievements_authenticator;


--
-- Name: FUNCTION histogram_changes_by_key(changes status_private.histogram_change[], key_width integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.histogram_changes_by_key(changes status_private.histogram_change[], key_width integer) FROM PUBLIC;


--
-- Name: FUNCTION leaderboard_entries(board status_public.leaderboard_period, board_start date, user_ids uuid[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date, user_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION notify_user(user_id uuid, event text, id text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.notify_user(user_id uuid, event text, id text) FROM PUBLIC;


--
-- Name: FUNCTION period_start(period status_public.leaderboard_period, at timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.period_start(period status_public.leaderboard_period, at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION rank_of(board status_public.leaderboard_period, board_start date, points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) FROM PUBLIC;


--
-- Name: FUNCTION record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION record_action_rate_setting(name text, fallback integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_action_rate_setting(name text, fallback integer) FROM PUBLIC;


--
-- Name: TABLE user_steps; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_steps TO achievements_user;
GRANT SELECT ON TABLE status_public.user_steps TO achievements_service;
GRANT SELECT ON TABLE status_public.user_steps TO achievements_admin;


--
-- Name: COLUMN user_steps.user_id; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(user_id) ON TABLE status_public.user_steps TO achievements_service;


--
-- Name: COLUMN user_steps.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name) ON TABLE status_public.user_steps TO achievements_service;


--
-- Name: COLUMN user_steps.count; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(count) ON TABLE status_public.user_steps TO achievements_service;


--
-- Name: COLUMN user_steps.idempotency_key; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(idempotency_key) ON TABLE status_public.user_steps TO achievements_service;


--
-- Name: COLUMN user_steps.occurred_at; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(occurred_at) ON TABLE status_public.user_steps TO achievements_service;


--
-- Name: FUNCTION recorded_result(previous status_public.user_steps, action text, amount integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.recorded_result(previous status_public.user_steps, action text, amount integer) FROM PUBLIC;


--
-- Name: FUNCTION refilled_tokens(tokens double precision, refilled_at timestamp with time zone, capacity integer, window_seconds integer, moment timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.refilled_tokens(tokens double precision, refilled_at timestamp with time zone, capacity integer, window_seconds integer, moment timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION run_stages(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.run_stages(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid) FROM PUBLIC;


--
-- Name: FUNCTION step_results(steps status_public.user_steps[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.step_results(steps status_public.user_steps[]) FROM PUBLIC;


--
-- Name: FUNCTION streak_as_of(current_length integer, last_day date, today date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_as_of(current_length integer, last_day date, today date) FROM PUBLIC;


--
-- Name: FUNCTION streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date) FROM PUBLIC;


--
-- Name: FUNCTION take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer) FROM PUBLIC;


--
-- Name: FUNCTION tg__notify_user(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg__notify_user() FROM PUBLIC;


--
-- Name: FUNCTION tg__take_user_cursor(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg__take_user_cursor() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_boolean(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_boolean() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_toggle(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_toggle() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_toggle_boolean(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_toggle_boolean() FROM PUBLIC;


--
-- Name: FUNCTION tg_points_ledger__scores(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_points_ledger__scores() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_profiles__check_time_zone(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_profiles__check_time_zone() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_profiles__leaderboard_visibility(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_profiles__leaderboard_visibility() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_steps__event_path(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_steps__event_path() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_steps__rate_limit(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_steps__rate_limit() FROM PUBLIC;


--
-- Name: FUNCTION tier_for(points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tier_for(points integer) FROM PUBLIC;


--
-- Name: FUNCTION tier_progress(points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tier_progress(points integer) FROM PUBLIC;


--
-- Name: FUNCTION time_of_day_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.time_of_day_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) FROM PUBLIC;


--
-- Name: FUNCTION time_zone_of(user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.time_zone_of(user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION trigger_arguments(trigger_args text[], trigger_name name, table_name regclass); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.trigger_arguments(trigger_args text[], trigger_name name, table_name regclass) FROM PUBLIC;


--
-- Name: FUNCTION trigger_column_value(row_data jsonb, column_name text, trigger_name name, table_name regclass); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.trigger_column_value(row_data jsonb, column_name text, trigger_name name, table_name regclass) FROM PUBLIC;


--
-- Name: FUNCTION unlock_achievements(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.unlock_achievements(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION upsert_achievement(vuser_id uuid, vname text, vcount integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.upsert_achievement(vuser_id uuid, vname text, vcount integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.upsert_achievement(vuser_id uuid, vname text, vcount integer) TO achievements_service;


--
-- Name: FUNCTION user_completed_step(step text, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.user_completed_step(step text, user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.user_completed_step(step text, user_id uuid) TO achievements_service;


--
-- Name: FUNCTION user_incompleted_step(step text, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.user_incompleted_step(step text, user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.user_incompleted_step(step text, user_id uuid) TO achievements_service;


--
-- Name: TABLE achievements; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.achievements TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.achievements TO achievements_user;
GRANT SELECT ON TABLE status_public.achievements TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.id; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(id),UPDATE(id) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.description; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.points; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(points),UPDATE(points) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.icon; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(icon),UPDATE(icon) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.kind; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(kind),UPDATE(kind) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.hidden; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(hidden),UPDATE(hidden) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.available_from; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(available_from),UPDATE(available_from) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements.available_until; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(available_until),UPDATE(available_until) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: COLUMN achievements."position"; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT("position"),UPDATE("position") ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: FUNCTION achievements_rarity_percent(achievement status_public.achievements); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_user;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_service;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_admin;


--
-- Name: FUNCTION hidden_locked_count(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.hidden_locked_count() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_user;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_service;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_admin;


--
-- Name: FUNCTION leaderboard(period status_public.leaderboard_period, first integer, "offset" integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) TO achievements_user;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) TO achievements_service;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer) TO achievements_admin;


--
-- Name: FUNCTION leaderboard_around_me(period status_public.leaderboard_period, radius integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) TO achievements_user;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) TO achievements_service;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer) TO achievements_admin;


--
-- Name: FUNCTION my_achievements(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_achievements() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_admin;


--
-- Name: FUNCTION my_dashboard(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_dashboard() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_admin;


--
-- Name: FUNCTION my_rank(period status_public.leaderboard_period); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period) TO achievements_admin;


--
-- Name: FUNCTION my_tier(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_tier() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_admin;


--
-- Name: TABLE achievement_unlocks; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_user;
GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_service;
GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_admin;


--
-- Name: FUNCTION my_unlocks_since(cursor integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_unlocks_since(cursor integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_unlocks_since(cursor integer) TO achievements_user;


--
-- Name: FUNCTION record_action(action text, amount integer, idempotency_key text); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.record_action(action text, amount integer, idempotency_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.record_action(action text, amount integer, idempotency_key text) TO achievements_user;
GRANT ALL ON FUNCTION status_public.record_action(action text, amount integer, idempotency_key text) TO achievements_anonymous;


--
-- Name: FUNCTION record_action_for(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.record_action_for(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.record_action_for(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) TO achievements_service;


--
-- Name: FUNCTION record_actions(events status_public.action_event[]); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.record_actions(events status_public.action_event[]) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.record_actions(events status_public.action_event[]) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.record_actions(events status_public.action_event[]) TO achievements_user;
GRANT ALL ON FUNCTION status_public.record_actions(events status_public.action_event[]) TO achievements_service;


--
-- Name: TABLE user_profiles; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_profiles TO achievements_user;
GRANT SELECT ON TABLE status_public.user_profiles TO achievements_service;
GRANT SELECT ON TABLE status_public.user_profiles TO achievements_admin;


--
-- Name: COLUMN user_profiles.user_id; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(user_id) ON TABLE status_public.user_profiles TO achievements_user;


--
-- Name: COLUMN user_profiles.display_name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(display_name),UPDATE(display_name) ON TABLE status_public.user_profiles TO achievements_user;


--
-- Name: COLUMN user_profiles.time_zone; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(time_zone),UPDATE(time_zone) ON TABLE status_public.user_profiles TO achievements_user;


--
-- Name: COLUMN user_profiles.leaderboard_opt_out; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(leaderboard_opt_out),UPDATE(leaderboard_opt_out) ON TABLE status_public.user_profiles TO achievements_user;


--
-- Name: FUNCTION set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean) TO achievements_user;
GRANT ALL ON FUNCTION status_public.set_my_profile(display_name text, time_zone text, leaderboard_opt_out boolean) TO achievements_anonymous;


--
-- Name: SEQUENCE level_requirements_creation_order; Type: ACL; Schema: status_public; Owner: -
--

GRANT USAGE ON SEQUENCE status_public.level_requirements_creation_order TO achievements_admin;


--
-- Name: TABLE level_requirements; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.level_requirements TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.level_requirements TO achievements_user;
GRANT SELECT ON TABLE status_public.level_requirements TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.level_requirements TO achievements_admin;


--
-- Name: COLUMN level_requirements.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.level_requirements TO achievements_admin;


--
-- Name: COLUMN level_requirements.level; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(level),UPDATE(level) ON TABLE status_public.level_requirements TO achievements_admin;


--
-- Name: COLUMN level_requirements.required_count; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(required_count),UPDATE(required_count) ON TABLE status_public.level_requirements TO achievements_admin;


--
-- Name: COLUMN level_requirements.priority; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(priority),UPDATE(priority) ON TABLE status_public.level_requirements TO achievements_admin;


--
-- Name: FUNCTION steps_required(vlevel text, vrole_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) TO achievements_user;
GRANT ALL ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) TO achievements_service;
GRANT ALL ON FUNCTION status_public.steps_required(vlevel text, vrole_id uuid) TO achievements_admin;


--
-- Name: FUNCTION user_achieved(vlevel text, vrole_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_user;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_service;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_admin;


--
-- Name: TABLE actions; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.actions TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.actions TO achievements_user;
GRANT SELECT ON TABLE status_public.actions TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.actions TO achievements_admin;


--
-- Name: COLUMN actions.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.actions TO achievements_admin;


--
-- Name: COLUMN actions.description; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(description),UPDATE(description) ON TABLE status_public.actions TO achievements_admin;


--
-- Name: COLUMN actions.client_reportable; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(client_reportable),UPDATE(client_reportable) ON TABLE status_public.actions TO achievements_admin;


--
-- Name: COLUMN actions.max_amount; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(max_amount),UPDATE(max_amount) ON TABLE status_public.actions TO achievements_admin;


--
-- Name: TABLE leaderboard_scores; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.leaderboard_scores TO achievements_user;
GRANT SELECT ON TABLE status_public.leaderboard_scores TO achievements_service;
GRANT SELECT ON TABLE status_public.leaderboard_scores TO achievements_admin;


--
-- Name: TABLE levels; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.levels TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.levels TO achievements_user;
GRANT SELECT ON TABLE status_public.levels TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.levels TO achievements_admin;


--
-- Name: COLUMN levels.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.levels TO achievements_admin;


--
-- Name: TABLE points_ledger; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.points_ledger TO achievements_user;
GRANT SELECT ON TABLE status_public.points_ledger TO achievements_service;
GRANT SELECT ON TABLE status_public.points_ledger TO achievements_admin;


--
-- Name: TABLE tiers; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.tiers TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.tiers TO achievements_user;
GRANT SELECT ON TABLE status_public.tiers TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.tiers TO achievements_admin;


--
-- Name: COLUMN tiers.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.tiers TO achievements_admin;


--
-- Name: COLUMN tiers.min_points; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(min_points),UPDATE(min_points) ON TABLE status_public.tiers TO achievements_admin;


--
-- Name: COLUMN tiers.badge; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(badge),UPDATE(badge) ON TABLE status_public.tiers TO achievements_admin;


--
-- Name: TABLE user_achievements; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_achievements TO achievements_user;
GRANT SELECT ON TABLE status_public.user_achievements TO achievements_service;
GRANT SELECT ON TABLE status_public.user_achievements TO achievements_admin;


--
-- Name: TABLE user_levels; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_levels TO achievements_user;
GRANT SELECT ON TABLE status_public.user_levels TO achievements_service;
GRANT SELECT ON TABLE status_public.user_levels TO achievements_admin;


--
-- Name: TABLE user_scores; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_scores TO achievements_user;
GRANT SELECT ON TABLE status_public.user_scores TO achievements_service;
GRANT SELECT ON TABLE status_public.user_scores TO achievements_admin;


--
-- Name: TABLE user_streaks; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_streaks TO achievements_user;
GRANT SELECT ON TABLE status_public.user_streaks TO achievements_service;
GRANT SELECT ON TABLE status_public.user_streaks TO achievements_admin;


--
-- PostgreSQL database dump complete
--


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
	action text,
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
	action text,
	period status_public.leaderboard_period,
	period_start date,
	points integer,
	users integer
);


--
-- Name: histogram_move; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.histogram_move AS (
	action text,
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
-- Name: unlock_candidate; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.unlock_candidate AS (
	user_id uuid,
	achievement_id text,
	points integer,
	step_id uuid
);


--
-- Name: webhook_request; Type: TYPE; Schema: status_private; Owner: -
--

CREATE TYPE status_private.webhook_request AS (
	delivery_id uuid,
	attempt integer,
	url text,
	secret text,
	body text
);


--
-- Name: achievement_event_kind; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.achievement_event_kind AS ENUM (
    'achievement_unlocked',
    'tier_changed',
    'level_achieved'
);


--
-- Name: TYPE achievement_event_kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.achievement_event_kind IS 'What an event for backends says happened: an unlock, a tier change or a level achieved.';


--
-- Name: achievement_event; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.achievement_event AS (
	"position" bigint,
	kind status_public.achievement_event_kind,
	user_id uuid,
	occurred_at timestamp with time zone,
	payload jsonb
);


--
-- Name: TYPE achievement_event; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.achievement_event IS 'An unlock, tier change or level of any user, for backends.';


--
-- Name: COLUMN achievement_event."position"; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_event."position" IS '@notNull
The event''s place in the stream (increasing; gaps are possible): resume with `after:` the last one received.';


--
-- Name: COLUMN achievement_event.kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_event.kind IS '@notNull
What happened.';


--
-- Name: COLUMN achievement_event.user_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_event.user_id IS '@notNull
The user it happened to.';


--
-- Name: COLUMN achievement_event.occurred_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_event.occurred_at IS '@notNull
When it happened (the unlock, the level, the points that changed the tier).';


--
-- Name: COLUMN achievement_event.payload; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_event.payload IS '@notNull
What a backend needs: `userId` and, by kind, `achievementId`, `achievementName`, `points`, `unlockId`, `cursor` (the user''s catch-up cursor); `tier`, `previousTier`, `points`; `level`, `cursor`.';


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
	percent integer,
	target integer
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
-- Name: COLUMN criterion_progress.target; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.criterion_progress.target IS '@notNull
The value `current` must reach: count and streak: the threshold; time_of_day: 1.';


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
-- Name: almost_there; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.almost_there AS (
	achievement_id text,
	name text,
	description text,
	icon text,
	points integer,
	kind status_public.achievement_kind,
	available_until timestamp with time zone,
	percent integer,
	current integer,
	target integer,
	remaining integer,
	criteria status_public.criterion_progress[]
);


--
-- Name: TYPE almost_there; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.almost_there IS 'A locked achievement the signed-in user is close to unlocking, with what remains.';


--
-- Name: COLUMN almost_there.achievement_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.achievement_id IS '@notNull';


--
-- Name: COLUMN almost_there.name; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.name IS '@notNull';


--
-- Name: COLUMN almost_there.description; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.description IS '@notNull';


--
-- Name: COLUMN almost_there.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.points IS '@notNull';


--
-- Name: COLUMN almost_there.kind; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.kind IS '@notNull';


--
-- Name: COLUMN almost_there.available_until; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.available_until IS 'When it can no longer be unlocked (NULL: never).';


--
-- Name: COLUMN almost_there.percent; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.percent IS '@notNull
As in myAchievements: the mean of the criteria''s percentages, at most 99 while locked.';


--
-- Name: COLUMN almost_there.current; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.current IS '@notNull
The criteria''s current values added up, each capped at its target.';


--
-- Name: COLUMN almost_there.target; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.target IS '@notNull
The criteria''s targets added up.';


--
-- Name: COLUMN almost_there.remaining; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.remaining IS '@notNull
What is left: target - current (the criteria''s `remaining` added up).';


--
-- Name: COLUMN almost_there.criteria; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.almost_there.criteria IS '@notNull
@notNullItems';


--
-- Name: backfill_state; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.backfill_state AS ENUM (
    'pending',
    'awarding',
    'retiering',
    'finished'
);


--
-- Name: TYPE backfill_state; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.backfill_state IS 'pending: no batch ran yet; awarding: batches of users are being awarded; retiering: users are done, tiers are being brought to their points; finished.';


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
	streaks status_public.streak_summary[],
	almost_there status_public.almost_there[],
	streak_freezes integer
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
The streak of any activity, in days (alive while streak freezes cover the days missed).';


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
-- Name: COLUMN dashboard.almost_there; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.almost_there IS '@notNull
@notNullItems
The locked achievements closest to unlocking, as `myAlmostThere` with its defaults: at least 80 percent, at most 5.';


--
-- Name: COLUMN dashboard.streak_freezes; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.dashboard.streak_freezes IS '@notNull
Streak freezes held: each day missed in the streaks spends one instead of breaking them.';


--
-- Name: import_actions_result; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.import_actions_result AS (
	events integer,
	imported integer,
	skipped integer,
	users integer,
	unlocks integer,
	points integer,
	levels_achieved integer
);


--
-- Name: TYPE import_actions_result; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.import_actions_result IS 'What an importActions call did, in sum.';


--
-- Name: COLUMN import_actions_result.events; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.events IS '@notNull
The events given.';


--
-- Name: COLUMN import_actions_result.imported; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.imported IS '@notNull
The events recorded as new steps.';


--
-- Name: COLUMN import_actions_result.skipped; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.skipped IS '@notNull
The events skipped because their user already used their idempotency key.';


--
-- Name: COLUMN import_actions_result.users; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.users IS '@notNull
The users with imported steps.';


--
-- Name: COLUMN import_actions_result.unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.unlocks IS '@notNull
The achievements the imported steps unlocked.';


--
-- Name: COLUMN import_actions_result.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.points IS '@notNull
The points those unlocks awarded.';


--
-- Name: COLUMN import_actions_result.levels_achieved; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.import_actions_result.levels_achieved IS '@notNull
The levels the imported steps achieved.';


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
-- Name: webhook_delivery_state; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.webhook_delivery_state AS ENUM (
    'pending',
    'delivered',
    'dead'
);


--
-- Name: TYPE webhook_delivery_state; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.webhook_delivery_state IS '`pending`: to be sent (again) at `nextAttemptAt`; `delivered`: the endpoint answered 2xx; `dead`: every attempt failed (an admin may retry it).';


--
-- Name: webhook_endpoint_secret; Type: TYPE; Schema: status_public; Owner: -
--

CREATE TYPE status_public.webhook_endpoint_secret AS (
	endpoint_id uuid,
	secret text
);


--
-- Name: TYPE webhook_endpoint_secret; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TYPE status_public.webhook_endpoint_secret IS 'An endpoint''s signing secret, shown this once.';


--
-- Name: COLUMN webhook_endpoint_secret.endpoint_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoint_secret.endpoint_id IS '@notNull
The endpoint.';


--
-- Name: COLUMN webhook_endpoint_secret.secret; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoint_secret.secret IS '@notNull
The secret to verify signatures with (`whsec_` + base64): store it now, it cannot be read again.';


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


SET default_tablespace = '';

SET default_table_access_method = heap;

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
    retired_at timestamp with time zone,
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
-- Name: COLUMN achievements.retired_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievements.retired_at IS 'When a catalog apply retired it (removed from the catalog while users held it): it no longer unlocks and only its holders see it. NULL: in the catalog.';


--
-- Name: achievement_met_at(status_public.achievements, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.achievement_met_at(achievement status_public.achievements, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: achievements_to_check(uuid, text, timestamp with time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.achievements_to_check(user_id uuid, action text, occurred_at timestamp with time zone) RETURNS SETOF status_public.achievements
    LANGUAGE sql STABLE
    AS $$
  select achievement.*
  from (
    -- Two index lookups, not one OR (an OR would scan every criterion in a generic plan).
    select criterion.achievement_id from status_public.achievement_criteria as criterion
      where criterion.action = achievements_to_check.action
    union
    select criterion.achievement_id from status_public.achievement_criteria as criterion
      where criterion.action is null and criterion.kind = 'streak'
  ) as named
  -- By primary key, one candidate at a time (offset 0 keeps both lookups): a plan cached while the catalog was
  -- small would otherwise hash the whole catalog on every event once it has grown, and a join could scan every
  -- unlock of the achievement.
  cross join lateral (
    select achievement.* from status_public.achievements as achievement
    where achievement.id = named.achievement_id
      and not exists (
        select from status_public.achievement_unlocks as unlock
        where unlock.user_id = achievements_to_check.user_id and unlock.achievement_id = achievement.id)
    offset 0
  ) as achievement
  where (achievement.available_from is null or achievement.available_from <= achievements_to_check.occurred_at)
    and (achievement.available_until is null or achievements_to_check.occurred_at < achievement.available_until);
$$;


--
-- Name: add_to_boards(status_private.board_award[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.add_to_boards(awards status_private.board_award[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  -- Points only added (the usual case): one upsert.
  only_gains boolean := (select bool_and(award.points > 0) from unnest(awards) as award);
  moves status_private.histogram_move[];
begin
  if only_gains then
    with joined as (
      insert into status_public.leaderboard_scores as score (action, period, period_start, user_id, points, reached_at, visible)
      select award.action, award.period, award.period_start, award.user_id, award.points, award.reached_at,
             not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = award.user_id), false)
      from unnest(awards) as award
      on conflict (action, period, period_start, user_id) do update
        set points = score.points + excluded.points, reached_at = excluded.reached_at
      returning score.action, score.period, score.period_start, score.user_id, score.points, score.visible, (score.xmax = 0) as inserted
    ), moved as (
      select joined.action, joined.period, joined.period_start,
             case when not joined.inserted then joined.points - award.points end as from_points, joined.points as to_points
      from joined
      join unnest(awards) as award using (action, period, period_start, user_id)
      where joined.visible
    )
    -- As append_histogram_moves: a user leaves the count of their old points and joins that of the new.
    insert into status_private.leaderboard_count_deltas (action, period, period_start, points, users)
    select changes.action, changes.period, changes.period_start, changes.points, sum(changes.users)::integer
    from (
      select moved.action, moved.period, moved.period_start, moved.from_points as points, -1 as users
        from moved where moved.from_points is not null
      union all
      select moved.action, moved.period, moved.period_start, moved.to_points, 1 from moved
    ) as changes
    group by 1, 2, 3, 4
    having sum(changes.users) <> 0;
    return;
  end if;
  -- After a take-back, the existing rows are moved (or leave) first.
  with moved as (
    update status_public.leaderboard_scores as score
      set points = score.points + award.points, reached_at = award.reached_at
      from unnest(awards) as award
      where score.action = award.action and score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
        and award.points <> 0 and score.points + award.points > 0
      returning score.action, score.period, score.period_start, score.points - award.points as from_points, score.points as to_points, score.visible
  ), left_board as (
    delete from status_public.leaderboard_scores as score
      using unnest(awards) as award
      where score.action = award.action and score.period = award.period and score.period_start = award.period_start and score.user_id = award.user_id
        and score.points + award.points <= 0
      returning score.action, score.period, score.period_start, score.points as from_points, null::integer as to_points, score.visible
  )
  select array_agg(row(changed.action, changed.period, changed.period_start, changed.from_points, changed.to_points)::status_private.histogram_move)
    into moves
    from (select * from moved union all select * from left_board) as changed
    where changed.visible;
  -- The boards the user is new to (or that a concurrent first award created meanwhile: added to, as an
  -- existing row).
  with joined as (
    insert into status_public.leaderboard_scores as score (action, period, period_start, user_id, points, reached_at, visible)
    select award.action, award.period, award.period_start, award.user_id, award.points, award.reached_at,
           not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = award.user_id), false)
    from unnest(awards) as award
    where award.points > 0
      and not exists (
        select from status_public.leaderboard_scores as existing
        where existing.action = award.action and existing.period = award.period and existing.period_start = award.period_start and existing.user_id = award.user_id)
    on conflict (action, period, period_start, user_id) do update
      set points = score.points + excluded.points, reached_at = excluded.reached_at
    returning score.action, score.period, score.period_start, score.user_id, score.points, score.visible, (score.xmax = 0) as inserted
  )
  select coalesce(moves, '{}') || coalesce(array_agg(row(joined.action, joined.period, joined.period_start,
                                                         case when not joined.inserted then joined.points - award.points end,
                                                         joined.points)::status_private.histogram_move), '{}')
    into moves
    from joined
    join unnest(awards) as award using (action, period, period_start, user_id)
    where joined.visible;
  if cardinality(moves) > 0 then
    perform status_private.append_histogram_moves(moves);
  end if;
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
-- Name: almost_there_of(status_public.achievement_progress[], integer, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer) RETURNS status_public.almost_there[]
    LANGUAGE sql STABLE
    AS $$
  select array(
    select row(achievement.achievement_id, achievement.name, achievement.description, achievement.icon, achievement.points,
               achievement.kind, achievement.available_until, achievement.percent, totals.current, totals.target,
               totals.target - totals.current, achievement.criteria)::status_public.almost_there
    from unnest(progress) with ordinality as achievement
    cross join lateral (
      select coalesce(sum(least(criterion.current, criterion.target)), 0)::integer as current,
             coalesce(sum(criterion.target), 0)::integer as target
      from unnest(achievement.criteria) as criterion
    ) as totals
    where not achievement.unlocked and achievement.percent >= min_percent
      -- Only what can still be unlocked now: not before or after its time window.
      and (achievement.available_from is null or achievement.available_from <= now())
      and (achievement.available_until is null or achievement.available_until > now())
    -- Closest first; then the fewest steps left; then the catalog's order (the list's).
    order by achievement.percent desc, totals.target - totals.current, achievement.ordinality
    limit first);
$$;


--
-- Name: FUNCTION almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer) IS 'The locked achievements of `progress` (my_achievements() rows, in its order) whose percent is at least `min_percent` and that can be unlocked now, closest first, at most `first`.';


--
-- Name: append_histogram_moves(status_private.histogram_move[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.append_histogram_moves(moves status_private.histogram_move[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  insert into status_private.leaderboard_count_deltas (action, period, period_start, points, users)
  select changes.action, changes.period, changes.period_start, changes.points, sum(changes.users)::integer
  from (
    select move.action, move.period, move.period_start, move.from_points as points, -1 as users
      from unnest(moves) as move where move.from_points is not null
    union all
    select move.action, move.period, move.period_start, move.to_points, 1
      from unnest(moves) as move where move.to_points is not null
  ) as changes
  group by 1, 2, 3, 4
  having sum(changes.users) <> 0;
end;
$$;


--
-- Name: backfill_awards(text[], uuid[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.backfill_awards(achievement_ids text[], user_ids uuid[]) RETURNS TABLE(user_id uuid, achievement_id text, points integer, "position" integer, step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  select candidate.user_id, achievement.id, achievement.points, achievement.position, met.step_id, met.occurred_at
  from unnest(backfill_awards.user_ids) as candidate (user_id)
  cross join status_public.achievements as achievement
  cross join lateral status_private.achievement_met_at(achievement, candidate.user_id) as met
  where achievement.id = any (backfill_awards.achievement_ids) and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = candidate.user_id and unlock.achievement_id = achievement.id);
$$;


--
-- Name: backfill_batch(bigint, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.backfill_batch(run_id bigint, batch_size integer DEFAULT NULL::integer) RETURNS boolean
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  run status_private.backfill_runs;
  size integer;
  batch uuid[];
  awarded_unlocks bigint;
  awarded_points bigint;
  awarded_levels bigint;
  tiers record;
  quiet text := current_setting('achievements.quiet_notifications', true);
begin
  select * into run from status_private.backfill_runs where id = run_id for update;
  if run.id is null then
    raise exception 'No backfill %', run_id using errcode = 'AC404';
  end if;
  if run.finished_at is not null then
    return false;
  end if;
  size := coalesce(batch_size, run.batch_size);

  if run.users_done_at is not null then
    select * into tiers from status_private.retier_batch(run.retier_after_user_id, size);
    update status_private.backfill_runs
      set retier_after_user_id = tiers.last_user_id, retiered = backfill_runs.retiered + tiers.changed,
          finished_at = case when tiers.last_user_id is null then now() end
      where id = run_id;
    return tiers.last_user_id is not null;
  end if;

  batch := array(select status_private.backfill_candidates(run.achievement_ids, run.level_names, run.after_user_id, size));
  if not run.notify then
    perform set_config('achievements.quiet_notifications', 'on', true);
  end if;
  with unlocked as (
    insert into status_public.achievement_unlocks (user_id, achievement_id, points, step_id, unlocked_at)
    select earned.user_id, earned.achievement_id, earned.points, earned.step_id, earned.occurred_at
    from status_private.backfill_awards(run.achievement_ids, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.position, earned.achievement_id
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points, unlocked_at
  ), ledger as (
    insert into status_public.points_ledger (user_id, points, unlock_id, created_at)
    select unlocked.user_id, unlocked.points, unlocked.id, unlocked.unlocked_at from unlocked where unlocked.points > 0
  )
  select count(*), coalesce(sum(unlocked.points), 0) into awarded_unlocks, awarded_points from unlocked;
  with achieved as (
    insert into status_public.user_levels (user_id, level, step_id, achieved_at)
    select earned.user_id, earned.level, earned.step_id, earned.occurred_at
    from status_private.backfill_level_awards(run.level_names, batch) as earned
    order by earned.user_id, earned.occurred_at, earned.level
    on conflict (user_id, level) do nothing
    returning 1
  )
  select count(*) into awarded_levels from achieved;
  perform set_config('achievements.quiet_notifications', coalesce(quiet, ''), true);

  update status_private.backfill_runs
    set after_user_id = coalesce(batch[cardinality(batch)], after_user_id),
        users_checked = users_checked + cardinality(batch),
        unlocks = unlocks + awarded_unlocks,
        points = backfill_runs.points + awarded_points,
        levels_achieved = levels_achieved + awarded_levels,
        users_done_at = case when cardinality(batch) < size then now() end
    where id = run_id;
  return true;
end;
$$;


--
-- Name: backfill_candidates(text[], text[], uuid, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.backfill_candidates(achievement_ids text[], level_names text[], after_user_id uuid, max_users integer) RETURNS SETOF uuid
    LANGUAGE sql STABLE
    AS $$
  with actions as (
    select criterion.action from status_public.achievement_criteria as criterion
    where criterion.achievement_id = any (backfill_candidates.achievement_ids)
    union
    select requirement.name from status_public.level_requirements as requirement
    where requirement.level = any (backfill_candidates.level_names)
  )
  select distinct tally.user_id from status_public.user_achievements as tally
  where (backfill_candidates.after_user_id is null or tally.user_id > backfill_candidates.after_user_id)
    and (exists (select from actions where actions.action is null) or tally.name in (select actions.action from actions))
  order by tally.user_id
  limit backfill_candidates.max_users;
$$;


--
-- Name: backfill_level_awards(text[], uuid[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.backfill_level_awards(level_names text[], user_ids uuid[]) RETURNS TABLE(user_id uuid, level text, step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  select candidate.user_id, level.name, met.step_id, met.occurred_at
  from unnest(backfill_level_awards.user_ids) as candidate (user_id)
  cross join status_public.levels as level
  cross join lateral status_private.level_met_at(level.name, candidate.user_id) as met
  where level.name = any (backfill_level_awards.level_names)
    and not exists (select from status_public.user_levels as achieved where achieved.user_id = candidate.user_id and achieved.level = level.name);
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
-- Name: board_action_of(text); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.board_action_of(action text) RETURNS text
    LANGUAGE plpgsql STABLE
    AS $$
begin
  if action is null then
    return '';
  end if;
  if not exists (select from status_public.actions where actions.name = board_action_of.action) then
    raise exception 'Unknown action "%"', action using errcode = 'AC404';
  end if;
  if not exists (select from status_public.actions where actions.name = board_action_of.action and actions.ranked) then
    raise exception 'Action "%" has no leaderboard', action
      using errcode = 'AC404', hint = 'An admin turns on the action''s `ranked` (updateActionByName, or the catalog file).';
  end if;
  return action;
end;
$$;


--
-- Name: board_users(status_public.leaderboard_period, date, text); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.board_users(board status_public.leaderboard_period, board_start date, board_action text DEFAULT ''::text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_bitmapscan TO 'off'
    AS $$
begin
  return (select above.users from status_private.users_above(board_action, board, board_start, 0) as above);
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
-- Name: check_action_events(status_public.action_event[], boolean, uuid, boolean); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.check_action_events(events status_public.action_event[], for_anyone boolean, signed_in uuid, retries_need_results boolean) RETURNS void
    LANGUAGE plpgsql STABLE
    AS $$
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


--
-- Name: claim_webhook_deliveries(integer, double precision, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer) RETURNS SETOF status_private.webhook_request
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer) IS 'The webhook dispatcher''s claim: up to `max_deliveries` due deliveries (skipping those another dispatcher holds), each leased for `lease_seconds`, with its URL, secret and body.';


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
-- Name: count_criterion_met_at(status_public.achievement_criteria, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  select * from status_private.step_count_reached_at(count_criterion_met_at.user_id, criterion.action, criterion.threshold);
$$;


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
  taken_back status_private.pipeline_step;
  tally_id uuid;
  remaining integer;
begin
  -- One statement: the users' score rows (zero points, the lowest tier) and one upsert of the tallies, where
  -- concurrent steps of the same user and name serialise on the tally row, so the count is exact.
  with scores as (
    insert into status_public.user_scores (user_id, points, tier)
      select step.user_id, 0, (select tier.name from status_public.tiers as tier where tier.min_points <= 0 order by tier.min_points desc limit 1)
      from unnest(steps) as step
      order by step.user_id
      on conflict (user_id) do nothing
  )
  insert into status_public.user_achievements as tally (user_id, name, count)
    select step.user_id, step.name, step.count from unnest(steps) as step where step.count > 0
    order by step.user_id, step.name
    on conflict (user_id, name) do update set count = tally.count + excluded.count;
  -- Taking back (rare: one statement each). An upsert, not an update, so that it waits for a concurrent first
  -- step's uncommitted row and takes back from it; back at zero, the row (locked by us since) goes.
  -- (An array loop: no query when no step takes back.)
  foreach taken_back in array steps loop
    continue when taken_back.count >= 0;
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
-- Name: criterion_met_at(status_public.achievement_criteria, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  select * from status_private.count_criterion_met_at(criterion, user_id) where criterion.kind = 'count'
  union all
  select * from status_private.streak_criterion_met_at(criterion, user_id) where criterion.kind = 'streak'
  union all
  select * from status_private.time_of_day_criterion_met_at(criterion, user_id) where criterion.kind = 'time_of_day';
$$;


--
-- Name: FUNCTION criterion_met_at(criterion status_public.achievement_criteria, user_id uuid); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) IS 'The step at which the criterion first held for the user, replaying their steps (none: never): the criterion registry''s second question, for backfills.';


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
-- Name: criterion_rule(status_public.achievement_criteria); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.criterion_rule(criterion status_public.achievement_criteria) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
  select jsonb_build_object('kind', criterion.kind, 'action', criterion.action, 'threshold', criterion.threshold,
                            'hourFrom', criterion.hour_from, 'hourUntil', criterion.hour_until);
$$;


--
-- Name: FUNCTION criterion_rule(criterion status_public.achievement_criteria); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.criterion_rule(criterion status_public.achievement_criteria) IS 'A criterion as rule versions and provenance store it: {kind, action, threshold, hourFrom, hourUntil}.';


--
-- Name: current_rules(text[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.current_rules(achievement_ids text[]) RETURNS TABLE(achievement_id text, points integer, available_from timestamp with time zone, available_until timestamp with time zone, criteria jsonb)
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select achievement.id, achievement.points, achievement.available_from, achievement.available_until,
         coalesce((select jsonb_agg(status_private.criterion_rule(criterion)
                                    order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until)
                   from status_public.achievement_criteria as criterion where criterion.achievement_id = achievement.id), '[]')
  from status_public.achievements as achievement
  where achievement.id = any (achievement_ids);
$$;


--
-- Name: extend_streaks(status_private.pipeline_step[], boolean); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.extend_streaks(steps status_private.pipeline_step[], any_freezes boolean) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
begin
  -- Only when one of the steps' users holds a freeze or has spent one (a frozen day also keeps their other
  -- streaks): any_freezes, which the event path's round query asks, per step by the user's key (docs/scaling.md:
  -- never a read across all users).
  if any_freezes then
    with gaps as (
      -- The step's streaks that it would break: its action's and any activity's.
      select step.user_id, step.local_time::date as day, streak.action, streak.last_day
      from unnest(steps) as step
      join status_public.user_streaks as streak
        on streak.user_id = step.user_id and (streak.action = step.name or streak.action is null)
      where step.count > 0 and step.local_time::date > streak.last_day + 1
    ), needed as (
      -- The days missed in them that are not frozen yet.
      select distinct gaps.user_id, missed.day::date as day
      from gaps cross join lateral generate_series(gaps.last_day + 1, gaps.day - 1, interval '1 day') as missed (day)
      where not exists (select from status_public.user_frozen_days as frozen
                        where frozen.user_id = gaps.user_id and frozen.day = missed.day::date)
    ), kept as (
      -- The users who hold a freeze for each of those days (or need none): all their streaks go on.
      select users.user_id, count(needed.day)::integer as days
      from (select distinct gaps.user_id from gaps) as users
      left join needed on needed.user_id = users.user_id
      group by users.user_id
      having count(needed.day) <= status_private.streak_freezes_of(users.user_id)
    ), spent as (
      update status_public.user_streak_freezes as held set freezes = held.freezes - kept.days, updated_at = now()
      from kept where held.user_id = kept.user_id and kept.days > 0
    ), frozen as (
      insert into status_public.user_frozen_days (user_id, day)
      select needed.user_id, needed.day from needed join kept on kept.user_id = needed.user_id
    )
    -- The streaks' last day moves to the day before the step's, so that the upsert below extends them.
    update status_public.user_streaks as streak set last_day = gaps.day - 1
      from gaps join kept on kept.user_id = gaps.user_id
      where streak.user_id = gaps.user_id and streak.action is not distinct from gaps.action;
  end if;
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


--
-- Name: fold_into_point_counts(status_private.histogram_change[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.fold_into_point_counts(changes status_private.histogram_change[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  update status_private.leaderboard_point_counts as counts set users = counts.users + change.users
    from unnest(changes) as change
    where change.users < 0 and counts.action = change.action and counts.period = change.period
      and counts.period_start = change.period_start and counts.points = change.points;
  insert into status_private.leaderboard_point_counts as counts (action, period, period_start, points, users)
    select change.action, change.period, change.period_start, change.points, change.users
    from unnest(changes) as change
    where change.users > 0
    order by change.action, change.period, change.period_start, change.points
    on conflict (action, period, period_start, points) do update set users = counts.users + excluded.users;
  delete from status_private.leaderboard_point_counts as counts using unnest(changes) as change
    where counts.users = 0 and counts.action = change.action and counts.period = change.period
      and counts.period_start = change.period_start and counts.points = change.points;
end;
$$;


--
-- Name: FUNCTION fold_into_point_counts(changes status_private.histogram_change[]); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.fold_into_point_counts(changes status_private.histogram_change[]) IS 'Adds the changes (one per board and points, none zero) to leaderboard_point_counts; a count that reaches 0 is deleted.';


--
-- Name: fold_into_rank_levels(status_private.histogram_change[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.fold_into_rank_levels(changes status_private.histogram_change[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
declare
  changed record;
  counts integer[];
  existed boolean;
  added integer;
  next integer;
begin
  for changed in
    select block.*, levels.users_from as had
    from (select moved.action, moved.period, moved.period_start, moved.level, moved.block,
                 array_agg(moved.child order by moved.child desc) as children, array_agg(moved.users order by moved.child desc) as users
          from (select change.action, change.period, change.period_start, level.level,
                       (change.points::bigint >> (8 * (level.level + 1)))::integer as block,
                       (change.points >> (8 * level.level)) & 255 as child, sum(change.users)::integer as users
                from unnest(changes) as change cross join generate_series(0, 3) as level (level)
                group by 1, 2, 3, 4, 5, 6) as moved
          group by 1, 2, 3, 4, 5) as block
    left join status_private.leaderboard_rank_levels as levels
      on levels.action = block.action and levels.period = block.period and levels.period_start = block.period_start
         and levels.level = block.level and levels.block = block.block
    order by 1, 2, 3, 4, 5
  loop
    existed := changed.had is not null;
    counts := coalesce(changed.had, array_fill(0, array[256]));
    -- From the highest changed child down: each place gains the changes at it or above it.
    added := 0;
    next := 1;
    for place in reverse changed.children[1]..0 loop
      if next <= cardinality(changed.children) and changed.children[next] = place then
        added := added + changed.users[next];
        next := next + 1;
      end if;
      counts[place + 1] := counts[place + 1] + added;
    end loop;
    if counts[1] = 0 then
      delete from status_private.leaderboard_rank_levels as levels
        where levels.action = changed.action and levels.period = changed.period and levels.period_start = changed.period_start
          and levels.level = changed.level and levels.block = changed.block;
    elsif existed then
      update status_private.leaderboard_rank_levels as levels set users_from = counts
        where levels.action = changed.action and levels.period = changed.period and levels.period_start = changed.period_start
          and levels.level = changed.level and levels.block = changed.block;
    else
      insert into status_private.leaderboard_rank_levels (action, period, period_start, level, block, users_from)
        values (changed.action, changed.period, changed.period_start, changed.level, changed.block, counts);
    end if;
  end loop;
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
    delete from status_private.leaderboard_count_deltas returning action, period, period_start, points, users
  )
  select array_agg(row(action, period, period_start, points, users)::status_private.histogram_change order by action, period, period_start, points)
    into changes
    from (select action, period, period_start, points, sum(users)::integer as users from taken group by 1, 2, 3, 4 having sum(users) <> 0) as summed;
  if changes is null then
    return 0;
  end if;
  perform status_private.fold_into_point_counts(changes);
  perform status_private.fold_into_rank_levels(changes);
  return cardinality(changes);
end;
$$;


--
-- Name: FUNCTION fold_leaderboard_deltas(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.fold_leaderboard_deltas() IS 'Folds the appended leaderboard deltas into the histogram; returns how many (board, points) changes it folded. Run it every second or so (the standalone server does); ranks are exact without it, only slower to read as deltas pile up.';


--
-- Name: give_back_user_allowances(uuid[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.give_back_user_allowances(user_ids uuid[]) RETURNS void
    LANGUAGE sql
    AS $$
  update status_private.record_action_allowances as allowance
    set tokens = least(allowance.tokens + given.amount,
                       status_private.record_action_rate_setting('record_action_rate_limit', 60))
    from (select listed.user_id, count(*)::integer as amount from unnest(user_ids) as listed (user_id) group by listed.user_id) as given
    where allowance.subject_kind = 'user' and allowance.user_id = given.user_id and allowance.shard = 0
      and status_private.record_action_rate_setting('record_action_rate_limit', 60) > 0;
$$;


--
-- Name: import_streak_states(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.import_streak_states(steps status_private.pipeline_step[]) RETURNS TABLE(user_id uuid, action text, n bigint, current_length integer, longest_length integer, last_day date)
    LANGUAGE sql STABLE
    AS $$
  with extending as (
    select step.user_id, keyed.action, min(step.n) as n, step.local_time::date as day,
           prior.current_length as prior_length, prior.longest_length as prior_longest, prior.last_day as prior_day
    from unnest(steps) with ordinality as step (id, user_id, name, count, occurred_at, local_time, n)
    cross join lateral (values (step.name), (null::text)) as keyed (action)
    left join status_public.user_streaks as prior
      on prior.user_id = step.user_id and prior.action is not distinct from keyed.action
    where step.count > 0 and (prior.last_day is null or step.local_time::date > prior.last_day)
    group by step.user_id, keyed.action, step.local_time::date, prior.current_length, prior.longest_length, prior.last_day
  ), islands as (
    -- Consecutive days share day - (its rank).
    select extending.*, extending.day - (row_number() over (partition by extending.user_id, extending.action order by extending.day))::integer as island
    from extending
  ), lengths as (
    select islands.user_id, islands.action, islands.n, islands.day, islands.prior_longest,
           islands.day - min(islands.day) over island + 1
             + case when min(islands.day) over island = islands.prior_day + 1 then islands.prior_length else 0 end as length
    from islands
    window island as (partition by islands.user_id, islands.action, islands.island)
  )
  select lengths.user_id, lengths.action, lengths.n, lengths.length::integer,
         greatest(coalesce(lengths.prior_longest, 0),
                  max(lengths.length) over (partition by lengths.user_id, lengths.action order by lengths.day))::integer,
         lengths.day
  from lengths;
$$;


--
-- Name: leaderboard_entries(text, status_public.leaderboard_period, date, uuid[], integer[], integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date, page_users uuid[], page_points integer[], page_offset integer) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE sql STABLE
    AS $$
  with first_score as materialized (
    select 1 + around.above as rank,
           -- Around a user the page's offset is unknown: the users above its first score, plus those with that
           -- score, less the page's own.
           coalesce(page_offset, around.above + around."at" - cardinality(array_positions(page_points, page_points[1]))) as users_before_page
    from (select case when page_offset = 0 then 0 else first_counts.above end as above, first_counts."at"
          from (select 1) as one
          -- not looked up for the first page: no one is before it
          left join lateral status_private.users_around(board_action, board, board_start, page_points[1]) as first_counts on page_offset is distinct from 0
          offset 0) as around
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


--
-- Name: level_met_at(text, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.level_met_at(level_name text, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  with met as (
    select reached.step_id, reached.occurred_at
    from status_public.level_requirements as requirement
    left join lateral status_private.step_count_reached_at(level_met_at.user_id, requirement.name, requirement.required_count) as reached on true
    where requirement.level = level_met_at.level_name
  )
  select met.step_id, met.occurred_at from met
  where not exists (select from met as unmet where unmet.step_id is null)
  order by met.occurred_at desc, met.step_id desc
  limit 1;
$$;


--
-- Name: new_webhook_secret(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.new_webhook_secret() RETURNS text
    LANGUAGE sql
    AS $$
  -- 32 bytes from two v4 uuids (gen_random_uuid uses the operating system's strong random source).
  select 'whsec_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64');
$$;


--
-- Name: notify_user(uuid, text, text); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.notify_user(user_id uuid, event text, id text) RETURNS void
    LANGUAGE sql
    AS $$
  -- Ids only (payloads are limited to 8000 bytes); subscribers re-read the rows under their own RLS.
  -- Sent only if the transaction commits.
  select case when coalesce(current_setting('achievements.quiet_notifications', true), '') <> 'on'
              then pg_notify('achievements:' || user_id::text, json_build_object('event', event, 'id', id)::text) end;
$$;


--
-- Name: outbox_notification_id(status_public.achievement_event_kind, jsonb); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.outbox_notification_id(kind status_public.achievement_event_kind, payload jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
  select case kind
    when 'achievement_unlocked' then payload ->> 'unlockId'
    when 'tier_changed' then coalesce(payload ->> 'tier', '')
    when 'level_achieved' then payload ->> 'level'
  end;
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
-- Name: prune_outbox(interval); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.prune_outbox(older_than interval) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION prune_outbox(older_than interval); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.prune_outbox(older_than interval) IS 'Deletes the events published more than `older_than` ago and their deliveries, unless one is pending or dead; returns how many events.';


--
-- Name: publish_outbox_events(integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.publish_outbox_events(max_events integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  published integer;
  relayed bigint[];
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
      returning event.id, event.kind, event.relay_notification
  ), queued as (
    insert into status_public.webhook_deliveries (endpoint_id, event_id)
    select endpoint.id, published_events.id
    from published_events
    join status_public.webhook_endpoints as endpoint on endpoint.enabled and published_events.kind = any (endpoint.kinds)
    order by published_events.id
    on conflict (endpoint_id, event_id) do nothing
  )
  select count(*)::integer, array_agg(published_events.id) filter (where published_events.relay_notification)
    into published, relayed
    from published_events;
  if relayed is not null then
    perform status_private.notify_user(event.user_id, event.kind::text, status_private.outbox_notification_id(event.kind, event.payload))
      from status_private.outbox_events as event
      where event.id = any (relayed)
      order by event.id;
  end if;
  if published > 0 then
    -- Wakes the `achievementEvents` subscriptions and the dispatchers (delivered after this commits).
    perform pg_notify('achievements:outbox_published', '');
  end if;
  return published;
end;
$$;


--
-- Name: FUNCTION publish_outbox_events(max_events integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.publish_outbox_events(max_events integer) IS 'Gives the committed, unpublished outbox events (up to `max_events`, in id order) their positions, queues their webhook deliveries and sends the users'' notifications their writers relayed (`achievements.notification_relay`); returns how many it published. One publisher at a time; the webhook dispatcher runs it.';


--
-- Name: publisher_notifies(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.publisher_notifies() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select status_private.relays_notifications() and coalesce(current_setting('achievements.quiet_notifications', true), '') <> 'on';
$$;


--
-- Name: rank_of(status_public.leaderboard_period, date, integer, text); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text DEFAULT ''::text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_bitmapscan TO 'off'
    AS $$
begin
  return 1 + (select above.users from status_private.users_above(board_action, board, board_start, rank_of.points) as above);
end;
$$;


--
-- Name: FUNCTION rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text) IS 'The rank `points` would have on the board (the points boards unless `board_action` names a ranked action), for ad-hoc use.';


--
-- Name: rank_tallies(status_private.pipeline_step[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.rank_tallies(steps status_private.pipeline_step[]) RETURNS void
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  awards status_private.board_award[];
begin
  select array_agg(row(step.name, board.period, status_private.period_start(board.period, step.occurred_at), step.user_id,
                       step.count, step.occurred_at)::status_private.board_award
                   order by step.name, board.period, status_private.period_start(board.period, step.occurred_at), step.user_id)
    into awards
    from unnest(steps) as step
    join status_public.actions as ranked on ranked.name = step.name and ranked.ranked
    cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period);
  if awards is not null then
    perform status_private.add_to_boards(awards);
  end if;
end;
$$;


--
-- Name: rebuild_leaderboard_rank_levels(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.rebuild_leaderboard_rank_levels() RETURNS void
    LANGUAGE plpgsql
    AS $$
begin
  perform pg_advisory_xact_lock(hashtext('status_private.fold_leaderboard_deltas'));
  delete from status_private.leaderboard_rank_levels;
  perform status_private.fold_into_rank_levels(array(
    select row(counts.action, counts.period, counts.period_start, counts.points, counts.users)::status_private.histogram_change
    from status_private.leaderboard_point_counts as counts where counts.users <> 0));
end;
$$;


--
-- Name: FUNCTION rebuild_leaderboard_rank_levels(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.rebuild_leaderboard_rank_levels() IS 'Rebuilds status_private.leaderboard_rank_levels from leaderboard_point_counts (after writing the histogram by hand).';


--
-- Name: record_action(uuid, text, integer, text, timestamp with time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) RETURNS status_public.record_action_result
    LANGUAGE plpgsql
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


--
-- Name: record_action_rate_setting(text, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_action_rate_setting(name text, fallback integer) RETURNS integer
    LANGUAGE sql STABLE
    AS $_$
  select coalesce(case when current_setting('achievements.' || name, true) ~ '^\s*[0-9]{1,9}\s*$'
                       then current_setting('achievements.' || name, true)::integer end,
                  fallback);
$_$;


--
-- Name: record_rule_versions(text[]); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_rule_versions(achievement_ids text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: record_webhook_attempt(uuid, integer, text, double precision); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision) IS 'The outcome of a delivery attempt: delivered (error NULL), to retry in `retry_in_seconds`, or dead (no retry).';


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

COMMENT ON TABLE status_public.user_steps IS '@unique id
Append-only log of every step a user performed. Written by the service role and by the tg_achievement* triggers.';


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
    where recorded.step_id = previous.id and recorded.user_id = previous.user_id;
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
-- Name: refuse_record_actions(text, integer, integer, double precision); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.refuse_record_actions(subject_kind text, max_calls integer, window_seconds integer, wait_seconds double precision) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: relays_notifications(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.relays_notifications() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
  select coalesce(current_setting('achievements.notification_relay', true), '') = 'on';
$$;


--
-- Name: FUNCTION relays_notifications(); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.relays_notifications() IS 'Whether this session leaves the users'' notifications to the outbox publisher (`achievements.notification_relay` = on) instead of sending them at its commit.';


--
-- Name: retier_batch(uuid, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.retier_batch(after_user_id uuid, batch_size integer DEFAULT 1000, OUT changed integer, OUT last_user_id uuid) RETURNS record
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: retier_users(integer); Type: PROCEDURE; Schema: status_private; Owner: -
--

CREATE PROCEDURE status_private.retier_users(IN batch_size integer DEFAULT 1000)
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: run_backfill(bigint, integer); Type: PROCEDURE; Schema: status_private; Owner: -
--

CREATE PROCEDURE status_private.run_backfill(IN run_id bigint, IN batch_size integer DEFAULT NULL::integer)
    LANGUAGE plpgsql
    AS $$
begin
  while status_private.backfill_batch(run_id, batch_size) loop
    commit;
  end loop;
  commit;
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


--
-- Name: spend_record_actions_allowance(uuid[], uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.spend_record_actions_allowance(user_ids uuid[], service_client uuid) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: start_backfill(text[], boolean, text[], integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.start_backfill(achievement_ids text[] DEFAULT NULL::text[], notify boolean DEFAULT false, level_names text[] DEFAULT NULL::text[], batch_size integer DEFAULT 500) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  unknown text;
  covered text[] := coalesce(achievement_ids, array(select id from status_public.achievements order by id));
  covered_levels text[] := coalesce(level_names, array(select name from status_public.levels order by name));
  run_id bigint;
begin
  select wanted into unknown from unnest(achievement_ids) as wanted
    where not exists (select from status_public.achievements where achievements.id = wanted) limit 1;
  if unknown is not null then
    raise exception 'No achievement "%"', unknown using errcode = 'AC404';
  end if;
  select wanted into unknown from unnest(level_names) as wanted
    where not exists (select from status_public.levels where levels.name = wanted) limit 1;
  if unknown is not null then
    raise exception 'No level "%"', unknown using errcode = 'AC404';
  end if;
  if batch_size is null or batch_size not between 1 and 10000 then
    raise exception 'A batch is 1 to 10000 users, not %', coalesce(batch_size::text, 'null') using errcode = 'AC400';
  end if;
  insert into status_private.backfill_runs (achievement_ids, level_names, notify, batch_size, users_total)
    values (covered, covered_levels, coalesce(notify, false), batch_size,
            (select count(*) from status_private.backfill_candidates(covered, covered_levels, null, null)))
    returning id into run_id;
  perform pg_notify('achievements:backfill', run_id::text);
  return run_id;
end;
$$;


--
-- Name: step_count_reached_at(uuid, text, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.step_count_reached_at(user_id uuid, action text, threshold integer) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  select running.id, running.occurred_at
  from (select step.id, step.occurred_at, sum(step.count) over (order by step.occurred_at, step.id) as tally
        from status_public.user_steps as step
        where step.user_id = step_count_reached_at.user_id and step.name = step_count_reached_at.action) as running
  where running.tally >= step_count_reached_at.threshold
  order by running.occurred_at, running.id
  limit 1;
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
         (select tier.name from status_public.tiers as tier
          where tier.min_points <= score.points - coalesce(awarded.points, 0) order by tier.min_points desc limit 1),
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
-- Name: streak_criterion_met_at(status_public.achievement_criteria, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
  with step_days as (
    select step.id, step.occurred_at, (step.occurred_at at time zone status_private.time_zone_of(streak_criterion_met_at.user_id))::date as day
    from status_public.user_steps as step
    where step.user_id = streak_criterion_met_at.user_id and step.count > 0
      and (criterion.action is null or step.name = criterion.action)
  ), days as (
    select distinct step_days.day, true as active from step_days
    union all
    select frozen.day, false from status_public.user_frozen_days as frozen
    where frozen.user_id = streak_criterion_met_at.user_id
      and not exists (select from step_days where step_days.day = frozen.day)
  ), runs as (
    -- Consecutive days (active or frozen) share day - (its rank): one value per run.
    select days.day, days.active, days.day - (row_number() over (order by days.day))::integer as run from days
  ), lengths as (
    select runs.day, runs.active, count(*) filter (where runs.active) over (partition by runs.run order by runs.day) as length from runs
  ), reached as (
    select min(lengths.day) as day from lengths where lengths.active and lengths.length >= criterion.threshold
  )
  select step_days.id, step_days.occurred_at from step_days join reached using (day)
  order by step_days.occurred_at, step_days.id
  limit 1;
$$;


--
-- Name: streak_criterion_progress(status_public.achievement_criteria, uuid, date); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date) RETURNS TABLE(current integer, target integer)
    LANGUAGE sql STABLE
    AS $$
  select coalesce((select status_private.streak_kept_as_of(streak.user_id, streak.current_length, streak.last_day, today)
                   from status_public.user_streaks as streak
                   where streak.user_id = streak_criterion_progress.user_id and streak.action is not distinct from criterion.action), 0),
         criterion.threshold;
$$;


--
-- Name: streak_freezes_of(uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_freezes_of(user_id uuid) RETURNS integer
    LANGUAGE sql STABLE
    AS $$
  select coalesce((select held.freezes from status_public.user_streak_freezes as held where held.user_id = streak_freezes_of.user_id), 0);
$$;


--
-- Name: streak_kept_as_of(uuid, integer, date, date); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.streak_kept_as_of(user_id uuid, current_length integer, last_day date, today date) RETURNS integer
    LANGUAGE sql STABLE
    AS $$
  select case
    when last_day >= today - 1 then current_length
    when (today - 1 - last_day)
         - (select count(*) from status_public.user_frozen_days as frozen
            where frozen.user_id = streak_kept_as_of.user_id and frozen.day > last_day and frozen.day < today)
         <= status_private.streak_freezes_of(streak_kept_as_of.user_id) then current_length
    else 0
  end;
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
    perform status_private.refuse_record_actions(subject_kind, max_calls, window_seconds, wait_seconds);
  end if;
end;
$$;


--
-- Name: take_service_allowance(uuid, integer, integer, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.take_service_allowance(service_client uuid, amount integer, max_calls integer, window_seconds integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: take_user_allowances(uuid[], integer[], integer, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.take_user_allowances(user_ids uuid[], amounts integer[], max_calls integer, window_seconds integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
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
-- Name: tg_achievement_criteria__rule_versions(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_criteria__rule_versions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.record_rule_versions(array(select changed.achievement_id from changed));
  return null;
end;
$$;


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
-- Name: tg_achievement_unlocks__outbox(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_unlocks__outbox() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  relayed boolean := status_private.relays_notifications();
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  select 'achievement_unlocked', unlock.user_id, unlock.unlocked_at,
         jsonb_build_object('userId', unlock.user_id, 'unlockId', unlock.id, 'achievementId', unlock.achievement_id,
                            'achievementName', achievement.name, 'points', unlock.points, 'cursor', unlock.cursor,
                            'unlockedAt', unlock.unlocked_at),
         status_private.publisher_notifies()
  from new_unlocks as unlock
  join status_public.achievements as achievement on achievement.id = unlock.achievement_id
  order by unlock.user_id, unlock.cursor;
  if found and not relayed then
    -- In the order of the insert (user, cursor).
    perform status_private.notify_user(unlock.user_id, 'achievement_unlocked', unlock.id::text)
      from new_unlocks as unlock order by unlock.user_id, unlock.cursor;
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;


--
-- Name: tg_achievement_unlocks__provenance(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievement_unlocks__provenance() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  step status_public.user_steps;
begin
  select * into step from status_public.user_steps where id = NEW.step_id;
  select provenance.rule_version, provenance.points_multiplier, provenance.criteria_values
    into NEW.rule_version, NEW.points_multiplier, NEW.criteria_values
    from status_private.unlock_provenance_at(NEW.achievement_id, NEW.user_id, step.name, step.occurred_at,
                                             step.occurred_at at time zone status_private.time_zone_of(NEW.user_id)) as provenance;
  if NEW.points_multiplier is not null then
    NEW.points := round(NEW.points * NEW.points_multiplier)::integer;
  end if;
  return NEW;
end;
$$;


--
-- Name: tg_achievements__rule_versions(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_achievements__rule_versions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  perform status_private.record_rule_versions(array(select changed.id from changed));
  return null;
end;
$$;


--
-- Name: tg_actions__tally_boards(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_actions__tally_boards() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  moves status_private.histogram_move[];
begin
  if TG_OP in ('UPDATE', 'DELETE') and OLD.ranked
     and (TG_OP = 'DELETE' or not NEW.ranked or NEW.name <> OLD.name) then
    with left_board as (
      delete from status_public.leaderboard_scores as score where score.action = OLD.name
      returning score.action, score.period, score.period_start, score.points, score.visible
    )
    select array_agg(row(left_board.action, left_board.period, left_board.period_start, left_board.points, null)::status_private.histogram_move)
      into moves
      from left_board where left_board.visible;
    perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  end if;
  if TG_OP in ('INSERT', 'UPDATE') and NEW.ranked
     and (TG_OP = 'INSERT' or not OLD.ranked or NEW.name <> OLD.name) then
    lock table status_public.user_steps in share mode;
    with board as (
      select board.period, status_private.period_start(board.period, now()) as period_start
      from unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
    ), history as (
      select board.period, board.period_start, tally.user_id, tally.count as points,
             (select max(step.occurred_at) from status_public.user_steps as step
              where step.user_id = tally.user_id and step.name = tally.name) as reached_at
      from board join status_public.user_achievements as tally on tally.name = NEW.name and tally.count > 0
      where board.period = 'ALL_TIME'
      union all
      select prefix.period, prefix.period_start, prefix.user_id,
             -- The live path's score after each step is max(0, before + amount): after the last, the sum of the
             -- amounts less the lowest running sum below zero (the take-backs that found nothing to take).
             (sum(prefix.count) - least(0, min(prefix.running)))::integer, max(prefix.occurred_at)
      from (select board.period, board.period_start, step.user_id, step.count, step.occurred_at,
                   sum(step.count) over (partition by board.period, step.user_id order by step.occurred_at, step.id) as running
            from board join status_public.user_steps as step
              on step.name = NEW.name and status_private.period_start(board.period, step.occurred_at) = board.period_start
            where board.period <> 'ALL_TIME') as prefix
      group by 1, 2, 3
      having sum(prefix.count) - least(0, min(prefix.running)) > 0
    ), filled as (
      insert into status_public.leaderboard_scores as score (action, period, period_start, user_id, points, reached_at, visible)
      select NEW.name, history.period, history.period_start, history.user_id, history.points, coalesce(history.reached_at, now()),
             not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = history.user_id), false)
      from history
      order by history.user_id, history.period
      returning score.action, score.period, score.period_start, score.points, score.visible
    )
    select array_agg(row(filled.action, filled.period, filled.period_start, null, filled.points)::status_private.histogram_move)
      into moves
      from filled where filled.visible;
    perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  end if;
  return null;
end;
$$;


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
  -- Points taken back: the users who had a score row (locked), and those whose row this statement inserted.
  users_before uuid[];
  users_inserted uuid[];
begin
  with per_user as (
    select awarded.user_id, sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
    from awarded group by awarded.user_id
  )
  select (select array_agg(row(null, null, null, per_user.user_id, per_user.points, per_user.reached_at)::status_private.board_award
                           order by per_user.user_id) from per_user),
         (select bool_and(per_user.points > 0) from per_user),
         (select array_agg(row('', per_board.period, per_board.period_start, per_board.user_id, per_board.points, per_board.reached_at)::status_private.board_award
                           order by per_board.period, per_board.period_start, per_board.user_id)
          from (select board.period, status_private.period_start(board.period, awarded.created_at) as period_start, awarded.user_id,
                       sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
                from awarded cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
                group by 1, 2, 3) as per_board)
    into user_awards, only_gains, awards;
  -- A statement trigger runs even for an insert of no rows: nothing to do then.
  if user_awards is null then
    return null;
  end if;

  if only_gains then
    insert into status_public.user_scores as current_score (user_id, points, tier, reached_at)
    select award.user_id, award.points,
           (select tier.name from status_public.tiers as tier where tier.min_points <= award.points order by tier.min_points desc limit 1),
           award.reached_at
    from unnest(user_awards) as award
    order by award.user_id
    on conflict (user_id) do update
      set points = current_score.points + excluded.points,
          tier = (select tier.name from status_public.tiers as tier
                  where tier.min_points <= current_score.points + excluded.points order by tier.min_points desc limit 1),
          reached_at = excluded.reached_at;
  else
    -- Points taken back (never below zero). The score rows locked in one order (no deadlock between two
    -- statements awarding the same users); rows for the users who have none; then the others' new scores (a
    -- new statement, so that it also sees a row that a concurrent first award inserted meanwhile).
    select coalesce(array_agg(score.user_id), '{}') into users_before
      from (select score.user_id from status_public.user_scores as score
            where score.user_id in (select award.user_id from unnest(user_awards) as award)
            order by score.user_id
            for update) as score;
    with inserted as (
      insert into status_public.user_scores (user_id, points, tier, reached_at)
      select award.user_id, greatest(award.points, 0), status_private.tier_for(greatest(award.points, 0)), award.reached_at
      from unnest(user_awards) as award
      where not exists (select from unnest(users_before) as before (user_id) where before.user_id = award.user_id)
      order by award.user_id
      on conflict (user_id) do nothing
      returning user_id
    )
    select coalesce(array_agg(inserted.user_id), '{}') into users_inserted from inserted;
    update status_public.user_scores as score
      set points = greatest(score.points + award.points, 0),
          tier = status_private.tier_for(greatest(score.points + award.points, 0)),
          reached_at = award.reached_at
      from unnest(user_awards) as award
      where score.user_id = award.user_id
        and not exists (select from unnest(users_inserted) as inserted (user_id) where inserted.user_id = award.user_id);
  end if;

  -- The boards: each period's score.
  perform status_private.add_to_boards(awards);
  return null;
end;
$$;


--
-- Name: tg_user_levels__outbox(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_levels__outbox() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  relayed boolean := status_private.relays_notifications();
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  select 'level_achieved', achieved.user_id, achieved.achieved_at,
         jsonb_build_object('userId', achieved.user_id, 'level', achieved.level, 'cursor', achieved.cursor,
                            'achievedAt', achieved.achieved_at),
         status_private.publisher_notifies()
  from new_levels as achieved
  order by achieved.user_id, achieved.cursor;
  if found and not relayed then
    perform status_private.notify_user(achieved.user_id, 'level_achieved', achieved.level)
      from new_levels as achieved order by achieved.user_id, achieved.cursor;
    perform pg_notify('achievements:outbox', '');
  end if;
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
  select array_agg(row(changed.action, changed.period, changed.period_start,
                       case when changed.visible then null else changed.points end,
                       case when changed.visible then changed.points end)::status_private.histogram_move)
    into moves
    from changed;
  perform status_private.append_histogram_moves(coalesce(moves, '{}'));
  return null;
end;
$$;


--
-- Name: tg_user_scores__outbox(); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.tg_user_scores__outbox() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  previous_tier text;
begin
  if TG_OP = 'UPDATE' then
    previous_tier := OLD.tier;
  end if;
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  values ('tier_changed', NEW.user_id, NEW.reached_at,
          jsonb_build_object('userId', NEW.user_id, 'tier', NEW.tier, 'previousTier', previous_tier, 'points', NEW.points),
          status_private.publisher_notifies());
  if not status_private.relays_notifications() then
    perform status_private.notify_user(NEW.user_id, 'tier_changed', coalesce(NEW.tier, ''));
    perform pg_notify('achievements:outbox', '');
  end if;
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
  any_ranked boolean;
  any_levels boolean;
  any_freezes boolean;
begin
  -- An import derives what its steps change itself (status_public.import_actions).
  if coalesce(current_setting('achievements.import_token', true), '') <> ''
     and exists (select from status_private.import_tokens as import
                 where import.backend_pid = pg_backend_pid() and import.transaction_id = pg_current_xact_id()
                   and import.token = current_setting('achievements.import_token', true)) then
    return null;
  end if;
  -- Round k: each user's k-th step of the statement (in the order they happened), one step per user; and
  -- whether an action of the round is ranked or has level requirements (by each action's key: scalar
  -- subqueries, index lookups whatever the cached plan).
  -- And whether one of the round's users holds a freeze or has spent one (extend_streaks' freeze path; looked up
  -- by the user's key, scalar subqueries: a join here was cached as a hash join over both tables). Asked for
  -- every round up front: only extend_streaks writes freezes and frozen days in the event path, and only for
  -- users who held a freeze, so a later round's answer cannot change from false to true.
  for steps, any_ranked, any_levels, any_freezes in
    select array_agg(row(numbered.id, numbered.user_id, numbered.name, numbered.count, numbered.occurred_at,
                         numbered.occurred_at at time zone coalesce(profile.time_zone, 'UTC'))::status_private.pipeline_step
                     order by numbered.user_id),
           coalesce(bool_or((select action.ranked from status_public.actions as action where action.name = numbered.name)), false),
           coalesce(bool_or(numbered.count > 0
                            and (select true from status_public.level_requirements as requirement where requirement.name = numbered.name limit 1)), false),
           coalesce(bool_or((select true from status_public.user_streak_freezes as held where held.user_id = numbered.user_id and held.freezes > 0)
                            or (select true from status_public.user_frozen_days as frozen where frozen.user_id = numbered.user_id limit 1)), false)
    from (select new_steps.*, row_number() over (partition by new_steps.user_id order by new_steps.occurred_at, new_steps.id) as round
          from new_steps) as numbered
    left join status_public.user_profiles as profile on profile.user_id = numbered.user_id
    group by numbered.round
    order by numbered.round
  loop
    perform status_private.count_steps(steps);
    if any_ranked then
      perform status_private.rank_tallies(steps);
    end if;
    perform status_private.extend_streaks(steps, any_freezes);
    perform status_private.unlock_achievements(steps);
    if any_levels then
      perform status_private.achieve_levels(steps);
    end if;
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
-- Name: time_of_day_criterion_met_at(status_public.achievement_criteria, uuid); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.time_of_day_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) RETURNS TABLE(step_id uuid, occurred_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
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
      cross join lateral status_private.achievements_to_check(step.user_id, step.name, step.occurred_at) as achievement
      where step.count > 0
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
  -- The cursors: each user's next ones, one upsert per user in user order (the row stays locked until commit,
  -- so cursors follow the order in which the users' transactions commit). A candidate that a concurrent
  -- transaction unlocked first inserts nothing below and leaves its cursor unused, as the row trigger did.
  -- The provenance (unlock_provenance_at, as _060_provenance computes it for other inserts). The unique key makes each unlock happen exactly once, even when concurrent
  -- transactions cross the threshold together (the loser's insert does nothing).
  with found as (
    select found.user_id, found.achievement_id, found.points, found.step_id, found.position,
           step.name, step.occurred_at, step.local_time,
           row_number() over (partition by found.user_id order by found.position) as nth,
           count(*) over (partition by found.user_id) as of_user
    from unnest(found_unlocks) with ordinality as found (user_id, achievement_id, points, step_id, position)
    join unnest(steps) as step on step.id = found.step_id
  ), cursors as (
    insert into status_private.user_event_cursors as taken (user_id, last_cursor)
    select found.user_id, found.of_user from found where found.nth = 1
    order by found.user_id
    on conflict (user_id) do update set last_cursor = taken.last_cursor + excluded.last_cursor
    returning taken.user_id, taken.last_cursor
  ), unlocked as (
    insert into status_public.achievement_unlocks
      (user_id, achievement_id, points, step_id, cursor, rule_version, points_multiplier, criteria_values)
    select found.user_id, found.achievement_id,
           case when provenance.points_multiplier is null then found.points
                else round(found.points * provenance.points_multiplier)::integer end,
           found.step_id, (cursors.last_cursor - found.of_user + found.nth)::integer,
           provenance.rule_version, provenance.points_multiplier, provenance.criteria_values
    from found
    join cursors on cursors.user_id = found.user_id
    cross join lateral status_private.unlock_provenance_at(found.achievement_id, found.user_id, found.name, found.occurred_at, found.local_time) as provenance
    order by found.position
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
end;
$$;


--
-- Name: unlock_provenance_at(text, uuid, text, timestamp with time zone, timestamp without time zone); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.unlock_provenance_at(achievement_id text, user_id uuid, action text, occurred_at timestamp with time zone, local_time timestamp without time zone) RETURNS TABLE(rule_version integer, points_multiplier numeric, criteria_values jsonb)
    LANGUAGE sql STABLE
    AS $$
  select (select version.version from status_public.achievement_rule_versions as version
          where version.achievement_id = unlock_provenance_at.achievement_id order by version.version desc limit 1),
         (select max(multiplier_window.multiplier) from status_public.points_multipliers as multiplier_window
          where multiplier_window.ends_at > unlock_provenance_at.occurred_at and multiplier_window.starts_at <= unlock_provenance_at.occurred_at),
         (select coalesce(jsonb_agg(status_private.criterion_rule(criterion) || jsonb_build_object('current', progress.current, 'target', progress.target)
                                    order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until), '[]')
          from status_public.achievement_criteria as criterion
          cross join lateral status_private.criterion_progress(criterion, unlock_provenance_at.user_id, unlock_provenance_at.action,
                                                               unlock_provenance_at.local_time) as progress
          where criterion.achievement_id = unlock_provenance_at.achievement_id);
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
-- Name: users_above(text, status_public.leaderboard_period, date, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer) RETURNS TABLE(users integer)
    LANGUAGE sql STABLE
    AS $$
  select around.above from status_private.users_around(board_action, board, board_start, users_above.points) as around;
$$;


--
-- Name: FUNCTION users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer) IS 'How many visible users have more than `points` on the board (status_private.users_around): a rank is 1 + this.';


--
-- Name: users_around(text, status_public.leaderboard_period, date, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer) RETURNS TABLE(above integer, at integer, on_board integer)
    LANGUAGE sql STABLE
    AS $$
  select (coalesce(level_0.users_from[(probe.points & 255) + 2], 0) + coalesce(upper_levels.above, 0) + coalesce(pending.above, 0))::integer,
         (coalesce(level_0.users_from[(probe.points & 255) + 1] - coalesce(level_0.users_from[(probe.points & 255) + 2], 0), 0)
          + coalesce(pending."at", 0))::integer,
         (coalesce(upper_levels.on_board, 0) + coalesce(pending.on_board, 0))::integer
  -- Scores are positive: below 0, everyone is above, as at 0.
  from (select greatest(users_around.points, 0) as points) as probe
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 0 and levels.block = probe.points >> 8) as level_0 on true
  -- Levels 1 to 3 in one scan: each level's element for the users above the score's block, level 3's first for the board.
  cross join lateral (select sum(coalesce(levels.users_from[((probe.points >> (8 * levels.level)) & 255) + 2], 0)) as above,
                             sum(levels.users_from[1]) filter (where levels.level = 3) as on_board
                      from status_private.leaderboard_rank_levels as levels
                      where levels.action = board_action and levels.period = board and levels.period_start = board_start
                        and (levels.level, levels.block) >= (1::smallint, probe.points >> 16) and levels.level <= 3
                        and levels.block = case levels.level when 1 then probe.points >> 16 when 2 then probe.points >> 24 else 0 end) as upper_levels
  cross join lateral (select sum(deltas.users) filter (where deltas.points > probe.points) as above,
                             sum(deltas.users) filter (where deltas.points = users_around.points) as "at",
                             sum(deltas.users) as on_board
                      from status_private.leaderboard_count_deltas as deltas
                      where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start) as pending
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;


--
-- Name: FUNCTION users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer) IS 'How many visible users are above `points` on the board, at it, and on the board (the rank levels plus pending deltas): a rank is 1 + above. Level 0 by its key, levels 1 to 3 in one range scan (5-rank.sql). Inlined into the reads that call it.';


--
-- Name: users_at(text, status_public.leaderboard_period, date, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer) RETURNS TABLE(users integer)
    LANGUAGE sql STABLE
    AS $$
  select around."at" from status_private.users_around(board_action, board, board_start, users_at.points) as around;
$$;


--
-- Name: FUNCTION users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer) IS 'How many visible users have exactly `points` on the board (status_private.users_around).';


--
-- Name: users_up_to(text, status_public.leaderboard_period, date, integer); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer) RETURNS TABLE(users integer)
    LANGUAGE sql STABLE
    AS $$
  select around.on_board - around.above from status_private.users_around(board_action, board, board_start, users_up_to.points) as around;
$$;


--
-- Name: FUNCTION users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer) IS 'How many visible users have at most `points` on the board (status_private.users_around).';


--
-- Name: work_on_backfill(bigint, double precision); Type: FUNCTION; Schema: status_private; Owner: -
--

CREATE FUNCTION status_private.work_on_backfill(run_id bigint DEFAULT NULL::bigint, retry_after_seconds double precision DEFAULT 60, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text) RETURNS SETOF record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  if run_id is null then
    select run.id into claimed_run from status_private.backfill_runs as run
      where run.finished_at is null
        and (run.failed_at is null or run.failed_at < now() - make_interval(secs => retry_after_seconds))
      order by run.id limit 1
      for update skip locked;
    if claimed_run is null then
      return;
    end if;
  else
    claimed_run := run_id;
  end if;
  begin
    more := status_private.backfill_batch(claimed_run);
    update status_private.backfill_runs as run set last_error = null, failed_at = null where run.id = claimed_run and run.last_error is not null;
  exception when others then
    get stacked diagnostics error_code = returned_sqlstate, error_message = message_text;
    if error_code = 'AC404' then
      raise;
    end if;
    update status_private.backfill_runs as run set last_error = error_message, failed_at = now() where run.id = claimed_run;
    more := true;
  end;
  return next;
end;
$$;


--
-- Name: FUNCTION work_on_backfill(run_id bigint, retry_after_seconds double precision, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text); Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON FUNCTION status_private.work_on_backfill(run_id bigint, retry_after_seconds double precision, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text) IS 'One batch of a backfill (the given run, or the oldest unfinished one no other worker holds): for the server''s backfill worker and the CLI.';


--
-- Name: achievement_events(bigint, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.achievement_events(after_position bigint DEFAULT 0, max_events integer DEFAULT 100) RETURNS status_public.achievement_event[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
-- Definer: the outbox is private; only the service (a trusted backend) may read every user's events.
begin
  if not pg_has_role(coalesce(nullif(current_setting('role'), 'none'), session_user)::name, 'achievements_service', 'usage') then
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


--
-- Name: FUNCTION achievement_events(after_position bigint, max_events integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) IS '@notNullItems
The service role: every user''s published events after `afterPosition` (exclusive; 0: from the oldest kept), in order, up to `maxEvents` (1 to 1000). The subscription `achievementEvents` streams the same.';


--
-- Name: achievement_rule_versions; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.achievement_rule_versions (
    achievement_id text NOT NULL,
    version integer NOT NULL,
    points integer NOT NULL,
    available_from timestamp with time zone,
    available_until timestamp with time zone,
    criteria jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT achievement_rule_versions_version_check CHECK ((version >= 1))
);


--
-- Name: TABLE achievement_rule_versions; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.achievement_rule_versions IS 'The rules of each achievement as they were, one version per change of its criteria, points or availability (version 1: as created). Kept by triggers on achievements and achievement_criteria; read-only for every API role.';


--
-- Name: COLUMN achievement_rule_versions.criteria; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_rule_versions.criteria IS 'The criteria of this version: a list of {kind, action, threshold, hourFrom, hourUntil}.';


--
-- Name: COLUMN achievement_rule_versions.created_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_rule_versions.created_at IS 'When these rules took effect.';


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
    rule_version integer,
    criteria_values jsonb,
    points_multiplier numeric(6,2),
    CONSTRAINT achievement_unlocks_points_check CHECK ((points >= 0))
);


--
-- Name: TABLE achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.achievement_unlocks IS '@unique id
Each achievement a user unlocked: exactly once per user and achievement, with the points it awarded.';


--
-- Name: COLUMN achievement_unlocks.cursor; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_unlocks.cursor IS 'The catch-up cursor: increases with each of the user''s unlocks and levels in the order their transactions committed. Pass the last one you received to `myUnlocksSince`.';


--
-- Name: COLUMN achievement_unlocks.rule_version; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_unlocks.rule_version IS 'The version of the achievement''s rules the unlock was granted under (`rules`; NULL: unlocked before versions were recorded).';


--
-- Name: COLUMN achievement_unlocks.criteria_values; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_unlocks.criteria_values IS 'Each criterion of those rules when the step (`userStepByStepId`) completed them: a list of {kind, action, threshold, hourFrom, hourUntil, current, target}.';


--
-- Name: COLUMN achievement_unlocks.points_multiplier; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.achievement_unlocks.points_multiplier IS 'The points multiplier in force at the step (`pointsMultipliers`), if any: `points` is the rules'' points times it, rounded.';


--
-- Name: achievement_unlocks_rules(status_public.achievement_unlocks); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) RETURNS status_public.achievement_rule_versions
    LANGUAGE sql STABLE
    AS $$
  select version.* from status_public.achievement_rule_versions as version
  where version.achievement_id = unlock.achievement_id and version.version = unlock.rule_version;
$$;


--
-- Name: FUNCTION achievement_unlocks_rules(unlock status_public.achievement_unlocks); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) IS 'The rules the unlock was granted under (NULL: unlocked before versions were recorded).';


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
-- Name: points_multipliers; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.points_multipliers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    multiplier numeric(6,2) NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    CONSTRAINT points_multipliers_check CHECK ((ends_at > starts_at)),
    CONSTRAINT points_multipliers_multiplier_check CHECK (((multiplier > (0)::numeric) AND (multiplier <= (100)::numeric))),
    CONSTRAINT points_multipliers_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);


--
-- Name: TABLE points_multipliers; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.points_multipliers IS 'Windows in which unlocks award multiplied points ("double points weekend"): an unlock whose step happened in [startsAt, endsAt) gets its achievement''s points times the multiplier (the highest one when windows overlap). Everyone reads them (to show a banner); admins manage them.';


--
-- Name: active_points_multiplier(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.active_points_multiplier() RETURNS status_public.points_multipliers
    LANGUAGE sql STABLE
    AS $$
  select multiplier_window.* from status_public.points_multipliers as multiplier_window
  where multiplier_window.ends_at > now() and multiplier_window.starts_at <= now()
  order by multiplier_window.multiplier desc, multiplier_window.ends_at, multiplier_window.id
  limit 1;
$$;


--
-- Name: FUNCTION active_points_multiplier(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.active_points_multiplier() IS 'The points multiplier in force now (the highest, when windows overlap), or null.';


--
-- Name: catalog_level_impact(text[]); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.catalog_level_impact(level_names text[]) RETURNS TABLE(level text, holders integer, qualifying integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with awards as (
    select earned.level, count(*)::integer as qualifying
    from status_private.backfill_level_awards(
      catalog_level_impact.level_names,
      array(select status_private.backfill_candidates('{}', catalog_level_impact.level_names, null, null))) as earned
    group by earned.level
  )
  select level.name,
         (select count(*)::integer from status_public.user_levels as achieved where achieved.level = level.name),
         coalesce(awards.qualifying, 0)
  from status_public.levels as level
  left join awards on awards.level = level.name
  where level.name = any (catalog_level_impact.level_names)
  order by level.name;
$$;


--
-- Name: FUNCTION catalog_level_impact(level_names text[]); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.catalog_level_impact(level_names text[]) IS '@behavior -*
For catalog plans (admins): per level, how many users achieved it and how many a backfill would award it to (users whose past steps meet its requirements).';


--
-- Name: catalog_tier_impact(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.catalog_tier_impact() RETURNS TABLE(from_tier text, to_tier text, users integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select moved.from_tier, moved.to_tier, count(*)::integer
  from (select score.tier as from_tier, status_private.tier_for(score.points) as to_tier from status_public.user_scores as score) as moved
  where moved.from_tier is distinct from moved.to_tier
  group by moved.from_tier, moved.to_tier
  order by count(*) desc, moved.from_tier, moved.to_tier;
$$;


--
-- Name: FUNCTION catalog_tier_impact(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.catalog_tier_impact() IS '@behavior -*
For catalog plans (admins): how many users would move from one tier to another under the current tiers.';


--
-- Name: catalog_unlock_impact(text[]); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.catalog_unlock_impact(achievement_ids text[]) RETURNS TABLE(achievement_id text, holders integer, qualifying integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  with awards as (
    select earned.achievement_id, count(*)::integer as qualifying
    from status_private.backfill_awards(
      catalog_unlock_impact.achievement_ids,
      array(select status_private.backfill_candidates(catalog_unlock_impact.achievement_ids, '{}', null, null))) as earned
    group by earned.achievement_id
  )
  select achievement.id,
         (select count(*)::integer from status_public.achievement_unlocks as unlock where unlock.achievement_id = achievement.id),
         coalesce(awards.qualifying, 0)
  from status_public.achievements as achievement
  left join awards on awards.achievement_id = achievement.id
  where achievement.id = any (catalog_unlock_impact.achievement_ids)
  order by achievement.id;
$$;


--
-- Name: FUNCTION catalog_unlock_impact(achievement_ids text[]); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.catalog_unlock_impact(achievement_ids text[]) IS '@behavior -*
For catalog plans (admins): per achievement, how many users hold it and how many a backfill would award it to (the backfill''s own function: users whose past steps met it, in its availability window).';


--
-- Name: create_webhook_endpoint(text, status_public.achievement_event_kind[], text); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[] DEFAULT NULL::status_public.achievement_event_kind[], description text DEFAULT ''::text) RETURNS status_public.webhook_endpoint_secret
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[], description text); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[], description text) IS '@notNull
Admins: registers a webhook endpoint for `kinds` (default: all) and returns its signing secret, this once.';


--
-- Name: grant_streak_freezes(uuid, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.grant_streak_freezes(user_id uuid, freezes integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  held integer;
begin
  if grant_streak_freezes.user_id is null then
    raise exception 'Name the user to give streak freezes to' using errcode = 'AC400';
  end if;
  if grant_streak_freezes.freezes is null or grant_streak_freezes.freezes not between 1 and 1000 then
    raise exception 'Give 1 to 1000 streak freezes at a time, not %', coalesce(grant_streak_freezes.freezes::text, 'null')
      using errcode = 'AC400';
  end if;
  insert into status_public.user_streak_freezes as current_freezes (user_id, freezes)
    values (grant_streak_freezes.user_id, grant_streak_freezes.freezes)
    on conflict on constraint user_streak_freezes_pkey do update set freezes = current_freezes.freezes + excluded.freezes, updated_at = now()
    returning current_freezes.freezes into held;
  return held;
exception when check_violation then
  raise exception 'A user holds at most 1000 streak freezes' using errcode = 'AC400';
end;
$$;


--
-- Name: FUNCTION grant_streak_freezes(user_id uuid, freezes integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.grant_streak_freezes(user_id uuid, freezes integer) IS 'Gives the user `freezes` streak freezes (1 to 1000; at most 1000 held): each day missed in their streaks spends one instead of breaking them. Returns how many they hold now. For the service role and admins.';


--
-- Name: hidden_locked_count(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.hidden_locked_count() RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  select count(*)::integer from status_public.achievements as achievement
  where achievement.hidden
    and achievement.retired_at is null
    and not exists (select from status_public.achievement_unlocks as unlock
                    where unlock.user_id = jwt_public.current_user_id() and unlock.achievement_id = achievement.id);
$$;


--
-- Name: FUNCTION hidden_locked_count(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.hidden_locked_count() IS 'How many hidden achievements the signed-in user has not unlocked yet.';


--
-- Name: import_actions(status_public.action_event[], boolean); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.import_actions(events status_public.action_event[], notify boolean DEFAULT false) RETURNS status_public.import_actions_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION import_actions(events status_public.action_event[], notify boolean); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.import_actions(events status_public.action_event[], notify boolean) IS '@notNull
For the service role and admins: imports historical events (each `userId`, `action`, `amount`, `occurredAt`, optional `idempotencyKey`) in one call and returns what they did in sum. The end state (tallies, streaks, unlocks, points, tiers, levels, boards) is the one that recording the events one by one with recordActionFor in `occurredAt` order would leave: each user''s events apply after the steps they already have, in `occurredAt` order (then input order). Events whose user already used their idempotency key are skipped. All or nothing, with recordActions''s checks; at most 1000 events a call (achievements.record_actions_max_events); no rate limit. Quiet: no live notifications unless `notify` (webhooks still get their outbox events).';


--
-- Name: leaderboard(status_public.leaderboard_period, integer, integer, text); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.leaderboard(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period, first integer DEFAULT 10, "offset" integer DEFAULT 0, action text DEFAULT NULL::text) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  board_start date := status_private.period_start(period, now());
  board_action text;
  -- The rank of the page's first score, on a page after the first.
  first_rank integer;
begin
  if first is null or first not between 1 and 100 or "offset" is null or "offset" < 0 then
    raise exception 'first must be from 1 to 100 and offset at least 0' using errcode = 'AC400';
  end if;
  -- The points boards without a call (board_action_of checks a named action).
  board_action := case when action is null then '' else status_private.board_action_of(action) end;
  if "offset" > 0 then
    select 1 + above.users into first_rank
      from (select score.points from status_public.leaderboard_scores as score
            where score.action = board_action and score.period = leaderboard.period and score.period_start = board_start and score.visible
            order by score.points desc, score.reached_at, score.user_id
            limit 1 offset "offset") as page_first
      cross join lateral status_private.users_above(board_action, leaderboard.period, board_start, page_first.points) as above;
  end if;
  return query
    select ranked.rank, ranked.user_id, profile.display_name, ranked.points, tier.name, tier.badge,
           case ranked.rank when 1 then '🥇' when 2 then '🥈' when 3 then '🥉' end
    from (select page.user_id, page.points, page.reached_at,
                 -- Equal points share a rank: the first page's is 1 + those above within it; on a later page, the
                 -- first score's ties have the first score's rank, and the others 1 + the offset + those above
                 -- within the page (everyone before the page has more points).
                 case when "offset" = 0 then page.place_rank
                      when page.points = page.first_points then first_rank
                      else "offset" + page.place_rank
                 end as rank
          from (select score.user_id, score.points, score.reached_at,
                       (rank() over (order by score.points desc))::integer as place_rank,
                       first_value(score.points) over (order by score.points desc) as first_points
                from (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
                      where score.action = board_action and score.period = leaderboard.period and score.period_start = board_start and score.visible
                      order by score.points desc, score.reached_at, score.user_id
                      limit first offset "offset") as score) as page) as ranked
    left join status_public.user_profiles as profile on profile.user_id = ranked.user_id
    left join status_public.user_scores as overall on overall.user_id = ranked.user_id
    left join status_public.tiers as tier on tier.name = overall.tier
    order by ranked.points desc, ranked.reached_at, ranked.user_id;
end;
$$;


--
-- Name: FUNCTION leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) IS '@behavior -*';


--
-- Name: leaderboard_around_me(status_public.leaderboard_period, integer, text); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period, radius integer DEFAULT 5, action text DEFAULT NULL::text) RETURNS SETOF status_public.leaderboard_entry
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    SET enable_bitmapscan TO 'off'
    AS $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  board_action text;
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
  board_action := status_private.board_action_of(action);
  select * into mine from status_public.leaderboard_scores as score
    where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = me;
  -- The visible users nearest the user's place in board order (the lowest scores for a user not on the
  -- board: they are "around" a user with no points), and the user when visible, in board order.
  select coalesce(array_agg(near.user_id order by near.points desc, near.reached_at, near.user_id), '{}'),
         coalesce(array_agg(near.points order by near.points desc, near.reached_at, near.user_id), '{}')
    into page_users, page_points
    from (
      (select above.user_id, above.points, above.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) < (mine.reached_at, me)
          order by score.reached_at desc, score.user_id desc
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points > coalesce(mine.points, 0)
          order by score.points, score.reached_at desc, score.user_id desc
          limit radius)
       ) as above
       order by above.points, above.reached_at desc, above.user_id desc
       limit radius)
      union all
      (select below.user_id, below.points, below.reached_at from (
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
            and score.points = mine.points and (score.reached_at, score.user_id) > (mine.reached_at, me)
          order by score.reached_at, score.user_id
          limit radius)
         union all
         (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.visible
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
      from (select * from status_private.leaderboard_entries(board_action, period, board_start, page_users, page_points, null)
            union all
            select * from status_private.leaderboard_entries(board_action, period, board_start, array[me], array[mine.points], null)) as entry
      join status_public.leaderboard_scores as score
        on score.action = board_action and score.period = leaderboard_around_me.period and score.period_start = board_start and score.user_id = entry.user_id
      order by entry.points desc, score.reached_at, entry.user_id;
    return;
  end if;
  return query select * from status_private.leaderboard_entries(board_action, period, board_start, page_users, page_points, null);
end;
$$;


--
-- Name: FUNCTION leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) IS '@behavior -*';


--
-- Name: my_achievements(); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_achievements() RETURNS SETOF status_public.achievement_progress
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
begin
  -- Hidden achievements the user has not unlocked are left out: see hidden_locked_count in myDashboard.
  return query
  with me as (
    select jwt_public.current_user_id() as user_id,
           now() at time zone status_private.time_zone_of(jwt_public.current_user_id()) as local_now
  ), progress as (
    -- Per achievement: the mean of its criteria's percentages, and each criterion's progress.
    select criterion.achievement_id,
           floor(avg(least(100, 100.0 * criterion_progress.current / criterion_progress.target)))::integer as percent,
           array_agg(row(criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until,
                         criterion_progress.current, greatest(criterion_progress.target - criterion_progress.current, 0),
                         least(100, floor(100.0 * criterion_progress.current / criterion_progress.target))::integer,
                         criterion_progress.target)::status_public.criterion_progress
                     order by criterion.kind, criterion.action) as criteria
    from me
    cross join status_public.achievement_criteria as criterion
    cross join lateral status_private.criterion_progress(criterion, me.user_id, null, me.local_now) as criterion_progress
    group by criterion.achievement_id
  )
  select achievement.id, achievement.name, achievement.description, achievement.icon, achievement.points, achievement.kind,
         achievement.hidden, achievement.available_from, achievement.available_until,
         unlock.id is not null, unlock.unlocked_at,
         case when unlock.id is not null then 100 else least(99, coalesce(progress.percent, 0)) end,
         coalesce(progress.criteria, '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  left join progress on progress.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
end;
$$;


--
-- Name: FUNCTION my_achievements(); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_achievements() IS 'Every achievement the signed-in user can see, with their progress: unlocked or not, percent (0 to 100, 100 only when unlocked; several criteria: the mean of their percentages, at most 99 until unlocked) and what remains per criterion.';


--
-- Name: my_almost_there(integer, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_almost_there(min_percent integer DEFAULT 80, first integer DEFAULT 5) RETURNS status_public.almost_there[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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
  return status_private.almost_there_of(array(select progress from status_public.my_achievements() as progress), min_percent, first);
end;
$$;


--
-- Name: FUNCTION my_almost_there(min_percent integer, first integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) IS '@notNullItems
The signed-in user''s locked achievements whose progress is at least `minPercent` (0 to 100, default 80), closest first (then the fewest steps left, then the catalog''s order), at most `first` (1 to 100, default 5) of them, each with what remains. Hidden achievements stay hidden; only achievements that can be unlocked now are listed. Null (with an UNAUTHENTICATED error) when not signed in.';


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
  -- Every achievement the user can see, with progress, in the catalog's order: read once.
  progress status_public.achievement_progress[];
begin
  if signed_in_user is null then
    raise exception 'Sign in to see your dashboard' using errcode = 'AC401';
  end if;
  dashboard.user_id := signed_in_user;
  dashboard.tier := status_public.my_tier();
  progress := array(select achievement from status_public.my_achievements() as achievement);
  dashboard.unlocked := array(select achievement from unnest(progress) as achievement where achievement.unlocked);
  dashboard.locked := array(select achievement from unnest(progress) as achievement where not achievement.unlocked);
  -- As my_almost_there() with its defaults.
  dashboard.almost_there := status_private.almost_there_of(progress, 80, 5);
  dashboard.hidden_locked_count := status_public.hidden_locked_count();
  dashboard.streak_freezes := status_private.streak_freezes_of(signed_in_user);
  select coalesce(array_agg(row(tally.name, tally.count)::status_public.tally order by tally.name), '{}') into dashboard.tallies
    from status_public.user_achievements as tally where tally.user_id = signed_in_user;
  select coalesce(array_agg(row(streak.action,
                                status_private.streak_kept_as_of(signed_in_user, streak.current_length, streak.last_day, today),
                                streak.longest_length, streak.last_day)::status_public.streak_summary
                            order by streak.action nulls first), '{}')
    into dashboard.streaks
    from status_public.user_streaks as streak where streak.user_id = signed_in_user;
  select coalesce(status_private.streak_kept_as_of(signed_in_user, streak.current_length, streak.last_day, today), 0),
         coalesce(streak.longest_length, 0)
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
-- Name: my_rank(status_public.leaderboard_period, text); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.my_rank(period status_public.leaderboard_period DEFAULT 'ALL_TIME'::status_public.leaderboard_period, action text DEFAULT NULL::text) RETURNS status_public.leaderboard_rank
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    SET plan_cache_mode TO 'force_generic_plan'
    AS $$
declare
  me uuid := jwt_public.current_user_id();
  board_start date := status_private.period_start(period, now());
  board_action text;
  result status_public.leaderboard_rank;
begin
  if me is null then
    raise exception 'Sign in to see your rank' using errcode = 'AC401';
  end if;
  -- The points boards without a call (board_action_of checks a named action).
  board_action := case when action is null then '' else status_private.board_action_of(action) end;
  -- One statement: the user's score row, the users above it and the board's size.
  select mine.points, 1 + around.above,
         -- The visible users, plus the viewer when not among them (no points yet, or opted out).
         around.on_board + case when mine.visible then 0 else 1 end
    into result.points, result.rank, result.total_users
    from (select coalesce(max(score.points), 0) as points, coalesce(bool_or(score.visible), false) as visible
          from status_public.leaderboard_scores as score
          where score.action = board_action and score.period = my_rank.period and score.period_start = board_start and score.user_id = me) as mine
    cross join lateral status_private.users_around(board_action, period, board_start, mine.points) as around;
  result.percentile := round((100.0 * (result.total_users - result.rank) / result.total_users)::numeric, 1)::double precision;
  return result;
end;
$$;


--
-- Name: FUNCTION my_rank(period status_public.leaderboard_period, action text); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) IS '@behavior -*';


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
    SET plan_cache_mode TO 'force_generic_plan'
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
    SET plan_cache_mode TO 'force_generic_plan'
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


--
-- Name: FUNCTION record_actions(events status_public.action_event[]); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.record_actions(events status_public.action_event[]) IS '@notNull
Records a batch of events in one call and returns each one''s result, in order: the service role for any users (and `occurredAt`, for imports), a user for themselves (client-reportable actions). A user''s events apply in the order they happened, as if recorded one by one. All or nothing; at most 1000 events a call (achievements.record_actions_max_events); each event counts against the rate limits; a retried idempotency key returns the original result.';


--
-- Name: webhook_deliveries; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.webhook_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    endpoint_id uuid NOT NULL,
    event_id bigint NOT NULL,
    state status_public.webhook_delivery_state DEFAULT 'pending'::status_public.webhook_delivery_state NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_attempt_at timestamp with time zone,
    last_error text,
    delivered_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_deliveries_attempts_check CHECK ((attempts >= 0))
);


--
-- Name: TABLE webhook_deliveries; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.webhook_deliveries IS '@behavior -insert -update
Each event to send to each endpoint, with its attempts. Admins see the dead letters (`state: DEAD`), retry one with `retryWebhookDelivery` or delete it.';


--
-- Name: COLUMN webhook_deliveries.id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_deliveries.id IS 'The delivery id (the `webhook-id` header): the same for every attempt.';


--
-- Name: COLUMN webhook_deliveries.event_id; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_deliveries.event_id IS 'The event''s id in the outbox.';


--
-- Name: COLUMN webhook_deliveries.state; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_deliveries.state IS '@behavior +filterBy
Where the delivery stands (filter on `DEAD` for the dead letters).';


--
-- Name: COLUMN webhook_deliveries.next_attempt_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_deliveries.next_attempt_at IS 'When a pending delivery is (re)sent.';


--
-- Name: COLUMN webhook_deliveries.last_error; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_deliveries.last_error IS 'Why the last attempt failed (HTTP status, timeout, connection error).';


--
-- Name: retry_webhook_delivery(uuid); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.retry_webhook_delivery(delivery_id uuid) RETURNS status_public.webhook_deliveries
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION retry_webhook_delivery(delivery_id uuid); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.retry_webhook_delivery(delivery_id uuid) IS '@notNull
Admins: sends a dead delivery again (same delivery id, attempts from zero).';


--
-- Name: rotate_webhook_endpoint_secret(uuid); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.rotate_webhook_endpoint_secret(endpoint_id uuid) RETURNS status_public.webhook_endpoint_secret
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION rotate_webhook_endpoint_secret(endpoint_id uuid); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.rotate_webhook_endpoint_secret(endpoint_id uuid) IS '@notNull
Admins: gives the endpoint a new signing secret (used from the next attempt on) and returns it, this once.';


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
-- Name: backfill_runs; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.backfill_runs (
    id bigint NOT NULL,
    achievement_ids text[] NOT NULL,
    notify boolean NOT NULL,
    after_user_id uuid,
    users_checked bigint DEFAULT 0 NOT NULL,
    unlocks bigint DEFAULT 0 NOT NULL,
    points bigint DEFAULT 0 NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    level_names text[] DEFAULT '{}'::text[] NOT NULL,
    batch_size integer DEFAULT 500 NOT NULL,
    users_total bigint,
    levels_achieved bigint DEFAULT 0 NOT NULL,
    users_done_at timestamp with time zone,
    retier_after_user_id uuid,
    retiered bigint DEFAULT 0 NOT NULL,
    last_error text,
    failed_at timestamp with time zone,
    CONSTRAINT backfill_runs_batch_size_check CHECK (((batch_size >= 1) AND (batch_size <= 10000)))
);


--
-- Name: TABLE backfill_runs; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.backfill_runs IS 'Backfills (start_backfill): the achievements and levels covered, whether users are notified, the batch size, how far the users phase got (after_user_id) and the re-tiering after it, the counts so far, the last failure.';


--
-- Name: backfill_runs; Type: VIEW; Schema: status_public; Owner: -
--

CREATE VIEW status_public.backfill_runs WITH (security_barrier='true') AS
 SELECT run.id,
    run.achievement_ids,
    run.level_names AS levels,
    run.notify,
    run.batch_size,
    (
        CASE
            WHEN (run.finished_at IS NOT NULL) THEN 'finished'::text
            WHEN (run.users_done_at IS NOT NULL) THEN 'retiering'::text
            WHEN ((run.users_checked = 0) AND (run.after_user_id IS NULL)) THEN 'pending'::text
            ELSE 'awarding'::text
        END)::status_public.backfill_state AS state,
    (run.users_total)::integer AS users_total,
    (run.users_checked)::integer AS users_checked,
    (run.unlocks)::integer AS unlocks,
    (run.points)::integer AS points,
    (run.levels_achieved)::integer AS levels_achieved,
    (run.retiered)::integer AS retiered,
    run.started_at,
    run.finished_at,
    run.last_error,
    run.failed_at
   FROM status_private.backfill_runs run;


--
-- Name: VIEW backfill_runs; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON VIEW status_public.backfill_runs IS '@primaryKey id
@behavior -insert -update -delete
Backfills (admins): what each covers, its state and progress (usersChecked of usersTotal), what it awarded, its last failure. Started by startBackfill or applyCatalog(backfill: true); run by the server''s backfill worker or npm run backfill -- --resume.';


--
-- Name: COLUMN backfill_runs.achievement_ids; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.achievement_ids IS '@notNull
@notNullItems
The achievements it awards.';


--
-- Name: COLUMN backfill_runs.levels; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.levels IS '@notNull
@notNullItems
The levels it awards.';


--
-- Name: COLUMN backfill_runs.notify; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.notify IS '@notNull
Whether users get live notifications of what it awards (false: quietly, the summary only).';


--
-- Name: COLUMN backfill_runs.batch_size; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.batch_size IS '@notNull
Users per transaction.';


--
-- Name: COLUMN backfill_runs.state; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.state IS '@notNull';


--
-- Name: COLUMN backfill_runs.users_total; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.users_total IS 'The users it looks at (those with a tally of an action its achievements or levels name), counted when it started.';


--
-- Name: COLUMN backfill_runs.users_checked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.users_checked IS '@notNull
Users done so far.';


--
-- Name: COLUMN backfill_runs.unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.unlocks IS '@notNull
Unlocks awarded so far.';


--
-- Name: COLUMN backfill_runs.points; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.points IS '@notNull
Points awarded so far.';


--
-- Name: COLUMN backfill_runs.levels_achieved; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.levels_achieved IS '@notNull
Levels awarded so far.';


--
-- Name: COLUMN backfill_runs.retiered; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.retiered IS '@notNull
Users moved to the tier of their points (after tier boundaries moved).';


--
-- Name: COLUMN backfill_runs.started_at; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.started_at IS '@notNull';


--
-- Name: COLUMN backfill_runs.last_error; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.backfill_runs.last_error IS 'The last batch''s failure (retried by the worker a minute later), null once a batch succeeds.';


--
-- Name: start_backfill(text[], text[], boolean, integer); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.start_backfill(achievement_ids text[] DEFAULT NULL::text[], levels text[] DEFAULT NULL::text[], notify boolean DEFAULT false, batch_size integer DEFAULT 500) RETURNS status_public.backfill_runs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
declare
  run_id bigint := status_private.start_backfill(start_backfill.achievement_ids, start_backfill.notify,
                                                 start_backfill.levels, start_backfill.batch_size);
  started status_public.backfill_runs;
begin
  select run.* into started from status_public.backfill_runs as run where run.id = run_id;
  return started;
end;
$$;


--
-- Name: FUNCTION start_backfill(achievement_ids text[], levels text[], notify boolean, batch_size integer); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.start_backfill(achievement_ids text[], levels text[], notify boolean, batch_size integer) IS '@notNull
Admins: awards the achievements (default: all) and levels (default: all; [] for none) to the users whose past steps meet them, as if earned at the step that made them true (points dated then, tiers after), quietly unless `notify`. Runs in the background, `batchSize` users per transaction: read its progress with `backfillRunById` or `allBackfillRuns`. Running it twice awards nothing twice.';


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
-- Name: unlock_provenance(text, uuid); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid DEFAULT NULL::uuid) RETURNS status_public.achievement_unlocks
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
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


--
-- Name: FUNCTION unlock_provenance(achievement_id text, user_id uuid); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) IS 'Why a user holds an achievement: the unlock (since when, the points), the rules it was granted under (`rules`: their version, criteria, points), the step that completed it and the values of its criteria then. The signed-in user for their own unlocks (leave `userId` out); the service and admins for anyone.';


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
-- Name: webhook_deliveries_kind(status_public.webhook_deliveries); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.webhook_deliveries_kind(delivery status_public.webhook_deliveries) RETURNS status_public.achievement_event_kind
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  -- Definer: the outbox is private. Executable by admins only.
  select event.kind from status_private.outbox_events as event where event.id = delivery.event_id;
$$;


--
-- Name: FUNCTION webhook_deliveries_kind(delivery status_public.webhook_deliveries); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.webhook_deliveries_kind(delivery status_public.webhook_deliveries) IS '@notNull
The event''s kind.';


--
-- Name: webhook_deliveries_payload(status_public.webhook_deliveries); Type: FUNCTION; Schema: status_public; Owner: -
--

CREATE FUNCTION status_public.webhook_deliveries_payload(delivery status_public.webhook_deliveries) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'public', 'pg_temp'
    AS $$
  -- Definer: the outbox is private. Executable by admins only, who see every delivery.
  select event.payload from status_private.outbox_events as event where event.id = delivery.event_id;
$$;


--
-- Name: FUNCTION webhook_deliveries_payload(delivery status_public.webhook_deliveries); Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON FUNCTION status_public.webhook_deliveries_payload(delivery status_public.webhook_deliveries) IS '@notNull
The event''s data (what the body''s `data` holds).';


--
-- Name: backfill_runs_id_seq; Type: SEQUENCE; Schema: status_private; Owner: -
--

ALTER TABLE status_private.backfill_runs ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME status_private.backfill_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: import_tokens; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.import_tokens (
    backend_pid integer NOT NULL,
    transaction_id xid8 NOT NULL,
    token text NOT NULL
);


--
-- Name: TABLE import_tokens; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.import_tokens IS 'The import running in a backend''s transaction (status_public.import_actions): its steps skip the live event path while the setting achievements.import_token holds this token. Written only by import_actions, which deletes its row before it returns.';


--
-- Name: leaderboard_count_deltas; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_count_deltas (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    points integer NOT NULL,
    users integer NOT NULL,
    action text DEFAULT ''::text NOT NULL,
    CONSTRAINT leaderboard_count_deltas_users_check CHECK ((users <> 0))
)
WITH (autovacuum_vacuum_scale_factor='0', autovacuum_vacuum_threshold='1000', autovacuum_vacuum_insert_scale_factor='0', autovacuum_vacuum_insert_threshold='1000');


--
-- Name: TABLE leaderboard_count_deltas; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_count_deltas IS 'Changes to the leaderboard histogram not folded into leaderboard_point_counts and leaderboard_rank_levels yet (append-only: writers never lock a shared row).';


--
-- Name: leaderboard_point_counts; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_point_counts (
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    points integer NOT NULL,
    users integer NOT NULL,
    action text DEFAULT ''::text NOT NULL,
    CONSTRAINT leaderboard_point_counts_users_check CHECK ((users >= 0))
);


--
-- Name: TABLE leaderboard_point_counts; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_point_counts IS 'How many visible users have exactly `points` on the board (action, period, start): the histogram behind exact ranks.';


--
-- Name: leaderboard_rank_levels; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.leaderboard_rank_levels (
    action text NOT NULL,
    period status_public.leaderboard_period NOT NULL,
    period_start date NOT NULL,
    level smallint NOT NULL,
    block integer NOT NULL,
    users_from integer[] NOT NULL,
    CONSTRAINT leaderboard_rank_levels_block_check CHECK ((block >= 0)),
    CONSTRAINT leaderboard_rank_levels_level_check CHECK (((level >= 0) AND (level <= 3))),
    CONSTRAINT leaderboard_rank_levels_users_from_check CHECK (((cardinality(users_from) = 256) AND (0 <= ALL (users_from))))
);


--
-- Name: TABLE leaderboard_rank_levels; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.leaderboard_rank_levels IS 'The leaderboard histogram as 256-way levels of suffix sums (4-reads.sql): a rank reads one row per level. Kept by the fold; read by status_private.users_around, with the pending deltas.';


--
-- Name: outbox_event_positions; Type: SEQUENCE; Schema: status_private; Owner: -
--

CREATE SEQUENCE status_private.outbox_event_positions
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_events; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.outbox_events (
    id bigint NOT NULL,
    kind status_public.achievement_event_kind NOT NULL,
    user_id uuid NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    payload jsonb NOT NULL,
    "position" bigint,
    published_at timestamp with time zone,
    relay_notification boolean DEFAULT false NOT NULL
);


--
-- Name: TABLE outbox_events; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.outbox_events IS 'Every unlock, tier change and level achieved, written in the transaction that made it; published (given a position) after commit for webhooks and `achievementEvents`.';


--
-- Name: COLUMN outbox_events.relay_notification; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON COLUMN status_private.outbox_events.relay_notification IS 'Whether publishing the event notifies the user''s channel: its writer had `achievements.notification_relay` on and notifications not quiet. False: the writer notified at its commit (or nobody is to be told).';


--
-- Name: outbox_events_id_seq; Type: SEQUENCE; Schema: status_private; Owner: -
--

ALTER TABLE status_private.outbox_events ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME status_private.outbox_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: record_action_allowances; Type: TABLE; Schema: status_private; Owner: -
--

CREATE UNLOGGED TABLE status_private.record_action_allowances (
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

COMMENT ON TABLE status_private.record_action_allowances IS 'The recordAction rate limit''s token buckets: one row per user, up to 16 per service client. Unlogged: after a crash every allowance starts full.';


--
-- Name: recorded_action_results; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.recorded_action_results (
    step_id uuid NOT NULL,
    result jsonb NOT NULL,
    user_id uuid NOT NULL
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
-- Name: webhook_endpoint_secrets; Type: TABLE; Schema: status_private; Owner: -
--

CREATE TABLE status_private.webhook_endpoint_secrets (
    endpoint_id uuid NOT NULL,
    secret text NOT NULL
);


--
-- Name: TABLE webhook_endpoint_secrets; Type: COMMENT; Schema: status_private; Owner: -
--

COMMENT ON TABLE status_private.webhook_endpoint_secrets IS 'Each webhook endpoint''s signing secret.';


--
-- Name: actions; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.actions (
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    client_reportable boolean DEFAULT false NOT NULL,
    max_amount integer DEFAULT 100 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    ranked boolean DEFAULT false NOT NULL,
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
-- Name: COLUMN actions.ranked; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.actions.ranked IS 'Whether the action has leaderboards ranked by its tally in each period (`actionLeaderboard`). Turning it on fills the current boards from the step history; turning it off removes them.';


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
    action text DEFAULT ''::text NOT NULL,
    CONSTRAINT leaderboard_scores_points_check CHECK ((points > 0))
);


--
-- Name: TABLE leaderboard_scores; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.leaderboard_scores IS '@behavior -*
Each user''s points per leaderboard period; read through the leaderboard queries.';


--
-- Name: COLUMN leaderboard_scores.action; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.leaderboard_scores.action IS 'The action whose tally this board ranks (`points` is then the tally in the period); '''' for the points boards.';


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

COMMENT ON TABLE status_public.points_ledger IS '@unique id
Append-only record of every point awarded.';


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

COMMENT ON TABLE status_public.user_achievements IS '@unique id
The tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';


--
-- Name: COLUMN user_achievements.count; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_achievements.count IS 'The tally: the user''s total amount of the action (at least 1: a tally back at zero is removed).';


--
-- Name: user_frozen_days; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_frozen_days (
    user_id uuid NOT NULL,
    day date NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE user_frozen_days; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_frozen_days IS 'The days a streak freeze was spent on, per user: missed, but kept in every streak. Read-only for every API role.';


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
-- Name: user_streak_freezes; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.user_streak_freezes (
    user_id uuid NOT NULL,
    freezes integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_streak_freezes_freezes_check CHECK (((freezes >= 0) AND (freezes <= 1000)))
);


--
-- Name: TABLE user_streak_freezes; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.user_streak_freezes IS 'Each user''s streak freezes: a day missed in their streaks spends one instead of breaking them. Granted with `grantStreakFreezes` (service, admins); read-only for every API role.';


--
-- Name: COLUMN user_streak_freezes.freezes; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.user_streak_freezes.freezes IS 'Freezes held (0 to 1000).';


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

COMMENT ON TABLE status_public.user_streaks IS '@unique id
Consecutive calendar days (in the user''s time zone) with at least one step, per action and for any activity (`action` NULL). A streak whose last day is before yesterday is broken: read it with `currentStreak`.';


--
-- Name: webhook_endpoints; Type: TABLE; Schema: status_public; Owner: -
--

CREATE TABLE status_public.webhook_endpoints (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    url text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    kinds status_public.achievement_event_kind[] DEFAULT enum_range(NULL::status_public.achievement_event_kind) NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    secret_hint text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoints_description_check CHECK ((length(description) <= 1000)),
    CONSTRAINT webhook_endpoints_kinds_check CHECK (((cardinality(kinds) >= 1) AND (array_position(kinds, NULL::status_public.achievement_event_kind) IS NULL))),
    CONSTRAINT webhook_endpoints_url_check CHECK (((url ~ '^https?://[^\s]+$'::text) AND (length(url) <= 2000)))
);


--
-- Name: TABLE webhook_endpoints; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON TABLE status_public.webhook_endpoints IS '@behavior -insert
Where events for backends are posted, signed (Standard Webhooks). Admins only: create one with `createWebhookEndpoint`, which shows its secret once.';


--
-- Name: COLUMN webhook_endpoints.url; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoints.url IS 'The http(s) URL events are POSTed to.';


--
-- Name: COLUMN webhook_endpoints.kinds; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoints.kinds IS '@notNullItems
The kinds of events sent to it.';


--
-- Name: COLUMN webhook_endpoints.enabled; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoints.enabled IS 'Disabled: no new deliveries are queued for it (queued ones are still sent).';


--
-- Name: COLUMN webhook_endpoints.secret_hint; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON COLUMN status_public.webhook_endpoints.secret_hint IS 'The start of the signing secret, to tell secrets apart (the secret itself is shown only once).';


--
-- Name: backfill_runs backfill_runs_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.backfill_runs
    ADD CONSTRAINT backfill_runs_pkey PRIMARY KEY (id);


--
-- Name: import_tokens import_tokens_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.import_tokens
    ADD CONSTRAINT import_tokens_pkey PRIMARY KEY (backend_pid);


--
-- Name: leaderboard_point_counts leaderboard_point_counts_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.leaderboard_point_counts
    ADD CONSTRAINT leaderboard_point_counts_pkey PRIMARY KEY (action, period, period_start, points);


--
-- Name: leaderboard_rank_levels leaderboard_rank_levels_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.leaderboard_rank_levels
    ADD CONSTRAINT leaderboard_rank_levels_pkey PRIMARY KEY (action, period, period_start, level, block);


--
-- Name: outbox_events outbox_events_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.outbox_events
    ADD CONSTRAINT outbox_events_pkey PRIMARY KEY (id);


--
-- Name: record_action_allowances record_action_allowances_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.record_action_allowances
    ADD CONSTRAINT record_action_allowances_pkey PRIMARY KEY (subject_kind, user_id, shard);


--
-- Name: recorded_action_results recorded_action_results_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.recorded_action_results
    ADD CONSTRAINT recorded_action_results_pkey PRIMARY KEY (step_id, user_id);


--
-- Name: user_event_cursors user_event_cursors_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.user_event_cursors
    ADD CONSTRAINT user_event_cursors_pkey PRIMARY KEY (user_id);


--
-- Name: webhook_endpoint_secrets webhook_endpoint_secrets_pkey; Type: CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.webhook_endpoint_secrets
    ADD CONSTRAINT webhook_endpoint_secrets_pkey PRIMARY KEY (endpoint_id);


--
-- Name: achievement_criteria achievement_criteria_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_criteria
    ADD CONSTRAINT achievement_criteria_pkey PRIMARY KEY (id);


--
-- Name: achievement_rule_versions achievement_rule_versions_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_rule_versions
    ADD CONSTRAINT achievement_rule_versions_pkey PRIMARY KEY (achievement_id, version);


--
-- Name: achievement_unlocks achievement_unlocks_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_unlocks
    ADD CONSTRAINT achievement_unlocks_pkey PRIMARY KEY (id, user_id);


--
-- Name: CONSTRAINT achievement_unlocks_pkey ON achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_unlocks_pkey ON status_public.achievement_unlocks IS '@behavior -single -update -delete';


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
    ADD CONSTRAINT leaderboard_scores_pkey PRIMARY KEY (action, period, period_start, user_id);


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
    ADD CONSTRAINT points_ledger_pkey PRIMARY KEY (id, user_id);


--
-- Name: CONSTRAINT points_ledger_pkey ON points_ledger; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT points_ledger_pkey ON status_public.points_ledger IS '@behavior -single -update -delete';


--
-- Name: points_multipliers points_multipliers_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.points_multipliers
    ADD CONSTRAINT points_multipliers_pkey PRIMARY KEY (id);


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
    ADD CONSTRAINT user_achievements_pkey PRIMARY KEY (id, user_id);


--
-- Name: CONSTRAINT user_achievements_pkey ON user_achievements; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT user_achievements_pkey ON status_public.user_achievements IS '@behavior -single -update -delete';


--
-- Name: user_achievements user_achievements_user_id_name_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_achievements
    ADD CONSTRAINT user_achievements_user_id_name_key UNIQUE (user_id, name);


--
-- Name: user_frozen_days user_frozen_days_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_frozen_days
    ADD CONSTRAINT user_frozen_days_pkey PRIMARY KEY (user_id, day);


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
    ADD CONSTRAINT user_steps_pkey PRIMARY KEY (id, user_id);


--
-- Name: CONSTRAINT user_steps_pkey ON user_steps; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT user_steps_pkey ON status_public.user_steps IS '@behavior -single -update -delete';


--
-- Name: user_steps user_steps_user_id_idempotency_key_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_steps
    ADD CONSTRAINT user_steps_user_id_idempotency_key_key UNIQUE (user_id, idempotency_key);


--
-- Name: user_streak_freezes user_streak_freezes_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_streak_freezes
    ADD CONSTRAINT user_streak_freezes_pkey PRIMARY KEY (user_id);


--
-- Name: user_streaks user_streaks_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_streaks
    ADD CONSTRAINT user_streaks_pkey PRIMARY KEY (id, user_id);


--
-- Name: CONSTRAINT user_streaks_pkey ON user_streaks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT user_streaks_pkey ON status_public.user_streaks IS '@behavior -single -update -delete';


--
-- Name: user_streaks user_streaks_user_id_action_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_streaks
    ADD CONSTRAINT user_streaks_user_id_action_key UNIQUE NULLS NOT DISTINCT (user_id, action);


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_event_id_key; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_event_id_key UNIQUE (endpoint_id, event_id);


--
-- Name: webhook_deliveries webhook_deliveries_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoints webhook_endpoints_pkey; Type: CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);


--
-- Name: backfill_runs_unfinished_idx; Type: INDEX; Schema: status_private; Owner: -
--

CREATE INDEX backfill_runs_unfinished_idx ON status_private.backfill_runs USING btree (id) WHERE (finished_at IS NULL);


--
-- Name: leaderboard_count_deltas_period_points_idx; Type: INDEX; Schema: status_private; Owner: -
--

CREATE INDEX leaderboard_count_deltas_period_points_idx ON status_private.leaderboard_count_deltas USING btree (action, period, period_start, points) INCLUDE (users);


--
-- Name: outbox_events_position; Type: INDEX; Schema: status_private; Owner: -
--

CREATE UNIQUE INDEX outbox_events_position ON status_private.outbox_events USING btree ("position") WHERE ("position" IS NOT NULL);


--
-- Name: outbox_events_unpublished; Type: INDEX; Schema: status_private; Owner: -
--

CREATE INDEX outbox_events_unpublished ON status_private.outbox_events USING btree (id) WHERE ("position" IS NULL);


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

CREATE INDEX achievement_unlocks_step_id_idx ON status_public.achievement_unlocks USING btree (step_id, user_id);


--
-- Name: achievement_unlocks_user_id_cursor_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE UNIQUE INDEX achievement_unlocks_user_id_cursor_idx ON status_public.achievement_unlocks USING btree (user_id, cursor);


--
-- Name: leaderboard_scores_listing_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX leaderboard_scores_listing_idx ON status_public.leaderboard_scores USING btree (action, period, period_start, points DESC, reached_at, user_id) WHERE visible;


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

CREATE INDEX points_ledger_unlock_id_idx ON status_public.points_ledger USING btree (unlock_id, user_id);


--
-- Name: points_ledger_user_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX points_ledger_user_id_idx ON status_public.points_ledger USING btree (user_id, created_at);


--
-- Name: points_multipliers_ends_at_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX points_multipliers_ends_at_idx ON status_public.points_multipliers USING btree (ends_at);


--
-- Name: user_levels_step_id_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX user_levels_step_id_idx ON status_public.user_levels USING btree (step_id, user_id);


--
-- Name: user_steps_user_id_name_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX user_steps_user_id_name_idx ON status_public.user_steps USING btree (user_id, name);


--
-- Name: user_streak_freezes_held_idx; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX user_streak_freezes_held_idx ON status_public.user_streak_freezes USING btree (user_id) WHERE (freezes > 0);


--
-- Name: webhook_deliveries_due; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX webhook_deliveries_due ON status_public.webhook_deliveries USING btree (next_attempt_at) WHERE (state = 'pending'::status_public.webhook_delivery_state);


--
-- Name: webhook_deliveries_event; Type: INDEX; Schema: status_public; Owner: -
--

CREATE INDEX webhook_deliveries_event ON status_public.webhook_deliveries USING btree (event_id);


--
-- Name: user_steps _010_rate_limit; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _010_rate_limit BEFORE INSERT ON status_public.user_steps FOR EACH ROW WHEN ((CURRENT_USER = 'achievements_service'::name)) EXECUTE FUNCTION status_private.tg_user_steps__rate_limit();


--
-- Name: achievement_unlocks _050_take_cursor; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _050_take_cursor BEFORE INSERT ON status_public.achievement_unlocks FOR EACH ROW WHEN ((new.cursor IS NULL)) EXECUTE FUNCTION status_private.tg__take_user_cursor();


--
-- Name: user_levels _050_take_cursor; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _050_take_cursor BEFORE INSERT ON status_public.user_levels FOR EACH ROW EXECUTE FUNCTION status_private.tg__take_user_cursor();


--
-- Name: achievement_unlocks _060_provenance; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _060_provenance BEFORE INSERT ON status_public.achievement_unlocks FOR EACH ROW WHEN ((new.criteria_values IS NULL)) EXECUTE FUNCTION status_private.tg_achievement_unlocks__provenance();


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
-- Name: actions _200_tally_boards; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _200_tally_boards AFTER INSERT OR DELETE OR UPDATE OF ranked, name ON status_public.actions FOR EACH ROW EXECUTE FUNCTION status_private.tg_actions__tally_boards();


--
-- Name: achievement_unlocks _600_outbox; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _600_outbox AFTER INSERT ON status_public.achievement_unlocks REFERENCING NEW TABLE AS new_unlocks FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievement_unlocks__outbox();


--
-- Name: user_levels _600_outbox; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _600_outbox AFTER INSERT ON status_public.user_levels REFERENCING NEW TABLE AS new_levels FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_user_levels__outbox();


--
-- Name: user_scores _600_outbox_inserted; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _600_outbox_inserted AFTER INSERT ON status_public.user_scores FOR EACH ROW WHEN ((new.points > 0)) EXECUTE FUNCTION status_private.tg_user_scores__outbox();


--
-- Name: user_scores _600_outbox_updated; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _600_outbox_updated AFTER UPDATE ON status_public.user_scores FOR EACH ROW WHEN ((new.tier IS DISTINCT FROM old.tier)) EXECUTE FUNCTION status_private.tg_user_scores__outbox();


--
-- Name: achievement_criteria _900_rule_versions_delete; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_delete AFTER DELETE ON status_public.achievement_criteria REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievement_criteria__rule_versions();


--
-- Name: achievement_criteria _900_rule_versions_insert; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_insert AFTER INSERT ON status_public.achievement_criteria REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievement_criteria__rule_versions();


--
-- Name: achievements _900_rule_versions_insert; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_insert AFTER INSERT ON status_public.achievements REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievements__rule_versions();


--
-- Name: achievements _900_rule_versions_update; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_update AFTER UPDATE ON status_public.achievements REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievements__rule_versions();


--
-- Name: achievement_criteria _900_rule_versions_update_new; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_update_new AFTER UPDATE ON status_public.achievement_criteria REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievement_criteria__rule_versions();


--
-- Name: achievement_criteria _900_rule_versions_update_old; Type: TRIGGER; Schema: status_public; Owner: -
--

CREATE TRIGGER _900_rule_versions_update_old AFTER UPDATE ON status_public.achievement_criteria REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION status_private.tg_achievement_criteria__rule_versions();


--
-- Name: recorded_action_results recorded_action_results_step_id_fkey; Type: FK CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.recorded_action_results
    ADD CONSTRAINT recorded_action_results_step_id_fkey FOREIGN KEY (step_id, user_id) REFERENCES status_public.user_steps(id, user_id) ON DELETE CASCADE;


--
-- Name: webhook_endpoint_secrets webhook_endpoint_secrets_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: status_private; Owner: -
--

ALTER TABLE ONLY status_private.webhook_endpoint_secrets
    ADD CONSTRAINT webhook_endpoint_secrets_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES status_public.webhook_endpoints(id) ON DELETE CASCADE;


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
-- Name: achievement_rule_versions achievement_rule_versions_achievement_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.achievement_rule_versions
    ADD CONSTRAINT achievement_rule_versions_achievement_id_fkey FOREIGN KEY (achievement_id) REFERENCES status_public.achievements(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: CONSTRAINT achievement_rule_versions_achievement_id_fkey ON achievement_rule_versions; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_rule_versions_achievement_id_fkey ON status_public.achievement_rule_versions IS '@notNull
@fieldName achievement
@foreignFieldName ruleVersions';


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
    ADD CONSTRAINT achievement_unlocks_step_id_fkey FOREIGN KEY (step_id, user_id) REFERENCES status_public.user_steps(id, user_id) ON DELETE CASCADE;


--
-- Name: CONSTRAINT achievement_unlocks_step_id_fkey ON achievement_unlocks; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT achievement_unlocks_step_id_fkey ON status_public.achievement_unlocks IS '@notNull
@fieldName userStepByStepId
@foreignFieldName achievementUnlocksByStepId';


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
    ADD CONSTRAINT points_ledger_unlock_id_fkey FOREIGN KEY (unlock_id, user_id) REFERENCES status_public.achievement_unlocks(id, user_id) ON DELETE CASCADE;


--
-- Name: CONSTRAINT points_ledger_unlock_id_fkey ON points_ledger; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT points_ledger_unlock_id_fkey ON status_public.points_ledger IS '@fieldName achievementUnlockByUnlockId
@foreignFieldName pointsLedgersByUnlockId';


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
    ADD CONSTRAINT user_levels_step_id_fkey FOREIGN KEY (step_id, user_id) REFERENCES status_public.user_steps(id, user_id) ON DELETE SET NULL (step_id);


--
-- Name: CONSTRAINT user_levels_step_id_fkey ON user_levels; Type: COMMENT; Schema: status_public; Owner: -
--

COMMENT ON CONSTRAINT user_levels_step_id_fkey ON status_public.user_levels IS '@fieldName userStepByStepId
@foreignFieldName userLevelsByStepId';


--
-- Name: user_scores user_scores_tier_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.user_scores
    ADD CONSTRAINT user_scores_tier_fkey FOREIGN KEY (tier) REFERENCES status_public.tiers(name) ON UPDATE CASCADE ON DELETE SET NULL;


--
-- Name: webhook_deliveries webhook_deliveries_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES status_public.webhook_endpoints(id) ON DELETE CASCADE;


--
-- Name: webhook_deliveries webhook_deliveries_event_id_fkey; Type: FK CONSTRAINT; Schema: status_public; Owner: -
--

ALTER TABLE ONLY status_public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES status_private.outbox_events(id) ON DELETE CASCADE;


--
-- Name: backfill_runs; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.backfill_runs ENABLE ROW LEVEL SECURITY;

--
-- Name: import_tokens; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.import_tokens ENABLE ROW LEVEL SECURITY;

--
-- Name: leaderboard_count_deltas; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_count_deltas ENABLE ROW LEVEL SECURITY;

--
-- Name: leaderboard_point_counts; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_point_counts ENABLE ROW LEVEL SECURITY;

--
-- Name: leaderboard_rank_levels; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.leaderboard_rank_levels ENABLE ROW LEVEL SECURITY;

--
-- Name: outbox_events; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.outbox_events ENABLE ROW LEVEL SECURITY;

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
-- Name: webhook_endpoint_secrets; Type: ROW SECURITY; Schema: status_private; Owner: -
--

ALTER TABLE status_private.webhook_endpoint_secrets ENABLE ROW LEVEL SECURITY;

--
-- Name: achievement_criteria; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.achievement_criteria ENABLE ROW LEVEL SECURITY;

--
-- Name: achievement_rule_versions; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.achievement_rule_versions ENABLE ROW LEVEL SECURITY;

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
-- Name: points_multipliers manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.points_multipliers TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: tiers manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.tiers TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: webhook_deliveries manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.webhook_deliveries TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: webhook_endpoints manage_as_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY manage_as_admin ON status_public.webhook_endpoints TO achievements_admin USING (true) WITH CHECK (true);


--
-- Name: points_ledger; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.points_ledger ENABLE ROW LEVEL SECURITY;

--
-- Name: points_multipliers; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.points_multipliers ENABLE ROW LEVEL SECURITY;

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
-- Name: points_multipliers select_all; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all ON status_public.points_multipliers FOR SELECT USING (true);


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
-- Name: user_frozen_days select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_frozen_days FOR SELECT TO achievements_service, achievements_admin USING (true);


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
-- Name: user_streak_freezes select_all_as_service_or_admin; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_all_as_service_or_admin ON status_public.user_streak_freezes FOR SELECT TO achievements_service, achievements_admin USING (true);


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
-- Name: user_frozen_days select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_frozen_days FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


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
-- Name: user_streak_freezes select_own; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_own ON status_public.user_streak_freezes FOR SELECT TO achievements_user USING ((user_id = ( SELECT jwt_public.current_user_id() AS current_user_id)));


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
-- Name: achievement_rule_versions select_visible; Type: POLICY; Schema: status_public; Owner: -
--

CREATE POLICY select_visible ON status_public.achievement_rule_versions FOR SELECT USING ((EXISTS ( SELECT
   FROM status_public.achievements
  WHERE (achievements.id = achievement_rule_versions.achievement_id))));


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
-- Name: user_frozen_days; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_frozen_days ENABLE ROW LEVEL SECURITY;

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
-- Name: user_streak_freezes; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_streak_freezes ENABLE ROW LEVEL SECURITY;

--
-- Name: user_streaks; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.user_streaks ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_deliveries; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

--
-- Name: webhook_endpoints; Type: ROW SECURITY; Schema: status_public; Owner: -
--

ALTER TABLE status_public.webhook_endpoints ENABLE ROW LEVEL SECURITY;

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
-- Name: COLUMN achievements.retired_at; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(retired_at),UPDATE(retired_at) ON TABLE status_public.achievements TO achievements_admin;


--
-- Name: FUNCTION achievement_met_at(achievement status_public.achievements, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.achievement_met_at(achievement status_public.achievements, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION achievements_to_check(user_id uuid, action text, occurred_at timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.achievements_to_check(user_id uuid, action text, occurred_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION add_to_boards(awards status_private.board_award[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.add_to_boards(awards status_private.board_award[]) FROM PUBLIC;


--
-- Name: FUNCTION allowance_of_shard(max_calls integer, shards integer, shard integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.allowance_of_shard(max_calls integer, shards integer, shard integer) FROM PUBLIC;


--
-- Name: FUNCTION almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.almost_there_of(progress status_public.achievement_progress[], min_percent integer, first integer) FROM PUBLIC;


--
-- Name: FUNCTION append_histogram_moves(moves status_private.histogram_move[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.append_histogram_moves(moves status_private.histogram_move[]) FROM PUBLIC;


--
-- Name: FUNCTION backfill_awards(achievement_ids text[], user_ids uuid[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.backfill_awards(achievement_ids text[], user_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION backfill_batch(run_id bigint, batch_size integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.backfill_batch(run_id bigint, batch_size integer) FROM PUBLIC;


--
-- Name: FUNCTION backfill_candidates(achievement_ids text[], level_names text[], after_user_id uuid, max_users integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.backfill_candidates(achievement_ids text[], level_names text[], after_user_id uuid, max_users integer) FROM PUBLIC;


--
-- Name: FUNCTION backfill_level_awards(level_names text[], user_ids uuid[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.backfill_level_awards(level_names text[], user_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION batch_step_id(number bigint); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.batch_step_id(number bigint) FROM PUBLIC;


--
-- Name: FUNCTION board_action_of(action text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.board_action_of(action text) FROM PUBLIC;


--
-- Name: FUNCTION board_users(board status_public.leaderboard_period, board_start date, board_action text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.board_users(board status_public.leaderboard_period, board_start date, board_action text) FROM PUBLIC;


--
-- Name: FUNCTION caller_acts_for_anyone(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.caller_acts_for_anyone() FROM PUBLIC;


--
-- Name: FUNCTION check_action_events(events status_public.action_event[], for_anyone boolean, signed_in uuid, retries_need_results boolean); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.check_action_events(events status_public.action_event[], for_anyone boolean, signed_in uuid, retries_need_results boolean) FROM PUBLIC;


--
-- Name: FUNCTION claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.claim_webhook_deliveries(max_deliveries integer, lease_seconds double precision, max_attempts integer) TO achievements_authenticator;


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
-- Name: FUNCTION count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION count_steps(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.count_steps(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION criterion_met_at(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.criterion_progress(criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp without time zone) FROM PUBLIC;


--
-- Name: FUNCTION criterion_rule(criterion status_public.achievement_criteria); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.criterion_rule(criterion status_public.achievement_criteria) FROM PUBLIC;


--
-- Name: FUNCTION current_rules(achievement_ids text[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.current_rules(achievement_ids text[]) FROM PUBLIC;


--
-- Name: FUNCTION extend_streaks(steps status_private.pipeline_step[], any_freezes boolean); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.extend_streaks(steps status_private.pipeline_step[], any_freezes boolean) FROM PUBLIC;


--
-- Name: FUNCTION fold_into_point_counts(changes status_private.histogram_change[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.fold_into_point_counts(changes status_private.histogram_change[]) FROM PUBLIC;


--
-- Name: FUNCTION fold_into_rank_levels(changes status_private.histogram_change[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.fold_into_rank_levels(changes status_private.histogram_change[]) FROM PUBLIC;


--
-- Name: FUNCTION fold_leaderboard_deltas(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.fold_leaderboard_deltas() FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.fold_leaderboard_deltas() TO achievements_authenticator;


--
-- Name: FUNCTION give_back_user_allowances(user_ids uuid[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.give_back_user_allowances(user_ids uuid[]) FROM PUBLIC;


--
-- Name: FUNCTION import_streak_states(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.import_streak_states(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date, page_users uuid[], page_points integer[], page_offset integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date, page_users uuid[], page_points integer[], page_offset integer) FROM PUBLIC;


--
-- Name: FUNCTION level_met_at(level_name text, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.level_met_at(level_name text, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION new_webhook_secret(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.new_webhook_secret() FROM PUBLIC;


--
-- Name: FUNCTION notify_user(user_id uuid, event text, id text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.notify_user(user_id uuid, event text, id text) FROM PUBLIC;


--
-- Name: FUNCTION outbox_notification_id(kind status_public.achievement_event_kind, payload jsonb); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.outbox_notification_id(kind status_public.achievement_event_kind, payload jsonb) FROM PUBLIC;


--
-- Name: FUNCTION period_start(period status_public.leaderboard_period, at timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.period_start(period status_public.leaderboard_period, at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION prune_outbox(older_than interval); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.prune_outbox(older_than interval) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.prune_outbox(older_than interval) TO achievements_authenticator;


--
-- Name: FUNCTION publish_outbox_events(max_events integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.publish_outbox_events(max_events integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.publish_outbox_events(max_events integer) TO achievements_authenticator;


--
-- Name: FUNCTION publisher_notifies(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.publisher_notifies() FROM PUBLIC;


--
-- Name: FUNCTION rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer, board_action text) FROM PUBLIC;


--
-- Name: FUNCTION rank_tallies(steps status_private.pipeline_step[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.rank_tallies(steps status_private.pipeline_step[]) FROM PUBLIC;


--
-- Name: FUNCTION rebuild_leaderboard_rank_levels(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.rebuild_leaderboard_rank_levels() FROM PUBLIC;


--
-- Name: FUNCTION record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamp with time zone) FROM PUBLIC;


--
-- Name: FUNCTION record_action_rate_setting(name text, fallback integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_action_rate_setting(name text, fallback integer) FROM PUBLIC;


--
-- Name: FUNCTION record_rule_versions(achievement_ids text[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_rule_versions(achievement_ids text[]) FROM PUBLIC;


--
-- Name: FUNCTION record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.record_webhook_attempt(delivery_id uuid, attempt integer, error text, retry_in_seconds double precision) TO achievements_authenticator;


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
-- Name: FUNCTION refuse_record_actions(subject_kind text, max_calls integer, window_seconds integer, wait_seconds double precision); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.refuse_record_actions(subject_kind text, max_calls integer, window_seconds integer, wait_seconds double precision) FROM PUBLIC;


--
-- Name: FUNCTION relays_notifications(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.relays_notifications() FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.relays_notifications() TO achievements_authenticator;


--
-- Name: FUNCTION retier_batch(after_user_id uuid, batch_size integer, OUT changed integer, OUT last_user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.retier_batch(after_user_id uuid, batch_size integer, OUT changed integer, OUT last_user_id uuid) FROM PUBLIC;


--
-- Name: PROCEDURE retier_users(IN batch_size integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON PROCEDURE status_private.retier_users(IN batch_size integer) FROM PUBLIC;


--
-- Name: PROCEDURE run_backfill(IN run_id bigint, IN batch_size integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON PROCEDURE status_private.run_backfill(IN run_id bigint, IN batch_size integer) FROM PUBLIC;


--
-- Name: FUNCTION spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid) FROM PUBLIC;


--
-- Name: FUNCTION spend_record_actions_allowance(user_ids uuid[], service_client uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.spend_record_actions_allowance(user_ids uuid[], service_client uuid) FROM PUBLIC;


--
-- Name: FUNCTION start_backfill(achievement_ids text[], notify boolean, level_names text[], batch_size integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.start_backfill(achievement_ids text[], notify boolean, level_names text[], batch_size integer) FROM PUBLIC;


--
-- Name: FUNCTION step_count_reached_at(user_id uuid, action text, threshold integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.step_count_reached_at(user_id uuid, action text, threshold integer) FROM PUBLIC;


--
-- Name: FUNCTION step_results(steps status_public.user_steps[]); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.step_results(steps status_public.user_steps[]) FROM PUBLIC;


--
-- Name: FUNCTION streak_as_of(current_length integer, last_day date, today date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_as_of(current_length integer, last_day date, today date) FROM PUBLIC;


--
-- Name: FUNCTION streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date) FROM PUBLIC;


--
-- Name: FUNCTION streak_freezes_of(user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_freezes_of(user_id uuid) FROM PUBLIC;


--
-- Name: FUNCTION streak_kept_as_of(user_id uuid, current_length integer, last_day date, today date); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.streak_kept_as_of(user_id uuid, current_length integer, last_day date, today date) FROM PUBLIC;


--
-- Name: FUNCTION take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.take_record_action_allowance(subject_kind text, subject uuid, max_calls integer, window_seconds integer) FROM PUBLIC;


--
-- Name: FUNCTION take_service_allowance(service_client uuid, amount integer, max_calls integer, window_seconds integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.take_service_allowance(service_client uuid, amount integer, max_calls integer, window_seconds integer) FROM PUBLIC;


--
-- Name: FUNCTION take_user_allowances(user_ids uuid[], amounts integer[], max_calls integer, window_seconds integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.take_user_allowances(user_ids uuid[], amounts integer[], max_calls integer, window_seconds integer) FROM PUBLIC;


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
-- Name: FUNCTION tg_achievement_criteria__rule_versions(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_criteria__rule_versions() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_toggle(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_toggle() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_toggle_boolean(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_toggle_boolean() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_unlocks__outbox(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_unlocks__outbox() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievement_unlocks__provenance(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievement_unlocks__provenance() FROM PUBLIC;


--
-- Name: FUNCTION tg_achievements__rule_versions(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_achievements__rule_versions() FROM PUBLIC;


--
-- Name: FUNCTION tg_actions__tally_boards(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_actions__tally_boards() FROM PUBLIC;


--
-- Name: FUNCTION tg_points_ledger__scores(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_points_ledger__scores() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_levels__outbox(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_levels__outbox() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_profiles__check_time_zone(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_profiles__check_time_zone() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_profiles__leaderboard_visibility(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_profiles__leaderboard_visibility() FROM PUBLIC;


--
-- Name: FUNCTION tg_user_scores__outbox(); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.tg_user_scores__outbox() FROM PUBLIC;


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
-- Name: FUNCTION time_of_day_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.time_of_day_criterion_met_at(criterion status_public.achievement_criteria, user_id uuid) FROM PUBLIC;


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
-- Name: FUNCTION unlock_provenance_at(achievement_id text, user_id uuid, action text, occurred_at timestamp with time zone, local_time timestamp without time zone); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.unlock_provenance_at(achievement_id text, user_id uuid, action text, occurred_at timestamp with time zone, local_time timestamp without time zone) FROM PUBLIC;


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
-- Name: FUNCTION users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer) FROM PUBLIC;


--
-- Name: FUNCTION users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer) FROM PUBLIC;


--
-- Name: FUNCTION users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer) FROM PUBLIC;


--
-- Name: FUNCTION users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer) FROM PUBLIC;


--
-- Name: FUNCTION work_on_backfill(run_id bigint, retry_after_seconds double precision, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text); Type: ACL; Schema: status_private; Owner: -
--

REVOKE ALL ON FUNCTION status_private.work_on_backfill(run_id bigint, retry_after_seconds double precision, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_private.work_on_backfill(run_id bigint, retry_after_seconds double precision, OUT claimed_run bigint, OUT more boolean, OUT error_code text, OUT error_message text) TO achievements_authenticator;


--
-- Name: FUNCTION achievement_events(after_position bigint, max_events integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) TO achievements_user;
GRANT ALL ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) TO achievements_service;
GRANT ALL ON FUNCTION status_public.achievement_events(after_position bigint, max_events integer) TO achievements_admin;


--
-- Name: TABLE achievement_rule_versions; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.achievement_rule_versions TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.achievement_rule_versions TO achievements_user;
GRANT SELECT ON TABLE status_public.achievement_rule_versions TO achievements_service;
GRANT SELECT ON TABLE status_public.achievement_rule_versions TO achievements_admin;


--
-- Name: TABLE achievement_unlocks; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_user;
GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_service;
GRANT SELECT ON TABLE status_public.achievement_unlocks TO achievements_admin;


--
-- Name: FUNCTION achievement_unlocks_rules(unlock status_public.achievement_unlocks); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) TO achievements_user;
GRANT ALL ON FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) TO achievements_service;
GRANT ALL ON FUNCTION status_public.achievement_unlocks_rules(unlock status_public.achievement_unlocks) TO achievements_admin;


--
-- Name: FUNCTION achievements_rarity_percent(achievement status_public.achievements); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_user;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_service;
GRANT ALL ON FUNCTION status_public.achievements_rarity_percent(achievement status_public.achievements) TO achievements_admin;


--
-- Name: TABLE points_multipliers; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.points_multipliers TO achievements_anonymous;
GRANT SELECT ON TABLE status_public.points_multipliers TO achievements_user;
GRANT SELECT ON TABLE status_public.points_multipliers TO achievements_service;
GRANT SELECT,DELETE ON TABLE status_public.points_multipliers TO achievements_admin;


--
-- Name: COLUMN points_multipliers.name; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(name),UPDATE(name) ON TABLE status_public.points_multipliers TO achievements_admin;


--
-- Name: COLUMN points_multipliers.multiplier; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(multiplier),UPDATE(multiplier) ON TABLE status_public.points_multipliers TO achievements_admin;


--
-- Name: COLUMN points_multipliers.starts_at; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(starts_at),UPDATE(starts_at) ON TABLE status_public.points_multipliers TO achievements_admin;


--
-- Name: COLUMN points_multipliers.ends_at; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(ends_at),UPDATE(ends_at) ON TABLE status_public.points_multipliers TO achievements_admin;


--
-- Name: FUNCTION active_points_multiplier(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.active_points_multiplier() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.active_points_multiplier() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.active_points_multiplier() TO achievements_user;
GRANT ALL ON FUNCTION status_public.active_points_multiplier() TO achievements_service;
GRANT ALL ON FUNCTION status_public.active_points_multiplier() TO achievements_admin;


--
-- Name: FUNCTION catalog_level_impact(level_names text[]); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.catalog_level_impact(level_names text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.catalog_level_impact(level_names text[]) TO achievements_admin;


--
-- Name: FUNCTION catalog_tier_impact(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.catalog_tier_impact() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.catalog_tier_impact() TO achievements_admin;


--
-- Name: FUNCTION catalog_unlock_impact(achievement_ids text[]); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.catalog_unlock_impact(achievement_ids text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.catalog_unlock_impact(achievement_ids text[]) TO achievements_admin;


--
-- Name: FUNCTION create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[], description text); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[], description text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.create_webhook_endpoint(url text, kinds status_public.achievement_event_kind[], description text) TO achievements_admin;


--
-- Name: FUNCTION grant_streak_freezes(user_id uuid, freezes integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.grant_streak_freezes(user_id uuid, freezes integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.grant_streak_freezes(user_id uuid, freezes integer) TO achievements_service;
GRANT ALL ON FUNCTION status_public.grant_streak_freezes(user_id uuid, freezes integer) TO achievements_admin;


--
-- Name: FUNCTION hidden_locked_count(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.hidden_locked_count() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_user;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_service;
GRANT ALL ON FUNCTION status_public.hidden_locked_count() TO achievements_admin;


--
-- Name: FUNCTION import_actions(events status_public.action_event[], notify boolean); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.import_actions(events status_public.action_event[], notify boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.import_actions(events status_public.action_event[], notify boolean) TO achievements_service;
GRANT ALL ON FUNCTION status_public.import_actions(events status_public.action_event[], notify boolean) TO achievements_admin;


--
-- Name: FUNCTION leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) TO achievements_user;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) TO achievements_service;
GRANT ALL ON FUNCTION status_public.leaderboard(period status_public.leaderboard_period, first integer, "offset" integer, action text) TO achievements_admin;


--
-- Name: FUNCTION leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) TO achievements_user;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) TO achievements_service;
GRANT ALL ON FUNCTION status_public.leaderboard_around_me(period status_public.leaderboard_period, radius integer, action text) TO achievements_admin;


--
-- Name: FUNCTION my_achievements(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_achievements() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_achievements() TO achievements_admin;


--
-- Name: FUNCTION my_almost_there(min_percent integer, first integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_almost_there(min_percent integer, first integer) TO achievements_admin;


--
-- Name: FUNCTION my_dashboard(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_dashboard() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_dashboard() TO achievements_admin;


--
-- Name: FUNCTION my_rank(period status_public.leaderboard_period, action text); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_rank(period status_public.leaderboard_period, action text) TO achievements_admin;


--
-- Name: FUNCTION my_tier(); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.my_tier() FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_user;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_service;
GRANT ALL ON FUNCTION status_public.my_tier() TO achievements_admin;


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
-- Name: TABLE webhook_deliveries; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE status_public.webhook_deliveries TO achievements_admin;


--
-- Name: FUNCTION retry_webhook_delivery(delivery_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.retry_webhook_delivery(delivery_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.retry_webhook_delivery(delivery_id uuid) TO achievements_admin;


--
-- Name: FUNCTION rotate_webhook_endpoint_secret(endpoint_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.rotate_webhook_endpoint_secret(endpoint_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.rotate_webhook_endpoint_secret(endpoint_id uuid) TO achievements_admin;


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
-- Name: TABLE backfill_runs; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.backfill_runs TO achievements_admin;


--
-- Name: FUNCTION start_backfill(achievement_ids text[], levels text[], notify boolean, batch_size integer); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.start_backfill(achievement_ids text[], levels text[], notify boolean, batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.start_backfill(achievement_ids text[], levels text[], notify boolean, batch_size integer) TO achievements_admin;


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
-- Name: FUNCTION unlock_provenance(achievement_id text, user_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) TO achievements_user;
GRANT ALL ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) TO achievements_service;
GRANT ALL ON FUNCTION status_public.unlock_provenance(achievement_id text, user_id uuid) TO achievements_admin;


--
-- Name: FUNCTION user_achieved(vlevel text, vrole_id uuid); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_anonymous;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_user;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_service;
GRANT ALL ON FUNCTION status_public.user_achieved(vlevel text, vrole_id uuid) TO achievements_admin;


--
-- Name: FUNCTION webhook_deliveries_kind(delivery status_public.webhook_deliveries); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.webhook_deliveries_kind(delivery status_public.webhook_deliveries) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.webhook_deliveries_kind(delivery status_public.webhook_deliveries) TO achievements_admin;


--
-- Name: FUNCTION webhook_deliveries_payload(delivery status_public.webhook_deliveries); Type: ACL; Schema: status_public; Owner: -
--

REVOKE ALL ON FUNCTION status_public.webhook_deliveries_payload(delivery status_public.webhook_deliveries) FROM PUBLIC;
GRANT ALL ON FUNCTION status_public.webhook_deliveries_payload(delivery status_public.webhook_deliveries) TO achievements_admin;


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
-- Name: COLUMN actions.ranked; Type: ACL; Schema: status_public; Owner: -
--

GRANT INSERT(ranked),UPDATE(ranked) ON TABLE status_public.actions TO achievements_admin;


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
-- Name: TABLE user_frozen_days; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_frozen_days TO achievements_user;
GRANT SELECT ON TABLE status_public.user_frozen_days TO achievements_service;
GRANT SELECT ON TABLE status_public.user_frozen_days TO achievements_admin;


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
-- Name: TABLE user_streak_freezes; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_streak_freezes TO achievements_user;
GRANT SELECT ON TABLE status_public.user_streak_freezes TO achievements_service;
GRANT SELECT ON TABLE status_public.user_streak_freezes TO achievements_admin;


--
-- Name: TABLE user_streaks; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT ON TABLE status_public.user_streaks TO achievements_user;
GRANT SELECT ON TABLE status_public.user_streaks TO achievements_service;
GRANT SELECT ON TABLE status_public.user_streaks TO achievements_admin;


--
-- Name: TABLE webhook_endpoints; Type: ACL; Schema: status_public; Owner: -
--

GRANT SELECT,DELETE ON TABLE status_public.webhook_endpoints TO achievements_admin;


--
-- Name: COLUMN webhook_endpoints.url; Type: ACL; Schema: status_public; Owner: -
--

GRANT UPDATE(url) ON TABLE status_public.webhook_endpoints TO achievements_admin;


--
-- Name: COLUMN webhook_endpoints.description; Type: ACL; Schema: status_public; Owner: -
--

GRANT UPDATE(description) ON TABLE status_public.webhook_endpoints TO achievements_admin;


--
-- Name: COLUMN webhook_endpoints.kinds; Type: ACL; Schema: status_public; Owner: -
--

GRANT UPDATE(kinds) ON TABLE status_public.webhook_endpoints TO achievements_admin;


--
-- Name: COLUMN webhook_endpoints.enabled; Type: ACL; Schema: status_public; Owner: -
--

GRANT UPDATE(enabled) ON TABLE status_public.webhook_endpoints TO achievements_admin;


--
-- PostgreSQL database dump complete
--


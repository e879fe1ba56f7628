--! Previous: sha1:50e8ab9972a62fcbdbea4b2eae62f4df08ead33d
--! Hash: sha1:8e3d3d2c7af8165376c2880e68c892a4c5064df7
--! Message: Event path rebuilt for throughput: one statement trigger runs the stages in rounds, a registry of criterion kinds, leaderboard histogram as appended deltas folded shortly after, cached plans, record_actions batches, leaderboard reads from two histogram lookups

--! split: 1-plan-caching.sql
-- Plans that stay cached. A LANGUAGE sql function that PostgreSQL cannot inline (one with a FROM clause, called
-- as a scalar) is planned again on every call, and PL/pgSQL re-plans a statement for its parameters when it
-- judges a custom plan cheaper: on the event path both cost more than the work itself (measured: 3.6 ms an
-- event down to 1.8 ms with cached plans). So the small lookups used on every event or read are PL/pgSQL,
-- whose statements keep one plan per session, and the event path's functions run with
-- plan_cache_mode = force_generic_plan (their statements are index lookups by key: the generic plan is the
-- right one for every parameter).

create or replace function status_private.tier_for(points integer) returns text
  language plpgsql stable
as $$
begin
  return (select tier.name from status_public.tiers as tier where tier.min_points <= tier_for.points order by tier.min_points desc limit 1);
end;
$$;

create or replace function status_private.time_zone_of(user_id uuid) returns text
  language plpgsql stable
as $$
begin
  return coalesce((select profile.time_zone from status_public.user_profiles as profile where profile.user_id = time_zone_of.user_id), 'UTC');
end;
$$;

create or replace function status_private.record_action_rate_setting(name text, fallback integer) returns integer
  language plpgsql stable
as $$
declare
  setting text := current_setting('achievements.' || name, true);
begin
  return coalesce(case when setting ~ '^\s*[0-9]{1,9}\s*$' then setting::integer end, fallback);
end;
$$;

--! split: 2-leaderboard-deltas.sql
-- Leaderboard histograms without hot rows. Every award used to lock the shared histogram rows it moved a user
-- between (all first unlocks move users from 0 to 10 points) until commit, so concurrent writers queued on
-- one row whatever the number of cores. Now the write path only APPENDS deltas (no unique key, no row lock);
-- status_private.fold_leaderboard_deltas() folds them into the two histogram tables shortly after (the
-- standalone server every second; anyone else with pg_cron or a timer). Ranks read the folded histogram
-- plus the deltas not folded yet, so they are exact at once: folding changes how fast a rank is read, never
-- what it says.

create table if not exists status_private.leaderboard_count_deltas (
  period status_public.leaderboard_period not null,
  period_start date not null,
  points integer not null,
  -- +n: n more visible users have `points` in the period; -n: n fewer.
  users integer not null check (users <> 0)
);
create index if not exists leaderboard_count_deltas_period_points_idx
  on status_private.leaderboard_count_deltas (period, period_start, points) include (users);
comment on table status_private.leaderboard_count_deltas is
  E'Changes to the leaderboard histogram not folded into leaderboard_point_counts / leaderboard_bucket_counts yet (append-only: writers never lock a shared row).';
alter table status_private.leaderboard_count_deltas enable row level security;
-- A queue: rows live about a second. Vacuumed after every thousand or so deleted rows, not after 20% of it.
alter table status_private.leaderboard_count_deltas set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 1000);

-- A change of the histogram: `users` more (or fewer, when negative) visible users at `points` in a board.
do $$ begin
  create type status_private.histogram_change as (period status_public.leaderboard_period, period_start date, points integer, users integer);
exception when duplicate_object then null;
end $$;

-- A board's histogram moves: one user leaving `from_points` (NULL: was not on the board) for `to_points`
-- (NULL: leaves it). Appended; nothing is locked.
create or replace function status_private.append_histogram_moves(moves status_private.histogram_move[]) returns void
  language plpgsql -- not sql: PL/pgSQL keeps the statement's plan for the session (it is on every award's path)
  set plan_cache_mode to force_generic_plan
as $$
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

-- Folds the appended deltas into the histogram. One folder at a time (the others return at once); writers
-- never wait for it, and it waits for nobody but another folder's histogram rows.
create or replace function status_private.fold_leaderboard_deltas() returns integer
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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

-- One level of the histogram: `key_width` 1 is leaderboard_point_counts, 100 leaderboard_bucket_counts.
-- Decrements update existing rows (a row never goes below zero: its users were counted before they left);
-- increments insert or add; rows back at zero go, so that the histogram holds only what counts.
create or replace function status_private.fold_into_histogram(changes status_private.histogram_change[], key_width integer) returns void
  language plpgsql
as $$
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

-- The changes summed per key of a level (points / key_width).
create or replace function status_private.histogram_changes_by_key(changes status_private.histogram_change[], key_width integer)
  returns table (period status_public.leaderboard_period, period_start date, key integer, users integer)
  language sql immutable
as $$
  select change.period, change.period_start, change.points / key_width, sum(change.users)::integer
  from unnest(changes) as change
  group by 1, 2, 3
  having sum(change.users) <> 0
  order by 1, 2, 3;
$$;
comment on function status_private.fold_leaderboard_deltas() is
  E'Folds the appended leaderboard deltas into the histogram; returns how many (board, points) changes it folded. Run it every second or so (the standalone server does); ranks are exact without it, only slower to read as deltas pile up.';
-- The server's own connection (the authenticator, which holds no API role's rights: NOINHERIT) folds. Usage
-- on the schema gives it nothing else: status_private's tables have RLS and no grants, its functions none.
grant usage on schema status_private to :AUTHENTICATOR_ROLE;
grant execute on function status_private.fold_leaderboard_deltas() to :AUTHENTICATOR_ROLE;

-- status_private.rank_of() and board_users() read the folded histogram plus the deltas: 8-leaderboard-reads.sql.

create or replace function status_private.tg_user_profiles__leaderboard_visibility() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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

drop function if exists status_private.apply_histogram_moves(status_private.histogram_move[]);
drop function if exists status_private.histogram_deltas(status_private.histogram_move[], integer);

--! split: 3-criteria.sql
-- The criterion kinds: one function per kind says how far a user is towards one criterion, as
-- (current, target); the criterion holds when current >= target. status_private.criterion_progress() picks
-- the kind's function. The unlock stage (does every criterion hold?) and my_achievements (how far is each?)
-- both read it, so a new kind is an enum value, its check in achievement_criteria, its function and a branch
-- here (with a test file of its own). Every function is plain SQL returning a table, so that PostgreSQL
-- inlines it into the query that calls it: no call per criterion, and the calling plan stays cached.

-- count: the user's tally of `action` against `threshold`.
create or replace function status_private.count_criterion_progress(criterion status_public.achievement_criteria, user_id uuid)
  returns table (current integer, target integer)
  language sql stable
as $$
  select coalesce((select tally.count from status_public.user_achievements as tally
                   where tally.user_id = count_criterion_progress.user_id and tally.name = criterion.action), 0),
         criterion.threshold;
$$;

-- streak: the user's current streak of `action` (NULL: any activity), in days, as of `today`, against `threshold`.
create or replace function status_private.streak_criterion_progress(criterion status_public.achievement_criteria, user_id uuid, today date)
  returns table (current integer, target integer)
  language sql stable
as $$
  select coalesce((select status_private.streak_as_of(streak.current_length, streak.last_day, today)
                   from status_public.user_streaks as streak
                   where streak.user_id = streak_criterion_progress.user_id and streak.action is not distinct from criterion.action), 0),
         criterion.threshold;
$$;

-- time_of_day: the step at hand is `action` at a local hour in [hour_from, hour_until) (which may wrap past
-- midnight). A moment, not a state: with no step at hand (progress queries) it is met once the achievement is.
create or replace function status_private.time_of_day_criterion_progress(
  criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp
)
  returns table (current integer, target integer)
  language sql stable
as $$
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

-- The registry: how far `user_id` is towards `criterion`, at `local_time` (the user's local time of the step
-- at hand, or now), for the step `action` (NULL when there is none). Exactly one row for every kind.
create or replace function status_private.criterion_progress(
  criterion status_public.achievement_criteria, user_id uuid, action text, local_time timestamp
)
  returns table (current integer, target integer)
  language sql stable
as $$
  select * from status_private.count_criterion_progress(criterion, user_id) where criterion.kind = 'count'
  union all
  select * from status_private.streak_criterion_progress(criterion, user_id, local_time::date) where criterion.kind = 'streak'
  union all
  select * from status_private.time_of_day_criterion_progress(criterion, user_id, action, local_time) where criterion.kind = 'time_of_day';
$$;
comment on function status_private.criterion_progress(status_public.achievement_criteria, uuid, text, timestamp) is
  E'How far the user is towards the criterion, as (current, target): the registry of criterion kinds that the unlock evaluation and the progress queries share.';

drop function if exists status_private.criterion_holds(status_public.achievement_criteria, uuid, text, timestamp);

--! split: 4-event-path.sql
-- The event path: one statement-level trigger on user_steps runs the stages below in order, once per
-- statement (a batch of steps is one pass per stage, not one trigger chain per row). It replaces the five
-- row triggers (score row, tally, streaks, unlocks, levels) that ran ~ten PL/pgSQL hops per step.
--
-- Order within a statement: each user's steps apply one at a time, in the order they happened (occurred_at,
-- then id), exactly as if they had been recorded one by one; different users' steps go together. So the
-- driver runs "rounds": round k holds every user's k-th step of the statement, and every stage sees at most
-- one step per user (a single event is one round of one step).
--
-- Stages (each a function taking the round's steps):
--   1. count_steps          the user's score row, then tallies (user_achievements)
--   2. extend_streaks       streaks per action and for any activity (user_streaks)
--   3. unlock_achievements  achievements whose criteria all hold (achievement_unlocks, points_ledger; the
--                           ledger's statement trigger then does scores, tiers and leaderboards)
--   4. achieve_levels       levels with every requirement met (user_levels)
-- Notifications: row triggers on achievement_unlocks / user_levels / the score stage, sent on commit.

do $$ begin
  create type status_private.pipeline_step as (
    id uuid, user_id uuid, name text, count integer, occurred_at timestamptz,
    -- occurred_at in the user's time zone: streak days and time-of-day criteria use it
    local_time timestamp
  );
exception when duplicate_object then null;
end $$;

-- Stage 1: the score row (so that every user with a step counts in rarity percentages), then the tally. A
-- tally never goes below zero, and one back at zero loses its row (as upstream's does).
create or replace function status_private.count_steps(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
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

-- Stage 2: one streak for the action and one for any activity, by calendar day in the user's time zone. A
-- step dated before the last day counted (a backdated one) changes nothing; taking a step back neither.
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

-- Stage 3: the achievements a step may unlock are those with a criterion naming its action (or an
-- any-activity streak), available when it happened, not unlocked yet, whose every criterion holds (the
-- registry in criterion_progress). So the cost does not grow with the catalog. The unique key makes each
-- unlock happen exactly once, even when concurrent transactions cross the threshold together.
create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
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

-- Stage 4: levels that need the step's action, not achieved yet, with no requirement left unmet.
create or replace function status_private.achieve_levels(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
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

-- One round's steps (at most one per user) through the four stages, in order.
create or replace function status_private.run_stages(steps status_private.pipeline_step[]) returns void
  language plpgsql
as $$
begin
  perform status_private.count_steps(steps);
  perform status_private.extend_streaks(steps);
  perform status_private.unlock_achievements(steps);
  perform status_private.achieve_levels(steps);
end;
$$;

-- The driver: the statement's steps, in rounds (see the top of this file), through the four stages.
create or replace function status_private.tg_user_steps__event_path() returns trigger
  language plpgsql security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
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

drop trigger if exists _050_score_row on status_public.user_steps;
drop trigger if exists _100_tally on status_public.user_steps;
drop trigger if exists _200_streaks on status_public.user_steps;
drop trigger if exists _300_unlock_achievements on status_public.user_steps;
drop trigger if exists _400_levels on status_public.user_steps;
drop trigger if exists _100_event_path on status_public.user_steps;
create trigger _100_event_path after insert on status_public.user_steps
  referencing new table as new_steps
  for each statement execute function status_private.tg_user_steps__event_path();

drop function if exists status_private.tg_user_steps__score_row();
drop function if exists status_private.tg_user_steps__tally();
drop function if exists status_private.tg_user_steps__streaks();
drop function if exists status_private.tg_user_steps__unlock_achievements();
drop function if exists status_private.tg_user_steps__levels();

-- The glossary's words (README "Glossary") in the descriptions GraphQL shows: a step is one recorded event of an
-- action; its amount is the reference's `count`; a tally is a user's total amount of one action.
comment on column status_public.user_steps.user_id is E'The user credited with the step.';
comment on column status_public.user_steps.name is E'The action performed (the reference API''s column name).';
comment on column status_public.user_steps.count is E'The amount: how many times the action was performed (negative takes back).';
comment on column status_public.user_steps.idempotency_key is E'Optional key, unique per user: recording again with the same key returns the first result and counts nothing.';
comment on table status_public.user_achievements is
  E'The tallies: each user''s total amount per action (the reference API''s table name). No row: 0. Kept by the event path; read-only for every API role.';
comment on column status_public.user_achievements.count is E'The tally: the user''s total amount of the action (at least 1: a tally back at zero is removed).';

--! split: 5-scores.sql
-- Points: one statement-level trigger on points_ledger does each user's score and tier (and tells them of a
-- new tier), then the leaderboards: each period's score row, and the histogram's moves as appended deltas
-- (2-leaderboard-deltas.sql). It replaces the row trigger that did the score of one award at a time.
-- A statement's awards to a user are summed; a score never goes below zero, and a board holds positive scores
-- only (a user whose points there fall to zero leaves it; 000003 refused such a take-back outright).
do $$ begin
  create type status_private.user_tier as (user_id uuid, tier text);
exception when duplicate_object then null;
end $$;
-- One user's awards of a statement on one board (period and period_start NULL: overall).
do $$ begin
  create type status_private.board_award as (
    period status_public.leaderboard_period, period_start date, user_id uuid, points integer, reached_at timestamptz
  );
exception when duplicate_object then null;
end $$;

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

drop trigger if exists _100_score on status_public.points_ledger;
drop trigger if exists _200_leaderboards on status_public.points_ledger;
drop trigger if exists _100_scores on status_public.points_ledger;
create trigger _100_scores after insert on status_public.points_ledger
  referencing new table as awarded
  for each statement execute function status_private.tg_points_ledger__scores();
drop function if exists status_private.tg_points_ledger__score();
drop function if exists status_private.tg_points_ledger__leaderboards();

--! split: 6-record-actions.sql
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
comment on function status_public.record_actions(status_public.action_event[]) is
  E'@notNull\nRecords a batch of events in one call and returns each one\'s result, in order: the service role for any users (and `occurredAt`, for imports), a user for themselves (client-reportable actions). A user\'s events apply in the order they happened, as if recorded one by one. All or nothing; at most 1000 events a call (achievements.record_actions_max_events); each event counts against the rate limits; a retried idempotency key returns the original result.';
grant execute on function status_public.record_actions(status_public.action_event[]) to :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE;

--! split: 7-progress.sql
-- Progress towards each achievement, from the same registry of criterion kinds as the unlock stage
-- (3-criteria.sql): current and target per criterion, as of now in the user's time zone.
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
                                        greatest(c.target - c.current, 0), least(100, floor(100.0 * c.current / c.target))::integer
                                       )::status_public.criterion_progress order by c.kind, c.action)
                   from criteria c where c.achievement_id = achievement.id), '{}')
  from status_public.achievements as achievement
  cross join me
  left join status_public.achievement_unlocks as unlock on unlock.user_id = me.user_id and unlock.achievement_id = achievement.id
  where me.user_id is not null and (not achievement.hidden or unlock.id is not null)
  order by achievement.position, achievement.id;
$$;

--! split: 8-leaderboard-reads.sql
-- Leaderboard reads: a page (top N, or the window around a user) is contiguous in board order, so only its
-- first two distinct scores need the histogram (status_private.rank_of); every other rank follows from the
-- page itself. It used to sum the histogram once per entry. PL/pgSQL, so that the plans stay cached
-- (1-plan-caching.sql).
create or replace function status_private.leaderboard_entries(board status_public.leaderboard_period, board_start date, user_ids uuid[])
  returns setof status_public.leaderboard_entry
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
as $$
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

create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME')
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
as $$
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

create or replace function status_private.rank_of(board status_public.leaderboard_period, board_start date, points integer) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
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

-- How many visible users the board has.
create or replace function status_private.board_users(board status_public.leaderboard_period, board_start date) returns integer
  language plpgsql stable
  set plan_cache_mode to force_generic_plan
  -- Plain index scans over the deltas: they mark the entries of folded (deleted) deltas dead, so that the
  -- next reads skip them (a bitmap scan would visit every one until VACUUM).
  set enable_bitmapscan to off
as $$
begin
  return (coalesce((select sum(counts.users) from status_private.leaderboard_bucket_counts as counts
                    where counts.period = board and counts.period_start = board_start), 0)
        + coalesce((select sum(deltas.users) from status_private.leaderboard_count_deltas as deltas
                    where deltas.period = board and deltas.period_start = board_start), 0))::integer;
end;
$$;

-- The users just above and just below the signed-in one. Each side is two index ranges (the same points on
-- one side of the user, then other points), not one OR, which would walk the board from its top.
create or replace function status_public.leaderboard_around_me(period status_public.leaderboard_period default 'ALL_TIME', radius integer default 5)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path to pg_catalog, public, pg_temp
  set plan_cache_mode to force_generic_plan
as $$
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

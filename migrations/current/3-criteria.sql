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

-- Issue 10 (the cost of the event path), part "rows": fewer statements per event.

-- The score row and the tallies: one statement (the zero score row a data-modifying CTE of the tally upsert).
create or replace function status_private.count_steps(steps status_private.pipeline_step[]) returns void
    language plpgsql
    set plan_cache_mode to 'force_generic_plan'
    as $$
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

-- The freeze probe moves into the event path's round query (one statement less per round).
drop function if exists status_private.extend_streaks(status_private.pipeline_step[]);
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[], any_freezes boolean) returns void
    language plpgsql
    set plan_cache_mode to 'force_generic_plan'
    as $$
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

revoke all on function status_private.extend_streaks(status_private.pipeline_step[], boolean) from public;

-- The rounds run the stages themselves: the catalog probe (which stages can apply) and extend_streaks' freeze
-- probe are part of the query that forms each round, and no run_stages call per round.
create or replace function status_private.tg_user_steps__event_path() returns trigger
    language plpgsql security definer
    set search_path to 'pg_catalog', 'public', 'pg_temp'
    set plan_cache_mode to 'force_generic_plan'
    as $$
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

drop function if exists status_private.run_stages(status_private.pipeline_step[]);

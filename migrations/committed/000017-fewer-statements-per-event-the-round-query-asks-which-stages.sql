--! Previous: sha1:c06cbb64df25f8e02a63bee96eee0fe37362a83a
--! Hash: sha1:299bbb899b8c70b7db2cf78832fc786cd709c09f
--! Message: Fewer statements per event (the round query asks which stages apply and whether a user holds a freeze; the zero score row and the tally in one statement) and my rank's levels 1 to 3 in one scan

--! split: 3-rows.sql
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

--! split: 5-rank.sql
-- Issue 10, my rank: the rank levels above level 0 in one index scan (5-rank.sql).
-- status_private.users_around read the four rows on a score's path with four primary-key lookups. Levels 1
-- to 3 are now one range scan of the same primary key, from (level 1, the score's level-1 block) to level 3:
-- the rows between are level 1's blocks above the score's, level 2's blocks and level 3's one row (three rows
-- on a board whose scores stay below 65,536; at most 256 + 128 + 1 for any integer score), the wanted one of
-- each level kept by a filter. Level 0 keeps its own lookup (a range to it would pass every level-0 block
-- above the score). Same answers (test/db/status_private/fold_leaderboard_deltas.test.ts checks the level
-- edges up to 2^31 against count(*)); bench/README.md "my rank, cheaper" has the A/B.
create or replace function status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer)
returns table(above integer, "at" integer, on_board integer)
language sql stable as $$
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
comment on function status_private.users_around(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users are above `points` on the board, at it, and on the board (the rank levels plus pending deltas): a rank is 1 + above. Level 0 by its key, levels 1 to 3 in one range scan (5-rank.sql). Inlined into the reads that call it.';
revoke all on function status_private.users_around(text, status_public.leaderboard_period, date, integer) from public;

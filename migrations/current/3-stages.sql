-- Issue 10: the stages of the event path and what they trigger, cheaper per event, with every behaviour kept
-- (bench/README.md, "The cost of one event": where an event's time went, and what each change saved).
--   - run_stages asks the catalog once per round which stages can apply (ranked tallies, level requirements)
--     and skips the others.
--   - The unlock stage takes the unlocks' cursors and writes their provenance (rule version, points multiplier,
--     criteria values) itself, in the statement that inserts them: the per-row BEFORE triggers now run only for
--     other inserts (a backfill), which leave those columns empty.
--   - The unlock notifications go out from the unlocks' statement-level outbox trigger, not a row trigger each.
--   - The points trigger and add_to_boards: tiers looked up inside the statements that need them (not a
--     PL/pgSQL tier_for per row), and the boards' upsert and the histogram deltas in one statement.
--   - Tier changes reach the outbox from row triggers that fire only when the tier changes (a WHEN clause,
--     checked without calling a function), not from statement triggers that ran on every score write.
--   - step_results: the tier before by a lookup in its statement.

-- The tier of `points` (NULL below every tier), for the statements of the event path: a scalar subquery
-- in the caller's statement, planned once with it (status_private.tier_for, PL/pgSQL, is one more call per row).
-- Used as: (select tier.name from status_public.tiers as tier where tier.min_points <= <points>
--           order by tier.min_points desc limit 1)

--------------------------------------------------------------------------------------------------------------
-- The stages, in order. The catalog says once per round which stages can apply to the round's actions.
create or replace function status_private.run_stages(steps status_private.pipeline_step[]) returns void
  language plpgsql volatile
as $$
declare
  any_ranked boolean;
  any_levels boolean;
begin
  -- By each action's key (scalar subqueries: index lookups whatever the cached plan).
  select coalesce(bool_or((select action.ranked from status_public.actions as action where action.name = step.name)), false),
         coalesce(bool_or(step.count > 0
                          and (select true from status_public.level_requirements as requirement where requirement.name = step.name limit 1)), false)
    into any_ranked, any_levels
    from unnest(steps) as step;
  perform status_private.count_steps(steps);
  if any_ranked then
    perform status_private.rank_tallies(steps);
  end if;
  perform status_private.extend_streaks(steps);
  perform status_private.unlock_achievements(steps);
  if any_levels then
    perform status_private.achieve_levels(steps);
  end if;
end;
$$;

--------------------------------------------------------------------------------------------------------------
-- Stage 4: unlocks. Candidates first (as before); then one statement takes each user's cursors for them, inserts
-- the unlocks with their provenance, and the ledger rows of their points.

-- The achievements a step of `action` at `occurred_at` may unlock for `user_id`: those with a criterion naming
-- the action or an any-activity streak, available then, not unlocked yet. Their criteria are the caller's to
-- check (the unlock stage asks the registry; an import, its as-of state). SQL, stable and not strict, so it is
-- inlined into the caller's query and each candidate stays an index lookup.
create or replace function status_private.achievements_to_check(user_id uuid, action text, occurred_at timestamptz)
  returns setof status_public.achievements
  language sql stable
as $$
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
revoke all on function status_private.achievements_to_check(uuid, text, timestamptz) from public;

create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql volatile
  set plan_cache_mode = force_generic_plan
as $$
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
  -- The provenance (what _060_provenance computes for other inserts): the rules' version, the multiplier in
  -- force at the step, and each criterion's progress as this stage evaluated it (the step's action at the
  -- user's local time). The unique key makes each unlock happen exactly once, even when concurrent
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
           case when multiplier.value is null then found.points else round(found.points * multiplier.value)::integer end,
           found.step_id, (cursors.last_cursor - found.of_user + found.nth)::integer,
           (select version.version from status_public.achievement_rule_versions as version
            where version.achievement_id = found.achievement_id order by version.version desc limit 1),
           multiplier.value,
           (select coalesce(jsonb_agg(status_private.criterion_rule(criterion) || jsonb_build_object('current', progress.current, 'target', progress.target)
                                      order by criterion.kind, criterion.action, criterion.threshold, criterion.hour_from, criterion.hour_until), '[]')
            from status_public.achievement_criteria as criterion
            cross join lateral status_private.criterion_progress(criterion, found.user_id, found.name, found.local_time) as progress
            where criterion.achievement_id = found.achievement_id)
    from found
    join cursors on cursors.user_id = found.user_id
    cross join lateral (
      select max(multiplier_window.multiplier) as value from status_public.points_multipliers as multiplier_window
      where multiplier_window.ends_at > found.occurred_at and multiplier_window.starts_at <= found.occurred_at
    ) as multiplier
    order by found.position
    on conflict (user_id, achievement_id) do nothing
    returning id, user_id, points
  )
  insert into status_public.points_ledger (user_id, points, unlock_id)
  select unlocked.user_id, unlocked.points, unlocked.id from unlocked where unlocked.points > 0;
end;
$$;

-- The row triggers do the same for the other inserts (a backfill), which leave cursor and provenance empty:
-- their WHEN is checked without calling the function.
drop trigger if exists _050_take_cursor on status_public.achievement_unlocks;
create trigger _050_take_cursor before insert on status_public.achievement_unlocks
  for each row when (NEW.cursor is null) execute function status_private.tg__take_user_cursor();
drop trigger if exists _060_provenance on status_public.achievement_unlocks;
create trigger _060_provenance before insert on status_public.achievement_unlocks
  for each row when (NEW.criteria_values is null) execute function status_private.tg_achievement_unlocks__provenance();

-- The unlocks' events: the outbox rows and the users' notifications, once per statement. The notifications
-- (ids only; sent only if the transaction commits) were a row trigger each (_500_notify).
create or replace function status_private.tg_achievement_unlocks__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
  select 'achievement_unlocked', unlock.user_id, unlock.unlocked_at,
         jsonb_build_object('userId', unlock.user_id, 'unlockId', unlock.id, 'achievementId', unlock.achievement_id,
                            'achievementName', achievement.name, 'points', unlock.points, 'cursor', unlock.cursor,
                            'unlockedAt', unlock.unlocked_at)
  from new_unlocks as unlock
  join status_public.achievements as achievement on achievement.id = unlock.achievement_id
  order by unlock.user_id, unlock.cursor;
  if found then
    -- In the order the row trigger sent them (the insert's: user, cursor).
    perform status_private.notify_user(unlock.user_id, 'achievement_unlocked', unlock.id::text)
      from new_unlocks as unlock order by unlock.user_id, unlock.cursor;
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;
drop trigger if exists _500_notify on status_public.achievement_unlocks;

--------------------------------------------------------------------------------------------------------------
-- Scores: the points trigger. One statement sums the awards per user and per board; tiers are looked up in
-- the statements that write them.
create or replace function status_private.tg_points_ledger__scores() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
declare
  -- Each user's awards of the statement, summed (period NULL), and per board.
  user_awards status_private.board_award[];
  awards status_private.board_award[];
  -- Points only added (the usual case): one upsert each for the scores and the boards.
  only_gains boolean;
  tiers_before status_private.user_tier[];
  tiers_changed status_private.user_tier[];
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

  -- Scores and tiers, and a notification for each tier that changed.
  if only_gains then
    -- The tier before is the tier of the points before.
    with upserted as (
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
            reached_at = excluded.reached_at
      returning current_score.user_id, current_score.points, current_score.tier, (current_score.xmax = 0) as inserted
    )
    select coalesce(array_agg(row(upserted.user_id, upserted.tier)::status_private.user_tier), '{}') into tiers_changed
      from upserted join unnest(user_awards) as award using (user_id)
      where upserted.inserted
         or upserted.tier is distinct from (select tier.name from status_public.tiers as tier
                                            where tier.min_points <= upserted.points - award.points order by tier.min_points desc limit 1);
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
  if cardinality(tiers_changed) > 0 then
    perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
      from unnest(tiers_changed) as changed;
  end if;

  -- The boards: each period's score.
  perform status_private.add_to_boards(awards);
  return null;
end;
$$;

-- The boards. Gains only (the usual case): the upsert and the histogram's deltas in one statement.
create or replace function status_private.add_to_boards(awards status_private.board_award[]) returns void
  language plpgsql volatile
  set plan_cache_mode = force_generic_plan
as $$
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

-- Tier changes for the outbox: a row trigger whose WHEN (checked without calling the function) lets through
-- only an inserted row with points or an update that changed the tier. A row created at 0 points by a user's
-- first step holds the starting tier: that is no change. (Were statement triggers, run on every score write.)
create or replace function status_private.tg_user_scores__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  previous_tier text;
begin
  if TG_OP = 'UPDATE' then
    previous_tier := OLD.tier;
  end if;
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload)
  values ('tier_changed', NEW.user_id, NEW.reached_at,
          jsonb_build_object('userId', NEW.user_id, 'tier', NEW.tier, 'previousTier', previous_tier, 'points', NEW.points));
  perform pg_notify('achievements:outbox', '');
  return null;
end;
$$;
drop trigger if exists _600_outbox_inserted on status_public.user_scores;
create trigger _600_outbox_inserted after insert on status_public.user_scores
  for each row when (NEW.points > 0) execute function status_private.tg_user_scores__outbox();
drop trigger if exists _600_outbox_updated on status_public.user_scores;
create trigger _600_outbox_updated after update on status_public.user_scores
  for each row when (NEW.tier is distinct from OLD.tier) execute function status_private.tg_user_scores__outbox();

--------------------------------------------------------------------------------------------------------------
-- Stage 1: the score row and the tallies (the starting tier looked up in the statement).
create or replace function status_private.count_steps(steps status_private.pipeline_step[]) returns void
  language plpgsql volatile
  set plan_cache_mode = force_generic_plan
as $$
declare
  taken_back status_private.pipeline_step;
  tally_id uuid;
  remaining integer;
begin
  insert into status_public.user_scores (user_id, points, tier)
    select step.user_id, 0, (select tier.name from status_public.tiers as tier where tier.min_points <= 0 order by tier.min_points desc limit 1)
    from unnest(steps) as step
    order by step.user_id
    on conflict (user_id) do nothing;
  -- One upsert: concurrent steps of the same user and name serialise on the tally row, so the count is exact.
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

--------------------------------------------------------------------------------------------------------------
-- Stage 3: streaks. The freeze probe looks each step's user up by key.
create or replace function status_private.extend_streaks(steps status_private.pipeline_step[]) RETURNS void
  language plpgsql volatile
  set plan_cache_mode = force_generic_plan
as $$
begin
  -- Only when one of the steps' users holds a freeze or has spent one (a frozen day also keeps their other
  -- streaks). Looked up by those users, never across all of them (docs/scaling.md: a read of the whole table
  -- here was a query on every shard for every event).
  -- Per step by the user's key (scalar subqueries: a join here was cached as a hash join over both tables).
  if exists (select from unnest(steps) as step
             where (select true from status_public.user_streak_freezes as held where held.user_id = step.user_id and held.freezes > 0)
                or (select true from status_public.user_frozen_days as frozen where frozen.user_id = step.user_id limit 1)) then
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

--------------------------------------------------------------------------------------------------------------
-- The result of each step, from the rows the stages wrote (the tier before by a lookup in the statement).
create or replace function status_private.step_results(steps status_public.user_steps[]) RETURNS SETOF status_public.record_action_result
  language sql stable
as $$
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

--------------------------------------------------------------------------------------------------------------
-- Helpers made inlinable, so that the statements calling them per row plan them once: a SQL function that is
-- not inlined is planned again on every call.
-- notify_user: one expression (a WHERE clause kept it from being inlined).
create or replace function status_private.notify_user(user_id uuid, event text, id text) returns void
  language sql volatile
as $$
  -- Ids only (payloads are limited to 8000 bytes); subscribers re-read the rows under their own RLS.
  -- Sent only if the transaction commits.
  select case when coalesce(current_setting('achievements.quiet_notifications', true), '') <> 'on'
              then pg_notify('achievements:' || user_id::text, json_build_object('event', event, 'id', id)::text) end;
$$;
-- criterion_rule: jsonb_build_object is stable, and PostgreSQL does not inline an immutable function whose
-- body is not.
alter function status_private.criterion_rule(status_public.achievement_criteria) stable;

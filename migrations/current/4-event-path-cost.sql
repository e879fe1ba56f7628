-- Issue 10, the cost of one event: the same event path (migration 000008) with fewer rows written and fewer
-- statements run per event (bench/README.md, "The cost of one event", has the measurements). Each change says
-- what it saves where it is made. Behaviour is unchanged: the unlock in the action's transaction, exactly
-- once, notifications on commit, idempotent retries, exact ranks.

-- Entry: a step without an idempotency key is a plain insert. Its unique key (user_id, idempotency_key) cannot
-- conflict on a NULL key, and ON CONFLICT costs a speculative insertion (a speculative-insertion lock, a
-- pre-check of the key, and a confirmation record in the WAL) on every event.
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
    insert into status_private.recorded_action_results (step_id, result) values (step.id, to_jsonb(result));
  end if;
  return result;
end;
$$;

-- Stage 2: a streak already at (or past) the step's day does not move, so it is not rewritten: before, every
-- event wrote a new version of both of the user's streak rows (the same values and a new updated_at).
-- updated_at is now when the streak last moved. The upsert still locks the row it leaves alone (so a
-- concurrent step of the same day waits, as before); a filter before the upsert would save that lock too, but
-- its generic plan, made while user_streaks is small, scans the table on every event.
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

-- Stage 3: most events unlock nothing. The candidates are found first, and only when there are some does the
-- stage insert unlocks and ledger rows: a statement-level trigger fires even for an insert of no rows, so the
-- points trigger (scores, tiers, boards) used to run on every event.
-- An achievement already unlocked is left out before its criteria are evaluated.
-- A candidate unlock, between the search and the insert (a type of its own, not the table's row type, which
-- changes whenever achievement_unlocks gains a column).
do $$ begin
  create type status_private.unlock_candidate as (user_id uuid, achievement_id text, points integer, step_id uuid);
exception when duplicate_object then null;
end $$;
create or replace function status_private.unlock_achievements(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
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
      cross join lateral (
        -- Two index lookups, not one OR (an OR would scan every criterion in a generic plan).
        select criterion.achievement_id from status_public.achievement_criteria as criterion where criterion.action = step.name
        union
        select criterion.achievement_id from status_public.achievement_criteria as criterion
          where criterion.action is null and criterion.kind = 'streak'
      ) as named
      -- By primary key, one candidate at a time (offset 0 keeps it a lookup): a plan cached while the catalog
      -- was small would otherwise hash the whole catalog on every event once it has grown. Not unlocked yet:
      -- checked here, before the criteria.
      cross join lateral (
        select achievement.* from status_public.achievements as achievement
        where achievement.id = named.achievement_id
          and not exists (
            select from status_public.achievement_unlocks as unlock
            where unlock.user_id = step.user_id and unlock.achievement_id = achievement.id)
        offset 0
      ) as achievement
      where step.count > 0
        and (achievement.available_from is null or achievement.available_from <= step.occurred_at)
        and (achievement.available_until is null or step.occurred_at < achievement.available_until)
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
  -- The unique key makes each unlock happen exactly once, even when concurrent transactions cross the
  -- threshold together (the loser's insert does nothing).
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
end;
$$;

-- Stage 4: most actions count towards no level (in the demo catalog, none of `tasks_completed`'s): one probe
-- of the requirements' key then, instead of the insert's plan over levels, requirements and tallies.
create or replace function status_private.achieve_levels(steps status_private.pipeline_step[]) returns void
  language plpgsql
  set plan_cache_mode to force_generic_plan
as $$
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

-- Scores: the points trigger returns at once when the statement inserted no ledger rows, and skips the tier
-- notifications and the histogram's deltas when there are none (a statement each). Otherwise as in 000008.
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
  -- A statement trigger runs even for an insert of no rows: nothing to do then.
  if user_awards is null then
    return null;
  end if;
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
  if cardinality(tiers_changed) > 0 then
    perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
      from unnest(tiers_changed) as changed;
  end if;

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
  if cardinality(moves) > 0 then
    perform status_private.append_histogram_moves(moves);
  end if;
  return null;
end;
$$;

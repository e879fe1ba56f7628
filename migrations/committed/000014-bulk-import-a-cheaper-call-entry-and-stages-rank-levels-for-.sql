--! Previous: sha1:f48fefdb5914ef44e2a48c398e57d1f55c19c268
--! Hash: sha1:482638721e446b4933e14b5481cc5a1bfcb94c96
--! Message: Bulk import, a cheaper call entry and stages, rank levels for reads: import_actions skips the live rounds for its own steps and derives their effects set-based; unlogged rate-limit buckets spent in one statement; unlock cursors and provenance written by the unlock stage; my rank and around-me from four levels of running totals kept by the fold

--! split: 2-entry.sql
-- The entry of one event (issue 10): the rate limit and what runs before the step's insert, cheaper.

-- The buckets are a rate limit's bookkeeping, rewritten on every event: no WAL for them. After a crash (or a
-- failover) they start empty, that is with every allowance full; replicas have no rows to read (nothing reads
-- the table there: the rate limit runs on the primary, in the mutations).
alter table status_private.record_action_allowances set unlogged;
comment on table status_private.record_action_allowances is
  E'The recordAction rate limit''s token buckets: one row per user, up to 16 per service client. Unlogged: after a crash every allowance starts full.';

-- One SQL expression (inlined into its callers' expressions), not a PL/pgSQL call per setting.
create or replace function status_private.record_action_rate_setting(name text, fallback integer) returns integer
  language sql stable
as $$
  select coalesce(case when current_setting('achievements.' || name, true) ~ '^\s*[0-9]{1,9}\s*$'
                       then current_setting('achievements.' || name, true)::integer end,
                  fallback);
$$;

create or replace function status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid) returns void
  language plpgsql
as $$
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

-- The two entry points pin the plan cache mode for the whole call (the rate limit's statement and
-- status_private.record_action's); status_private.record_action itself runs as its callers do (both SECURITY
-- DEFINER with the pinned search_path), without a GUC frame of its own on every event.
create or replace function status_public.record_action(action text, amount integer default 1, idempotency_key text default null) returns status_public.record_action_result
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
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
  perform status_private.spend_record_action_allowance(user_id, idempotency_key, null);
  return status_private.record_action(user_id, action, amount, idempotency_key, null);
end;
$$;

create or replace function status_public.record_action_for(user_id uuid, action text, amount integer default 1, idempotency_key text default null,
                                                          occurred_at timestamptz default null) returns status_public.record_action_result
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
begin
  -- The service client is the token's sub; a direct SQL caller without one counts as the nil uuid.
  perform status_private.spend_record_action_allowance(record_action_for.user_id, idempotency_key,
    coalesce(jwt_public.current_user_id(), '00000000-0000-0000-0000-000000000000'));
  return status_private.record_action(record_action_for.user_id, action, amount, idempotency_key, occurred_at);
end;
$$;

-- Called only by the two functions above (SECURITY DEFINER, search_path pinned, plan cache mode set): it runs
-- with their rights and settings.
create or replace function status_private.record_action(user_id uuid, action text, amount integer, idempotency_key text, occurred_at timestamptz)
  returns status_public.record_action_result
  language plpgsql
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
    insert into status_private.recorded_action_results (step_id, user_id, result) values (step.id, step.user_id, to_jsonb(result));
  end if;
  return result;
end;
$$;

--! split: 3-stages.sql
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

--! split: 4-reads.sql
-- Reads (issue 10's read goal): a rank read a few histogram rows instead of summing every 100-point bucket
-- above the user (~200 rows at 100,000 users), and the top N is one statement.
--
-- The rank levels: per board, the histogram as a tree of 256-way blocks. The level-L block b covers the points
-- whose bits above 8(L+1) are b; its 256 children are the values of the points' next 8 bits (level 0: single
-- scores; level 3: one block for the whole board). Each row keeps the suffix sums of its children (how many
-- users are at that child or any later one), so the users above a score are one array element per level:
-- four primary-key lookups, whatever the board's size. The fold keeps them, with the other two histogram
-- tables, from the deltas the event path appends: nothing more is written per event.

create table if not exists status_private.leaderboard_rank_levels (
  action text not null,
  period status_public.leaderboard_period not null,
  period_start date not null,
  level smallint not null check (level between 0 and 3),
  block integer not null check (block >= 0),
  -- users_from[1 + c]: the visible users in this block at child c or a later one (so users_from[1]: all of them).
  users_from integer[] not null check (cardinality(users_from) = 256 and 0 <= all (users_from)),
  primary key (action, period, period_start, level, block)
);
alter table status_private.leaderboard_rank_levels enable row level security;
comment on table status_private.leaderboard_rank_levels is
  E'The leaderboard histogram as 256-way levels of suffix sums (4-reads.sql): a rank reads one row per level. Kept by the fold; read by status_private.users_around, with the pending deltas.';

-- The changes, added to the rank levels: for each block they touch, the block's suffix sums plus theirs (a
-- block brought back to no users leaves). PL/pgSQL: a loop over a block's array, where SQL would make a row of
-- each of its 256 places. Called by the fold only (one folder at a time: no row is read and written by two).
create or replace function status_private.fold_into_rank_levels(changes status_private.histogram_change[]) returns void
  language plpgsql
as $$
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
revoke all on function status_private.fold_into_rank_levels(status_private.histogram_change[]) from public;

-- The rank levels from the folded histogram (leaderboard_point_counts), under the fold's lock: this migration
-- runs it (every time, so the levels always start equal to the histogram), and so can anyone who rewrites the
-- histogram by hand (bench/growth.ts).
create or replace function status_private.rebuild_leaderboard_rank_levels() returns void
  language plpgsql
as $$
begin
  perform pg_advisory_xact_lock(hashtext('status_private.fold_leaderboard_deltas'));
  delete from status_private.leaderboard_rank_levels;
  perform status_private.fold_into_rank_levels(array(
    select row(counts.action, counts.period, counts.period_start, counts.points, counts.users)::status_private.histogram_change
    from status_private.leaderboard_point_counts as counts where counts.users <> 0));
end;
$$;
revoke all on function status_private.rebuild_leaderboard_rank_levels() from public;
comment on function status_private.rebuild_leaderboard_rank_levels() is
  E'Rebuilds status_private.leaderboard_rank_levels from leaderboard_point_counts (after writing the histogram by hand).';

create or replace function status_private.fold_leaderboard_deltas() returns integer
  language plpgsql security definer
  set search_path = pg_catalog, public, pg_temp
as $$
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
  perform status_private.fold_into_histogram(changes, 1);
  perform status_private.fold_into_histogram(changes, 100);
  perform status_private.fold_into_rank_levels(changes);
  return cardinality(changes);
end;
$$;

select status_private.rebuild_leaderboard_rank_levels();

-- The histogram counts, from the rank levels plus the pending deltas: plain SQL, inlined into the reads.
-- users_around reads each level's row on the score's path once (four primary-key lookups) and the board's
-- deltas once, for the three counts a read needs; the other three say what they count, for ad-hoc use.
-- A score's child at level L is (points >> 8L) & 255, in the block points >> 8(L + 1); an element past the
-- end of the array (child 255's next) is null: no one.
create or replace function status_private.users_around(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (above integer, "at" integer, on_board integer)
  language sql stable
as $$
  select (coalesce(level_0.users_from[(probe.points & 255) + 2], 0) + coalesce(level_1.users_from[((probe.points >> 8) & 255) + 2], 0)
          + coalesce(level_2.users_from[((probe.points >> 16) & 255) + 2], 0) + coalesce(level_3.users_from[(probe.points >> 24) + 2], 0)
          + coalesce(pending.above, 0))::integer,
         (coalesce(level_0.users_from[(probe.points & 255) + 1] - coalesce(level_0.users_from[(probe.points & 255) + 2], 0), 0)
          + coalesce(pending."at", 0))::integer,
         (coalesce(level_3.users_from[1], 0) + coalesce(pending.on_board, 0))::integer
  -- Scores are positive: below 0, everyone is above, as at 0.
  from (select greatest(users_around.points, 0) as points) as probe
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 0 and levels.block = probe.points >> 8) as level_0 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 1 and levels.block = probe.points >> 16) as level_1 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 2 and levels.block = probe.points >> 24) as level_2 on true
  left join lateral (select levels.users_from from status_private.leaderboard_rank_levels as levels
                     where levels.action = board_action and levels.period = board and levels.period_start = board_start
                       and levels.level = 3 and levels.block = 0) as level_3 on true
  left join lateral (select sum(deltas.users) filter (where deltas.points > probe.points) as above,
                            sum(deltas.users) filter (where deltas.points = users_around.points) as "at",
                            sum(deltas.users) as on_board
                     from status_private.leaderboard_count_deltas as deltas
                     where deltas.action = board_action and deltas.period = board and deltas.period_start = board_start) as pending on true
  offset 0; -- a fence: computed once, however often the calling statement refers to it
$$;
revoke all on function status_private.users_around(text, status_public.leaderboard_period, date, integer) from public;
comment on function status_private.users_around(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users are above `points` on the board, at it, and on the board (the rank levels plus pending deltas): a rank is 1 + above. Inlined into the reads that call it.';

create or replace function status_private.users_above(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around.above from status_private.users_around(board_action, board, board_start, users_above.points) as around;
$$;
comment on function status_private.users_above(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have more than `points` on the board (status_private.users_around): a rank is 1 + this.';

create or replace function status_private.users_at(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around."at" from status_private.users_around(board_action, board, board_start, users_at.points) as around;
$$;
comment on function status_private.users_at(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have exactly `points` on the board (status_private.users_around).';

create or replace function status_private.users_up_to(board_action text, board status_public.leaderboard_period, board_start date, points integer)
  returns table (users integer)
  language sql stable
as $$
  select around.on_board - around.above from status_private.users_around(board_action, board, board_start, users_up_to.points) as around;
$$;
comment on function status_private.users_up_to(text, status_public.leaderboard_period, date, integer) is
  E'How many visible users have at most `points` on the board (status_private.users_around).';

-- A page's entries (around me): one histogram lookup for the page's first score (users above it and at it).
create or replace function status_private.leaderboard_entries(board_action text, board status_public.leaderboard_period, board_start date,
                                                              page_users uuid[], page_points integer[], page_offset integer)
  returns setof status_public.leaderboard_entry
  language sql stable
as $$
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

-- Top N: one statement (the page from the listing index, ranked within itself, with its entries' columns),
-- where it was two (the page's arrays, then the entries) and a call to resolve the board. The first page's
-- ranks need no histogram (rank = 1 + those above within the page); a later page reads it once, for its
-- first score.
create or replace function status_public.leaderboard(period status_public.leaderboard_period default 'ALL_TIME', first integer default 10,
                                                     "offset" integer default 0, action text default null)
  returns setof status_public.leaderboard_entry
  language plpgsql stable security definer
  set search_path = pg_catalog, public, pg_temp
  -- One generic plan (first and offset are parameters; custom plans would be planned on every call).
  set plan_cache_mode = force_generic_plan
as $$
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

-- My rank: the user's row, the users above it and the board's size: the rank levels make that a few
-- primary-key lookups (it summed every bucket above and below the user).
create or replace function status_public.my_rank(period status_public.leaderboard_period default 'ALL_TIME', action text default null)
  returns status_public.leaderboard_rank
  language plpgsql stable security definer
  set search_path = pg_catalog, public, pg_temp
  set plan_cache_mode = force_generic_plan
as $$
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

--! split: 5-import.sql
-- Bulk import of historical events (issue 10, Batches): status_public.import_actions inserts a batch of steps in
-- one statement with the live per-round event path skipped, then derives what the steps change set-based:
-- tallies (one upsert), action boards, streaks, unlocks (points, scores, tiers, point boards through the ledger
-- trigger) and levels, each as replaying the events one by one through record_action_for in occurred order
-- would leave them (test/db/status_public/import_actions.test.ts compares both).

-- Who may skip the event path: only import_actions, for the steps it inserts. It records a random token for
-- its backend and transaction here and puts the same token in a transaction-local setting; the event path
-- returns at once only when both match. The setting alone (which any caller can set) skips nothing, and no API
-- role can read or write this table.
create table if not exists status_private.import_tokens (
  backend_pid integer primary key,
  transaction_id xid8 not null,
  token text not null
);
alter table status_private.import_tokens enable row level security;
comment on table status_private.import_tokens is
  E'The import running in a backend''s transaction (status_public.import_actions): its steps skip the live event path while the setting achievements.import_token holds this token. Written only by import_actions, which deletes its row before it returns.';

-- The event path: unchanged, except that an import's own steps return at once (one current_setting() call for
-- every other statement).
create or replace function status_private.tg_user_steps__event_path() returns trigger
    language plpgsql security definer
    set search_path to 'pg_catalog', 'public', 'pg_temp'
    set plan_cache_mode to 'force_generic_plan'
    as $$
declare
  steps status_private.pipeline_step[];
begin
  -- An import derives what its steps change itself (status_public.import_actions).
  if coalesce(current_setting('achievements.import_token', true), '') <> ''
     and exists (select from status_private.import_tokens as import
                 where import.backend_pid = pg_backend_pid() and import.transaction_id = pg_current_xact_id()
                   and import.token = current_setting('achievements.import_token', true)) then
    return null;
  end if;
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
revoke all on function status_private.tg_user_steps__event_path() from public;

-- The streaks an import's steps leave, after each step that changes one: per user and streak (an action's, and
-- NULL: any activity), as extend_streaks would leave them step by step (a step on a day after the streak's
-- last day extends it, or starts a new one after a gap). For users without streak freezes (import_actions
-- sends the others through the live path). `steps`: one user's steps in the order they apply; `n` is a step's
-- position in `steps`.
create or replace function status_private.import_streak_states(steps status_private.pipeline_step[])
  returns table (user_id uuid, action text, n bigint, current_length integer, longest_length integer, last_day date)
  language sql stable
as $$
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
revoke all on function status_private.import_streak_states(status_private.pipeline_step[]) from public;

drop function if exists status_public.import_actions(status_public.action_event[], boolean);
drop type if exists status_public.import_actions_result;
create type status_public.import_actions_result as (
  events integer,
  imported integer,
  skipped integer,
  users integer,
  unlocks integer,
  points integer,
  levels_achieved integer
);
comment on type status_public.import_actions_result is E'What an importActions call did, in sum.';
comment on column status_public.import_actions_result.events is E'@notNull\nThe events given.';
comment on column status_public.import_actions_result.imported is E'@notNull\nThe events recorded as new steps.';
comment on column status_public.import_actions_result.skipped is E'@notNull\nThe events skipped because their user already used their idempotency key.';
comment on column status_public.import_actions_result.users is E'@notNull\nThe users with imported steps.';
comment on column status_public.import_actions_result.unlocks is E'@notNull\nThe achievements the imported steps unlocked.';
comment on column status_public.import_actions_result.points is E'@notNull\nThe points those unlocks awarded.';
comment on column status_public.import_actions_result.levels_achieved is E'@notNull\nThe levels the imported steps achieved.';

create function status_public.import_actions(events status_public.action_event[], notify boolean default false)
  returns status_public.import_actions_result
  language plpgsql volatile security definer
  set search_path to 'pg_catalog', 'public', 'pg_temp'
as $$
declare
  -- The same bound as record_actions (0 or nonsense: the default).
  max_events integer := coalesce(nullif(status_private.record_action_rate_setting('record_actions_max_events', 1000), 0), 1000);
  quiet text := current_setting('achievements.quiet_notifications', true);
  token text := gen_random_uuid()::text;
  -- As record_actions: the ids' first 32 bits count up in the order given, so that a user's events that happened
  -- at the same moment apply (and sort in user_steps) in that order.
  id_base bigint := floor(random() * (4294967295 - 100000000));
  problem record;
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

  -- record_actions's checks for the service role, all or nothing; the first event that cannot be imported, and why.
  select checked.*, problems.problem into problem
    from (select listed.position, listed.user_id, listed.action, coalesce(listed.amount, 1) as amount, listed.idempotency_key,
                 catalog_action.name is not null as known, catalog_action.max_amount,
                 earlier.name as previous_action, earlier.count as previous_amount,
                 row_number() over (partition by listed.user_id, listed.idempotency_key order by listed.position) as key_use
          from unnest(events) with ordinality as listed (user_id, action, amount, idempotency_key, occurred_at, position)
          left join status_public.actions as catalog_action on catalog_action.name = listed.action
          left join lateral (
            select step.name, step.count from status_public.user_steps as step
            where listed.idempotency_key is not null and step.user_id = listed.user_id and step.idempotency_key = listed.idempotency_key
            limit 1
          ) as earlier on true) as checked
    cross join lateral (
      select case
        when checked.user_id is null then 'no user'
        when not checked.known then 'unknown action'
        when checked.amount < 1 or checked.amount > checked.max_amount then 'amount'
        when checked.idempotency_key is not null and length(checked.idempotency_key) not between 1 and 200 then 'key length'
        when checked.idempotency_key is not null and checked.key_use > 1 then 'key twice'
        when checked.previous_action <> checked.action or checked.previous_amount <> checked.amount then 'key taken'
      end as problem) as problems
    where problems.problem is not null
    order by checked.position
    limit 1;
  if problem.problem = 'no user' then
    raise exception 'Event %: name the user (userId)', problem.position using errcode = 'AC400';
  elsif problem.problem = 'unknown action' then
    raise exception 'Event %: unknown action "%"', problem.position, problem.action
      using errcode = 'AC404', hint = 'Query `actions` for the names that exist.';
  elsif problem.problem = 'amount' then
    raise exception 'Event %: the amount must be a whole number from 1 to % for "%", got %', problem.position, problem.max_amount, problem.action, problem.amount
      using errcode = 'AC400';
  elsif problem.problem = 'key length' then
    raise exception 'Event %: the idempotency key must be 1 to 200 characters', problem.position using errcode = 'AC400';
  elsif problem.problem = 'key twice' then
    raise exception 'Event %: the idempotency key "%" is used twice in the batch', problem.position, problem.idempotency_key
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  elsif problem.problem = 'key taken' then
    raise exception 'Event %: the idempotency key "%" was already used for % x "%"', problem.position, problem.idempotency_key,
                    problem.previous_amount, problem.previous_action
      using errcode = 'AC409', hint = 'Use a new key for a new action.';
  end if;

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
comment on function status_public.import_actions(status_public.action_event[], boolean) is
  E'@notNull\nFor the service role and admins: imports historical events (each `userId`, `action`, `amount`, `occurredAt`, optional `idempotencyKey`) in one call and returns what they did in sum. The end state (tallies, streaks, unlocks, points, tiers, levels, boards) is the one that recording the events one by one with recordActionFor in `occurredAt` order would leave: each user''s events apply after the steps they already have, in `occurredAt` order (then input order). Events whose user already used their idempotency key are skipped. All or nothing, with recordActions''s checks; at most 1000 events a call (achievements.record_actions_max_events); no rate limit. Quiet: no live notifications unless `notify` (webhooks still get their outbox events).';
revoke all on function status_public.import_actions(status_public.action_event[], boolean) from public;
grant execute on function status_public.import_actions(status_public.action_event[], boolean) to :SERVICE_ROLE, :ADMIN_ROLE;

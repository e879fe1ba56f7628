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

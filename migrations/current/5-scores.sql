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
  tiers_before status_private.user_tier[];
  tiers_changed status_private.user_tier[];
  user_awards status_private.board_award[];
  awards status_private.board_award[];
  moves status_private.histogram_move[];
begin
  -- Each user's awards of the statement, summed.
  select array_agg(row(null, null, per_user.user_id, per_user.points, per_user.reached_at)::status_private.board_award
                   order by per_user.user_id)
    into user_awards
    from (select awarded.user_id, sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded group by awarded.user_id) as per_user;
  -- The users' tiers before, their score rows locked in one order (no deadlock between two statements
  -- awarding the same users); rows for the users who have none; then the others' new scores (a new statement,
  -- so that it also sees a row that a concurrent first award inserted meanwhile), and a notification for each
  -- tier that changed.
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
  perform status_private.notify_user(changed.user_id, 'tier_changed', coalesce(changed.tier, ''))
    from unnest(tiers_changed) as changed;

  -- The boards: each period's score of each user awarded (a board holds positive scores only: one that falls
  -- to zero or below leaves it). Existing rows first, then rows for boards the user is new to.
  select array_agg(row(per_board.period, per_board.period_start, per_board.user_id, per_board.points, per_board.reached_at)::status_private.board_award
                   order by per_board.period, per_board.period_start, per_board.user_id)
    into awards
    from (select board.period, status_private.period_start(board.period, awarded.created_at) as period_start, awarded.user_id,
                 sum(awarded.points)::integer as points, max(awarded.created_at) as reached_at
          from awarded cross join unnest(enum_range(null::status_public.leaderboard_period)) as board (period)
          group by 1, 2, 3) as per_board;
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
  with joined as (
    -- A concurrent first award of the same user (no score row to lock yet): added to, as an existing row.
    insert into status_public.leaderboard_scores as score (period, period_start, user_id, points, reached_at, visible)
    select award.period, award.period_start, award.user_id, award.points, award.reached_at,
           not coalesce((select profile.leaderboard_opt_out from status_public.user_profiles as profile where profile.user_id = award.user_id), false)
    from unnest(awards) as award
    where award.points > 0
      and not exists (select from status_public.leaderboard_scores as existing
                      where existing.period = award.period and existing.period_start = award.period_start and existing.user_id = award.user_id)
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
  perform status_private.append_histogram_moves(coalesce(moves, '{}'));
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

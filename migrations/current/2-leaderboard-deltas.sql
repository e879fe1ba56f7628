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

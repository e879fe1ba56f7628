--! Previous: sha1:9de1e04c6816d6c3b8f4e97a88f8504435166434
--! Hash: sha1:bf69e823e8bf18f6ba3902aa5ce678176d240098
--! Message: The histogram per 100-point bucket goes: nothing has read leaderboard_bucket_counts since the rank levels (000014), and the fold wrote it every second; the fold writes the counts per score (fold_into_point_counts) and the rank levels

--! split: 1-point-counts.sql
-- The histogram per 100-point bucket goes (issue 10's leaderboard): since migration 000014 ranks read the rank
-- levels (leaderboard_rank_levels, folded with the counts per score), and nothing read
-- leaderboard_bucket_counts, which the fold kept writing every second. The fold now writes the counts per score
-- and the rank levels; its changes are already one per (board, points), so the regrouping by key goes too.

create or replace function status_private.fold_into_point_counts(changes status_private.histogram_change[]) returns void
  language plpgsql
as $$
begin
  update status_private.leaderboard_point_counts as counts set users = counts.users + change.users
    from unnest(changes) as change
    where change.users < 0 and counts.action = change.action and counts.period = change.period
      and counts.period_start = change.period_start and counts.points = change.points;
  insert into status_private.leaderboard_point_counts as counts (action, period, period_start, points, users)
    select change.action, change.period, change.period_start, change.points, change.users
    from unnest(changes) as change
    where change.users > 0
    order by change.action, change.period, change.period_start, change.points
    on conflict (action, period, period_start, points) do update set users = counts.users + excluded.users;
  delete from status_private.leaderboard_point_counts as counts using unnest(changes) as change
    where counts.users = 0 and counts.action = change.action and counts.period = change.period
      and counts.period_start = change.period_start and counts.points = change.points;
end;
$$;
comment on function status_private.fold_into_point_counts(status_private.histogram_change[]) is
  E'Adds the changes (one per board and points, none zero) to leaderboard_point_counts; a count that reaches 0 is deleted.';
revoke all on function status_private.fold_into_point_counts(status_private.histogram_change[]) from public;

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
  perform status_private.fold_into_point_counts(changes);
  perform status_private.fold_into_rank_levels(changes);
  return cardinality(changes);
end;
$$;

drop function if exists status_private.fold_into_histogram(status_private.histogram_change[], integer);
drop function if exists status_private.histogram_changes_by_key(status_private.histogram_change[], integer);
drop table if exists status_private.leaderboard_bucket_counts;
comment on table status_private.leaderboard_count_deltas is
  E'Changes to the leaderboard histogram not folded into leaderboard_point_counts and leaderboard_rank_levels yet (append-only: writers never lock a shared row).';

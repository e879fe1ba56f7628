--! Previous: sha1:9586d6e9ca99863b3b5b908966752abd129491b2
--! Hash: sha1:0f24a2e263af5564ca1211e45f1d4ac79aeaf427
--! Message: myTier raises UNAUTHENTICATED without a signed-in user

-- my_tier raises UNAUTHENTICATED (AC401) for a visitor who is not signed in, as my_dashboard, my_rank and
-- leaderboard_around_me do, instead of answering 0 points. `create or replace` keeps the function's grants;
-- its comment is set again below (the description of myTier, which stays nullable at the root, without a
-- @notNull tag: see migrations/committed/000005, "4-non-null-types"). Idempotent.
create or replace function status_public.my_tier() returns status_public.tier_progress
  language plpgsql stable security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  me uuid := jwt_public.current_user_id();
begin
  if me is null then
    raise exception 'Sign in to see your tier' using errcode = 'AC401';
  end if;
  return status_private.tier_progress(coalesce((select score.points from status_public.user_scores as score where score.user_id = me), 0));
end;
$$;
comment on function status_public.my_tier() is
  E'The signed-in user''s points, tier, next tier and progress to it. Null (with an UNAUTHENTICATED error) when not signed in.';

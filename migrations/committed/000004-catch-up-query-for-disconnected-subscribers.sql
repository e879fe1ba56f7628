--! Previous: sha1:0dbabcb8cccf73fe7b0446628207b13598d424f2
--! Hash: sha1:f10496fa85fda86593c27348826a556881d46c08
--! Message: catch-up query for disconnected subscribers

-- Catch-up for subscribers that were disconnected (a PostgreSQL restart ends every subscription, see
-- plugins/subscriptions.ts): after reconnecting, a client asks for the unlocks since the last one it saw.
-- Idempotent (re-run by `graphile-migrate watch`): create or replace, then the grants.
create or replace function status_public.my_unlocks_since(since timestamptz) returns setof status_public.achievement_unlocks
  language sql stable security invoker
as $$
  select unlock.*
    from status_public.achievement_unlocks as unlock
    where unlock.user_id = (select jwt_public.current_user_id())
      and unlock.unlocked_at > since
    order by unlock.unlocked_at, unlock.id;
$$;
comment on function status_public.my_unlocks_since(timestamptz) is
  E'The signed-in user''s unlocks after `since` (exclusive), oldest first: a subscriber that was disconnected calls it with the `unlockedAt` of the last unlock it received to catch up on what it missed.';
revoke execute on function status_public.my_unlocks_since(timestamptz) from public;
grant execute on function status_public.my_unlocks_since(timestamptz) to :USER_ROLE;

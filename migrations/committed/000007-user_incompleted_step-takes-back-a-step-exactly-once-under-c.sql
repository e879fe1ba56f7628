--! Previous: sha1:0f24a2e263af5564ca1211e45f1d4ac79aeaf427
--! Hash: sha1:50e8ab9972a62fcbdbea4b2eae62f4df08ead33d
--! Message: user_incompleted_step takes back a step exactly once under concurrency

-- user_incompleted_step: exact when take-backs race (review finding #7). The check "is there a step to take
-- back" took no lock, so two concurrent take-backs on a tally of 1 both logged a -1 (user_steps summing to -1
-- with no tally row). Still security invoker: the service role may only read the tally (no UPDATE, so no
-- `for update` on it), hence a transaction-level advisory lock per user and step before deciding.
-- Idempotent: create or replace keeps the owner and the grants (the service role only).
create or replace function status_private.user_incompleted_step(step text, user_id uuid default jwt_public.current_user_id())
  returns void
  language plpgsql volatile
as $$
declare
  seen tid;
begin
  if user_incompleted_step.user_id is null then
    raise exception 'Sign in, or name the user whose step to take back' using errcode = 'AC401';
  end if;
  -- One take-back at a time per user and step, until commit. Read committed: the check below is a new
  -- statement, so it sees what the previous take-back committed (locks go only once it is visible).
  perform pg_advisory_xact_lock(hashtext('status_private.user_incompleted_step'),
                                hashtext(user_incompleted_step.user_id::text || '/' || step));
  -- One step back, only when there is one to take back: never below zero, and the rest of the tally stays
  -- (upstream deleted every step of that name and the tally).
  select tally.ctid into seen from status_public.user_achievements as tally
    where tally.user_id = user_incompleted_step.user_id and tally.name = step;
  if seen is null then
    return;
  end if;
  insert into status_public.user_steps (user_id, name, count) values (user_incompleted_step.user_id, step, -1);
  -- Repeatable read or serializable: the snapshot may predate a take-back that committed since. Our step
  -- then went to a newer tally than the one we saw, which is still visible (ours would be gone, replaced by
  -- our own update or delete). Answer as a row lock would: a serialization failure, to retry.
  if current_setting('transaction_isolation') <> 'read committed'
     and exists (select from status_public.user_achievements as tally where tally.ctid = seen) then
    raise exception 'could not serialize access due to a concurrent take-back of step "%"', step
      using errcode = 'serialization_failure';
  end if;
end;
$$;
comment on function status_private.user_incompleted_step(text, uuid) is
  E'Takes back one step `step` of the user (default: the signed-in one), if they have any; never below zero.';

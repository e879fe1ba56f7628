-- A retry sent while the first attempt is still in flight (a client that gave up and retried, maybe on another
-- server process) spent the rate limit a second time. Both calls checked "is this key used?" before either
-- had committed its step, so both spent; then the second's insert waited for the first's and returned the
-- stored result, keeping its spend (test/stress/many_nodes.test.ts: 2 such retries, 2 calls fewer allowed).
-- Now the check waits for any call with the same user and key to end (a transaction-level advisory lock, as
-- user_incompleted_step does), and read committed's next statement sees the step it committed: the retry
-- spends nothing. Calls without a key take no lock. Idempotent: create or replace keeps the owner and grants.
create or replace function status_private.spend_record_action_allowance(user_id uuid, idempotency_key text, service_client uuid)
  returns void
  language plpgsql volatile
as $$
declare
  window_seconds integer := coalesce(nullif(status_private.record_action_rate_setting('record_action_rate_window_seconds', 60), 0), 60);
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
  if service_client is not null then
    perform status_private.take_record_action_allowance('service', service_client,
      status_private.record_action_rate_setting('record_action_service_rate_limit', 6000), window_seconds);
  end if;
  perform status_private.take_record_action_allowance('user', user_id,
    status_private.record_action_rate_setting('record_action_rate_limit', 60), window_seconds);
end;
$$;

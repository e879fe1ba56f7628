--! Previous: sha1:299bbb899b8c70b7db2cf78832fc786cd709c09f
--! Hash: sha1:021f46f557e27159da0c4fadff2c222eb095e67e
--! Message: Notifications relayed by the outbox publisher: with achievements.notification_relay on, writers send no NOTIFY (no NOTIFY lock at their commits) and publish_outbox_events notifies the users of the events it publishes; the users' notifications have one home, the outbox triggers

--! split: 1-notification-relay.sql
-- Notifications relayed by the outbox publisher (issue 10). A transaction that NOTIFYs takes PostgreSQL's
-- database-wide NOTIFY lock before it commits and holds it until its commit record is flushed (async.c,
-- PreCommit_Notify): such commits run one at a time, outside group commit, and every unlocking event was one
-- (the toast on the user's channel and the outbox wake-up). With `achievements.notification_relay` on, writers
-- only write the outbox rows they write anyway; `publish_outbox_events` notifies the users' channels for the
-- events it publishes, one notifying commit per batch, and the dispatcher polls for them. Off (the default),
-- writers notify at their commit as before.
--
-- One home for the users' notifications: the outbox triggers. Each outbox event of a user is also a
-- notification on the user's channel (ids only), sent by the writer or relayed by the publisher; the points
-- trigger and the row trigger `_500_notify` on user_levels no longer notify on their own. (Their notifications
-- were the outbox's events but for a tier change of a re-tiering, which now notifies too.)

alter table status_private.outbox_events add column if not exists relay_notification boolean not null default false;
comment on column status_private.outbox_events.relay_notification is
  E'Whether publishing the event notifies the user''s channel: its writer had `achievements.notification_relay` on and notifications not quiet. False: the writer notified at its commit (or nobody is to be told).';

create or replace function status_private.relays_notifications() returns boolean
  language sql stable
as $$
  select coalesce(current_setting('achievements.notification_relay', true), '') = 'on';
$$;
comment on function status_private.relays_notifications() is
  E'Whether this session leaves the users'' notifications to the outbox publisher (`achievements.notification_relay` = on) instead of sending them at its commit.';
revoke all on function status_private.relays_notifications() from public;
-- The webhook dispatcher asks it to know whether to poll the outbox for relayed notifications.
grant execute on function status_private.relays_notifications() to :AUTHENTICATOR_ROLE;

-- Whether the publisher is to notify the user of an outbox row this session writes.
create or replace function status_private.publisher_notifies() returns boolean
  language sql stable
as $$
  select status_private.relays_notifications() and coalesce(current_setting('achievements.quiet_notifications', true), '') <> 'on';
$$;
revoke all on function status_private.publisher_notifies() from public;

-- The id a notification carries for an outbox event (as the writers send it: the unlock, the tier, the level).
create or replace function status_private.outbox_notification_id(kind status_public.achievement_event_kind, payload jsonb) returns text
  language sql immutable
as $$
  select case kind
    when 'achievement_unlocked' then payload ->> 'unlockId'
    when 'tier_changed' then coalesce(payload ->> 'tier', '')
    when 'level_achieved' then payload ->> 'level'
  end;
$$;
revoke all on function status_private.outbox_notification_id(status_public.achievement_event_kind, jsonb) from public;

-- The unlocks' events: the outbox rows, and unless relayed the users' notifications and the publisher's wake-up.
create or replace function status_private.tg_achievement_unlocks__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  relayed boolean := status_private.relays_notifications();
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  select 'achievement_unlocked', unlock.user_id, unlock.unlocked_at,
         jsonb_build_object('userId', unlock.user_id, 'unlockId', unlock.id, 'achievementId', unlock.achievement_id,
                            'achievementName', achievement.name, 'points', unlock.points, 'cursor', unlock.cursor,
                            'unlockedAt', unlock.unlocked_at),
         status_private.publisher_notifies()
  from new_unlocks as unlock
  join status_public.achievements as achievement on achievement.id = unlock.achievement_id
  order by unlock.user_id, unlock.cursor;
  if found and not relayed then
    -- In the order of the insert (user, cursor).
    perform status_private.notify_user(unlock.user_id, 'achievement_unlocked', unlock.id::text)
      from new_unlocks as unlock order by unlock.user_id, unlock.cursor;
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;

-- Levels: the same (the notifications were the row trigger _500_notify's).
create or replace function status_private.tg_user_levels__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  relayed boolean := status_private.relays_notifications();
begin
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  select 'level_achieved', achieved.user_id, achieved.achieved_at,
         jsonb_build_object('userId', achieved.user_id, 'level', achieved.level, 'cursor', achieved.cursor,
                            'achievedAt', achieved.achieved_at),
         status_private.publisher_notifies()
  from new_levels as achieved
  order by achieved.user_id, achieved.cursor;
  if found and not relayed then
    perform status_private.notify_user(achieved.user_id, 'level_achieved', achieved.level)
      from new_levels as achieved order by achieved.user_id, achieved.cursor;
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;
drop trigger if exists _500_notify on status_public.user_levels;
drop function if exists status_private.tg__notify_user();

-- Tier changes (a row trigger whose WHEN lets through only an inserted row with points or an update that
-- changed the tier): the same.
create or replace function status_private.tg_user_scores__outbox() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  previous_tier text;
begin
  if TG_OP = 'UPDATE' then
    previous_tier := OLD.tier;
  end if;
  insert into status_private.outbox_events (kind, user_id, occurred_at, payload, relay_notification)
  values ('tier_changed', NEW.user_id, NEW.reached_at,
          jsonb_build_object('userId', NEW.user_id, 'tier', NEW.tier, 'previousTier', previous_tier, 'points', NEW.points),
          status_private.publisher_notifies());
  if not status_private.relays_notifications() then
    perform status_private.notify_user(NEW.user_id, 'tier_changed', coalesce(NEW.tier, ''));
    perform pg_notify('achievements:outbox', '');
  end if;
  return null;
end;
$$;

-- The points trigger: scores and tiers, then the boards. A tier that changed is told by the outbox trigger
-- on user_scores, so the upsert no longer returns what it wrote.
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
  -- Points taken back: the users who had a score row (locked), and those whose row this statement inserted.
  users_before uuid[];
  users_inserted uuid[];
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

  if only_gains then
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
          reached_at = excluded.reached_at;
  else
    -- Points taken back (never below zero). The score rows locked in one order (no deadlock between two
    -- statements awarding the same users); rows for the users who have none; then the others' new scores (a
    -- new statement, so that it also sees a row that a concurrent first award inserted meanwhile).
    select coalesce(array_agg(score.user_id), '{}') into users_before
      from (select score.user_id from status_public.user_scores as score
            where score.user_id in (select award.user_id from unnest(user_awards) as award)
            order by score.user_id
            for update) as score;
    with inserted as (
      insert into status_public.user_scores (user_id, points, tier, reached_at)
      select award.user_id, greatest(award.points, 0), status_private.tier_for(greatest(award.points, 0)), award.reached_at
      from unnest(user_awards) as award
      where not exists (select from unnest(users_before) as before (user_id) where before.user_id = award.user_id)
      order by award.user_id
      on conflict (user_id) do nothing
      returning user_id
    )
    select coalesce(array_agg(inserted.user_id), '{}') into users_inserted from inserted;
    update status_public.user_scores as score
      set points = greatest(score.points + award.points, 0),
          tier = status_private.tier_for(greatest(score.points + award.points, 0)),
          reached_at = award.reached_at
      from unnest(user_awards) as award
      where score.user_id = award.user_id
        and not exists (select from unnest(users_inserted) as inserted (user_id) where inserted.user_id = award.user_id);
  end if;

  -- The boards: each period's score.
  perform status_private.add_to_boards(awards);
  return null;
end;
$$;

-- Publishing: positions for the committed events, their deliveries, and the notifications relayed to the
-- publisher (in the order the events were written).
create or replace function status_private.publish_outbox_events(max_events integer default 1000) returns integer
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  published integer;
  relayed bigint[];
begin
  if current_setting('transaction_isolation') <> 'read committed' then
    -- Each statement below must see what committed before the lock was taken.
    raise exception 'publish_outbox_events runs at read committed only' using errcode = 'AC400';
  end if;
  -- One publisher at a time, until it commits: the next one's positions are higher and its events, committed
  -- later, are seen by its next statement (a new snapshot at read committed).
  perform pg_advisory_xact_lock(hashtext('status_private.publish_outbox_events'));
  with publishing as (
    -- In id order (a transaction's events in the order it wrote them); nextval numbers the rows as they come.
    select next.id, nextval('status_private.outbox_event_positions') as position
    from (select event.id from status_private.outbox_events as event
          where event.position is null order by event.id limit max_events) as next
  ), published_events as (
    update status_private.outbox_events as event
      set position = publishing.position, published_at = now()
      from publishing
      where event.id = publishing.id
      returning event.id, event.kind, event.relay_notification
  ), queued as (
    insert into status_public.webhook_deliveries (endpoint_id, event_id)
    select endpoint.id, published_events.id
    from published_events
    join status_public.webhook_endpoints as endpoint on endpoint.enabled and published_events.kind = any (endpoint.kinds)
    order by published_events.id
    on conflict (endpoint_id, event_id) do nothing
  )
  select count(*)::integer, array_agg(published_events.id) filter (where published_events.relay_notification)
    into published, relayed
    from published_events;
  if relayed is not null then
    perform status_private.notify_user(event.user_id, event.kind::text, status_private.outbox_notification_id(event.kind, event.payload))
      from status_private.outbox_events as event
      where event.id = any (relayed)
      order by event.id;
  end if;
  if published > 0 then
    -- Wakes the `achievementEvents` subscriptions and the dispatchers (delivered after this commits).
    perform pg_notify('achievements:outbox_published', '');
  end if;
  return published;
end;
$$;
comment on function status_private.publish_outbox_events(integer) is
  E'Gives the committed, unpublished outbox events (up to `max_events`, in id order) their positions, queues their webhook deliveries and sends the users'' notifications their writers relayed (`achievements.notification_relay`); returns how many it published. One publisher at a time; the webhook dispatcher runs it.';

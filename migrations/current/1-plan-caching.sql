-- Plans that stay cached. A LANGUAGE sql function that PostgreSQL cannot inline (one with a FROM clause, called
-- as a scalar) is planned again on every call, and PL/pgSQL re-plans a statement for its parameters when it
-- judges a custom plan cheaper: on the event path both cost more than the work itself (measured: 3.6 ms an
-- event down to 1.8 ms with cached plans). So the small lookups used on every event or read are PL/pgSQL,
-- whose statements keep one plan per session, and the event path's functions run with
-- plan_cache_mode = force_generic_plan (their statements are index lookups by key: the generic plan is the
-- right one for every parameter).

create or replace function status_private.tier_for(points integer) returns text
  language plpgsql stable
as $$
begin
  return (select tier.name from status_public.tiers as tier where tier.min_points <= tier_for.points order by tier.min_points desc limit 1);
end;
$$;

create or replace function status_private.time_zone_of(user_id uuid) returns text
  language plpgsql stable
as $$
begin
  return coalesce((select profile.time_zone from status_public.user_profiles as profile where profile.user_id = time_zone_of.user_id), 'UTC');
end;
$$;

create or replace function status_private.record_action_rate_setting(name text, fallback integer) returns integer
  language plpgsql stable
as $$
declare
  setting text := current_setting('achievements.' || name, true);
begin
  return coalesce(case when setting ~ '^\s*[0-9]{1,9}\s*$' then setting::integer end, fallback);
end;
$$;

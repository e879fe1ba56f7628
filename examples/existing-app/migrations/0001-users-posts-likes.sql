-- The app as it was before it had achievements: users who sign in, posts, likes.

create extension if not exists pgcrypto; -- crypt() and gen_salt() for passwords

-- Functions are not executable by PUBLIC unless granted on purpose.
alter default privileges revoke execute on functions from public;

create schema app_public;  -- what GraphQL exposes
create schema app_private; -- secrets and internals
grant usage on schema app_public to :APP_ANONYMOUS, :APP_VISITOR;

-- The signed-in user: the app's server puts the verified token's `user_id` in this setting.
create function app_public.current_user_id() returns uuid
  language sql stable
as $$
  select nullif(current_setting('jwt.claims.user_id', true), '')::uuid;
$$;
comment on function app_public.current_user_id() is E'@behavior -queryField\nThe signed-in user''s id, or NULL.';
grant execute on function app_public.current_user_id() to :APP_ANONYMOUS, :APP_VISITOR;

create table app_public.users (
  id uuid primary key default gen_random_uuid(),
  username text not null unique check (username ~ '^[a-z][a-z0-9_]{1,29}$'),
  created_at timestamptz not null default now()
);
comment on table app_public.users is E'@behavior -insert -update -delete\nPeople who use the app (they sign up with `register`).';
alter table app_public.users enable row level security;
create policy select_all on app_public.users for select using (true);
grant select on app_public.users to :APP_ANONYMOUS, :APP_VISITOR;

create table app_private.user_secrets (
  user_id uuid primary key references app_public.users (id) on delete cascade,
  password_hash text not null
);
alter table app_private.user_secrets enable row level security; -- no policies: only the owner's functions read it

create function app_public.current_user() returns app_public.users
  language sql stable
as $$
  select * from app_public.users where id = app_public.current_user_id();
$$;
comment on function app_public.current_user() is E'The signed-in user, or NULL.';
grant execute on function app_public.current_user() to :APP_ANONYMOUS, :APP_VISITOR;

create table app_public.posts (
  id uuid primary key default gen_random_uuid(),
  author_id uuid not null default app_public.current_user_id() references app_public.users (id) on delete cascade,
  body text not null check (length(body) between 1 and 2000),
  created_at timestamptz not null default now()
);
create index posts_author_id_idx on app_public.posts (author_id);
comment on table app_public.posts is E'@behavior -update\nWhat users write.';
alter table app_public.posts enable row level security;
create policy select_all on app_public.posts for select using (true);
create policy insert_own on app_public.posts for insert to :APP_VISITOR with check (author_id = (select app_public.current_user_id()));
create policy delete_own on app_public.posts for delete to :APP_VISITOR using (author_id = (select app_public.current_user_id()));
grant select on app_public.posts to :APP_ANONYMOUS, :APP_VISITOR;
grant insert (body), delete on app_public.posts to :APP_VISITOR;

create table app_public.likes (
  id uuid primary key default gen_random_uuid(),
  post_id uuid not null references app_public.posts (id) on delete cascade,
  user_id uuid not null default app_public.current_user_id() references app_public.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  unique (post_id, user_id)
);
create index likes_user_id_idx on app_public.likes (user_id);
comment on table app_public.likes is E'@behavior -update\nOne user liking one post, once.';
alter table app_public.likes enable row level security;
create policy select_all on app_public.likes for select using (true);
create policy insert_own on app_public.likes for insert to :APP_VISITOR with check (user_id = (select app_public.current_user_id()));
create policy delete_own on app_public.likes for delete to :APP_VISITOR using (user_id = (select app_public.current_user_id()));
grant select on app_public.likes to :APP_ANONYMOUS, :APP_VISITOR;
grant insert (post_id), delete on app_public.likes to :APP_VISITOR;

-- Sign up: a user and their password hash. Definer, because users and secrets are not writable by API roles.
create function app_public.register(username text, password text) returns app_public.users
  language plpgsql volatile strict security definer set search_path = pg_catalog, public, pg_temp
as $$
declare
  new_user app_public.users;
begin
  if length(password) < 8 then
    raise exception 'The password must have at least 8 characters' using errcode = '22023';
  end if;
  insert into app_public.users (username) values (register.username) returning * into new_user;
  insert into app_private.user_secrets (user_id, password_hash) values (new_user.id, crypt(password, gen_salt('bf')));
  return new_user;
end;
$$;
comment on function app_public.register(text, text) is E'Creates an account; then sign in with `authenticate`.';
grant execute on function app_public.register(text, text) to :APP_ANONYMOUS;

-- The token the app signs (PostGraphile signs a value of this type as a JWT: gather.pgJwtTypes).
create type app_public.jwt_token as (
  user_id uuid,
  exp bigint
);

-- Sign in: a token for the user, or NULL for a wrong username or password.
create function app_public.authenticate(username text, password text) returns app_public.jwt_token
  language sql volatile strict security definer set search_path = pg_catalog, public, pg_temp
as $$
  select (users.id, extract(epoch from now() + interval '1 day')::bigint)::app_public.jwt_token
  from app_public.users
  join app_private.user_secrets on user_secrets.user_id = users.id
  where users.username = authenticate.username
    and user_secrets.password_hash = crypt(authenticate.password, user_secrets.password_hash);
$$;
comment on function app_public.authenticate(text, text) is E'Signs in: a JWT to send as `Authorization: Bearer <token>`, or null.';
grant execute on function app_public.authenticate(text, text) to :APP_ANONYMOUS;

-- The app's roles, graphile/starter style (idempotent: `npm run db:setup` runs it every time).
-- Role names are placeholders (:APP_*), filled in by src/migrate.ts from src/roles.ts. Run as a superuser.
do $$
begin
  -- Owns the database; migrations run as it (src/setup-database.ts sets its password).
  if not exists (select from pg_roles where rolname = ':APP_OWNER') then
    create role :APP_OWNER with login;
  end if;
  -- The server logs in as the authenticator, which has no rights of its own (NOINHERIT): every
  -- transaction switches to the role that the request's session names.
  if not exists (select from pg_roles where rolname = ':APP_AUTHENTICATOR') then
    create role :APP_AUTHENTICATOR with login noinherit;
  end if;
  -- Signed out.
  if not exists (select from pg_roles where rolname = ':APP_ANONYMOUS') then
    create role :APP_ANONYMOUS with nologin;
  end if;
  -- A signed-in user of the app.
  if not exists (select from pg_roles where rolname = ':APP_VISITOR') then
    create role :APP_VISITOR with nologin;
  end if;
  -- The achievements engine also wants a trusted backend role (records actions for any user) and a
  -- catalog admin. This app records everything through table triggers and writes its catalog in a
  -- migration, so the server never switches to them; they exist for the engine's grants.
  if not exists (select from pg_roles where rolname = ':APP_SERVICE') then
    create role :APP_SERVICE with nologin;
  end if;
  if not exists (select from pg_roles where rolname = ':APP_ADMIN') then
    create role :APP_ADMIN with nologin;
  end if;
end
$$;

grant :APP_ANONYMOUS, :APP_VISITOR to :APP_AUTHENTICATOR;

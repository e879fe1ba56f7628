-- Roles of the API, for the standalone server's own database (graphile-migrate's path: src/migrate.ts).
-- Idempotent: graphile-migrate runs it after a reset, and the server's migrate step runs it before every
-- migration, so a fresh PostgreSQL gets its roles. Role names are placeholders, set in .gmrc (or by the
-- ACHIEVEMENTS_*_ROLE variables). Installing into an application's database (src/install.ts) never runs this
-- file: it creates only the missing roles, NOLOGIN, and leaves the database's privileges alone.
do $$
declare
  api_role text;
begin
  -- The server connects as the authenticator: it may log in, but has no rights of its own (NOINHERIT);
  -- each transaction then switches to the role that the verified JWT names.
  if not exists (select from pg_roles where rolname = ':AUTHENTICATOR_ROLE') then
    create role :AUTHENTICATOR_ROLE with login noinherit;
  end if;
  foreach api_role in array array[':ANONYMOUS_ROLE', ':USER_ROLE', ':SERVICE_ROLE', ':ADMIN_ROLE'] loop
    if not exists (select from pg_roles where rolname = api_role) then
      execute format('create role %I with nologin', api_role);
    end if;
  end loop;
end
$$;

grant :ANONYMOUS_ROLE, :USER_ROLE, :SERVICE_ROLE, :ADMIN_ROLE to :AUTHENTICATOR_ROLE;

-- Only the owner and the authenticator may connect to the database.
revoke all on database :DATABASE_NAME from public;
grant connect, temporary on database :DATABASE_NAME to :DATABASE_OWNER;
grant connect on database :DATABASE_NAME to :AUTHENTICATOR_ROLE;

-- Achievements for the app. Runs after the engine is installed into this database (src/setup-database.ts):
-- the engine owns status_public / status_private / jwt_public; this file only attaches its trigger
-- functions to the app's tables and writes the app's own catalog.

--------------------------------------------------------------------------------------------------
-- Steps from the app's own tables (the engine's README: "Counting steps from your own tables").

-- A post counts one `make_post` step for its author.
create trigger _500_achievements_make_post after insert on app_public.posts
  for each row execute function status_private.tg_achievement('id', 'make_post', 'author_id');

-- A like counts one `receive_like` step for the post's author, not for the liker. The trigger's third
-- argument names a column of the like itself, so the like carries its post's author, filled in before
-- insert (and from the posts for the likes that already exist).
alter table app_public.likes add column post_author_id uuid references app_public.users (id) on delete cascade;
update app_public.likes set post_author_id = posts.author_id from app_public.posts where posts.id = likes.post_id;
alter table app_public.likes alter column post_author_id set not null;
comment on column app_public.likes.post_author_id is E'The author of the liked post (set by a trigger).';

create function app_private.tg_likes__set_post_author_id() returns trigger
  language plpgsql volatile security definer set search_path = pg_catalog, public, pg_temp
as $$
begin
  -- Definer: the post may be one the liker cannot see under a stricter policy later on.
  select author_id into NEW.post_author_id from app_public.posts where id = NEW.post_id;
  return NEW;
end;
$$;
create trigger _100_set_post_author_id before insert on app_public.likes
  for each row execute function app_private.tg_likes__set_post_author_id();
create trigger _500_achievements_receive_like after insert on app_public.likes
  for each row execute function status_private.tg_achievement('id', 'receive_like', 'post_author_id');

--------------------------------------------------------------------------------------------------
-- The app's catalog (not the engine's demo catalog). Written here, by the migration, as the owner.

insert into status_public.actions (name, description) values
  ('make_post', 'Wrote a post'),
  ('receive_like', 'Someone liked one of your posts');

insert into status_public.achievements (id, name, description, points, icon, position) values
  ('first_post', 'First post', 'Write your first post', 10, '✍️', 1),
  ('ten_posts', '10 posts', 'Write 10 posts', 50, '📚', 2),
  ('first_like_received', 'First like received', 'Someone liked one of your posts', 20, '❤️', 3),
  ('ten_likes_received', '10 likes received', 'Your posts got 10 likes', 100, '🔥', 4);

insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
  ('first_post', 'count', 'make_post', 1),
  ('ten_posts', 'count', 'make_post', 10),
  ('first_like_received', 'count', 'receive_like', 1),
  ('ten_likes_received', 'count', 'receive_like', 10);

insert into status_public.tiers (name, min_points, badge) values
  ('Newcomer', 0, '🌱'),
  ('Regular', 50, '⭐'),
  ('Star', 150, '🌟');

--------------------------------------------------------------------------------------------------
-- What users did before the engine was installed counts too: one step per author with their totals
-- (the idempotency key makes a re-run count nothing twice).

insert into status_public.user_steps (user_id, name, count, idempotency_key)
  select author_id, 'make_post', count(*), 'backfill:make_post' from app_public.posts group by author_id
  on conflict (user_id, idempotency_key) do nothing;
insert into status_public.user_steps (user_id, name, count, idempotency_key)
  select post_author_id, 'receive_like', count(*), 'backfill:receive_like' from app_public.likes group by post_author_id
  on conflict (user_id, idempotency_key) do nothing;

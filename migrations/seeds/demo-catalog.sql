-- The demo catalog, loaded by the server's migrate step into a database whose catalog is empty
-- (src/migrate.ts). It holds the levels and requirements of the reference package's README.
insert into status_public.levels (name) values
  ('newbie'), ('intermediate'), ('expert'), ('beginner'), ('pro');

insert into status_public.level_requirements (name, level, required_count, priority) values
  ('complete_profile', 'newbie', 1, 1),
  ('upload_photo', 'newbie', 1, 2),
  ('make_first_post', 'newbie', 1, 3),
  ('make_first_post', 'intermediate', 10, 1),
  ('receive_likes', 'intermediate', 50, 2),
  ('make_post', 'expert', 100, 1),
  ('receive_likes', 'expert', 500, 2),
  ('complete_profile', 'beginner', 1, 1),
  ('make_post', 'beginner', 3, 2),
  ('make_post', 'pro', 50, 1),
  ('receive_likes', 'pro', 100, 2);

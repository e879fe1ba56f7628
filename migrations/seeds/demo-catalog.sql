-- The demo catalog, loaded by the server's migrate step (src/migrate.ts) into an empty database: each
-- part only when its tables are empty, so a catalog you changed is never touched.
do $$
begin
  -- The levels and requirements of the reference package's README.
  if not exists (select from status_public.levels) then
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
  end if;

  -- The achievement-system tutorial's catalog.
  if not exists (select from status_public.actions) then
    insert into status_public.actions (name, description, client_reportable, max_amount) values
      ('tasks_completed', 'Complete a task', true, 10),
      ('logins', 'Log in', true, 1),
      ('lessons_finished', 'Finish a lesson', false, 10);
  end if;

  if not exists (select from status_public.tiers) then
    insert into status_public.tiers (name, min_points, badge) values
      ('Beginner', 0, '🥉'), ('Student', 100, '🥈'), ('Expert', 500, '🥇'), ('Master', 1000, '💎'), ('Legend', 5000, '👑');
  end if;

  if not exists (select from status_public.achievements) then
    -- Milestones: 1, 10, 50 and 100 completed tasks, 10 points a task.
    insert into status_public.achievements (id, name, description, points, icon, kind, position)
    select 'tasks_completed_' || n, n || case when n = 1 then ' task' else ' tasks' end, 'Complete ' || n || case when n = 1 then ' task' else ' tasks' end, n * 10, '🎯', 'milestone', n
    from unnest(array[1, 10, 50, 100]) as n;
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold)
    select 'tasks_completed_' || n, 'count', 'tasks_completed', n from unnest(array[1, 10, 50, 100]) as n;

    -- Streaks: log in 3, 7 and 30 days in a row, 10 points a day.
    insert into status_public.achievements (id, name, description, points, icon, kind, position)
    select 'streak_' || n, n || '-day streak', 'Log in ' || n || ' days in a row', n * 10, '🔥', 'streak', 200 + n
    from unnest(array[3, 7, 30]) as n;
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold)
    select 'streak_' || n, 'streak', 'logins', n from unnest(array[3, 7, 30]) as n;

    -- Challenges: the hour of a login, in the user's time zone.
    insert into status_public.achievements (id, name, description, points, icon, kind, position) values
      ('early_bird', 'Early Bird', 'Log in before 6:00 AM', 50, '🌅', 'challenge', 300),
      ('night_owl', 'Night Owl', 'Log in after 11:00 PM', 50, '🦉', 'challenge', 301);
    insert into status_public.achievement_criteria (achievement_id, kind, action, hour_from, hour_until) values
      ('early_bird', 'time_of_day', 'logins', 0, 6),
      ('night_owl', 'time_of_day', 'logins', 23, 24);

    -- Hidden: a secret until unlocked (a login at 3 AM with a streak of 3 days, both criteria).
    insert into status_public.achievements (id, name, description, points, icon, kind, hidden, position) values
      ('insomniac', 'Insomniac', 'Log in at 3 AM on the third day of a streak', 100, '🌙', 'hidden', true, 400);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values
      ('insomniac', 'time_of_day', 'logins', null, 3, 4),
      ('insomniac', 'streak', 'logins', 3, null, null);

    -- Time-limited: five tasks during the 30 days after the catalog was loaded.
    insert into status_public.achievements (id, name, description, points, icon, kind, available_from, available_until, position) values
      ('launch_sprint', 'Launch Sprint', 'Complete 5 tasks in the launch month', 75, '🚀', 'time_limited',
       date_trunc('day', now()), date_trunc('day', now()) + interval '30 days', 500);
    insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
      ('launch_sprint', 'count', 'tasks_completed', 5);
  end if;
end
$$;

// The reference README's "Complete Achievement System" example, end to end: an application with users,
// posts and likes, whose triggers feed the tallies, checked with steps_required and user_achieved.
// Here the likes trigger credits the post's author (third argument), where the reference credited the liker.
import { asUser, newUserId, roles, withTransaction } from "../helpers/db";

describe("the reference README's complete example", () => {
  it("tracks profiles, posts and likes up to the beginner and pro levels", () =>
    withTransaction(async (tx) => {
      // The demo catalog holds the example's levels: beginner (complete_profile 1, make_post 3) and
      // pro (make_post 50, receive_likes 100).
      expect(await tx.root("select name, level, required_count from status_public.level_requirements where level in ('beginner', 'pro') order by level, priority")).toEqual([
        { name: "complete_profile", level: "beginner", required_count: 1 },
        { name: "make_post", level: "beginner", required_count: 3 },
        { name: "make_post", level: "pro", required_count: 50 },
        { name: "receive_likes", level: "pro", required_count: 100 },
      ]);

      await tx.root(`
        create schema app;
        create table app.users (id uuid primary key default jwt_public.current_user_id(), bio text);
        create table app.posts (id serial primary key, author_id uuid not null default jwt_public.current_user_id(), body text);
        create table app.likes (
          id serial primary key,
          post_id int not null references app.posts on delete cascade,
          liker_id uuid not null default jwt_public.current_user_id(),
          post_author_id uuid not null
        );
        grant usage on schema app to ${roles.user};
        grant select, insert, update on app.users, app.posts, app.likes to ${roles.user};
        grant usage on all sequences in schema app to ${roles.user};

        create trigger track_profile after update on app.users
          for each row execute function status_private.tg_achievement_toggle('bio', 'complete_profile');
        create trigger track_posts after insert on app.posts
          for each row execute function status_private.tg_achievement('id', 'make_post');
        create trigger track_likes after insert on app.likes
          for each row execute function status_private.tg_achievement('id', 'receive_likes', 'post_author_id');
      `);

      const [alice, bob] = [newUserId(), newUserId()];
      const achieved = async (userId: string, level: string) =>
        (await tx.as<{ achieved: boolean }>(asUser(userId), "select status_public.user_achieved($1) as achieved", [level]))[0].achieved;
      const remaining = (userId: string, level: string) =>
        tx.as(asUser(userId), "select name, required_count from status_public.steps_required($1)", [level]);

      await tx.as(asUser(alice), "insert into app.users default values");
      await tx.as(asUser(bob), "insert into app.users default values");
      expect(await remaining(alice, "beginner")).toEqual([
        { name: "complete_profile", required_count: 1 },
        { name: "make_post", required_count: 3 },
      ]);

      await tx.as(asUser(alice), "update app.users set bio = 'I post things' where id = $1", [alice]);
      await tx.as(asUser(alice), "insert into app.posts (body) select 'post ' || n from generate_series(1, 2) n");
      expect(await remaining(alice, "beginner")).toEqual([{ name: "make_post", required_count: 1 }]);
      expect(await achieved(alice, "beginner")).toBe(false);

      await tx.as(asUser(alice), "insert into app.posts (body) values ('the third')");
      expect(await achieved(alice, "beginner")).toBe(true);
      // Editing the bio again counts nothing more.
      await tx.as(asUser(alice), "update app.users set bio = 'I post many things' where id = $1", [alice]);

      await tx.as(asUser(alice), "insert into app.posts (body) select 'more ' || n from generate_series(1, 47) n");
      // Bob likes Alice's first post 100 times (one row a like): Alice receives them.
      await tx.as(
        asUser(bob),
        "insert into app.likes (post_id, post_author_id) select p.id, p.author_id from app.posts p, generate_series(1, 100) where p.body = 'post 1'",
      );
      expect(await achieved(alice, "pro")).toBe(true);
      expect(await remaining(bob, "pro")).toEqual([
        { name: "make_post", required_count: 50 },
        { name: "receive_likes", required_count: 100 },
      ]);
      expect(await tx.as(asUser(alice), "select name, count from status_public.user_achievements order by name")).toEqual([
        { name: "complete_profile", count: 1 },
        { name: "make_post", count: 50 },
        { name: "receive_likes", count: 100 },
      ]);
    }));
});

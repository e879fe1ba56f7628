// The four trigger functions, step by step, on an application table, written to as a signed-in user.
import { anonymous, asUser, newUserId, roles, type TestTransaction, withTransaction } from "../../helpers/db";

const TRIGGER_FUNCTIONS = ["tg_achievement", "tg_achievement_toggle", "tg_achievement_boolean", "tg_achievement_toggle_boolean"] as const;
type TriggerFunction = (typeof TRIGGER_FUNCTIONS)[number];

/** app.profiles, writable by signed-in users, with one trigger calling `fn` with `args`. */
async function profilesWithTrigger(tx: TestTransaction, fn: TriggerFunction, args: string[]): Promise<void> {
  await tx.root(`
    create schema app;
    create table app.profiles (
      id serial primary key,
      owner_id uuid,
      bio text,
      "ProfileImage" text,
      verified boolean,
      note text
    );
    grant usage on schema app to ${roles.user}, ${roles.anonymous};
    grant select, insert, update, delete on app.profiles to ${roles.user}, ${roles.anonymous};
    grant usage on sequence app.profiles_id_seq to ${roles.user}, ${roles.anonymous};
    create trigger _500_track after insert or update or delete on app.profiles
      for each row execute function status_private.${fn}(${args.map((arg) => `'${arg}'`).join(", ")});
  `);
}

async function tally(tx: TestTransaction, userId: string, step: string): Promise<number> {
  const rows = await tx.root<{ count: number }>("select count from status_public.user_achievements where user_id = $1 and name = $2", [userId, step]);
  return rows[0]?.count ?? 0;
}

/** Runs each statement as `userId` and returns the tally of `step` after each one. */
async function talliesAfter(tx: TestTransaction, userId: string, step: string, statements: string[]): Promise<number[]> {
  const tallies = [];
  for (const statement of statements) {
    await tx.as(asUser(userId), statement);
    tallies.push(await tally(tx, userId, step));
  }
  return tallies;
}

describe("status_private.tg_achievement", () => {
  it("counts a step each time the column is set to a new non-null value, and nothing else", () =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, "tg_achievement", ["bio", "write_bio"]);
      const user = newUserId();
      expect(
        await talliesAfter(tx, user, "write_bio", [
          "insert into app.profiles (id, bio) values (1, 'hello')", // insert with a value: +1
          "insert into app.profiles (id, bio) values (2, null)", // insert without: 0
          "update app.profiles set bio = 'hello again' where id = 1", // changed: +1
          "update app.profiles set bio = 'hello again' where id = 1", // unchanged: 0
          "update app.profiles set note = 'x' where id = 1", // another column: 0
          "update app.profiles set bio = null where id = 1", // to NULL: 0
          "update app.profiles set bio = 'back' where id = 1", // from NULL to a value: +1
          "delete from app.profiles where id = 1", // delete: 0
        ]),
      ).toEqual([1, 1, 2, 2, 2, 2, 3, 3]);
    }));
});

describe("status_private.tg_achievement_toggle", () => {
  it("counts NULL -> value once and takes it back on value -> NULL", () =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, "tg_achievement_toggle", ["bio", "complete_profile"]);
      const user = newUserId();
      expect(
        await talliesAfter(tx, user, "complete_profile", [
          "insert into app.profiles (id, bio) values (1, null)", // 0
          "update app.profiles set bio = 'hi' where id = 1", // NULL -> value: +1
          "update app.profiles set bio = 'hi!' where id = 1", // value -> value: 0
          "update app.profiles set note = 'n' where id = 1", // other column: 0
          "update app.profiles set bio = null where id = 1", // value -> NULL: -1
          "insert into app.profiles (id, bio) values (2, 'set at insert')", // insert with a value: +1
        ]),
      ).toEqual([0, 1, 1, 1, 0, 1]);
    }));

  it("takes back only its own step, never other progress, and never goes below zero", () =>
    withTransaction(async (tx) => {
      const user = newUserId();
      await profilesWithTrigger(tx, "tg_achievement_toggle", ["bio", "complete_profile"]);
      // A row whose value was set while the trigger was off: clearing it must not go below zero.
      await tx.root("alter table app.profiles disable trigger _500_track; insert into app.profiles (id, bio) values (9, 'before'); alter table app.profiles enable trigger _500_track");
      await tx.as(asUser(user), "update app.profiles set bio = null where id = 9");
      expect(await tally(tx, user, "complete_profile")).toBe(0);

      await tx.as(asUser(user), "insert into app.profiles (id, bio) values (1, 'a'), (2, 'b'), (3, 'c')");
      expect(await tally(tx, user, "complete_profile")).toBe(3);
      await tx.as(asUser(user), "update app.profiles set bio = null where id = 2");
      expect(await tally(tx, user, "complete_profile")).toBe(2);
    }));
});

describe("status_private.tg_achievement_boolean", () => {
  it("counts a step each time the column becomes TRUE", () =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, "tg_achievement_boolean", ["verified", "verify_email"]);
      const user = newUserId();
      expect(
        await talliesAfter(tx, user, "verify_email", [
          "insert into app.profiles (id, verified) values (1, true)", // +1
          "insert into app.profiles (id, verified) values (2, false)", // 0
          "insert into app.profiles (id, verified) values (3, null)", // 0
          "update app.profiles set note = 'n' where id = 1", // stays TRUE: 0
          "update app.profiles set verified = false where id = 1", // TRUE -> FALSE: 0
          "update app.profiles set verified = true where id = 1", // FALSE -> TRUE: +1
          "update app.profiles set verified = true where id = 3", // NULL -> TRUE: +1
        ]),
      ).toEqual([1, 1, 1, 1, 1, 2, 3]);
    }));

  it("refuses a column that is not boolean, naming the trigger and the column", () =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, "tg_achievement_boolean", ["bio", "verify_email"]);
      const error = await tx.expectError(asUser(newUserId()), "insert into app.profiles (bio) values ('yes')");
      expect(error.code).toBe("42804");
      expect(error.message).toContain('"_500_track"');
      expect(error.message).toContain('"bio"');
    }));
});

describe("status_private.tg_achievement_toggle_boolean", () => {
  it("counts FALSE/NULL -> TRUE and takes it back on TRUE -> FALSE/NULL", () =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, "tg_achievement_toggle_boolean", ["verified", "accept_terms"]);
      const user = newUserId();
      expect(
        await talliesAfter(tx, user, "accept_terms", [
          "insert into app.profiles (id, verified) values (1, false)", // 0
          "update app.profiles set verified = true where id = 1", // +1
          "update app.profiles set verified = true, note = 'n' where id = 1", // stays TRUE: 0
          "update app.profiles set verified = false where id = 1", // -1
          "update app.profiles set verified = null where id = 1", // FALSE -> NULL: 0
          "update app.profiles set verified = true where id = 1", // +1
          "update app.profiles set verified = null where id = 1", // -1
          "insert into app.profiles (id, verified) values (2, true)", // +1
        ]),
      ).toEqual([0, 1, 1, 0, 0, 1, 0, 1]);
    }));
});

describe("the tg_achievement* functions alike", () => {
  it.each(TRIGGER_FUNCTIONS)("%s credits the user named by the third argument, not the signed-in one", (fn) =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, fn, ["verified", "receive_likes", "owner_id"]);
      const [liker, author] = [newUserId(), newUserId()];
      await tx.as(asUser(liker), "insert into app.profiles (owner_id, verified) values ($1, true)", [author]);
      expect(await tally(tx, author, "receive_likes")).toBe(1);
      expect(await tally(tx, liker, "receive_likes")).toBe(0);
    }));

  it.each(TRIGGER_FUNCTIONS)("%s counts nothing, and lets the write succeed, when there is no user to credit", (fn) =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, fn, ["verified", "x_step"]);
      // Nobody signed in, no third argument:
      await tx.as(anonymous, "insert into app.profiles (verified) values (true)");
      // A third argument whose column is NULL on this row:
      await tx.root(`drop trigger _500_track on app.profiles; create trigger _600_track_owner after insert on app.profiles
        for each row execute function status_private.${fn}('verified', 'y_step', 'owner_id')`);
      await tx.as(asUser(newUserId()), "insert into app.profiles (owner_id, verified) values (null, true)");

      expect(await tx.root("select count(*)::int as n from app.profiles")).toEqual([{ n: 2 }]);
      expect(await tx.root("select * from status_public.user_steps where name in ('x_step', 'y_step')")).toEqual([]);
    }));

  it.each(TRIGGER_FUNCTIONS)("%s reads a mixed-case column", (fn) =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, fn, ["ProfileImage", "upload_photo"]);
      const user = newUserId();
      // The boolean functions need a boolean column: for them, a non-boolean mixed-case column is an error
      // that names it, which proves it was found.
      if (fn.endsWith("boolean")) {
        const error = await tx.expectError(asUser(user), `insert into app.profiles ("ProfileImage") values ('a.png')`);
        expect(error.code).toBe("42804");
      } else {
        await tx.as(asUser(user), `insert into app.profiles ("ProfileImage") values ('a.png')`);
        expect(await tally(tx, user, "upload_photo")).toBe(1);
      }
    }));

  it.each(TRIGGER_FUNCTIONS)("%s names the trigger and the column when the column does not exist, at the first write", (fn) =>
    withTransaction(async (tx) => {
      // Creating the trigger succeeds: PostgreSQL does not look at trigger arguments.
      await profilesWithTrigger(tx, fn, ["no_such_column", "x_step"]);
      const error = await tx.expectError(asUser(newUserId()), "insert into app.profiles (bio) values ('x')");
      expect(error.code).toBe("42703");
      expect(error.message).toBe('Trigger "_500_track" on table app.profiles names the column "no_such_column", which the table does not have');
      expect(await tx.root("select count(*)::int as n from app.profiles")).toEqual([{ n: 0 }]);
    }));

  it.each(TRIGGER_FUNCTIONS)("%s refuses to run with the wrong number of arguments", (fn) =>
    withTransaction(async (tx) => {
      await profilesWithTrigger(tx, fn, ["bio"]);
      const error = await tx.expectError(asUser(newUserId()), "insert into app.profiles (bio) values ('x')");
      expect(error.code).toBe("22023");
      expect(error.message).toContain("takes (column_name, step_name [, user_column])");
    }));

  it("are not executable by any API role, nor is anything else in status_private but the service's reference helpers", () =>
    withTransaction(async (tx) => {
      // The one exception: the service may call the reference package's step helpers (reference_helpers.test.ts).
      // And the authenticator (the server's own connection, no API role) folds the leaderboard deltas and runs the
      // webhook dispatcher (migration 000009, 7-outbox.sql).
      const AUTHENTICATOR_FUNCTIONS = [
        "status_private.fold_leaderboard_deltas()",
        "status_private.publish_outbox_events(integer)",
        "status_private.claim_webhook_deliveries(integer,double precision,integer)",
        "status_private.record_webhook_attempt(uuid,integer,text,double precision)",
        "status_private.prune_outbox(interval)",
        // Whether writers relay notifications: the dispatcher then polls the outbox.
        "status_private.relays_notifications()",
        // The server's backfill worker (src/backfill-worker.ts).
        "status_private.work_on_backfill(bigint,double precision)",
      ];
      const serviceHelpers = ["status_private.upsert_achievement(uuid,text,integer)", "status_private.user_completed_step(text,uuid)", "status_private.user_incompleted_step(text,uuid)"];
      const functions = await tx.root<{ signature: string }>(`
        select p.oid::regprocedure::text as signature
        from pg_proc p where p.pronamespace = 'status_private'::regnamespace`);
      // The trigger functions among them (a loop over no function would check nothing):
      expect(functions.map(({ signature }) => signature.replace(/^status_private\.|\(.*$/g, ""))).toEqual(expect.arrayContaining([...TRIGGER_FUNCTIONS]));
      for (const role of Object.values(roles)) {
        for (const { signature } of functions) {
          const [{ allowed }] = await tx.root<{ allowed: boolean }>("select has_function_privilege($1, $2, 'execute') as allowed", [role, signature]);
          const expected = (role === roles.service && serviceHelpers.includes(signature)) || (role === roles.authenticator && AUTHENTICATOR_FUNCTIONS.includes(signature));
          expect({ role, signature, allowed }).toEqual({ role, signature, allowed: expected });
        }
        const [{ usage }] = await tx.root<{ usage: boolean }>("select has_schema_privilege($1, 'status_private', 'usage') as usage", [role]);
        // The service (its reference helpers) and the authenticator (folding) use the schema.
        expect({ role, usage }).toEqual({ role, usage: role === roles.service || role === roles.authenticator });
      }
    }));
});

// A small catalog on an action of its own for the "almost there" tests (db and GraphQL): a user who recorded
// that action 8 times (ALMOST_THERE_STEPS) stands, per achievement, as the comment says. Added as the superuser
// inside the test's rolled-back transaction.
import { asService, type TestTransaction } from "./db";

export const ALMOST_THERE_ACTION = "almost_there_steps";
export const ALMOST_THERE_STEPS = 8;

/** Adds the catalog, then records ALMOST_THERE_STEPS steps of its action for `user`. */
export async function addAlmostThereCatalog(tx: TestTransaction, user: string): Promise<void> {
  await tx.root("insert into status_public.actions (name) values ($1)", [ALMOST_THERE_ACTION]);
  await tx.root(
    `insert into status_public.achievements (id, name, points, hidden, available_from, available_until, position) values
       ('almost_mixed', 'Mixed', 10, false, null, null, 9000),         -- 8 / 9 and 8 / 11: (88.9 + 72.7) / 2 = 80 %
       ('almost_nine', 'Nine', 10, false, null, null, 9001),           -- 8 / 9: 88 %
       ('almost_ten', 'Ten', 10, false, null, null, 9002),             -- 8 / 10: 80 %
       ('almost_ten_again', 'Ten again', 10, false, null, null, 9003), -- 8 / 10: 80 %, after almost_ten in the catalog
       ('almost_two_rules', 'Two rules', 10, false, null, null, 9004), -- 8 / 10 and 8 / 16: (80 + 50) / 2 = 65 %
       ('almost_half', 'Half', 10, false, null, null, 9005),           -- 8 / 16: 50 %
       ('almost_hidden', 'Hidden', 10, true, null, null, 9006),        -- 8 / 9, but hidden
       ('almost_done', 'Done', 10, false, null, null, 9007),           -- 8 / 2: unlocked
       ('almost_expired', 'Expired', 10, false, '2000-01-01', '2000-02-01', 9008) -- 8 / 10, but over`,
  );
  await tx.root(
    `insert into status_public.achievement_criteria (achievement_id, kind, action, threshold) values
       ('almost_mixed', 'count', $1, 9), ('almost_mixed', 'count', $1, 11),
       ('almost_nine', 'count', $1, 9), ('almost_ten', 'count', $1, 10), ('almost_ten_again', 'count', $1, 10),
       ('almost_two_rules', 'count', $1, 10), ('almost_two_rules', 'count', $1, 16), ('almost_half', 'count', $1, 16),
       ('almost_hidden', 'count', $1, 9), ('almost_done', 'count', $1, 2), ('almost_expired', 'count', $1, 10)`,
    [ALMOST_THERE_ACTION],
  );
  await tx.as(asService(), "select status_public.record_action_for($1, $2, $3)", [user, ALMOST_THERE_ACTION, ALMOST_THERE_STEPS]);
}

// The registry of criterion kinds (status_private.criterion_progress, migration 000008, 3-criteria.sql):
// every value of status_public.criterion_kind has a branch, so that exactly one (current, target) row comes
// back for a criterion of that kind. A kind added to the enum without a branch fails here.
import { asAdmin, newUserId, type TestTransaction, withTransaction } from "../../helpers/db";

/**
 * Criterion shapes to try, in order: (action, threshold, hour_from, hour_until). A new kind with a check of its
 * own in achievement_criteria that none of these passes fails the test below: add its shape here.
 */
const SHAPES: [string | null, number | null, number | null, number | null][] = [
  ["r_act", 2, null, null],
  ["r_act", null, 3, 5],
  [null, 2, null, null],
  ["r_act", 2, 3, 5],
  [null, null, null, null],
];

async function insertCriterion(tx: TestTransaction, kind: string): Promise<string | null> {
  for (const shape of SHAPES) {
    try {
      const [row] = await tx.as<{ id: string }>(
        asAdmin(),
        "insert into status_public.achievement_criteria (achievement_id, kind, action, threshold, hour_from, hour_until) values ('r_all', $1, $2, $3, $4, $5) returning id",
        [kind, ...shape],
      );
      return row.id;
    } catch {
      // this shape does not suit the kind (its check): the next one
    }
  }
  return null;
}

describe("criterion_progress: the registry of criterion kinds", () => {
  it("returns exactly one row for a criterion of every kind", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.actions (name, client_reportable) values ('r_act', true);
        insert into status_public.achievements (id, name, points) values ('r_all', 'All kinds', 10)`);
      const kinds = (await tx.root<{ kind: string }>("select unnest(enum_range(null::status_public.criterion_kind))::text as kind")).map((row) => row.kind);
      expect(kinds).toEqual(expect.arrayContaining(["count", "streak", "time_of_day"]));
      const user = newUserId();
      for (const kind of kinds) {
        const id = await insertCriterion(tx, kind);
        expect({ kind, inserted: id !== null }).toEqual({ kind, inserted: true });
        for (const action of [null, "r_act"]) {
          const rows = await tx.root<{ current: number | null; target: number | null }>(
            `select progress.current, progress.target
             from status_public.achievement_criteria as criterion
             cross join lateral status_private.criterion_progress(criterion, $2, $3, '2026-03-03 04:00') as progress
             where criterion.id = $1`,
            [id, user, action],
          );
          expect({ kind, action, rows: rows.length }).toEqual({ kind, action, rows: 1 });
          expect({ kind, action, current: typeof rows[0].current, target: typeof rows[0].target }).toEqual({ kind, action, current: "number", target: "number" });
          expect(rows[0].target).toBeGreaterThan(0);
        }
      }
    }));

  it("has a branch in criterion_met_at (backfill) for every kind: a history that meets the criterion gives its step", () =>
    withTransaction(async (tx) => {
      await tx.as(asAdmin(), `
        insert into status_public.actions (name, client_reportable) values ('r_act', true);
        insert into status_public.achievements (id, name, points) values ('r_all', 'All kinds', 10)`);
      const kinds = (await tx.root<{ kind: string }>("select unnest(enum_range(null::status_public.criterion_kind))::text as kind")).map((row) => row.kind);
      const user = newUserId();
      // Three days in a row, at 03:30 UTC (the user has no profile: UTC), once a day: meets every shape above.
      await tx.root(
        "insert into status_public.user_steps (user_id, name, count, occurred_at) select $1, 'r_act', 1, d from generate_series('2026-03-01 03:30Z'::timestamptz, '2026-03-03 03:30Z', '1 day') as d",
        [user],
      );
      for (const kind of kinds) {
        const id = await insertCriterion(tx, kind);
        const rows = await tx.root<{ occurred_at: Date }>(
          `select met.occurred_at from status_public.achievement_criteria as criterion
           cross join lateral status_private.criterion_met_at(criterion, $2) as met where criterion.id = $1`,
          [id, user],
        );
        expect({ kind, rows: rows.length }).toEqual({ kind, rows: 1 });
        // And none for a user with no steps.
        const none = await tx.root(
          "select from status_public.achievement_criteria as criterion cross join lateral status_private.criterion_met_at(criterion, $2) where criterion.id = $1",
          [id, newUserId()],
        );
        expect({ kind, rows: none.length }).toEqual({ kind, rows: 0 });
      }
    }));

  it("is what the progress query reads: one criterion entry per criterion in myAchievements", () =>
    withTransaction(async (tx) => {
      const [{ criteria }] = await tx.root<{ criteria: number }>(
        "select count(*)::int as criteria from status_public.achievement_criteria where achievement_id in (select id from status_public.achievements where not hidden)",
      );
      const user = newUserId();
      const [{ listed }] = await tx.as<{ listed: number }>(
        { role: "user", userId: user },
        "select coalesce(sum(cardinality(criteria)), 0)::int as listed from status_public.my_achievements()",
      );
      expect(listed).toBe(criteria);
    }));
});

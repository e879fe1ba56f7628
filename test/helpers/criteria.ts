// The criterion kinds' tests (test/db/criteria/): progress read from the registry directly, and steps recorded
// through the engine at a given time.
import { asService, type TestTransaction } from "./db";

/** status_private.criterion_progress for each criterion of the achievement, as root (the function is private). */
export const criterionProgress = (tx: TestTransaction, achievementId: string, userId: string, action: string | null, localTime: string) =>
  tx.root<{ current: number; target: number }>(
    `select progress.current, progress.target
     from status_public.achievement_criteria as criterion
     cross join lateral status_private.criterion_progress(criterion, $2, $3, $4::timestamp) as progress
     where criterion.achievement_id = $1`,
    [achievementId, userId, action, localTime],
  );

/** One step of `action` for the user at `at`, recorded by the service; the ids of the achievements it unlocked. */
export const recordAt = (tx: TestTransaction, userId: string, action: string, at: string) =>
  tx
    .as<{ unlocked: string[] }>(
      asService(),
      "select array(select u.achievement_id from unnest(unlocked) as u) as unlocked from status_public.record_action_for($1, $2, 1, null, $3)",
      [userId, action, at],
    )
    .then((rows) => rows[0].unlocked);

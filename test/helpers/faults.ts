// Faults injected into the real event path, inside a test's rolled-back transaction (so they vanish with it).
import type { TestTransaction } from "./db";

/**
 * A trigger on user_steps that fails the step of one user with deadlock_detected (40P01), as PostgreSQL does
 * to a deadlock's victim, the first `failures` times. Returns how many steps it has seen so far.
 */
export async function failStepsWithDeadlocks(tx: TestTransaction, userId: string, failures: number): Promise<() => Promise<number>> {
  await tx.root(`
    create schema t_faults;
    create sequence t_faults.calls;
    create function t_faults.deadlock() returns trigger language plpgsql as $$
    begin
      if nextval('t_faults.calls') <= ${Number(failures)} then
        raise exception 'deadlock detected (injected by the test)' using errcode = '40P01';
      end if;
      return NEW;
    end $$;
    create trigger _000_t_fault before insert on status_public.user_steps
      for each row when (NEW.user_id = '${userId.replace(/[^0-9a-f-]/gi, "")}') execute function t_faults.deadlock();`);
  return async () => (await tx.root<{ calls: number }>("select last_value::int as calls from t_faults.calls"))[0].calls;
}

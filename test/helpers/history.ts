// A deterministic event history for "bulk equals replay" tests (test/db/status_public/record_actions.test.ts,
// import_actions.test.ts): users with daily streaks and sporadic ones, at all hours and in several time zones.

/** A small deterministic generator (mulberry32): the same history on every run. */
export function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, below: (n: number) => Math.floor(next() * n), pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)] };
}

export interface HistoryEvent {
  user: number;
  action: string;
  amount: number;
  /** An ISO instant. */
  at: string;
}

export const TIME_ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "Pacific/Auckland"];

/**
 * `days` days of activity from 2026-06-01 for each of `users` users, in chronological order (a stable sort keeps
 * same-instant events in the order generated), with each user's time zone. Actions are drawn from `actions`
 * (a login first on most days), amounts from `amountOf` (a login: 1).
 */
export function makeHistory(
  seed: number,
  users: number,
  days: number,
  actions: readonly string[],
  amountOf: (action: string, below: (n: number) => number) => number,
): { events: HistoryEvent[]; timeZones: string[] } {
  const random = generator(seed);
  const events: HistoryEvent[] = [];
  const timeZones = Array.from({ length: users }, () => random.pick(TIME_ZONES));
  const start = Date.UTC(2026, 5, 1);
  for (let user = 0; user < users; user++) {
    const dailyChance = random.pick([0.95, 0.8, 0.5, 0.25]);
    for (let day = 0; day < days; day++) {
      if (random.next() > dailyChance) continue;
      const count = 1 + random.below(4);
      let moment = start + day * 86_400_000 + random.below(86_400) * 1000;
      // Regulars mostly start their day with a login (login streaks); then anything.
      const logsIn = random.next() < dailyChance;
      for (let i = 0; i < count; i++) {
        const action = i === 0 && logsIn ? "logins" : random.pick(actions);
        const amount = action === "logins" ? 1 : amountOf(action, random.below);
        events.push({ user, action, amount, at: new Date(moment).toISOString() });
        // Now and then two events at the same instant.
        if (random.next() < 0.85) moment += random.below(5 * 3600) * 1000;
      }
    }
  }
  events.sort((a, b) => a.at.localeCompare(b.at));
  return { events, timeZones };
}

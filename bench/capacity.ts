// `npm run bench:capacity`: the README's capacity table, derived from per-core figures measured by the other
// benchmarks (bench/README.md; each constant says which run and row) and the assumptions below. Arithmetic
// only: it measures nothing, so rerun it after copying new figures here.

/** Per-core costs, measured on the 2-core machine of bench/README.md. */
const MEASURED = {
  /** The standalone server's CPU per recordActionFor over HTTP (bench:overhead, issue 10's run, 12:49). */
  apiWriteMs: 2.18,
  /** The standalone server's CPU per leaderboard(first: 10) read (the same run). */
  apiReadMs: 1.19,
  /** PostgreSQL backend CPU per single event, fresh users, 0.63 unlocks per event ("The cost of one event", after). */
  dbEventMs: 2.58,
  /** Batches of 100 with users of their own per client: 2,364 events/s on 2 cores, client included (000010, 15:26). */
  dbBatchedEventMs: 2_000 / 2_364,
  /** In PostgreSQL, 100,000 users: top 10 / around me / my rank, ms per call, averaged (000010, 15:26). */
  dbReadMs: (0.32 + 0.59 + 0.26) / 3,
  /** WAL per event, fresh users ("The cost of one event", after). */
  walBytesPerEvent: 4_466,
  /** Idle subscribers on one server process: the most measured, and RSS per subscriber and at rest (bench:memory, 12:59). */
  subscribersPerProcess: 10_000,
  subscriberKiB: 23.7,
  processBaselineMiB: 147,
};

const ASSUMED = {
  eventsPerUserPerDay: 20,
  readsPerUserPerDay: 10,
  peakToAverage: 3,
  /** Daily users with a websocket open at the peak. */
  subscribedAtPeak: 0.1,
  /** CPU busy at the peak: the rest is headroom. */
  targetUtilisation: 0.5,
  /** The largest primary considered (vCPUs): where one primary stops being enough. */
  largestPrimaryCores: 64,
};

const perCore = (ms: number) => Math.floor(1_000 / ms);
const round = (value: number) => (value >= 10 ? Math.ceil(value) : Number(value.toPrecision(2)));
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const millions = (value: number) => `${Number((value / 1e6).toPrecision(2))} million`;

function sizing(dailyUsers: number) {
  const peak = (perDay: number) => ((dailyUsers * perDay) / 86_400) * ASSUMED.peakToAverage;
  const events = peak(ASSUMED.eventsPerUserPerDay);
  const reads = peak(ASSUMED.readsPerUserPerDay);
  const subscribers = dailyUsers * ASSUMED.subscribedAtPeak;
  const processes = Math.max(1, Math.ceil(subscribers / MEASURED.subscribersPerProcess));
  const apiCores = (events * MEASURED.apiWriteMs + reads * MEASURED.apiReadMs) / 1_000 / ASSUMED.targetUtilisation;
  const dbWriteCores = (events * MEASURED.dbEventMs) / 1_000 / ASSUMED.targetUtilisation;
  const dbBatchedCores = (events * MEASURED.dbBatchedEventMs) / 1_000 / ASSUMED.targetUtilisation;
  const dbReadCores = (reads * MEASURED.dbReadMs) / 1_000 / ASSUMED.targetUtilisation;
  const subscriberGiB = (subscribers * MEASURED.subscriberKiB) / 1024 ** 2 + (processes * MEASURED.processBaselineMiB) / 1024;
  const walMiBs = (events * MEASURED.walBytesPerEvent) / 1024 ** 2;
  return { events, reads, subscribers, processes, apiCores, dbWriteCores, dbBatchedCores, dbReadCores, subscriberGiB, walMiBs };
}

const lines = [
  "| per core (2-core machine, bench/README.md) | figure |",
  "| --- | ---: |",
  `| events/s, single events: PostgreSQL (${MEASURED.dbEventMs} ms CPU each) | ${count(perCore(MEASURED.dbEventMs))} |`,
  `| events/s, batches of 100: PostgreSQL (${MEASURED.dbBatchedEventMs.toFixed(2)} ms each, client included) | ${count(perCore(MEASURED.dbBatchedEventMs))} |`,
  `| events/s: API server (${MEASURED.apiWriteMs} ms CPU per recordAction) | ${perCore(MEASURED.apiWriteMs)} |`,
  `| leaderboard reads/s: PostgreSQL (${MEASURED.dbReadMs.toFixed(2)} ms a statement, execution only) | ${count(perCore(MEASURED.dbReadMs))} |`,
  `| leaderboard reads/s: API server (${MEASURED.apiReadMs} ms CPU per read) | ${perCore(MEASURED.apiReadMs)} |`,
  `| idle subscribers per server process (${MEASURED.subscriberKiB} KiB each; CPU per toast not measured) | ≥ ${count(MEASURED.subscribersPerProcess)} |`,
  "",
  "| daily users | peak events/s | peak reads/s | subscribers at peak | API: cores (CPU) | API: processes for the subscribers, their memory | PostgreSQL: cores, single events / batched | PostgreSQL: cores for reads | WAL at peak |",
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const users of [10_000, 1_000_000, 100_000_000]) {
  const s = sizing(users);
  lines.push(
    `| ${count(users)} | ${count(s.events)} | ${count(s.reads)} | ${count(s.subscribers)} | ${round(s.apiCores)} | ${count(s.processes)}, ${round(s.subscriberGiB)} GiB | ` +
      `${round(s.dbWriteCores)} / ${round(s.dbBatchedCores)} | ${round(s.dbReadCores)} | ${round(s.walMiBs)} MiB/s |`,
  );
}
// The daily users whose peak events fill the largest primary (writes only; reads can go to replicas).
const usersFilling = (eventMs: number) =>
  ((ASSUMED.largestPrimaryCores * ASSUMED.targetUtilisation * 1_000) / eventMs / ASSUMED.peakToAverage) * (86_400 / ASSUMED.eventsPerUserPerDay);
lines.push(
  "",
  `One primary of ${ASSUMED.largestPrimaryCores} vCPUs at ${ASSUMED.targetUtilisation * 100} % lasts to about ${millions(usersFilling(MEASURED.dbEventMs))} daily users with single events, ` +
    `${millions(usersFilling(MEASURED.dbBatchedEventMs))} with batches (writes only).`,
);
process.stdout.write(`${lines.join("\n")}\n\nAssumptions: ${JSON.stringify(ASSUMED)}\n`);

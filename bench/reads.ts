// Benchmark: the leaderboard reads, timed inside PostgreSQL (no network, no driver), against plain index scans
// of the rows each returns, with the same columns, in the same run:
//   top 10     status_public.leaderboard('ALL_TIME', 10, 0)   vs  the 10 rows of leaderboard_scores' listing index,
//              each with its profile and tier (the entry's columns but rank and medal)
//   around me  status_public.leaderboard_around_me('ALL_TIME', 5) as a user  vs  the user's row, the 5 rows above
//              and the 5 below it on the same index (the function's own windows, as plain statements), likewise
//   my rank    status_public.my_rank('ALL_TIME') as a user  vs  the user's own score row (primary key lookup)
//   tally top  status_public.leaderboard('ALL_TIME', 10, 0, 'bench_tasks'), a ranked action's tally board (issue
//              11)  vs
//              the 10 rows of the same index for that board, likewise
// The bare scans (user ids and points only, no profile or tier) are timed too, as the floor of any design.
// Data: `scored-users` users (default 100,000), each awarded once through points_ledger (as bench/rank.ts
// does: the triggers write every period's scores and the histogram), and each with one step of `bench_tasks`
// (a long-tailed amount, through the event path: its tally boards), then VACUUM ANALYZE. Each statement
// runs `calls` times in a PL/pgSQL DO loop timed with clock_timestamp() (PERFORM array_agg of the whole rows,
// so nothing is sent back but every column of every row is computed: a bare PERFORM let the planner drop the
// unread columns, and the my-rank scan never read the score row),
// `repeats` times, the function, its plain statement and the bare scan back to back, in a turning order; the
// median of the repeats' mean time per call is reported, and each ratio is the median of the repeats' own
// ratios (the sides of one repeat run seconds apart: on a shared machine the load moves less between them). Every loop iteration sets jwt.claims.user_id to the next of `probes` random users
// (both sides, so that cost cancels out); the functions run as the user role, the plain statements as the
// superuser (the functions are SECURITY DEFINER: row-level security does not apply to either). Before
// timing, each probe's answers are checked: the top 10 and the windows against the plain statements, ranks
// against count(*). Writes bench/results/reads.json and prints a table.
// Usage: npm run bench:reads [-- --scored-users=100000 --calls=100 --repeats=11 --probes=20]
import "../src/environment";
import pg from "pg";
import { cleanUp, fmt, machine, main, median, option, progress, roles, startBenchDatabase, timeInDatabase, writeResult } from "./common";
import { awardScoredUsers, foldLeaderboardDeltas } from "./scores";

const SCORED_USERS = option("scored-users", 100_000);
const CALLS = option("calls", 100);
const REPEATS = option("repeats", 11);
const PROBES = option("probes", 20);
const RADIUS = 5;

/** The ranked action of the tally board read. */
const TALLY_ACTION = "bench_tasks";
/** The all-time board of an action ('': the points board). */
const allTimeBoard = (action: string) => `score.action = '${action}' and score.period = 'ALL_TIME' and score.period_start = '-infinity'`;
const TALLY_BOARD = allTimeBoard(TALLY_ACTION);
const BOARD = allTimeBoard("");

/** The top 10 rows of a board, by its listing index. */
const topOf = (board: string) => `select score.user_id, score.points from status_public.leaderboard_scores as score
        where ${board} and score.visible order by score.points desc, score.reached_at, score.user_id limit 10`;

/** The bare statements: the rows each function returns, read straight from leaderboard_scores (`me`: the probe). */
const bareStatements = () => ({
  top: topOf(BOARD),
  // Above and below the user, each as two range scans of the listing index (the same points and a later
  // or earlier place in the tie, then the next points), the nearer RADIUS of them kept. The user's row is a
  // scalar subquery (an InitPlan), so that its values are index conditions.
  around: `with mine as (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score where ${BOARD} and score.user_id = me)
    (select near.user_id, near.points from (
       (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
        where ${BOARD} and score.visible and score.points = (select mine.points from mine)
          and (score.reached_at, score.user_id) < ((select mine.reached_at from mine), me)
        order by score.reached_at desc, score.user_id desc limit ${RADIUS})
       union all
       (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
        where ${BOARD} and score.visible and score.points > (select mine.points from mine)
        order by score.points, score.reached_at desc, score.user_id desc limit ${RADIUS})
     ) as near order by near.points, near.reached_at desc, near.user_id desc limit ${RADIUS})
    union all
    (select near.user_id, near.points from (
       (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
        where ${BOARD} and score.visible and score.points = (select mine.points from mine)
          and (score.reached_at, score.user_id) > ((select mine.reached_at from mine), me)
        order by score.reached_at, score.user_id limit ${RADIUS})
       union all
       (select score.user_id, score.points, score.reached_at from status_public.leaderboard_scores as score
        where ${BOARD} and score.visible and score.points < (select mine.points from mine)
        order by score.points desc, score.reached_at, score.user_id limit ${RADIUS})
     ) as near order by near.points desc, near.reached_at, near.user_id limit ${RADIUS})
    union all
    select mine.user_id, mine.points from mine`,
  rank: `select score.points from status_public.leaderboard_scores as score where ${BOARD} and score.user_id = me`,
  tallyTop: topOf(TALLY_BOARD),
});
const BARE = bareStatements();

/** The bare rows with the columns an entry has but its rank and medal: each user's profile and tier, by primary key. */
const withEntryColumns = (rows: string) =>
  `select listed.user_id, profile.display_name, listed.points, tier.name as tier, tier.badge from (${rows}) as listed
   left join status_public.user_profiles as profile on profile.user_id = listed.user_id
   left join status_public.user_scores as overall on overall.user_id = listed.user_id
   left join status_public.tiers as tier on tier.name = overall.tier`;

/** The plain statements the functions are held to: the same rows with the same columns, from plain index scans. */
const plainStatements = () => ({ top: withEntryColumns(BARE.top), around: withEntryColumns(BARE.around), rank: BARE.rank, tallyTop: withEntryColumns(BARE.tallyTop) });
const PLAIN = plainStatements();

const FUNCTIONS = {
  top: "select * from status_public.leaderboard('ALL_TIME', 10, 0)",
  around: `select * from status_public.leaderboard_around_me('ALL_TIME', ${RADIUS})`,
  rank: "select * from status_public.my_rank('ALL_TIME')",
  tallyTop: `select * from status_public.leaderboard('ALL_TIME', 10, 0, '${TALLY_ACTION}')`,
};

type Read = keyof typeof PLAIN;
type Side = "function" | "plain" | "bare";
const SIDES: Side[] = ["function", "plain", "bare"];
const READS: Array<{ read: Read; label: string; plainLabel: string }> = [
  { read: "top", label: "leaderboard('ALL_TIME', 10, 0)", plainLabel: "10 rows of the listing index + profile and tier" },
  { read: "around", label: `leaderboard_around_me('ALL_TIME', ${RADIUS}) (user)`, plainLabel: `the user's row + ${RADIUS} above + ${RADIUS} below, + profile and tier` },
  { read: "rank", label: "my_rank('ALL_TIME') (user)", plainLabel: "the user's score row" },
  { read: "tallyTop", label: `leaderboard('ALL_TIME', 10, 0, '${TALLY_ACTION}') (a tally board)`, plainLabel: "10 rows of the listing index for that board + profile and tier" },
];

/** Ranks the tally action and records one step of it for every scored user (1 to 200, long-tailed), through the event path. */
async function recordTallies(client: pg.Client): Promise<void> {
  await client.query("insert into status_public.actions (name, ranked) values ($1, true)", [TALLY_ACTION]);
  const batch = 50_000;
  for (let after = "00000000-0000-0000-0000-000000000000"; ; ) {
    const { rows } = await client.query<{ last: string | null }>(
      `with batch as (select user_id from status_public.user_scores where user_id > $1 order by user_id limit $2),
       recorded as (insert into status_public.user_steps (user_id, name, count, occurred_at)
                    select batch.user_id, $3, 1 + floor(power(random(), 3) * 200)::int, now() - random() * interval '90 days' from batch)
       select max(user_id::text) as last from batch`,
      [after, batch, TALLY_ACTION],
    );
    if (!rows[0].last) break;
    after = rows[0].last;
  }
  await foldLeaderboardDeltas(client);
  await client.query("vacuum analyze status_public.leaderboard_scores");
}


interface EntryColumns {
  user_id: string;
  display_name: string | null;
  points: number;
  tier: string | null;
  badge: string | null;
}
/** An entry's columns that the plain statements also return, in a comparable form (sorted by user). */
const entryColumns = (rows: EntryColumns[]) =>
  JSON.stringify(rows.map(({ user_id, display_name, points, tier, badge }) => ({ user_id, display_name, points, tier, badge })).sort((a, b) => a.user_id.localeCompare(b.user_id)));

/** Each probe's answers from the functions (as the user) against the plain statements and count(*). */
async function verify(client: pg.Client, probes: string[]): Promise<void> {
  const asUser = async <T extends pg.QueryResultRow>(user: string, sql: string): Promise<T[]> => {
    await client.query("begin");
    try {
      await client.query(`set local role ${client.escapeIdentifier(roles.user)}`);
      await client.query("select set_config('jwt.claims.user_id', $1, true)", [user]);
      return (await client.query<T>(sql)).rows;
    } finally {
      await client.query("rollback");
    }
  };
  const plain = async <T extends pg.QueryResultRow>(user: string, sql: string) => (await client.query<T>(sql.replace(/\bme\b/g, "$1::uuid"), [user])).rows;
  const rankByCount = async (points: number) =>
    (await client.query<{ rank: number }>(`select 1 + count(*)::integer as rank from status_public.leaderboard_scores as score where ${BOARD} and score.visible and score.points > $1`, [points])).rows[0].rank;

  const top = await asUser<EntryColumns & { rank: number }>(probes[0], FUNCTIONS.top);
  const bareTop = await client.query<{ user_id: string }>(BARE.top);
  if (JSON.stringify(top.map((row) => row.user_id)) !== JSON.stringify(bareTop.rows.map((row) => row.user_id))) {
    throw new Error("leaderboard(): not the rows of the plain index scan, in its order");
  }
  if (entryColumns(top) !== entryColumns((await client.query<EntryColumns>(PLAIN.top)).rows)) throw new Error("leaderboard(): not the plain statement's columns");
  for (const entry of top) {
    if (entry.rank !== (await rankByCount(entry.points))) throw new Error(`leaderboard(): rank ${entry.rank} for ${entry.points} points, count(*) says otherwise`);
  }
  const tallyTop = await asUser<EntryColumns & { rank: number }>(probes[0], FUNCTIONS.tallyTop);
  if (tallyTop.length !== 10 || entryColumns(tallyTop) !== entryColumns((await client.query<EntryColumns>(PLAIN.tallyTop)).rows)) {
    throw new Error("leaderboard(..., action): not the tally board's plain statement's rows and columns");
  }
  for (const entry of tallyTop) {
    const { rows } = await client.query<{ rank: number }>(
      `select 1 + count(*)::integer as rank from status_public.leaderboard_scores as score where ${TALLY_BOARD} and score.visible and score.points > $1`,
      [entry.points],
    );
    if (entry.rank !== rows[0].rank) throw new Error(`leaderboard(..., action): rank ${entry.rank} for a tally of ${entry.points}, count(*) says ${rows[0].rank}`);
  }
  for (const probe of probes) {
    const around = await asUser<EntryColumns>(probe, FUNCTIONS.around);
    if (around.length === 0 || entryColumns(around) !== entryColumns(await plain<EntryColumns>(probe, PLAIN.around))) {
      throw new Error(`leaderboard_around_me() for ${probe}: not the plain windows' rows and columns`);
    }
    const [mine] = await asUser<{ rank: number; points: number }>(probe, FUNCTIONS.rank);
    const [row] = await plain<{ points: number }>(probe, PLAIN.rank);
    if (mine.points !== row?.points || mine.rank !== (await rankByCount(mine.points))) {
      throw new Error(`my_rank() for ${probe}: rank ${mine.rank} with ${mine.points} points; the score row has ${row?.points}`);
    }
  }
}

main(async () => {
  progress(`reads: ${SCORED_USERS} scored users, ${CALLS} calls a timing, ${REPEATS} repeats, ${PROBES} probe users`);
  const database = await startBenchDatabase("achievements_bench_reads");
  const client = new pg.Client({ connectionString: database.databaseUrl });
  await client.connect();
  const timings = (): Record<Side, number[]> => ({ function: [], plain: [], bare: [] });
  const perCall: Record<Read, Record<Side, number[]>> = { top: timings(), around: timings(), rank: timings(), tallyTop: timings() };
  try {
    progress(`${SCORED_USERS} scored users: awarding their points through the engine...`);
    const started = Date.now();
    await awardScoredUsers(client, SCORED_USERS);
    const { rows: counted } = await client.query<{ n: number }>(`select count(*)::integer as n from status_public.leaderboard_scores as score where ${BOARD}`);
    if (counted[0].n !== SCORED_USERS) throw new Error(`${counted[0].n} all-time scores for ${SCORED_USERS} users`);
    await recordTallies(client);
    progress(`${SCORED_USERS} scored users: populated and analyzed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const { rows: sample } = await client.query<{ user_id: string }>(
      `select score.user_id::text from status_public.leaderboard_scores as score where ${BOARD} order by random() limit $1`,
      [PROBES],
    );
    const probes = sample.map((row) => row.user_id);
    await verify(client, probes);
    progress(`answers checked for ${probes.length} probe users`);
    // As the server's connections (@dataplan/pg): no JIT optimization.
    await client.query("set jit_optimize_above_cost = -1");
    await client.query("select set_config('bench.probes', $1, false)", [probes.join(",")]);
    const run = async (read: Read, side: Side) => {
      await client.query(side === "function" ? `set role ${client.escapeIdentifier(roles.user)}` : "reset role");
      return timeInDatabase(client, side === "function" ? FUNCTIONS[read] : side === "plain" ? PLAIN[read] : BARE[read], CALLS);
    };
    // Warm-up: every statement's plans, in this session.
    for (const { read } of READS) for (const side of SIDES) await run(read, side);
    for (let repeat = 1; repeat <= REPEATS; repeat++) {
      for (const { read } of READS) {
        // The sides in turn, starting from another one each repeat.
        for (let i = 0; i < SIDES.length; i++) {
          const side = SIDES[(repeat + i) % SIDES.length];
          perCall[read][side].push(await run(read, side));
        }
      }
      progress(
        `repeat ${repeat}: ${READS.map(({ read }) => `${read} ${SIDES.map((side) => perCall[read][side].at(-1)!.toFixed(3)).join(" / ")} ms`).join(", ")} (function / plain / bare)`,
      );
    }
    await client.query("reset role");
  } finally {
    await cleanUp(
      () => client.end(),
      () => database.stop(),
    );
  }

  const summary = (read: Read) => {
    const { function: functionRepeats, plain, bare } = perCall[read];
    return {
      functionMs: median(functionRepeats),
      plainMs: median(plain),
      bareMs: median(bare),
      ratio: median(functionRepeats.map((ms, repeat) => ms / plain[repeat])),
      bareRatio: median(functionRepeats.map((ms, repeat) => ms / bare[repeat])),
      functionRepeatsMs: perCall[read].function,
      plainRepeatsMs: perCall[read].plain,
      bareRepeatsMs: perCall[read].bare,
    };
  };
  const results = Object.fromEntries(READS.map(({ read }) => [read, summary(read)])) as Partial<Record<Read, ReturnType<typeof summary>>>;
  const table = [
    `| read (${fmt(SCORED_USERS)} scored users, in PostgreSQL) | ms per call | plain statement of the same rows and columns | ms per call | function / plain | goal | bare scan (ids, points) ms | function / bare |`,
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ...READS.map(({ read, label, plainLabel }) => {
      const { functionMs, plainMs, bareMs, ratio, bareRatio } = results[read]!;
      return `| ${label} | ${functionMs.toFixed(3)} | ${plainLabel} | ${plainMs.toFixed(3)} | **${ratio.toFixed(2)}x** | <= 2x | ${bareMs.toFixed(3)} | ${bareRatio.toFixed(2)}x |`;
    }),
  ].join("\n");
  process.stdout.write(
    `${table}\n\nmedian of ${REPEATS} repeats of ${CALLS} calls each in a DO loop (ratios: the median of the repeats' ratios); ${PROBES} probe users; ${machine()}\n`,
  );
  await writeResult("reads", { scoredUsers: SCORED_USERS, calls: CALLS, repeats: REPEATS, probes: PROBES, radius: RADIUS, ...results, goal: { ratioAtMost: 2 } });
});

// `npm run catalog -- plan FILE | apply FILE | export [FILE]` (src/cli.ts): one transaction on the database,
// as the admin role (set role), so that the CLI has the same grants and RLS as an admin over GraphQL. With
// --backfill, the apply starts a backfill in its transaction, and the command then runs its batches (as the
// server's worker would: src/backfill.ts) and prints its summary after the plan.
import { readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { backfillSummary, workOnBackfill } from "../backfill";
import { applyCatalog } from "./apply";
import { exportCatalog } from "./export";
import { CatalogError, formatProblem, parseCatalogText } from "./file";
import type { CatalogDatabase } from "./live";
import { type HeldAchievements, planCatalog } from "./plan";
import { formatPlan } from "./report";

export const CATALOG_USAGE = `usage: npm run catalog -- plan FILE [--held-achievements=refuse|retire]
       npm run catalog -- apply FILE [--held-achievements=refuse|retire] [--backfill [--notify] [--batch-size=USERS]]
       npm run catalog -- export [FILE]`;

/** A usage or catalog problem: one message for the user, no stack. */
export class CatalogCommandError extends Error {}

export interface CatalogCommandOptions {
  /** A connection string allowed to `set role` to the admin role (a superuser, the owner or the authenticator). */
  connectionString: string;
  adminRole: string;
  /** Where the result goes (the plan, or the export without FILE). */
  stdout: NodeJS.WritableStream;
}

function asCatalogDatabase(client: pg.Client): CatalogDatabase {
  return { query: async <Row>(text: string, values?: unknown[]) => (await client.query(text, values)).rows as Row[] };
}

async function readCatalogFile(file: string) {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new CatalogCommandError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    return parseCatalogText(text);
  } catch (error) {
    throw asCommandError(error, file);
  }
}

function asCommandError(error: unknown, file?: string): unknown {
  if (!(error instanceof CatalogError)) return error;
  return new CatalogCommandError(`${error.code}: ${error.problems.length} ${error.problems.length === 1 ? "problem" : "problems"}\n${error.problems.map((problem) => `  ${formatProblem(problem, file)}`).join("\n")}\nNothing was applied.`);
}

/** Runs `work` as the admin role in one transaction, committed only when `commit`. */
async function asAdmin<T>(options: CatalogCommandOptions, commit: boolean, work: (db: CatalogDatabase) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('role', $1, true)", [options.adminRole]);
    const result = await work(asCatalogDatabase(client));
    await client.query(commit ? "commit" : "rollback");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw asCommandError(error);
  } finally {
    await client.end();
  }
}

/** The apply's backfill, batch by batch (committed each), then its summary as the admin reads it. */
async function runAppliedBackfill(options: CatalogCommandOptions, run: number): Promise<void> {
  const client = new pg.Client({ connectionString: options.connectionString });
  await client.connect();
  try {
    await workOnBackfill(client, run);
  } catch (error) {
    throw new CatalogCommandError(`backfill ${run} stopped: ${(error as Error).message}\nThe catalog was applied; resume the backfill with: npm run backfill -- --resume ${run}`);
  } finally {
    await client.end();
  }
  const summary = await asAdmin(options, false, (db) => backfillSummary((text, values) => db.query(text, values), run));
  options.stdout.write(
    `Backfill ${run} finished: ${summary.unlocks} unlocks (+${summary.points} points), ${summary.levelsAchieved} levels, ${summary.usersChecked} users checked, ${summary.retiered} moved to the tier of their points.\n`,
  );
}

export async function runCatalogCommand(args: string[], options: CatalogCommandOptions): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        "held-achievements": { type: "string" },
        backfill: { type: "boolean", default: false },
        notify: { type: "boolean", default: false },
        "batch-size": { type: "string", default: "500" },
      },
    });
  } catch (error) {
    throw new CatalogCommandError(`${(error as Error).message}\n${CATALOG_USAGE}`);
  }
  const [command, given, ...extra] = parsed.positionals;
  // Relative to where `npm run` was typed (npm runs scripts in the package's folder).
  const file = given && resolve(process.env.INIT_CWD ?? process.cwd(), given);
  const held = parsed.values["held-achievements"] ?? "refuse";
  if (held !== "refuse" && held !== "retire") throw new CatalogCommandError(`--held-achievements: refuse or retire, got ${held}\n${CATALOG_USAGE}`);
  if (extra.length > 0 || (command !== "export" && !file)) throw new CatalogCommandError(CATALOG_USAGE);
  const heldAchievements = held as HeldAchievements;
  const batchSize = Number(parsed.values["batch-size"]);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new CatalogCommandError(`--batch-size: a whole number of users, at least 1\n${CATALOG_USAGE}`);
  const backfillOptionGiven = parsed.values.notify || args.some((arg) => arg.startsWith("--batch-size"));
  if ((backfillOptionGiven && !parsed.values.backfill) || (parsed.values.backfill && command !== "apply")) {
    throw new CatalogCommandError(`--backfill, --notify and --batch-size go with apply --backfill\n${CATALOG_USAGE}`);
  }
  const backfill = parsed.values.backfill ? { notify: parsed.values.notify, batchSize } : undefined;

  switch (command) {
    case "plan": {
      const wanted = await readCatalogFile(file!);
      const plan = await asAdmin(options, false, (db) => planCatalog(db, wanted, { heldAchievements }));
      options.stdout.write(formatPlan(plan));
      return;
    }
    case "apply": {
      const wanted = await readCatalogFile(file!);
      const plan = await asAdmin(options, true, (db) => applyCatalog(db, wanted, { heldAchievements, backfill }));
      options.stdout.write(formatPlan(plan));
      if (plan.backfillRun !== undefined) await runAppliedBackfill(options, plan.backfillRun);
      return;
    }
    case "export": {
      const text = await asAdmin(options, false, (db) => exportCatalog(db, file ? dirname(file) : undefined));
      if (file) await writeFile(file, text);
      else options.stdout.write(text);
      return;
    }
    default:
      throw new CatalogCommandError(`unknown catalog command "${command ?? ""}"\n${CATALOG_USAGE}`);
  }
}

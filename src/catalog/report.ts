// A plan as text, for the CLI and for GraphQL's `summary`: one line per object and field, then the impact.
import type { CatalogChange, CatalogPlan, FieldChange } from "./plan";

const count = (n: number) => n.toLocaleString("en-US");
const users = (n: number) => `${count(n)} ${n === 1 ? "user" : "users"}`;
const show = (value: unknown) => (value === null || value === undefined ? "(none)" : JSON.stringify(value));

export const BACKFILL_NOTE =
  "Applying changes the catalog only, unless with a backfill (--backfill; GraphQL: backfill: true) or `npm run backfill` after it: that awards the users counted above, whose past steps already meet a new or changed rule, and moves users whose tier boundaries moved (README: Backfill).";

function describeField({ field, from, to }: FieldChange): string {
  if (from === null || from === undefined) return `${field} ${show(to)}`;
  if (to === null || to === undefined) return `${field} removed (was ${show(from)})`;
  return `${field} ${show(from)} -> ${show(to)}`;
}

function impactOf(change: CatalogChange): string[] {
  const notes: string[] = [];
  if (change.refused) {
    notes.push(
      change.object === "achievement"
        ? `REFUSED: ${users(change.holders ?? 0)} hold it (apply with --held-achievements=retire to retire it and keep their unlocks)`
        : `REFUSED: ${users(change.holders ?? 0)} achieved it (levels cannot be retired: keep it)`,
    );
  } else if (change.change === "retired") {
    notes.push(`retired: the ${users(change.holders ?? 0)} who hold it keep it (and its points); it no longer unlocks and only they see it`);
  }
  if (change.qualifying !== undefined) {
    const what = change.object === "level" ? "achieve it" : "unlock it";
    notes.push(`${users(change.qualifying)} would ${what} now${change.points ? ` (+${count(change.points)} points)` : ""}`);
  }
  if (change.change === "changed" && change.holders && change.fields.some((f) => f.field === "points")) {
    notes.push(`the ${users(change.holders)} who hold it keep the points they were awarded`);
  }
  return notes;
}

/** Fields at these values are not listed for an added object (they are the defaults). */
const DEFAULTS: Record<string, unknown> = { description: "", icon: null, kind: "milestone", hidden: false, availableFrom: null, availableUntil: null, position: 0, clientReportable: false, ranked: false, badge: "" };

const SIGN: Record<CatalogChange["change"], string> = { added: "+", changed: "~", removed: "-", retired: "-", revived: "+" };

export function formatPlan(plan: CatalogPlan): string {
  const lines: string[] = [];
  if (plan.changes.length === 0) {
    lines.push(plan.applied ? "Applied: no changes (the catalog was already as the file says)." : "No changes: the catalog is as the file says.");
    return lines.join("\n") + "\n";
  }
  lines.push(plan.applied ? `Applied ${count(plan.changes.length)} changes:` : `Plan: ${count(plan.changes.length)} changes (nothing was written):`);
  for (const object of ["action", "achievement", "tier", "level"] as const) {
    const changes = plan.changes.filter((change) => change.object === object);
    if (changes.length === 0) continue;
    lines.push(`${object}s:`);
    for (const change of changes) {
      const what =
        change.change === "changed" || change.change === "revived"
          ? [...(change.change === "revived" ? ["revived"] : []), ...change.fields.filter((f) => f.field !== "retired").map(describeField)]
          : change.change === "added"
            ? change.fields.filter((f) => DEFAULTS[f.field] !== f.to).map(describeField)
            : change.change === "removed"
              ? ["removed"]
              : [];
      lines.push(`  ${SIGN[change.change]} ${change.id}: ${[what.join(", "), ...impactOf(change)].filter((part) => part).join("; ")}`);
    }
  }
  if (plan.tierMoves.length > 0) {
    lines.push("tier changes:");
    for (const move of plan.tierMoves) lines.push(`  ${users(move.users)}: ${move.fromTier ?? "(no tier)"} -> ${move.toTier ?? "(no tier)"}`);
  }
  const refused = plan.changes.filter((change) => change.refused).length;
  if (refused > 0) lines.push(`${count(refused)} removals are refused: applying this file fails (CATALOG_DESTRUCTIVE_CHANGE).`);
  lines.push(plan.backfillRun === undefined ? BACKFILL_NOTE : `Backfill ${plan.backfillRun} started: it awards the users counted above and moves users whose tier boundaries moved.`);
  return lines.join("\n") + "\n";
}

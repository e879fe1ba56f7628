// Draws the rank chart from bench/results/rank.json (npm run bench:rank): p50 (solid) and p99 (dashed)
// rank-lookup latency against the number of users, log-log, for the histogram, the naive count and Redis.
// A hand-written SVG string: no plotting dependency. It goes to bench/results/rank-latency.svg (git-ignored);
// `--refresh` replaces the committed bench/rank-latency.svg that bench/README.md shows.
// Usage: npm run bench:chart [-- --refresh] [-- results.json out.svg]
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../src/config";
import { main, progress } from "./common";

interface RankRow {
  users: number;
  histogram: { p50: number; p99: number };
  naive: { p50: number; p99: number };
  redis: { p50: number; p99: number } | null;
}

const WIDTH = 720;
const HEIGHT = 440;
const PAD = { left: 70, right: 190, top: 40, bottom: 55 };
const SERIES = [
  { key: "histogram", label: "histogram (rank_of)", color: "#1f77b4" },
  { key: "naive", label: "naive count(*)", color: "#d62728" },
  { key: "redis", label: "Redis ZREVRANK", color: "#2ca02c" },
] as const;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function renderChart(rows: RankRow[], date: string): string {
  const xs = rows.map((row) => row.users);
  const values = rows.flatMap((row) => SERIES.flatMap(({ key }) => (row[key] ? [row[key].p50, row[key].p99] : [])));
  const xMin = Math.log10(Math.min(...xs));
  const xMax = Math.log10(Math.max(...xs));
  const yMin = Math.floor(Math.log10(Math.min(...values)));
  const yMax = Math.ceil(Math.log10(Math.max(...values)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (users: number) => PAD.left + (xMax === xMin ? plotW / 2 : ((Math.log10(users) - xMin) / (xMax - xMin)) * plotW);
  const y = (ms: number) => PAD.top + plotH - ((Math.log10(ms) - yMin) / (yMax - yMin || 1)) * plotH;
  const parts: string[] = [];
  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  parts.push(`<text x="${PAD.left}" y="24" font-size="15" font-weight="bold">Exact rank lookup latency vs users (log-log)</text>`);
  // Y grid: one line a decade.
  for (let decade = yMin; decade <= yMax; decade++) {
    const ms = 10 ** decade;
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(ms)}" y2="${y(ms)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 8}" y="${y(ms) + 4}" font-size="12" text-anchor="end">${ms >= 1 ? ms : ms.toFixed(-decade)} ms</text>`);
  }
  // X ticks at the measured sizes.
  for (const users of xs) {
    parts.push(`<line x1="${x(users)}" x2="${x(users)}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${x(users)}" y="${PAD.top + plotH + 18}" font-size="12" text-anchor="middle">${users.toLocaleString("en")}</text>`);
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 12}" font-size="13" text-anchor="middle">scored users (log scale)</text>`);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  SERIES.forEach(({ key, label, color }, index) => {
    const points = rows.filter((row) => row[key]);
    for (const [quantile, dash] of [["p50", ""], ["p99", ` stroke-dasharray="6 4"`]] as const) {
      if (points.length === 0) continue;
      const path = points.map((row) => `${x(row.users).toFixed(1)},${y(row[key]![quantile]).toFixed(1)}`).join(" ");
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const row of points) {
        parts.push(`<circle cx="${x(row.users).toFixed(1)}" cy="${y(row[key]![quantile]).toFixed(1)}" r="3" fill="${color}"><title>${escape(label)} ${quantile}: ${row[key]![quantile].toFixed(3)} ms at ${row.users.toLocaleString("en")} users</title></circle>`);
      }
    }
    const ly = PAD.top + 16 + index * 22;
    const lx = PAD.left + plotW + 14;
    parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 30}" y="${ly + 4}" font-size="12">${escape(label)}${points.length ? "" : " (skipped)"}</text>`);
  });
  const ly = PAD.top + 16 + SERIES.length * 22 + 8;
  const lx = PAD.left + plotW + 14;
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="#444" stroke-width="2"/><text x="${lx + 30}" y="${ly + 4}" font-size="12">p50</text>`);
  parts.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly + 20}" y2="${ly + 20}" stroke="#444" stroke-width="2" stroke-dasharray="6 4"/><text x="${lx + 30}" y="${ly + 24}" font-size="12">p99</text>`);
  parts.push(`<text x="${lx}" y="${PAD.top + plotH - 24}" font-size="11" fill="#666">npm run bench:rank</text>`);
  parts.push(`<text x="${lx}" y="${PAD.top + plotH - 10}" font-size="11" fill="#666">${escape(date.slice(0, 10))}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">\n${parts.join("\n")}\n</svg>\n`;
}

main(async () => {
  const refresh = process.argv.includes("--refresh");
  const defaultOutput = refresh ? join(PROJECT_ROOT, "bench", "rank-latency.svg") : join(PROJECT_ROOT, "bench", "results", "rank-latency.svg");
  const [input = join(PROJECT_ROOT, "bench", "results", "rank.json"), output = defaultOutput] = process.argv.slice(2).filter((arg) => arg !== "--refresh");
  await mkdir(dirname(output), { recursive: true });
  const results = JSON.parse(await readFile(input, "utf8")) as { date: string; rows: RankRow[] };
  if (!results.rows?.length) throw new Error(`${input}: no rows (run npm run bench:rank first)`);
  await writeFile(output, renderChart(results.rows, results.date));
  progress(`chart: ${output} from ${input} (${results.rows.length} sizes, ${results.date})`);
});

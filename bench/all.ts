// `npm run bench`: every benchmark in sequence, each in its own process (its own embedded PostgreSQL), with
// progress on stderr and each one's table on stdout; then the rank chart. The tables also go, with the date,
// the machine and the command, to bench/results/latest.md (git-ignored), to copy into bench/README.md. Arguments after `--` are passed to
// every benchmark (`--clients=4 --seconds=3`, see each file), environment variables (BENCH_*) too.
// Usage: npm run bench [-- --only=ingest,catalog] [-- --refresh (the committed chart too)]
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/config";

const BENCHMARKS = ["rank", "ingest", "batches", "catalog", "subscriptions", "overhead", "reads", "dashboard", "growth", "memory", "chart"];

/** Runs one benchmark; its stdout (the table) is shown and returned. */
function run(name: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench", `${name}.ts`), ...args], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function main(): Promise<void> {
  const onlyArg = process.argv.slice(2).find((arg) => arg.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",") : BENCHMARKS;
  const args = process.argv.slice(2).filter((arg) => arg !== onlyArg);
  const started = Date.now();
  const failed: string[] = [];
  const report = [
    `# npm run bench ${process.argv.slice(2).join(" ")}`.trimEnd(),
    "",
    `${new Date().toISOString()}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  ];
  for (const [index, name] of only.entries()) {
    if (!BENCHMARKS.includes(name)) throw new Error(`unknown benchmark "${name}": ${BENCHMARKS.join(", ")}`);
    process.stderr.write(`\n[${index + 1}/${only.length}] bench:${name} (${((Date.now() - started) / 1000).toFixed(0)} s elapsed)\n`);
    // bench:rank takes its sizes as bare numbers, the others --name=value options: pass each its own kind.
    // The chart goes to bench/results/ unless --refresh asks to replace the committed bench/rank-latency.svg.
    const own =
      name === "rank" ? args.filter((arg) => /^\d+$/.test(arg)) : name === "chart" ? args.filter((arg) => arg === "--refresh") : args.filter((arg) => arg.startsWith("--") && arg !== "--refresh");
    const begun = Date.now();
    const { code, output } = await run(name, own);
    if (output.trim()) report.push("", `## bench:${name}`, "", output.trim());
    process.stderr.write(`bench:${name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${((Date.now() - begun) / 1000).toFixed(0)} s\n`);
    if (code !== 0) failed.push(name);
  }
  const summary = `all benchmarks: ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length ? `, failed: ${failed.join(", ")}` : ""}`;
  report.push("", summary, "");
  await mkdir(join(PROJECT_ROOT, "bench", "results"), { recursive: true });
  await writeFile(join(PROJECT_ROOT, "bench", "results", "latest.md"), report.join("\n"));
  process.stderr.write(`\n${summary}; tables in bench/results/latest.md\n`);
  if (failed.length) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

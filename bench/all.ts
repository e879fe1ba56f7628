// `npm run bench`: every benchmark in sequence, each in its own process (its own embedded PostgreSQL), with
// progress on stderr and each one's table on stdout; then the rank chart. Arguments after `--` are passed to
// every benchmark (`--clients=4 --seconds=3`, see each file), environment variables (BENCH_*) too.
// Usage: npm run bench [-- --only=ingest,catalog]
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../src/config";

const BENCHMARKS = ["rank", "ingest", "catalog", "subscriptions", "chart"];

function run(name: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench", `${name}.ts`), ...args], {
      cwd: PROJECT_ROOT,
      stdio: "inherit",
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(): Promise<void> {
  const onlyArg = process.argv.slice(2).find((arg) => arg.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",") : BENCHMARKS;
  const args = process.argv.slice(2).filter((arg) => arg !== onlyArg);
  const started = Date.now();
  const failed: string[] = [];
  for (const [index, name] of only.entries()) {
    if (!BENCHMARKS.includes(name)) throw new Error(`unknown benchmark "${name}": ${BENCHMARKS.join(", ")}`);
    process.stderr.write(`\n[${index + 1}/${only.length}] bench:${name} (${((Date.now() - started) / 1000).toFixed(0)} s elapsed)\n`);
    // bench:rank takes its sizes as bare numbers, the others --name=value options: pass each its own kind.
    const own = name === "rank" ? args.filter((arg) => /^\d+$/.test(arg)) : name === "chart" ? [] : args.filter((arg) => arg.startsWith("--"));
    const begun = Date.now();
    const code = await run(name, own);
    process.stderr.write(`bench:${name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${((Date.now() - begun) / 1000).toFixed(0)} s\n`);
    if (code !== 0) failed.push(name);
  }
  process.stderr.write(`\nall benchmarks: ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length ? `, failed: ${failed.join(", ")}` : ""}\n`);
  if (failed.length) process.exit(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

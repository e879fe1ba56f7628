// Summarises a V8 CPU profile (.cpuprofile, from `node --cpu-prof`; bench:overhead writes one per server with
// BENCH_CPU_PROF=<folder>): where the busy time went, by package and by function. Node's own internals and
// native code (socket writes, hashing) are charged to the nearest caller in a package or in this project, so
// a row says what a package costs with what it asks Node to do.
// Usage: node --import tsx bench/cpu-profile.ts <file.cpuprofile> [--from=<s>] [--to=<s>] [--match=<regex>] [--requests=<n>] [--top=<n>]
//   --from / --to  only the samples between these seconds after the profile's start (one phase: the
//                  busiest stretches are the phases; `--buckets` prints the busy ms of each second to find them)
//   --match        only the functions whose "name package/file:line" matches
//   --requests     the requests served in that window: adds ms per request
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, ...args] = process.argv.slice(2);
const arg = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
if (!file) throw new Error("usage: bench/cpu-profile.ts <file.cpuprofile> [--from=s] [--to=s] [--match=regex] [--requests=n] [--top=n] [--buckets]");
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const [from, to] = [Number(arg("from") ?? 0), Number(arg("to") ?? Infinity)];
const match = new RegExp(arg("match") ?? ".");
const requests = Number(arg("requests") ?? 0);
const top = Number(arg("top") ?? 25);

const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const inNodeOrNative = (url: string) => url === "" || url.startsWith("node:");
const packageOf = (url: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? `ours: ${url.replace(/^.*?\/(src|plugins|bench|test)\//, "$1/")}`;
const where = (frame: ProfileNode["callFrame"]) => `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*node_modules\//, "")}:${frame.lineNumber + 1}`;

const byPackage = new Map<string, number>();
const byFunction = new Map<string, number>();
const perSecond = new Map<number, number>();
let busy = 0;
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  at += profile.timeDeltas[i];
  const second = (at - profile.startTime) / 1e6;
  const node = nodes.get(profile.samples[i])!;
  const micros = profile.timeDeltas[i + 1] ?? 0;
  if (node.callFrame.functionName === "(idle)") continue;
  perSecond.set(Math.floor(second), (perSecond.get(Math.floor(second)) ?? 0) + micros);
  if (second < from || second > to) continue;
  busy += micros;
  // The nearest frame that is neither Node's nor native: who asked for this time.
  let owner: ProfileNode | undefined;
  for (let id: number | undefined = node.id; id !== undefined && !owner; id = parent.get(id)) {
    if (!inNodeOrNative(nodes.get(id)!.callFrame.url)) owner = nodes.get(id);
  }
  const pkg = owner ? packageOf(owner.callFrame.url) : node.callFrame.functionName; // (garbage collector), (program)...
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + micros);
  const fn = owner ? where(owner.callFrame) : node.callFrame.functionName;
  if (match.test(fn)) byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
}

if (args.includes("--buckets")) {
  process.stdout.write(`busy ms per second: ${[...perSecond].map(([s, us]) => `${s}:${Math.round(us / 1e3)}`).join(" ")}\n`);
}
const rows = (title: string, totals: Map<string, number>) => {
  process.stdout.write(`\n${title} (busy ${Math.round(busy / 1e3)} ms${requests ? `, ${requests} requests` : ""})\n`);
  for (const [name, micros] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const share = `${((100 * micros) / busy).toFixed(1)}%`.padStart(6);
    process.stdout.write(`${share}${requests ? `  ${(micros / 1e3 / requests).toFixed(3)} ms/request` : ""}  ${name}\n`);
  }
};
rows("by package", byPackage);
rows("by function", byFunction);

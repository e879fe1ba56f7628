// The real command line (src/cli.ts) in child processes, as `npm start` and the other npm scripts run it:
// the project's Node 22 with tsx's loader, in one process each, in its own process group.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const ROOT = resolve(__dirname, "../..");
export const BIN = join(ROOT, "node_modules", ".bin");
export const NODE = join(BIN, "node");

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface Cli {
  child: ChildProcess;
  logs: LogLine[];
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment of a machine with no configuration: no database, no secrets, no test settings. */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/DATABASE_URL|^TEST_|^PG|^JWT_|^AUTHENTICATOR_|^GRAPHILE_|^GRAPHIQL$|^MIGRATE_ON_START$|^HOST$|^NODE_OPTIONS$|^JEST_|^DATA_DIR$|^PORT$|^EMBEDDED_POSTGRES_PORT$|^DEMO$|^WORKERS$/.test(name)) continue;
    result[name] = value;
  }
  result.PATH = `${BIN}:${process.env.PATH ?? ""}`; // as npm scripts have it
  return result;
}

/** Spawns `src/cli.ts start` (in `cwd`, a project folder); resolves once it logs the GraphQL URL. */
export async function startCli(options: { cwd?: string; env: NodeJS.ProcessEnv; started?: Cli[] }): Promise<Cli> {
  const child = spawn(NODE, ["--import", "tsx", "src/cli.ts", "start"], {
    cwd: options.cwd ?? ROOT,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const logs: LogLine[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("exit", (code, signal) => done({ code, signal })),
  );
  const cli: Cli = { child, logs, exited, output: () => `stdout:\n${stdout}\nstderr:\n${stderr}` };
  options.started?.push(cli);

  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the CLI did not log "GraphQL:" within 90 s\n${cli.output()}`)), 90_000);
    let pending = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const entry = JSON.parse(line) as LogLine;
        logs.push(entry);
        if (entry.msg.startsWith("GraphQL:")) {
          clearTimeout(timer);
          ready();
        }
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      fail(new Error(`the CLI exited (code ${code}, signal ${signal}) before it was ready\n${cli.output()}`));
    });
  });
  return cli;
}

/** Signals the CLI and waits for it to exit; returns how it exited and how long it took. */
export async function stopCli(cli: Cli, signal: NodeJS.Signals) {
  const since = Date.now();
  cli.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no exit 30 s after ${signal}\n${cli.output()}`)), 30_000);
  });
  try {
    const exit = await Promise.race([cli.exited, timeout]);
    return { ...exit, elapsed: Date.now() - since };
  } finally {
    clearTimeout(timer);
  }
}

/** Kills what is still running of the CLIs started (their whole process groups). */
export async function killAll(started: Cli[]): Promise<void> {
  for (const cli of started) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) {
      try {
        process.kill(-cli.child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await cli.exited;
    }
  }
}

/** Runs a CLI command to its end: its exit code, stdout, stderr and the JSON log lines of stdout. */
export async function runCli(args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }) {
  const result = await execFileAsync(NODE, ["--import", "tsx", "src/cli.ts", ...args], { cwd: options.cwd ?? ROOT, env: options.env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
  const logs = result.stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine);
  return { ...result, logs };
}

/** Whether the process ends within `ms` (an exiting process lingers until its parent reaps it). */
export async function processEnds(pid: number, ms = 10_000): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((wait) => setTimeout(wait, 50))) {
    if (!processExists(pid)) return true;
  }
  return !processExists(pid);
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

// WORKERS > 1: several server processes on one HOST:PORT, with node:cluster. The primary (the process
// started) opens the database once (the embedded PostgreSQL, the migrations: src/cli.ts), then forks the
// workers; each runs the same src/server.ts startServer. The primary accepts the connections and hands
// them to the workers in turn (round-robin); a websocket stays on the worker that accepted it. Nothing is
// shared in memory: subscriptions LISTEN per process, the catch-up cursor and the rate limit's buckets are
// in the database.
//
// A worker that dies once it is serving is logged and replaced, in the same slot (`worker: 2` in its log
// lines, beside pino's `pid`). One that dies before it serves (the first ones, or a replacement) stops the
// whole server with its error: a problem at start-up (the port, the database) would only repeat, and a
// supervisor (systemd, Docker, Kubernetes) restarting the server is better placed to wait. SIGINT/SIGTERM
// go to the primary, which stops every worker (each closes its connections and releases its pool), then the
// database. Workers ignore those signals themselves (Ctrl-C and systemd signal the whole group: the primary
// decides), and exit on their own when the primary is gone (node:cluster ends a worker whose IPC channel
// closes).
import cluster, { type Worker } from "node:cluster";
import { ConfigError } from "./config";
import { type Logger, routeConsoleToLogger } from "./logger";
import type { RunningServer } from "./server";

/** primary → worker */
type ToWorker = { type: "start"; slot: number; authUrl: string } | { type: "stop" };
/** worker → primary */
type ToPrimary = { type: "waiting" } | { type: "serving"; url: string } | { type: "failed"; message: string };

/** How long the primary waits for a worker to stop before it kills it. */
const STOP_TIMEOUT_MS = 15_000;

interface Slot {
  number: number;
  worker: Worker;
  pid: number;
  serving: boolean;
  /** What the worker said when it could not start. */
  failure?: string;
  exited: Promise<void>;
}

/**
 * Forks `count` workers (in the primary) and resolves once every one serves. Rejects, with the first
 * failing worker's message, when one dies before it serves (the others are stopped first). `onGiveUp` is
 * called when a replacement dies before it serves, once the others have stopped.
 */
export async function startWorkers(options: {
  count: number;
  /** The authenticator's connection string, for each worker's server. */
  authUrl: string;
  log: Logger;
  onGiveUp: (error: Error) => void;
}): Promise<RunningServer> {
  const { count, authUrl, log } = options;
  const slots = new Map<number, Slot>();
  let stopping = false;
  let url: string | undefined;
  let startupFailed: ((error: Error) => void) | undefined;
  let allServing: (() => void) | undefined;

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const running = [...slots.values()];
    for (const slot of running) {
      if (slot.worker.isConnected()) slot.worker.send({ type: "stop" } satisfies ToWorker);
    }
    await Promise.all(
      running.map(async (slot) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<boolean>((done) => (timer = setTimeout(done, STOP_TIMEOUT_MS, true)));
        if (await Promise.race([slot.exited.then(() => false), late])) {
          log.warn({ worker: slot.number, workerPid: slot.pid }, `worker ${slot.number} (pid ${slot.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s: killing it`);
          slot.worker.process.kill("SIGKILL");
          await slot.exited;
        }
        clearTimeout(timer);
      }),
    );
  };

  const giveUp = (error: Error) => {
    if (stopping) return;
    void stopAll().then(() => (startupFailed ? startupFailed(error) : options.onGiveUp(error)));
  };

  const fork = (number: number, replacing?: number): void => {
    const worker = cluster.fork();
    const pid = worker.process.pid!;
    const exit = new Promise<[number | null, string | null]>((done) => worker.once("exit", (code, signal) => done([code, signal])));
    // Out of the round-robin once disconnected as well (node:cluster drops its handles then): only then is it gone.
    const disconnected = new Promise<void>((done) => worker.once("disconnect", done));
    const gone = Promise.all([exit, disconnected]).then(([[code, signal]]) => ({ code, signal }));
    const slot: Slot = { number, worker, pid, serving: false, exited: gone.then(() => undefined) };
    slots.set(number, slot);
    log.info({ worker: number, workerPid: pid }, `worker ${number} starting (pid ${pid}${replacing ? `, in place of pid ${replacing}` : ""})`);
    // A message to a worker that has just gone (its IPC channel closed): its exit says the rest.
    worker.on("error", (error) => log.debug({ worker: number, workerPid: pid, err: error }, `worker ${number} (pid ${pid}): ${error.message}`));
    worker.on("message", (message: ToPrimary) => {
      // Once its code has loaded and listens for messages (one sent earlier would be lost).
      if (message.type === "waiting") worker.send({ type: "start", slot: number, authUrl } satisfies ToWorker);
      if (message.type === "failed") slot.failure = message.message;
      if (message.type !== "serving") return;
      slot.serving = true;
      url ??= message.url;
      if (replacing) log.info({ worker: number, workerPid: pid }, `worker ${number} (pid ${pid}) serving`);
      if ([...slots.values()].every((each) => each.serving)) allServing?.();
    });
    void gone.then(({ code, signal }) => {
      const how = signal ? `signal ${signal}` : `exit code ${code}`;
      if (stopping) {
        log.info({ worker: number, workerPid: pid }, code === 0 ? `worker ${number} (pid ${pid}) stopped` : `worker ${number} (pid ${pid}) stopped (${how})`);
        return;
      }
      if (!slot.serving) {
        log.error({ worker: number, workerPid: pid, code, signal }, `worker ${number} (pid ${pid}) exited (${how}) before it was serving: stopping the server`);
        const failure = slot.failure ?? `worker ${number} (pid ${pid}) exited (${how}) before it was serving`;
        giveUp(new ConfigError(replacing ? `worker ${number} died (pid ${replacing}) and its replacement could not start: ${failure}` : failure));
        return;
      }
      log.error({ worker: number, workerPid: pid, code, signal }, `worker ${number} (pid ${pid}) died (${how}): starting another`);
      fork(number, pid);
    });
  };

  await new Promise<void>((resolve, reject) => {
    allServing = resolve;
    startupFailed = reject;
    for (let number = 1; number <= count; number++) fork(number);
  });
  allServing = undefined;
  startupFailed = undefined;
  log.info(`${count} workers serving (pids ${[...slots.values()].map((slot) => slot.pid).join(", ")})`);

  return {
    url: url!,
    port: Number(new URL(url!).port),
    close: stopAll,
  };
}

/**
 * A worker (cluster.isWorker): waits for the primary's start message, runs `start` (startServer) with a
 * logger that says which worker it is, tells the primary when it serves or why it could not, and stops
 * when the primary says so.
 */
export function runWorker(options: {
  log: Logger;
  start: (authUrl: string, log: Logger) => Promise<RunningServer>;
  /** The one line to report for an error of `start` (as the command line would print it). */
  describeStartFailure: (error: unknown, authUrl: string) => string;
}): Promise<void> {
  // The primary stops the workers: a signal to the whole group (Ctrl-C, systemd) must not stop one alone.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => options.log.debug(`${signal}: left to the primary`));
  let server: RunningServer | undefined;
  return new Promise((_, fail) => {
    process.on("message", (message: ToWorker) => {
      if (message.type === "stop") {
        if (!server) process.exit(0); // still starting: nothing to close
        void server.close().then(
          () => process.exit(0),
          (error: unknown) => fail(error),
        );
        return;
      }
      const log = options.log.child({ worker: message.slot });
      routeConsoleToLogger(log);
      options.start(message.authUrl, log).then(
        (running) => {
          server = running;
          process.send!({ type: "serving", url: running.url } satisfies ToPrimary);
        },
        (error: unknown) => {
          process.send!({ type: "failed", message: options.describeStartFailure(error, message.authUrl) } satisfies ToPrimary, undefined, {}, () => process.exit(1));
        },
      );
    });
    process.send!({ type: "waiting" } satisfies ToPrimary);
  });
}

// The loop that the server's background workers share (src/webhook-dispatcher.ts, src/backfill-worker.ts): rounds
// of work, one at a time (a wake-up during a round runs one more after it), woken by NOTIFY on a connection of its
// own (reconnected when it drops) and by a poll that covers the gaps, until stopped.
import pg from "pg";
import type { Logger } from "./logger";

export interface NotifiedLoopOptions {
  connectionString: string;
  /** Where to LISTEN, when not `connectionString` (that one going through PgBouncer in transaction mode). */
  listenConnectionString?: string;
  /** The channels to LISTEN on. */
  channels: string[];
  pollIntervalMs: number;
  /** Names the loop in its log lines ("webhook dispatcher"). */
  name: string;
  log?: Logger;
  /** One round: works until nothing is left (or `loop.stopped`); resolves with how much it did. */
  round: (loop: { readonly stopped: boolean }) => Promise<number>;
}

export interface NotifiedLoop {
  /** Runs rounds until nothing is left; resolves with how much they did. */
  runNow(): Promise<number>;
  /** Polls every `ms` from now on (a loop that no NOTIFY wakes for some work; nothing once stopped). */
  pollEvery(ms: number): void;
  /** Ends the poll and the LISTEN connection once the round under way ends. */
  stop(): Promise<void>;
}

export function startNotifiedLoop(options: NotifiedLoopOptions): NotifiedLoop {
  const { log, name } = options;
  const state = { stopped: false };
  let running: Promise<number> | undefined;
  let again = false;
  const runNow = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      let done = 0;
      do {
        again = false;
        done += await options.round(state);
      } while (again && !state.stopped);
      return done;
    })().finally(() => (running = undefined));
    return running;
  };
  const wake = () => {
    runNow().catch((error: unknown) => log?.warn({ err: error }, `${name} failed; retrying`));
  };

  let listener: pg.Client | undefined;
  const listen = async (): Promise<void> => {
    if (state.stopped) return;
    const client = new pg.Client({ connectionString: options.listenConnectionString ?? options.connectionString });
    client.on("notification", wake);
    client.on("error", (error) => {
      log?.warn({ err: error }, `${name}: LISTEN connection lost; reconnecting`);
      if (listener === client) listener = undefined;
      client.end().catch(() => undefined);
      setTimeout(() => void listen().catch(() => undefined), 1_000).unref();
    });
    try {
      await client.connect();
      await client.query(options.channels.map((channel) => `listen "${channel}"`).join("; "));
      if (state.stopped) await client.end();
      else listener = client;
    } catch (error) {
      client.emit("error", error);
    }
  };
  void listen();

  let pollIntervalMs = options.pollIntervalMs;
  let poll = setInterval(wake, pollIntervalMs);
  poll.unref();
  wake();

  return {
    runNow,
    pollEvery(ms) {
      if (ms === pollIntervalMs || state.stopped) return;
      clearInterval(poll);
      pollIntervalMs = ms;
      poll = setInterval(wake, ms);
      poll.unref();
    },
    async stop() {
      state.stopped = true;
      clearInterval(poll);
      await running?.catch(() => undefined);
      await listener?.end().catch(() => undefined);
    },
  };
}

// src/pg-subscriber.ts against a real PostgreSQL: a topic per user for thousands of users. PostGraphile's
// PgSubscriber (@dataplan/pg 1.1.2) diffs its topics with an array scan after every subscribe, one diff
// queued per subscribe: at 5,000 topics that is hours of work before the last LISTEN (this test would time
// out); ScalablePgSubscriber's set diff, shared by the subscribes that arrive while one is queued, is not.
import pg from "pg";
import { ScalablePgSubscriber } from "../../src/pg-subscriber";
import { testDatabaseUrl } from "../helpers/db";

const TOPICS = 5_000;

/** Waits until `ready()` holds, checking again after each turn of the event loop (no wall clock). */
async function until(ready: () => Promise<boolean>): Promise<void> {
  while (!(await ready())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe("ScalablePgSubscriber", () => {
  it("listens to thousands of topics, delivers to each its own, and unlistens them all", async () => {
    const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 3 });
    const subscriber = new ScalablePgSubscriber(pool);
    // Names no other file listens to: this run's and this test's own.
    const topics = Array.from({ length: TOPICS }, (_, i) => `t_pg_subscriber_${process.pid}_${i}`);
    const streams = topics.map((topic) => subscriber.subscribe(topic) as AsyncIterableIterator<unknown>);
    try {
      const probe = topics.length - 1;
      const received = streams[probe].next();
      const first = streams[0].next();
      // LISTEN takes effect as the subscriber gets to it: send until the last topic hears.
      let delivered = false;
      void received.then(() => (delivered = true));
      await until(async () => {
        await pool.query("select pg_notify($1, 'last'), pg_notify($2, 'first')", [topics[probe], topics[0]]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return delivered;
      });
      expect(await received).toEqual({ done: false, value: "last" });
      expect(await first).toEqual({ done: false, value: "first" });
      // Nothing for a topic nobody notified: its next value is still pending after the others arrived.
      const other = streams[1].next();
      await pool.query("select pg_notify($1, 'second')", [topics[2]]);
      expect(await streams[2].next()).toEqual({ done: false, value: "second" });
      await pool.query("select pg_notify($1, 'mine')", [topics[1]]);
      expect(await other).toEqual({ done: false, value: "mine" });

      // Every subscription ended: every topic unlistened (the listening connection's own set of channels).
      await Promise.all(streams.map((stream) => stream.return?.()));
      const listened = (subscriber as unknown as { subscribedTopics: Set<string> }).subscribedTopics;
      await until(async () => listened.size === 0);
    } finally {
      await Promise.all(streams.map((stream) => stream.return?.()));
      subscriber.release();
      await pool.end();
    }
  });
});

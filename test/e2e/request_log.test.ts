// One log line per HTTP request (src/logger.ts's makeRequestLogger, pino-http), with a request id that is
// also sent back; never a header (tokens) nor a query string (documents, variables).
import { Writable } from "node:stream";
import pino from "pino";
import { routeConsoleToLogger, serializeError } from "../../src/logger";
import type { RunningServer } from "../../src/server";
import { startTestServer, tokenFor } from "../helpers/server";

interface Line {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const lines: Line[] = [];
const log = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(text) as Line);
      done();
    },
  }),
);
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ log });
});
afterAll(() => server.close());

/** The log line of the request with this id (written when the response has been sent). */
async function lineOf(requestId: string): Promise<Line[]> {
  for (let tries = 0; tries < 100 && !lines.some((line) => line.requestId === requestId); tries += 1) {
    await new Promise((wait) => setTimeout(wait, 10));
  }
  return lines.filter((line) => line.requestId === requestId);
}

describe("the request log", () => {
  it("one line per request: method, path, status, time, and the request id given by a proxy, sent back", async () => {
    const response = await fetch(`${server.url}/graphql?note=secret`, {
      method: "POST",
      headers: {
        "x-request-id": "proxy-id-1234",
        "content-type": "application/json",
        authorization: `Bearer ${await tokenFor("2b7e1a3c-5d4f-4e6a-9b8c-0d1e2f3a4b5c")}`,
      },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toBe("proxy-id-1234");
    const logged = await lineOf("proxy-id-1234");
    expect(logged).toEqual([
      expect.objectContaining({ level: 30, method: "POST", path: "/graphql", status: 200, requestId: "proxy-id-1234", msg: expect.stringMatching(/^POST \/graphql 200 \d+ ms$/) }),
    ]);
    expect(typeof logged[0].responseTime).toBe("number");
    const text = JSON.stringify(logged);
    expect(text).not.toContain("secret");
    expect(text).not.toContain("Bearer");
  });

  it("makes up a uuid when the request has no usable id", async () => {
    const response = await fetch(`${server.url}/nothing-here`, { headers: { "x-request-id": "not an id, with spaces; and <markup>" } });
    expect(response.status).toBe(404);
    const id = response.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await lineOf(id)).toEqual([expect.objectContaining({ path: "/nothing-here", status: 404, msg: `GET /nothing-here 404 ${(await lineOf(id))[0].responseTime} ms` })]);
  });
});

describe("serializeError", () => {
  it("keeps what PostgreSQL and Node say (type, message, code, detail, hint, stack, cause), not the rest of the object", () => {
    const error = Object.assign(new Error("duplicate key value violates unique constraint"), {
      code: "23505",
      detail: "Key (id)=(1) already exists.",
      client: { connectionParameters: { password: "hunter2" } },
      cause: new Error("underneath"),
    });
    const serialized = serializeError(error);
    expect(serialized).toMatchObject({ type: "Error", message: error.message, code: "23505", detail: "Key (id)=(1) already exists.", cause: { message: "underneath" } });
    expect(Object.keys(serialized).sort()).toEqual(["cause", "code", "detail", "message", "stack", "type"]);
    expect(JSON.stringify(serialized)).not.toContain("hunter2");
    expect(serializeError("plain")).toEqual({ message: "plain" });
  });
});

describe("routeConsoleToLogger", () => {
  it("turns what libraries print with console into log entries: the first line, and the error as fields", () => {
    const restore = routeConsoleToLogger(log);
    const before = lines.length;
    try {
      // What @dataplan/pg prints when a pooled connection dies, and grafserv for a masked error.
      const poolError = Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01", client: { password: "hunter2" } });
      console.error("Client error (in pool, main)", poolError);
      console.error("Masked GraphQL error (hash: '%s', id: '%s')\n%s\n%O", "abc", "XYZ", new Error("Unexpected"), new Error("the original"));
      console.warn("[WARNING] something to know");
    } finally {
      restore();
    }
    const logged = lines.slice(before);
    expect(logged).toEqual([
      expect.objectContaining({ level: 50, msg: "Client error (in pool, main) terminating connection due to administrator command", err: expect.objectContaining({ message: "terminating connection due to administrator command", code: "57P01" }) }),
      expect.objectContaining({ level: 50, msg: "Masked GraphQL error (hash: 'abc', id: 'XYZ')", err: expect.objectContaining({ message: "the original" }) }),
      expect.objectContaining({ level: 40, msg: "[WARNING] something to know" }),
    ]);
    expect(JSON.stringify(logged)).not.toContain("hunter2");
    expect(typeof console.error).toBe("function");
  });
});

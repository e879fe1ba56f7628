// A small client of the app's server for the tests: GraphQL over HTTP, and graphql-ws subscriptions that
// keep what they receive.
import { type Client, createClient, type ExecutionResult } from "graphql-ws";
import WebSocket from "ws";

export type Result = ExecutionResult<Record<string, any>, Record<string, unknown>>;

/** POST /graphql; the token (if any) as `Authorization: Bearer`. The result, with the HTTP status. */
export async function post(
  baseUrl: string,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Result & { status: number }> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  return { ...((await response.json()) as Result), status: response.status };
}

/** Like `post`, but any error fails; the data. */
export async function graphql(baseUrl: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const result = await post(baseUrl, token, query, variables);
  if (result.errors) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data!;
}

export async function waitUntil(check: () => boolean | Promise<boolean>, describe: () => string, timeout = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeout; !(await check()); await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${describe()}`);
  }
}

/** One subscription over websockets, with everything it received. */
export class Subscription {
  readonly client: Client;
  readonly results: Result[] = [];
  readonly errors: unknown[] = [];
  private readonly unsubscribe: () => void;

  constructor(baseUrl: string, token: string | null, query: string) {
    this.client = createClient({
      url: `${baseUrl.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
    });
    this.unsubscribe = this.client.subscribe(
      { query },
      { next: (result) => void this.results.push(result as Result), error: (error) => void this.errors.push(error), complete: () => {} },
    );
  }

  async waitForResults(count: number): Promise<Result[]> {
    await waitUntil(
      () => this.results.length >= count || this.errors.length > 0,
      () => `${count} result(s); got ${JSON.stringify(this.results)}`,
    );
    if (this.errors.length) throw new Error(`subscription failed: ${JSON.stringify(this.errors.map(String))}`);
    return this.results;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.client.dispose();
  }
}

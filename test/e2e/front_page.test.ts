// GET / (plugins/front-page.ts): a page, or JSON for `accept: application/json`, pointing to what this server
// serves: /graphql always, /graphiql and /demo only when they are on (each link answers, none is a 404).
import type { RunningServer } from "../../src/server";
import { startTestServer } from "../helpers/server";

const servers: RunningServer[] = [];
afterAll(() => Promise.all(servers.map((server) => server.close())));

async function serve(options: { graphiql: boolean; demo: boolean }): Promise<RunningServer> {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

describe("GET /", () => {
  it("in development (GraphiQL and the demo on): links to /graphql, /graphiql and /demo, each of which answers", async () => {
    const server = await serve({ graphiql: true, demo: true });

    const asJson = await fetch(`${server.url}/`, { headers: { accept: "application/json" } });
    expect(asJson.status).toBe(200);
    expect(asJson.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await asJson.json()).toEqual({ name: "pg-achievements", graphql: "/graphql", websocket: "/graphql", graphiql: "/graphiql", demo: "/demo" });

    const page = await fetch(`${server.url}/`, { headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    const links = [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1]);
    expect(links).toEqual(["/graphql", "/graphiql", "/demo"]);
    expect(html).toContain("npm run token -- --user &lt;uuid&gt;");

    expect((await fetch(`${server.url}/graphiql`, { headers: { accept: "text/html" } })).status).toBe(200);
    expect((await fetch(`${server.url}/demo`)).status).toBe(200);
    const graphql = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(await graphql.json()).toEqual({ data: { __typename: "Query" } });
  });

  it("in production (GraphiQL and the demo off): links to /graphql only", async () => {
    const server = await serve({ graphiql: false, demo: false });
    expect(await (await fetch(`${server.url}/`, { headers: { accept: "application/json" } })).json()).toEqual({
      name: "pg-achievements",
      graphql: "/graphql",
      websocket: "/graphql",
    });
    const html = await (await fetch(`${server.url}/`)).text();
    expect([...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1])).toEqual(["/graphql"]);
    expect(html).not.toContain("npm run token");
    expect((await fetch(`${server.url}/graphiql`, { headers: { accept: "text/html" } })).status).toBe(404);
    expect((await fetch(`${server.url}/demo`)).status).toBe(404);
  });

  it("answers HEAD, refuses other methods with 405, and leaves other paths to grafserv", async () => {
    const server = await serve({ graphiql: false, demo: false });
    const head = await fetch(`${server.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    const post = await fetch(`${server.url}/`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    expect((await fetch(`${server.url}/nothing-here`)).status).toBe(404);
  });
});

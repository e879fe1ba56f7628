// `GET /`: what is served here, so that someone who opens the server's address finds the API. A small
// HTML page, or JSON for `accept: application/json`, pointing to /graphql, and to /graphiql and /demo when
// they are on. The links come from the resolved preset (grafserv's paths and GraphiQL switch; the demo page
// when its plugin is in), so the page never points to a 404.
//
// grafserv answers every request it does not handle with a 404, so the page is served from grafserv's own
// `processRequest` middleware, ahead of it (as plugins/demo-page.ts does for /demo).
import type { Result } from "postgraphile/grafserv";

interface Links {
  graphql: string;
  graphiql?: string;
  demo?: string;
}

function linksOf(resolvedPreset: GraphileConfig.ResolvedPreset): Links {
  const { graphqlPath = "/graphql", graphiql = true, graphiqlPath = "/graphiql" } = resolvedPreset.grafserv ?? {};
  const demoOn = (resolvedPreset.plugins ?? []).some((plugin) => plugin.name === "DemoPagePlugin");
  return { graphql: graphqlPath, ...(graphiql ? { graphiql: graphiqlPath } : {}), ...(demoOn ? { demo: "/demo" } : {}) };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function html(links: Links): string {
  const item = (href: string, label: string, what: string) => `<li><a href="${escapeHtml(href)}">${label}</a>: ${what}</li>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pg-achievements</title>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; } code { background: #f3f3f3; padding: 0 .2em; }</style>
</head>
<body>
<h1>pg-achievements</h1>
<p>An achievements engine for PostgreSQL, with a GraphQL API.</p>
<ul>
${[
  item(links.graphql, escapeHtml(links.graphql), "the GraphQL endpoint (POST JSON; websockets on the same path)"),
  ...(links.graphiql ? [item(links.graphiql, escapeHtml(links.graphiql), "GraphiQL, to explore the API")] : []),
  ...(links.demo ? [item(links.demo, escapeHtml(links.demo), "the demo page (development only)")] : []),
].join("\n")}
</ul>
<p>Send a token as <code>Authorization: Bearer &lt;token&gt;</code>${links.demo ? "; get one with <code>npm run token -- --user &lt;uuid&gt;</code>" : ""}.</p>
</body>
</html>
`;
}

function respond(statusCode: number, headers: Record<string, string>, body: string): Result {
  return {
    type: "buffer",
    statusCode,
    headers: { "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers },
    buffer: Buffer.from(body, "utf8"),
  };
}

/** JSON only when asked for it and not HTML as well (a browser asks for text/html first). */
const wantsJson = (accept: string | undefined) => accept !== undefined && /application\/json/i.test(accept) && !/text\/html/i.test(accept);

export const FrontPagePlugin: GraphileConfig.Plugin = {
  name: "FrontPagePlugin",
  version: "1.0.0",
  description: "Answers GET / with a page (or JSON) pointing to /graphql, /graphiql and /demo",
  grafserv: {
    middleware: {
      processRequest(next, event) {
        const { path, method, headers } = event.requestDigest;
        if (path !== "/") return next();
        if (method !== "GET" && method !== "HEAD") {
          return respond(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }, "Method not allowed: the GraphQL endpoint is /graphql\n");
        }
        const links = linksOf(event.resolvedPreset);
        if (wantsJson(headers["accept"])) {
          return respond(200, { "content-type": "application/json; charset=utf-8" }, JSON.stringify({ name: "pg-achievements", websocket: links.graphql, ...links }));
        }
        return respond(
          200,
          {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          },
          html(links),
        );
      },
    },
  },
};

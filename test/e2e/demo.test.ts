// The demo page ("unlock toast"), end to end: the development-only endpoints over HTTP, then the page in
// Debian's headless Chromium (driven by playwright-core, which never downloads a browser) against the real
// server, database and websocket subscriptions. The screenshot is kept at test/artifacts/demo.png (git-ignored).
// The file has a database of its own: the page's leaderboard is the top 10 of every user, which other
// files' users would fill.
import { mkdir } from "node:fs/promises";
import { startTestServer, testJwtSecret } from "../helpers/server";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { type Browser, chromium, type Page } from "playwright-core";
import { isUuid } from "../../src/auth";
import { PROJECT_ROOT } from "../../src/config";
import type { RunningServer } from "../../src/server";
import { newUserId } from "../helpers/db";
import { createPrivateDatabase, type PrivateDatabase } from "../helpers/private-database";

const AUDIENCE = "achievements-demo-test";
const ARTIFACTS = join(PROJECT_ROOT, "test", "artifacts");
const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps dialling Google's hosts, which this network refuses.
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];


let database: PrivateDatabase;
function start(demo: boolean): Promise<RunningServer> {
  return startTestServer({ connectionString: database.authUrl, jwtAudience: AUDIENCE, demo });
}

let server: RunningServer;
beforeAll(async () => {
  database = await createPrivateDatabase("demo");
  server = await start(true);
});
afterAll(async () => {
  await server?.close();
  await database?.drop();
});

function postToken(body: string, headers: Record<string, string> = { "content-type": "application/json" }, base = server.url) {
  return fetch(`${base}/demo/token`, { method: "POST", headers, body });
}

describe("the demo endpoints (development only)", () => {
  it("signs a user token for a new demo user, or for a given one, that the API accepts", async () => {
    const fresh = await postToken("");
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get("cache-control")).toBe("no-store");
    const created = (await fresh.json()) as { userId: string; token: string };
    expect(isUuid(created.userId)).toBe(true);
    const { payload } = await jwtVerify(created.token, new TextEncoder().encode(testJwtSecret()), { audience: AUDIENCE });
    expect(payload).toMatchObject({ sub: created.userId, role: "user", aud: AUDIENCE });

    const userId = newUserId();
    const given = (await (await postToken(JSON.stringify({ userId: userId.toUpperCase() }))).json()) as { userId: string; token: string };
    expect(given.userId).toBe(userId);
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${given.token}` },
      body: JSON.stringify({ query: `{ myDashboard { userId tier { tier points } } }` }),
    });
    expect(await response.json()).toEqual({ data: { myDashboard: { userId, tier: { tier: "Beginner", points: 0 } } } });
  });

  it("refuses a bad user id, a body that is not JSON, another origin and other methods", async () => {
    const badId = await postToken(JSON.stringify({ userId: "alice" }));
    expect(badId.status).toBe(400);
    expect(await badId.json()).toEqual({ errors: [{ message: "`userId` must be a uuid (or leave it out for a new user)", extensions: { code: "BAD_USER_INPUT" } }] });
    expect((await postToken("{not json")).status).toBe(400);
    // A cross-site form can post text/plain without a CORS preflight: refused.
    expect((await postToken(JSON.stringify({}), { "content-type": "text/plain" })).status).toBe(415);
    expect((await postToken("{}", { "content-type": "application/json", origin: "https://evil.example" })).status).toBe(403);
    expect((await postToken("{}", { "content-type": "application/json", origin: server.url })).status).toBe(200);
    expect((await fetch(`${server.url}/demo/token`)).status).toBe(405);
  });

  it("serves the page, its assets and graphql-ws's browser client, and nothing else from disk", async () => {
    const page = await fetch(`${server.url}/demo`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain(`<script type="module" src="/demo/demo.js"></script>`);

    for (const [path, type] of [
      ["/demo/demo.js", "text/javascript; charset=utf-8"],
      ["/demo/demo.css", "text/css; charset=utf-8"],
      ["/demo/vendor/graphql-ws/client.js", "text/javascript; charset=utf-8"],
    ]) {
      const asset = await fetch(`${server.url}${path}`);
      expect([path, asset.status, asset.headers.get("content-type")]).toEqual([path, 200, type]);
    }
    expect(await (await fetch(`${server.url}/demo/vendor/graphql-ws/client.js`)).text()).toContain("function createClient(");

    for (const path of ["/demo/missing.js", "/demo/%2e%2e/package.json", "/demo/..%2fpackage.json", "/demo/vendor/graphql-ws/..%2f..%2fpackage.json", "/demo/vendor/graphql-ws/index.cjs", "/demo/vendor/graphql-ws/index.js"]) {
      expect([path, (await fetch(`${server.url}${path}`)).status]).toEqual([path, 404]);
    }
  });

  it("does not exist when the demo is off", async () => {
    const production = await start(false);
    try {
      expect((await fetch(`${production.url}/demo`)).status).toBe(404);
      expect((await fetch(`${production.url}/demo/demo.js`)).status).toBe(404);
      expect((await postToken("", { "content-type": "application/json" }, production.url)).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});

describe("the demo page in Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(() => browser?.close());

  /** Waits for the page's websocket subscriptions; fails with the page's own words (and its console). */
  async function waitUntilLive(page: Page, consoleLines: string[]): Promise<void> {
    const live = page.locator("#live");
    const settled = await page
      .locator('#live[data-state="live"], #live[data-state="error"]')
      .waitFor({ timeout: 15_000 })
      .then(() => true, () => false);
    const state = await live.getAttribute("data-state");
    if (!settled || state !== "live") {
      throw new Error(`the page's subscriptions are ${state}: ${await live.getAttribute("title")}\nconsole:\n${consoleLines.join("\n")}`);
    }
  }

  it("shows the unlock toast pushed by the achievementUnlocked subscription, and a tier-up banner", async () => {
    const problems: string[] = [];
    const consoleLines: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      consoleLines.push(`${message.type()}: ${message.text()}`);
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    try {
      await page.goto(`${server.url}/demo`);
      // A first visit says what to do, instead of "offline" and empty cards.
      await page.locator('#live[data-state="idle"]').waitFor();
      expect(await page.locator(".welcome").innerText()).toContain("New demo user");
      await page.getByRole("button", { name: "New demo user" }).click();
      await page.locator("#user-id", { hasText: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ }).waitFor();

      await page.getByLabel("Display name").fill("Playwright Pat");
      await page.getByRole("button", { name: "Save name" }).click();
      await page.locator("#profile-status", { hasText: "Saved" }).waitFor();
      // Progress bars for the locked achievements, with nothing unlocked yet.
      await page.locator('#locked li[data-achievement-id="tasks_completed_1"]').waitFor();
      await waitUntilLive(page, consoleLines);

      // Complete tasks until an achievement unlocks: the toast comes over the websocket, not from the click.
      const toast = page.locator(".toast").first();
      const clickedAt = Date.now();
      let clicks = 0;
      while (!(await toast.isVisible()) && clicks < 10) {
        await page.getByRole("button", { name: "Complete a task" }).click();
        clicks++;
        await toast.waitFor({ timeout: 3_000 }).catch(() => undefined);
      }
      await toast.waitFor({ timeout: 1_000 });
      const toastAfterMs = Date.now() - clickedAt;
      const toastText = (await toast.innerText()).replace(/\s+/g, " ");
      expect(toastText).toMatch(/achievement unlocked/i); // shown in capitals (CSS)
      // A new user's first task unlocks "1 task" (10 points).
      expect(toastText).toMatch(/\b1 task\b/);
      expect(toastText).toContain("+10 points");
      expect(await toast.getAttribute("data-achievement-id")).toBe("tasks_completed_1");
      // The toast covers neither the buttons nor the leaderboard.
      const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
        a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
      const toastBox = (await toast.boundingBox())!;
      for (const covered of ["#complete-task", "#log-in", "#leaderboard"]) {
        expect([covered, overlaps(toastBox, (await page.locator(covered).boundingBox())!)]).toEqual([covered, false]);
      }
      // The page caught up: the achievement moved to the unlocked ones.
      await page.locator('#unlocked .chip[data-achievement-id="tasks_completed_1"]').waitFor();
      // The leaderboard (refreshed on the toast) ranks the user under their display name.
      await page.locator("#leaderboard tr.me", { hasText: "Playwright Pat" }).waitFor();

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, "demo.png"), animations: "disabled" });

      // Nine more tasks: "Launch sprint" (5 tasks, 75 points) and "10 tasks" (100) take the user past
      // 100 points, into the Student tier: the banner comes from the tierChanged subscription.
      const taskButton = page.getByRole("button", { name: "Complete a task" });
      for (let task = 2; task <= 10; task++) {
        await taskButton.click();
        await page.locator("#action-status", { hasText: `tasks_completed: ${task} ·` }).waitFor();
      }
      const banner = page.locator("#tier-banner");
      await banner.waitFor({ state: "visible", timeout: 10_000 });
      expect(await banner.innerText()).toContain("Student");
      await page.locator('.toast[data-achievement-id="tasks_completed_10"]').waitFor();
      await page.screenshot({ path: join(ARTIFACTS, "demo-tier-up.png"), animations: "disabled" });

      expect(problems).toEqual([]);
      process.stdout.write(`demo e2e: toast ${toastAfterMs} ms after the first click\n`);
    } finally {
      await page.close();
    }
  });
});

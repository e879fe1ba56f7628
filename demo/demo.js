// The demo page's script: a user of the achievements API, as a product's front end would be.
// - A demo user: POST /demo/token (a development-only endpoint) signs a `user` token for an id kept in
//   localStorage, or for a new one.
// - Actions and the profile: GraphQL mutations over HTTP (/graphql, `Authorization: Bearer <token>`).
// - The unlock toast and the tier-up banner come only from GraphQL subscriptions over a websocket
//   (`achievementUnlocked`, `tierChanged`), never from a mutation's answer: the server pushes them to every
//   page the user has open, whoever recorded the action (another tab, a backend).
// - Progress bars (`myDashboard`) and the leaderboard are read again after each action and each toast.
//
// The websocket client is graphql-ws's own browser build: its ES module client (the package's "browser"
// export, dist/client.js, and the one chunk it imports), which the demo plugin serves straight from
// node_modules under /demo/vendor/graphql-ws/. No bundler is needed, and the protocol
// (connection_init/ack, subscribe, next, error, complete, ping/pong, reconnects) is handled by the same
// library and version the server speaks, rather than by a hand-written copy.
import { createClient } from "/demo/vendor/graphql-ws/client.js";

const RECORD_ACTION = `mutation RecordAction($action: String!) {
  recordAction(input: { action: $action, amount: 1 }) { result { tally totalPoints tierAfter } }
}`;
const SET_DISPLAY_NAME = `mutation SetDisplayName($displayName: String!) {
  setMyProfile(input: { displayName: $displayName }) { result { displayName } }
}`;
const PROFILE = `query Profile($userId: UUID!) { userProfileByUserId(userId: $userId) { displayName } }`;
const DASHBOARD = `query Dashboard {
  myDashboard {
    tier { points tier badge nextTier percent }
    locked { achievementId name icon percent }
    unlocked { achievementId name icon }
    hiddenLockedCount
  }
}`;
const LEADERBOARD = `query Leaderboard {
  leaderboard(period: ALL_TIME, first: 10) { rank userId displayName points tier badge medal }
  myRank(period: ALL_TIME) { rank points totalUsers percentile }
}`;
const ACHIEVEMENT_UNLOCKED = `subscription AchievementUnlocked {
  achievementUnlocked { achievement { id name icon description points } pointsAwarded totalPoints tier { name badge } }
}`;
const TIER_CHANGED = `subscription TierChanged { tierChanged { tier { name badge } points } }`;

const TOAST_MS = 6000;
// Older toasts make way, so a burst of unlocks cannot cover the page: three in the gutter of a wide window
// (demo.css), one at the top of anything narrower.
const maxToasts = () => (matchMedia("(min-width: 1500px)").matches ? 3 : 1);
const BANNER_MS = 8000;
const STORAGE_KEY = "achievements-demo";

const $ = (id) => document.getElementById(id);

/** An element with attributes and text or child nodes (never HTML: names come from users). */
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...[children].flat().filter((child) => child !== null && child !== undefined));
  return node;
}

// --- The demo users, kept in localStorage: { users: [{ id, name }], current } -------------------------

function loadStore() {
  try {
    const stored = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (stored && Array.isArray(stored.users)) return stored;
  } catch {
    // A damaged entry: start again.
  }
  return { users: [], current: null };
}

const store = loadStore();
const saveStore = () => localStorage.setItem(STORAGE_KEY, JSON.stringify(store));

function rememberUser(id, name) {
  let user = store.users.find((candidate) => candidate.id === id);
  if (!user) store.users.push((user = { id, name: null }));
  if (name !== undefined) user.name = name;
  store.current = id;
  saveStore();
}

// --- HTTP --------------------------------------------------------------------------------------------

/** The signed-in demo user: { userId, token }. */
let session = null;

async function requestToken(userId) {
  const response = await fetch("/demo/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(userId ? { userId } : {}),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.errors?.[0]?.message ?? `the demo token endpoint answered HTTP ${response.status}`);
  return body;
}

/** Runs a query or mutation over HTTP; returns { data, errors }. An expired token is renewed once. */
async function graphql(query, variables = {}) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(session ? { authorization: `Bearer ${session.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    if (response.status === 401 && session && attempt === 0) {
      session = await requestToken(session.userId);
      continue;
    }
    try {
      return await response.json();
    } catch {
      return { errors: [{ message: `HTTP ${response.status}` }] };
    }
  }
}

const firstError = (body) => body?.errors?.[0]?.message ?? "no data";

// --- Subscriptions -----------------------------------------------------------------------------------

/** The websocket client of the signed-in user, and the state shown by the "live" indicator. */
let socket = null;
let connection = null; // this connection's own state: { connected, problems }; events of older ones are dropped

function describeError(error) {
  if (Array.isArray(error)) return error.map((item) => item.message).join("; ");
  if (error && typeof error === "object" && "code" in error && "reason" in error) {
    return `the websocket closed (${error.code}${error.reason ? `: ${error.reason}` : ""})`;
  }
  return error instanceof Error ? error.message : String(error);
}

function renderLive() {
  const live = $("live");
  // Before any demo user exists there is nothing to listen to yet: say so rather than "offline".
  let state = "idle";
  let text = "create a demo user to go live";
  let title = "GraphQL subscriptions over websockets start when a demo user is signed in";
  if (session && connection) {
    if (connection.problems.size > 0) {
      [state, text] = ["error", "live updates unavailable"];
      title = [...connection.problems].map(([name, problem]) => `${name}: ${problem}`).join("\n");
    } else if (connection.connected) {
      [state, text] = ["live", "live"];
    } else {
      [state, text] = ["connecting", "connecting…"];
    }
  }
  live.dataset.state = state;
  live.textContent = text;
  live.title = title;
}

/** One websocket per signed-in user, with both subscriptions on it. */
function connectSubscriptions() {
  socket?.dispose();
  const current = { connected: false, problems: new Map() };
  connection = current;
  // Events of a connection that was replaced (another user chosen) change nothing.
  const update = (change) => {
    if (connection !== current) return;
    change();
    renderLive();
  };
  let reconnecting = false;
  socket = createClient({
    url: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`,
    // Read at each (re)connection: a reconnect signs in afresh, so it works even after the token expired.
    connectionParams: async () => {
      if (reconnecting) session = await requestToken(session.userId);
      reconnecting = true;
      return { authorization: `Bearer ${session.token}` };
    },
    lazy: false,
    retryAttempts: 20,
    onNonLazyError: (error) => update(() => current.problems.set("websocket", describeError(error))),
    on: {
      connecting: () => update(() => (current.connected = false)),
      connected: () => update(() => ((current.connected = true), current.problems.delete("websocket"))),
      closed: () => update(() => (current.connected = false)),
    },
  });

  const subscribe = (field, query, onEvent) =>
    socket.subscribe(
      { query },
      {
        next(result) {
          if (connection !== current) return;
          if (result.errors?.length) update(() => current.problems.set(field, describeError(result.errors)));
          else if (result.data?.[field]) onEvent(result.data[field]);
        },
        // A subscription the server refuses (a GraphQL error) or a connection given up on.
        error: (error) => update(() => current.problems.set(field, describeError(error))),
        complete() {},
      },
    );
  subscribe("achievementUnlocked", ACHIEVEMENT_UNLOCKED, (event) => {
    showToast(event);
    void refreshDashboard();
    void refreshLeaderboard();
  });
  subscribe("tierChanged", TIER_CHANGED, (event) => {
    showBanner(event);
    void refreshDashboard();
  });
  renderLive();
}

// --- The toast and the banner ------------------------------------------------------------------------

function showToast({ achievement, pointsAwarded, totalPoints, tier }) {
  const toast = el("div", { class: "toast", role: "status", "data-achievement-id": achievement.id, title: "Click to dismiss" }, [
    el("div", { class: "icon", "aria-hidden": "true" }, achievement.icon ?? "🏅"),
    el("div", {}, [
      el("div", { class: "title" }, "Achievement unlocked"),
      el("div", { class: "name" }, achievement.name),
      achievement.description ? el("div", { class: "detail" }, achievement.description) : null,
      el("div", { class: "detail points" }, `+${pointsAwarded} points · ${totalPoints} in all${tier ? ` · ${tier.badge ?? ""} ${tier.name}` : ""}`),
    ]),
  ]);
  toast.addEventListener("click", () => toast.remove());
  const toasts = $("toasts");
  toasts.append(toast);
  while (toasts.children.length > maxToasts()) toasts.firstElementChild.remove();
  setTimeout(() => toast.remove(), TOAST_MS);
}

let bannerTimer;
function showBanner({ tier, points }) {
  const banner = $("tier-banner");
  banner.textContent = `${tier?.badge ?? "⭐"} Tier up! You are now ${tier?.name ?? "in a new tier"} · ${points} points`;
  banner.hidden = false;
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => (banner.hidden = true), BANNER_MS);
}

// --- Progress and leaderboard ------------------------------------------------------------------------

function bar(percent) {
  const fill = el("span");
  // Through the CSSOM: the page's Content-Security-Policy allows no inline style attributes.
  fill.style.width = `${Math.max(0, Math.min(100, Number(percent) || 0))}%`;
  return el("div", { class: "bar" }, fill);
}

async function refreshDashboard() {
  const userId = session?.userId;
  const body = await graphql(DASHBOARD).catch((error) => ({ errors: [{ message: error.message }] }));
  if (session?.userId !== userId) return; // another user was chosen meanwhile
  const dashboard = body.data?.myDashboard;
  if (!dashboard) {
    $("tier").replaceChildren(el("p", { class: "muted" }, `Progress unavailable: ${firstError(body)}`));
    return;
  }
  const { tier } = dashboard;
  $("tier").replaceChildren(
    el("div", { class: "badge", "aria-hidden": "true" }, tier?.badge ?? "🥉"),
    el("div", { class: "name" }, tier?.tier ?? "No tier yet"),
    el("div", { class: "points" }, `${tier?.points ?? 0} points${tier?.nextTier ? ` · ${Math.floor(tier.percent ?? 0)}% of the way to ${tier.nextTier}` : " · top tier"}`),
    bar(tier?.nextTier ? tier.percent : 100),
  );
  const unlocked = dashboard.unlocked ?? [];
  $("unlocked").replaceChildren(
    ...(unlocked.length > 0
      ? unlocked.map((item) => el("span", { class: "chip", "data-achievement-id": item.achievementId }, `${item.icon ?? "🏅"} ${item.name}`))
      : [el("p", { class: "muted small" }, "Nothing unlocked yet: complete a task!")]),
  );
  $("locked").replaceChildren(
    ...(dashboard.locked ?? []).map((item) =>
      el("li", { "data-achievement-id": item.achievementId }, [
        el("span", { class: "icon", "aria-hidden": "true" }, item.icon ?? "🔒"),
        el("span", {}, item.name),
        el("span", { class: "percent" }, `${item.percent ?? 0}%`),
        bar(item.percent),
      ]),
    ),
  );
  const hidden = dashboard.hiddenLockedCount ?? 0;
  $("hidden-count").textContent = hidden > 0 ? `+ ${hidden} hidden achievement${hidden === 1 ? "" : "s"} to discover` : "";
}

async function refreshLeaderboard() {
  const container = $("leaderboard");
  const userId = session?.userId;
  const body = await graphql(LEADERBOARD).catch((error) => ({ errors: [{ message: error.message }] }));
  if (session?.userId !== userId) return;
  const rows = body.data?.leaderboard;
  if (body.errors?.length || !Array.isArray(rows)) {
    // Shown as it is: no made-up standings when the API cannot give them.
    container.replaceChildren(
      el("p", { class: "muted unavailable", "data-state": "unavailable" }, "Leaderboard unavailable."),
      el("p", { class: "muted small", title: firstError(body) }, firstError(body)),
    );
    return;
  }
  const table = el("table", { "data-state": "available" }, [
    el("thead", {}, el("tr", {}, [el("th", {}, "#"), el("th", {}, "Player"), el("th", {}, "Tier"), el("th", { class: "num" }, "Points")])),
    el(
      "tbody",
      {},
      rows.length > 0
        ? rows.map((row) =>
            el("tr", row.userId === session?.userId ? { class: "me" } : {}, [
              el("td", {}, row.medal ?? `${row.rank}`),
              el("td", {}, row.displayName ?? `user ${String(row.userId).slice(0, 8)}`),
              el("td", {}, `${row.badge ?? ""} ${row.tier ?? ""}`.trim()),
              el("td", { class: "num" }, `${row.points}`),
            ]),
          )
        : [el("tr", {}, el("td", { colspan: "4", class: "muted" }, "No one has points yet."))],
    ),
  ]);
  const me = body.data?.myRank;
  container.replaceChildren(
    table,
    el(
      "p",
      { class: "muted small" },
      me?.rank ? `You: #${me.rank} of ${me.totalUsers} · ${me.points} points · ahead of ${me.percentile}% of players` : "You are not ranked yet.",
    ),
  );
}

// --- The controls ------------------------------------------------------------------------------------

const userControls = () => [$("display-name"), $("save-name"), $("complete-task"), $("log-in")];

function renderUserSelect() {
  const select = $("user-select");
  select.replaceChildren(
    ...(store.users.length === 0 ? [el("option", { value: "" }, "No demo user yet")] : []),
    ...store.users.map((user) => el("option", { value: user.id }, `${user.name || "Unnamed"} · ${user.id.slice(0, 8)}`)),
  );
  select.value = session?.userId ?? "";
}

async function selectUser(userId) {
  const status = $("profile-status");
  try {
    session = await requestToken(userId);
  } catch (error) {
    status.textContent = `Could not sign in the demo user: ${error.message}`;
    return;
  }
  rememberUser(session.userId);
  renderUserSelect();
  $("user-id").textContent = session.userId;
  for (const control of userControls()) control.disabled = false;
  $("new-user").classList.remove("primary");
  status.textContent = "";
  $("action-status").textContent = "";
  $("display-name").value = store.users.find((user) => user.id === session.userId)?.name ?? "";
  connectSubscriptions();
  void loadProfile();
  void refreshDashboard();
  void refreshLeaderboard();
}

async function loadProfile() {
  const userId = session.userId;
  const body = await graphql(PROFILE, { userId });
  if (session?.userId !== userId) return;
  const name = body.data?.userProfileByUserId?.displayName;
  if (typeof name === "string") {
    $("display-name").value = name;
    rememberUser(userId, name);
    renderUserSelect();
  }
}

async function saveDisplayName(event) {
  event.preventDefault();
  const status = $("profile-status");
  const displayName = $("display-name").value.trim();
  if (!displayName) {
    status.textContent = "Type a display name first.";
    return;
  }
  const body = await graphql(SET_DISPLAY_NAME, { displayName });
  const saved = body.data?.setMyProfile?.result?.displayName;
  if (typeof saved !== "string") {
    status.textContent = `Not saved: ${firstError(body)}`;
    return;
  }
  status.textContent = `Saved: you are “${saved}”.`;
  rememberUser(session.userId, saved);
  renderUserSelect();
  void refreshLeaderboard();
}

async function recordAction(button, action, label) {
  const status = $("action-status");
  button.disabled = true;
  try {
    const body = await graphql(RECORD_ACTION, { action });
    const result = body.data?.recordAction?.result;
    // The answer only feeds this status line; unlocks and tier-ups arrive through the subscriptions.
    status.textContent = result ? `${label} · ${action}: ${result.tally} · ${result.totalPoints} points · ${result.tierAfter}` : `${label} failed: ${firstError(body)}`;
  } catch (error) {
    status.textContent = `${label} failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
  void refreshDashboard();
  void refreshLeaderboard();
}

$("new-user").addEventListener("click", () => void selectUser(null));
$("user-select").addEventListener("change", (event) => event.target.value && void selectUser(event.target.value));
$("profile-form").addEventListener("submit", (event) => void saveDisplayName(event));
$("complete-task").addEventListener("click", (event) => void recordAction(event.currentTarget, "tasks_completed", "Task completed"));
$("log-in").addEventListener("click", (event) => void recordAction(event.currentTarget, "logins", "Logged in"));

renderUserSelect();
renderLive();
if (store.current) {
  void selectUser(store.current);
} else {
  // A first visit: one clear next step instead of empty cards.
  $("new-user").classList.add("primary");
  $("unlocked").replaceChildren(
    el("p", { class: "welcome", "data-state": "welcome" }, "Click “New demo user”, then “Complete a task”: the unlock toast arrives over a GraphQL subscription."),
  );
  $("leaderboard").replaceChildren(el("p", { class: "muted" }, "Create a demo user to see the leaderboard."));
}

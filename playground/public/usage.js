// The Usage view, beside Balance: spend and requests per day for the last 30 days (inline
// SVG, values in text too, so no colour is needed to read it), totals by agent, by model
// and by key, and the latest ledger lines. Everything comes from the admin usage API
// (`/api/admin/usage/summary` and `/api/admin/usage`); text from the server is only ever
// set as textContent. It refreshes when the page says usage changed (a chat reply).
// app.js imports it for the Usage column of the API keys table.

const DAYS = 30;
const RECENT = 20;
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let token = "";
let loading;
/** Requests and spend of each key over the 30 days, for the keys table's Usage column. */
const perKey = new Map();

mount();
document.addEventListener("agentgate:usage-changed", () => void refresh());

function mount() {
  const section = document.createElement("section");
  section.className = "card";
  section.id = "usage";
  section.setAttribute("aria-labelledby", "usage-title");
  section.innerHTML = `
    <div class="row usage-head"><h2 id="usage-title">Usage</h2><button type="button" class="secondary" id="usage-refresh">Refresh</button></div>
    <p class="muted">The last ${DAYS} days (UTC), from <code>GET /api/admin/usage/summary</code>. <span id="usage-totals"></span></p>
    <figure class="usage-chart"><figcaption id="usage-spend-title">Spend per day</figcaption><div id="usage-spend-chart"></div></figure>
    <figure class="usage-chart"><figcaption id="usage-requests-title">Requests per day</figcaption><div id="usage-requests-chart"></div></figure>
    <h3>By agent</h3>
    <div class="table-wrap"><table><caption class="visually-hidden">Usage by agent</caption>
      <thead><tr><th scope="col">Agent</th><th scope="col">Requests</th><th scope="col">Tokens in</th><th scope="col">Tokens out</th><th scope="col">Spend</th></tr></thead>
      <tbody id="usage-agents"></tbody></table></div>
    <h3>By model</h3>
    <div class="table-wrap"><table><caption class="visually-hidden">Usage by model</caption>
      <thead><tr><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Tokens in</th><th scope="col">Tokens out</th><th scope="col">Spend</th></tr></thead>
      <tbody id="usage-models"></tbody></table></div>
    <h3>By key</h3>
    <div class="table-wrap"><table><caption class="visually-hidden">Usage by API key</caption>
      <thead><tr><th scope="col">Key</th><th scope="col">Agent</th><th scope="col">Requests</th><th scope="col">Spend</th></tr></thead>
      <tbody id="usage-keys"></tbody></table></div>
    <h3>Latest requests</h3>
    <div class="table-wrap"><table><caption class="visually-hidden">The latest ledger lines</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Agent</th><th scope="col">Key</th><th scope="col">Model</th><th scope="col">Tokens in/out</th><th scope="col">Cost</th><th scope="col">Thread</th></tr></thead>
      <tbody id="usage-lines"></tbody></table></div>
    <p id="usage-error" class="error" role="alert"></p>`;
  const billing = $("billing-title")?.closest("section");
  if (billing) billing.after(section);
  else $("main").append(section);
  $("usage-refresh").addEventListener("click", () => void refresh());
  void refresh();
}

/**
 * The Usage cell of a key's row in the API keys table (app.js): filled now if the figures
 * are in, and again whenever they are reloaded.
 */
export function keyUsage(keyId) {
  const element = document.createElement("span");
  element.dataset.keyUsage = keyId;
  element.textContent = keyUsageText(keyId);
  return element;
}

function keyUsageText(keyId) {
  if (loading && perKey.size === 0) return "…";
  const usage = perKey.get(keyId) ?? { requests: 0, cost_micros: 0 };
  return `${usage.requests} ${usage.requests === 1 ? "request" : "requests"}, ${dollars(usage.cost_micros)}`;
}

/** Loads everything again; calls while one runs wait for it and then run once. */
async function refresh() {
  if (loading) return loading.then(() => refresh());
  loading = load()
    .then(() => ($("usage-error").textContent = ""))
    .catch((error) => ($("usage-error").textContent = `Could not load the usage: ${error.message}`))
    .finally(() => (loading = undefined));
  return loading;
}

async function load() {
  token ||= (await (await fetch("/playground/session")).json()).admin_token;
  const until = new Date();
  const since = new Date(until.getTime() - (DAYS - 1) * 86_400_000);
  const range = `since=${day(since)}&until=${day(until)}`;
  const [byDay, byAgent, byModel, byKey, agents] = await Promise.all([
    admin(`/usage/summary?group_by=day&${range}`),
    admin(`/usage/summary?group_by=agent&${range}`),
    admin(`/usage/summary?group_by=model&${range}`),
    admin(`/usage/summary?group_by=agent,key&${range}`),
    admin("/agents"),
  ]);
  const lines = await latestLines(byDay.data);
  // Key names: the keys of every agent still there (a deleted key shows its id).
  const keyLists = await Promise.all(agents.data.map((agent) => admin(`/agents/${agent.id}/keys`).then((keys) => keys.data).catch(() => [])));
  const agentName = new Map(agents.data.map((agent) => [agent.id, agent.name]));
  const keyName = new Map(keyLists.flat().map((key) => [key.id, key.name]));
  const nameOfAgent = (id) => agentName.get(id) ?? id ?? "none";
  const nameOfKey = (id) => keyName.get(id) ?? id ?? "none";

  const days = lastDays(since, byDay.data);
  const total = byDay.data.reduce((sum, row) => ({ requests: sum.requests + row.requests, cost: sum.cost + row.cost_micros }), { requests: 0, cost: 0 });
  $("usage-totals").textContent = `${total.requests} requests, ${dollars(total.cost)} in all.`;
  chart($("usage-spend-chart"), "usage-spend-title", days.map((d) => ({ label: d.day, value: d.cost_micros, text: dollars(d.cost_micros) })));
  chart($("usage-requests-chart"), "usage-requests-title", days.map((d) => ({ label: d.day, value: d.requests, text: String(d.requests) })));
  rows($("usage-agents"), byAgent.data.map((row) => [nameOfAgent(row.agent_id), row.requests, row.prompt_tokens, row.completion_tokens, dollars(row.cost_micros)]));
  rows($("usage-models"), byModel.data.map((row) => [row.model ?? "none", row.requests, row.prompt_tokens, row.completion_tokens, dollars(row.cost_micros)]));
  perKey.clear();
  for (const row of byKey.data) perKey.set(row.key_id, { requests: row.requests, cost_micros: row.cost_micros });
  for (const element of document.querySelectorAll("[data-key-usage]")) element.textContent = keyUsageText(element.dataset.keyUsage);
  rows($("usage-keys"), byKey.data.map((row) => [nameOfKey(row.key_id), nameOfAgent(row.agent_id), row.requests, dollars(row.cost_micros)]));
  rows($("usage-lines"), lines.map((line) => [when(line.created_at), nameOfAgent(line.agent_id), nameOfKey(line.key_id), line.model ?? "", `${line.prompt_tokens} / ${line.completion_tokens}`, dollars(line.cost_micros), line.thread_id ?? ""]));
}

/**
 * The newest charges, newest first. The usage API pages oldest first by cursor, so this
 * starts from the newest days that hold enough of them (the day summary says how many),
 * and on a busy day from growing windows back from now, rather than read a whole day.
 */
async function latestLines(byDay) {
  let need = RECENT;
  let start;
  for (const row of [...byDay].sort((a, b) => (a.day < b.day ? 1 : -1))) {
    start = row.day;
    if ((need -= row.requests) <= 0) break;
  }
  if (!start) return [];
  const dayStart = Date.parse(`${start}T00:00:00Z`);
  for (let window = 60_000; Date.now() - window > dayStart; window *= 8) {
    const lines = await linesSince(Date.now() - window);
    if (lines.length >= RECENT) return lines;
  }
  return linesSince(dayStart);
}

/** The last RECENT charges since `since` (ms), newest first; at most 20 pages are read. */
async function linesSince(since) {
  const lines = [];
  let after = "";
  for (let pages = 0; pages < 20; pages++) {
    const page = await admin(`/usage?type=charge&limit=1000&since=${new Date(since).toISOString()}${after && `&after=${after}`}`);
    lines.push(...page.data.slice(-RECENT));
    lines.splice(0, Math.max(0, lines.length - RECENT));
    if (!page.has_more) break;
    after = page.data.at(-1).id;
  }
  return lines.reverse();
}

async function admin(path) {
  const response = await fetch(`/api/admin${path}`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

/** One row per day of the range, zero where nothing was spent. */
function lastDays(since, data) {
  const byDay = new Map(data.map((row) => [row.day, row]));
  return Array.from({ length: DAYS }, (_, i) => {
    const d = day(new Date(since.getTime() + i * 86_400_000));
    return byDay.get(d) ?? { day: d, requests: 0, cost_micros: 0 };
  });
}

/**
 * A bar chart as inline SVG: one bar per day, each with its value as a tooltip and in the
 * chart's text alternative, the largest value and the first and last days written on the
 * axes, and a hidden table with every value for screen readers.
 */
function chart(host, titleId, points) {
  const width = 600;
  const height = 140;
  const top = 18;
  const bottom = 20;
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = width / points.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", titleId);
  const busiest = points.reduce((a, b) => (b.value > a.value ? b : a), points[0]);
  const text = (x, y, content, anchor = "start") => {
    const element = document.createElementNS(SVG, "text");
    element.setAttribute("x", String(x));
    element.setAttribute("y", String(y));
    element.setAttribute("text-anchor", anchor);
    element.textContent = content;
    return element;
  };
  const axis = document.createElementNS(SVG, "line");
  Object.entries({ x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: "axis" }).forEach(([k, v]) => axis.setAttribute(k, String(v)));
  svg.append(axis);
  for (const [index, point] of points.entries()) {
    const barHeight = ((height - top - bottom) * point.value) / max;
    const bar = document.createElementNS(SVG, "rect");
    bar.setAttribute("x", String(index * slot + slot * 0.15));
    bar.setAttribute("width", String(slot * 0.7));
    bar.setAttribute("y", String(height - bottom - barHeight));
    bar.setAttribute("height", String(Math.max(point.value > 0 ? 1 : 0, barHeight)));
    bar.dataset.day = point.label;
    bar.dataset.value = String(point.value);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${point.label}: ${point.text}`;
    bar.append(title);
    svg.append(bar);
  }
  svg.append(text(0, 12, `max ${busiest.value > 0 ? `${busiest.text} on ${busiest.label}` : "0"}`), text(0, height - 4, points[0].label), text(width, height - 4, points.at(-1).label, "end"));
  const table = document.createElement("table");
  table.className = "visually-hidden";
  for (const point of points.filter((p) => p.value > 0)) table.append(tableRow([point.label, point.text]));
  host.replaceChildren(svg, table);
}

function rows(tbody, data) {
  const labels = [...tbody.closest("table").tHead.rows[0].cells].map((th) => th.textContent.trim());
  const made = data.map((cells) => {
    const row = tableRow(cells);
    for (const [index, td] of [...row.cells].entries()) td.dataset.label = labels[index] ?? "";
    return row;
  });
  if (made.length === 0) {
    const row = tableRow(["No requests yet."]);
    row.cells[0].colSpan = labels.length;
    row.className = "muted";
    made.push(row);
  }
  tbody.replaceChildren(...made);
}

function tableRow(cells) {
  const row = document.createElement("tr");
  for (const content of cells) {
    const td = document.createElement("td");
    td.append(content instanceof Node ? content : String(content));
    row.append(td);
  }
  return row;
}

function day(date) {
  return date.toISOString().slice(0, 10);
}

function dollars(micros) {
  return `$${(micros / 1_000_000).toFixed(6)}`;
}

function when(iso) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.textContent = new Date(iso).toLocaleString();
  return element;
}

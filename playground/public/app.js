// The playground page: plain DOM, no framework. Admin calls use the demo account's
// token from GET /playground/session; chat and the examples use the key saved in
// this browser. Text from the server is only ever set as textContent.

import { keyUsage } from "./usage.js";

const KEY_STORE = "agentgate.apiKey";
const AGENT_STORE = "agentgate.agentId";
const API = `${location.origin}/api/v1`;
const $ = (id) => document.getElementById(id);

const state = {
  token: "",
  agents: [],
  agentId: localStorage.getItem(AGENT_STORE) ?? "",
  keys: [],
  /** Bumped by every keys request: an answer to an older one is dropped (quick clicks on "Keys"). */
  keysRequest: 0,
  threadId: "",
  /** Bumped by "New thread" and by a new key: a reply still streaming then keeps out of the new thread. */
  threadEpoch: 0,
  sending: false,
  /** The control whose action runs (or ran) last: its card shows the status message. */
  lastControl: undefined,
};

init().catch((error) => say(`Could not load the playground: ${error.message}`));

async function init() {
  $("base-url").textContent = API;
  const response = await request("/playground/session");
  const session = await response.json();
  if (!response.ok) throw new Error(session.error ?? response.statusText);
  state.token = session.admin_token;
  for (const model of session.models) $("chat-model").append(new Option(model, model));
  $("browser-key-value").value = savedKey();
  renderExamples();
  bindEvents();
  await Promise.all([loadBalance(), loadAgents(state.agentId)]);
}

function bindEvents() {
  $("top-up").addEventListener("click", () => busy($("top-up"), topUp));
  $("create-agent").addEventListener("submit", (event) => (event.preventDefault(), busy(event.submitter, createAgent)));
  $("open-key-dialog").addEventListener("click", openKeyDialog);
  $("create-key").addEventListener("submit", (event) => (event.preventDefault(), busy(event.submitter, createKey)));
  $("copy-new-key").addEventListener("click", () => copy($("new-key-value").value, $("copy-new-key")));
  $("use-new-key").addEventListener("click", () => saveKey($("new-key-value").value));
  $("key-dialog").addEventListener("close", () => ($("new-key-value").value = "")); // forget the plaintext
  for (const button of document.querySelectorAll("[data-close]")) button.addEventListener("click", () => $("key-dialog").close());
  for (const button of document.querySelectorAll("[data-copy]")) button.addEventListener("click", () => copy($(button.dataset.copy).textContent, button));
  $("browser-key").addEventListener("submit", (event) => (event.preventDefault(), (state.lastControl = event.submitter), saveKey($("browser-key-value").value.trim())));
  $("forget-key").addEventListener("click", () => ((state.lastControl = $("forget-key")), saveKey("")));
  $("use-new-key").addEventListener("click", () => (state.lastControl = $("open-key-dialog")), { capture: true });
  $("chat-model").addEventListener("change", renderExamples);
  $("chat").addEventListener("submit", (event) => {
    event.preventDefault();
    if (state.sending) return; // Enter while a reply streams: one request per thread at a time
    state.sending = true;
    sendChat()
      .catch((error) => ($("chat-error").textContent = error.message))
      .finally(() => (state.sending = false));
  });
  $("chat-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) (event.preventDefault(), $("chat").requestSubmit());
  });
  $("new-thread").addEventListener("click", newThread);
}

// --- the network ---

/** `fetch`, with a server that cannot be reached said in words ("Failed to fetch" says nothing). */
async function request(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw unreachable();
  }
}

function unreachable(when = "") {
  return new Error(`Cannot reach the agentgate server at ${location.origin}${when}. Is it still running (npm start)?`);
}

// --- admin API ---

async function admin(path, init = {}) {
  const headers = { authorization: `Bearer ${state.token}`, ...(init.body && { "content-type": "application/json" }) };
  const response = await request(`/api/admin${path}`, { ...init, headers });
  if (response.status === 204) return null;
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

async function loadBalance() {
  const { balance_micros, reserved_micros } = await admin("/billing");
  $("balance").textContent = dollars(balance_micros);
  $("balance").title = exactDollars(balance_micros);
  $("reserved").textContent = reserved_micros ? `(${dollars(reserved_micros)} reserved)` : "";
}

async function topUp() {
  const response = await request("/playground/top-up", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount_micros: 5_000_000 }) });
  if (!response.ok) throw new Error("The top-up failed.");
  await loadBalance();
  say("Added $5.00 of demo credit.");
}

/**
 * The agents, and the keys of the one to show (`preferred` if it still exists, else the
 * first). Nothing on the page changes until both have loaded, so a failed load never
 * leaves one agent selected and another one's keys shown.
 */
async function loadAgents(preferred) {
  const ticket = ++state.keysRequest;
  const agents = (await admin("/agents")).data;
  const agentId = agents.some((agent) => agent.id === preferred) ? preferred : (agents[0]?.id ?? "");
  const keys = agentId ? (await admin(`/agents/${agentId}/keys`)).data : [];
  state.agents = agents;
  redraw(
    $("agents"),
    agents.length === 0 ? [emptyRow("No agents yet: create one below.", 5)] : agents.map((agent) => {
      const select = button("Keys", () => selectAgent(agent.id), `Show the keys of ${agent.name}`, "secondary", `keys:${agent.id}`);
      const row = tr(cell(agent.name), cell(agent.id, "code"), cell(agent.models?.join(", ") ?? "all"), cell(budgetText(agent.budget)), cell(time(agent.created_at)), cell(select));
      row.dataset.agentId = agent.id;
      return row;
    }),
  );
  // A click on "Keys" since this load began wins: keep its agent (already shown) selected.
  if (ticket === state.keysRequest) showKeys(agentId, keys);
  else showKeys(state.agentId, state.keys);
}

/** Selects an agent once its keys have loaded; the table stays, so the focus stays on its button. */
async function selectAgent(id) {
  const ticket = ++state.keysRequest;
  const keys = (await admin(`/agents/${id}/keys`)).data;
  if (ticket === state.keysRequest) showKeys(id, keys);
}

/** Reloads the keys of the selected agent. */
async function loadKeys() {
  const agentId = state.agentId;
  if (!agentId) return;
  const ticket = ++state.keysRequest;
  const keys = (await admin(`/agents/${agentId}/keys`)).data;
  if (ticket === state.keysRequest) showKeys(agentId, keys);
}

function showKeys(agentId, keys) {
  state.agentId = agentId;
  state.keys = keys;
  localStorage.setItem(AGENT_STORE, agentId); // the selection survives a reload
  for (const row of $("agents").rows) {
    const selected = row.dataset.agentId === agentId;
    if (selected) row.setAttribute("aria-current", "true");
    else row.removeAttribute("aria-current");
    row.querySelector("button")?.setAttribute("aria-pressed", String(selected));
  }
  const agent = state.agents.find((a) => a.id === agentId);
  $("keys-agent").textContent = agent?.name ?? "no agent selected";
  $("open-key-dialog").disabled = !agent;
  redraw(
    $("keys"),
    keys.length === 0 ? [emptyRow(agent ? `${agent.name} has no keys yet: create one with “Create API key”.` : "Create an agent first: keys belong to an agent.", 5)] : keys.map((key) =>
      tr(
        cell(key.name),
        cell(`${key.start}…`, "code"),
        cell(budgetText(key.budget)),
        cell(time(key.created_at)),
        cell(key.last_used_at ? time(key.last_used_at) : "never"),
        cell(keyUsage(key.id)),
        cell(button("Delete", () => deleteKey(agentId, key), `Delete the key ${key.name}`, "secondary", `delete:${key.id}`)),
      ),
    ),
  );
}

/** "1.20 of 5.00 USD this day" (spent of the limit), or "none". */
function budgetText(budget) {
  if (!budget) return "none";
  const usd = (micros) => (micros / 1_000_000).toFixed(2);
  const period = budget.period === "total" ? "in total" : `this ${budget.period}`;
  return `${usd(budget.spent_micros)} of ${usd(budget.limit_micros)} USD ${period}`;
}

async function createAgent() {
  const name = $("agent-name").value.trim();
  const instructions = $("agent-instructions").value.trim();
  const agent = await admin("/agents", { method: "POST", body: JSON.stringify({ name, ...(instructions && { instructions }) }) });
  $("create-agent").reset();
  // The table grows first, then the message is placed and scrolled to.
  await loadAgents(agent.id);
  say(`Created the agent ${agent.name}.`);
}

async function deleteKey(agentId, key) {
  if (!confirm(`Delete the key "${key.name}" (${key.start}…)? Calls with it fail from the next request on.`)) return;
  const index = state.keys.findIndex((k) => k.id === key.id);
  await admin(`/agents/${agentId}/keys/${key.id}`, { method: "DELETE" });
  // Was it this browser's key? Its start (the prefix and four random characters) says so: the page never
  // calls the API with a key it just deleted (a 401 in the browser's console every time).
  const wasSaved = savedKey().startsWith(key.start);
  if (wasSaved) saveKey("", `Deleted the key ${key.name}. It was the key saved in this browser, so this browser forgot it: save another key to chat.`);
  else say(`Deleted the key ${key.name}.`);
  await loadKeys();
  // The focus was on the removed row: move it to the next row's Delete (or the last one's), or to the list.
  const next = state.keys[Math.min(index, state.keys.length - 1)];
  (next ? $("keys").querySelector(`[data-focus-id="delete:${CSS.escape(next.id)}"]`) : $("keys-title"))?.focus();
}

function openKeyDialog() {
  $("create-key").reset();
  $("create-key").hidden = false;
  $("new-key").hidden = true;
  $("key-dialog-error").textContent = "";
  $("key-dialog").showModal();
  $("key-name").focus();
}

async function createKey() {
  $("key-dialog-error").textContent = "";
  const created = await admin(`/agents/${state.agentId}/keys`, { method: "POST", body: JSON.stringify({ name: $("key-name").value.trim() }) });
  $("create-key").hidden = true;
  $("new-key").hidden = false;
  $("new-key-value").value = created.key;
  $("new-key-value").select();
  await loadKeys();
}

// --- this browser's key, the examples and the chat ---

function savedKey() {
  return localStorage.getItem(KEY_STORE) ?? "";
}

/** Saves (or with "" forgets) this browser's key. A thread belongs to one agent: another key starts a new thread. */
function saveKey(key, message) {
  const changed = key !== savedKey();
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  $("browser-key-value").value = key;
  renderExamples();
  const hadThread = Boolean(state.threadId || $("chat-log").childElementCount);
  if (changed) newThread();
  const thread = changed && hadThread ? " The chat starts a new thread." : "";
  say((message ?? (key ? "Saved your API key in this browser." : "Forgot the API key of this browser.")) + thread);
  if ($("key-dialog").open) $("key-dialog").close();
}

function newThread() {
  state.threadId = "";
  state.threadEpoch++;
  $("thread-id").textContent = "new";
  $("chat-log").replaceChildren();
  $("chat-error").textContent = "";
}

function renderExamples() {
  const key = savedKey();
  $("browser-key-status").textContent = key ? `Saved in this browser's localStorage (${key.slice(0, 8)}…). The examples below use it.` : "No key saved: the examples show a placeholder.";
  const apiKey = key || "a2a_your_key";
  const model = $("chat-model").value || "echo/echo";
  // Each example is whole on its own: its second call continues the thread of its own first call.
  $("example-curl").textContent = `# Start a conversation. -D saves the response headers: x-thread-id names the new thread
curl -sS --fail-with-body "${API}/chat/completions" -w '\\n' -D headers.txt \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}' &&
THREAD_ID=$(awk -F': *' 'tolower($1) == "x-thread-id" { sub(/\\r$/, "", $2); print $2 }' headers.txt) &&

# Continue the conversation (only if the first call worked: --fail-with-body, &&):
# only the new message, and the thread_id of the first reply
curl -sS --fail-with-body "${API}/chat/completions" -w '\\n' \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "${model}", "thread_id": "'"$THREAD_ID"'", "messages": [{"role": "user", "content": "And then?"}]}'`;
  $("example-python").textContent = `# pip install openai
from openai import OpenAI

client = OpenAI(base_url="${API}", api_key="${apiKey}")

first = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(first.choices[0].message.content)

# Continue the conversation: only the new message, and the thread_id of the first reply
reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "And then?"}],
    extra_body={"thread_id": first.thread_id},
)
print(reply.choices[0].message.content)`;
  $("example-typescript").textContent = `// npm install openai, save as example.ts (or .mts), then: npx tsx example.ts
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${API}", apiKey: "${apiKey}" });

async function main() {
  const first = await client.chat.completions.create({
    model: "${model}",
    messages: [{ role: "user", content: "Hello!" }],
  });
  console.log(first.choices[0].message.content);

  // Continue the conversation: only the new message, and the thread_id of the first reply
  // (a field the OpenAI types do not know, hence the two casts)
  const { thread_id } = first as typeof first & { thread_id: string };
  const reply = await client.chat.completions.create({
    model: "${model}",
    messages: [{ role: "user", content: "And then?" }],
    thread_id,
  } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  console.log(reply.choices[0].message.content);
}

main().catch(console.error);`;
  $("example-responses").textContent = `// npm install openai, save as responses.ts (or .mts), then: npx tsx responses.ts
import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${API}", apiKey: "${apiKey}" });

async function main() {
  const first = await client.responses.create({ model: "${model}", input: "Hello!" });
  console.log(first.output_text);

  // Continue the conversation: only the new input, and the id of the previous response
  const reply = await client.responses.create({
    model: "${model}",
    input: "And then?",
    previous_response_id: first.id,
  });
  console.log(reply.output_text);
}

main().catch(console.error);`;
}

async function sendChat() {
  const key = savedKey();
  const text = $("chat-input").value.trim();
  $("chat-error").textContent = "";
  if (!key) return void ($("chat-error").textContent = "Save an API key for this browser first.");
  if (!text) return;
  const epoch = state.threadEpoch;
  const body = { model: $("chat-model").value, messages: [{ role: "user", content: text }], stream: true, ...(state.threadId && { thread_id: state.threadId }) };
  const response = await request(`${API}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))).error;
    $("chat-error").textContent = `${response.status}: ${error?.message ?? response.statusText}`;
    return;
  }
  if (epoch !== state.threadEpoch) return; // the key changed while we waited: that thread is gone from the page
  $("chat-input").value = "";
  $("chat-log").append(message("You", text, "user"));
  const answer = message("Agent", "", "assistant");
  $("chat-log").append(answer);
  setThread(response.headers.get("x-thread-id"));
  let reply = "";
  for await (const event of sse(response.body)) {
    if (event.error) throw new Error(event.error.message);
    if (epoch !== state.threadEpoch) return;
    setThread(event.thread_id);
    reply += event.choices[0]?.delta?.content ?? "";
    answer.lastChild.textContent = reply;
  }
  announce(`Agent: ${reply}`);
  await Promise.all([loadBalance(), loadKeys()]);
  document.dispatchEvent(new CustomEvent("agentgate:usage-changed")); // usage.js redraws the Usage view
}

function setThread(id) {
  if (!id || id === state.threadId) return;
  state.threadId = id;
  $("thread-id").textContent = id;
}

/** The JSON events of an SSE body, up to `[DONE]`. */
async function* sse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      throw unreachable(" any more: the reply was cut off");
    }
    if (chunk.done) return;
    buffer += chunk.value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const data = buffer.slice(0, end).split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
      buffer = buffer.slice(end + 2);
      if (data === "[DONE]") return;
      if (data) yield JSON.parse(data);
    }
  }
}

// --- small DOM helpers ---

/**
 * Shows a status message right after the control that caused it (`near`, else the focused
 * element): below its form, row or table, scrolled into view if need be, so it is seen
 * where the user looks, not at the top of the page.
 */
function say(text, near = state.lastControl ?? document.activeElement) {
  const status = $("status");
  // A control inside the key dialog belongs to the keys card (the dialog closes).
  const control = near?.closest?.("dialog") ? $("open-key-dialog") : near;
  const anchor = control?.closest?.(".card") && (control.closest(".table-wrap, form, .row") ?? control);
  if (anchor && anchor.nextElementSibling !== status) anchor.after(status);
  status.textContent = text;
  if (anchor && text) status.scrollIntoView({ block: "nearest" });
}

/** Errors go where they can be seen: inside the key dialog while it is open (the rest of the page is behind its backdrop). */
function report(error) {
  if ($("key-dialog").open) $("key-dialog-error").textContent = error.message;
  else say(error.message);
}

/** A reply, announced once it is whole (the log itself is not live: it would be read word by word). */
function announce(text) {
  $("chat-announce").textContent = "";
  $("chat-announce").textContent = text;
}

/**
 * Runs `action` once at a time per control. The control is marked aria-disabled, not
 * disabled: a disabled button drops the keyboard focus to <body>.
 */
async function busy(control, action) {
  if (control?.getAttribute("aria-disabled") === "true") return;
  control?.setAttribute("aria-disabled", "true");
  state.lastControl = control;
  try {
    await action();
  } catch (error) {
    report(error);
  } finally {
    control?.removeAttribute("aria-disabled");
  }
}

async function copy(text, control) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    return report(new Error("Could not copy: select the text and copy it yourself."));
  }
  const label = control.textContent;
  control.textContent = "Copied";
  setTimeout(() => (control.textContent = label), 1500);
}

/** Dollars and cents, as people read money; the exact amount (micro-dollars) in `exactDollars`. */
function dollars(micros) {
  return `$${(micros / 1_000_000).toFixed(2)}`;
}

function exactDollars(micros) {
  return `$${(micros / 1_000_000).toFixed(6).replace(/0{1,4}$/, "")} exactly`;
}

function time(iso) {
  const element = document.createElement("time");
  element.dateTime = iso;
  element.textContent = new Date(iso).toLocaleString();
  return element;
}

function message(who, text, role) {
  const item = document.createElement("li");
  item.className = role;
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = `${who}:`;
  item.append(name, document.createElement("span"));
  item.lastChild.textContent = text;
  return item;
}

/** A button; `focusId` names it across redraws, so a redrawn table keeps the focus on it. */
function button(label, onClick, ariaLabel, className, focusId) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = className ?? "";
  if (ariaLabel) element.setAttribute("aria-label", ariaLabel);
  if (focusId) element.dataset.focusId = focusId;
  element.addEventListener("click", () => busy(element, onClick));
  return element;
}

/**
 * Replaces the rows of `tbody`; a focused button in it is focused again in the new rows.
 * Each cell gets its column's name as `data-label`, which narrow screens show beside it.
 */
function redraw(tbody, rows) {
  const focused = tbody.contains(document.activeElement) ? document.activeElement.dataset.focusId : undefined;
  const labels = [...tbody.closest("table").tHead.rows[0].cells].map((th) => th.dataset.label ?? th.textContent.trim());
  for (const row of rows) for (const [index, td] of [...row.cells].entries()) td.dataset.label = labels[index] ?? "";
  tbody.replaceChildren(...rows);
  if (focused) tbody.querySelector(`[data-focus-id="${CSS.escape(focused)}"]`)?.focus();
}

function cell(content, tag) {
  const td = document.createElement("td");
  if (tag) {
    const inner = document.createElement(tag);
    inner.textContent = content;
    td.append(inner);
  } else td.append(content);
  return td;
}

/** The one row of an empty table: says so, and what to do, instead of headers over nothing. */
function emptyRow(text, columns) {
  const td = document.createElement("td");
  td.colSpan = columns;
  td.className = "empty";
  td.dataset.label = "";
  td.textContent = text;
  const row = document.createElement("tr");
  row.append(td);
  return row;
}

function tr(...cells) {
  const row = document.createElement("tr");
  row.append(...cells);
  return row;
}

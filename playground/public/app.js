// The playground page: plain DOM, no framework. Admin calls use the demo account's
// token from GET /playground/session; chat and the examples use the key saved in
// this browser. Text from the server is only ever set as textContent.

const KEY_STORE = "agentgate.apiKey";
const API = `${location.origin}/api/v1`;
const $ = (id) => document.getElementById(id);

const AGENT_STORE = "agentgate.agentId";
const state = { token: "", agents: [], agentId: localStorage.getItem(AGENT_STORE) ?? "", threadId: "", sending: false };

init().catch((error) => say(`Could not load the playground: ${error.message}`));

async function init() {
  $("base-url").textContent = API;
  const session = await (await fetch("/playground/session")).json();
  state.token = session.admin_token;
  for (const model of session.models) $("chat-model").append(new Option(model, model));
  $("browser-key-value").value = savedKey();
  renderExamples();
  bindEvents();
  await Promise.all([loadBalance(), loadAgents()]);
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
  $("browser-key").addEventListener("submit", (event) => (event.preventDefault(), saveKey($("browser-key-value").value.trim())));
  $("forget-key").addEventListener("click", () => saveKey(""));
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
  $("new-thread").addEventListener("click", () => {
    state.threadId = "";
    $("thread-id").textContent = "new";
    $("chat-log").replaceChildren();
    renderExamples();
  });
}

// --- admin API ---

async function admin(path, init = {}) {
  const headers = { authorization: `Bearer ${state.token}`, ...(init.body && { "content-type": "application/json" }) };
  const response = await fetch(`/api/admin${path}`, { ...init, headers });
  if (response.status === 204) return null;
  const body = await response.json();
  if (!response.ok) throw new Error(body.error?.message ?? response.statusText);
  return body;
}

async function loadBalance() {
  const { balance_micros, reserved_micros } = await admin("/billing");
  $("balance").textContent = dollars(balance_micros);
  $("reserved").textContent = reserved_micros ? `(${dollars(reserved_micros)} reserved)` : "";
}

async function topUp() {
  const response = await fetch("/playground/top-up", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ amount_micros: 5_000_000 }) });
  if (!response.ok) throw new Error("The top-up failed.");
  await loadBalance();
  say("Added $5.00 of demo credit.");
}

async function loadAgents() {
  state.agents = (await admin("/agents")).data;
  if (!state.agents.some((agent) => agent.id === state.agentId)) state.agentId = state.agents[0]?.id ?? "";
  localStorage.setItem(AGENT_STORE, state.agentId); // the selection survives a reload
  $("agents").replaceChildren(
    ...state.agents.map((agent) => {
      const select = button(`Keys`, () => selectAgent(agent.id), `Show the keys of ${agent.name}`, "secondary");
      const row = tr(cell(agent.name), cell(agent.id, "code"), cell(agent.models?.join(", ") ?? "all"), cell(time(agent.created_at)), cell(select));
      if (agent.id === state.agentId) row.setAttribute("aria-current", "true");
      return row;
    }),
  );
  await loadKeys();
}

async function selectAgent(id) {
  state.agentId = id;
  await loadAgents();
}

async function createAgent() {
  const name = $("agent-name").value.trim();
  const instructions = $("agent-instructions").value.trim();
  const agent = await admin("/agents", { method: "POST", body: JSON.stringify({ name, ...(instructions && { instructions }) }) });
  $("create-agent").reset();
  state.agentId = agent.id;
  await loadAgents();
  say(`Created the agent ${agent.name}.`);
}

async function loadKeys() {
  const agent = state.agents.find((a) => a.id === state.agentId);
  $("keys-agent").textContent = agent?.name ?? "no agent selected";
  $("open-key-dialog").disabled = !agent;
  if (!agent) return $("keys").replaceChildren();
  const keys = (await admin(`/agents/${agent.id}/keys`)).data;
  $("keys").replaceChildren(
    ...keys.map((key) =>
      tr(cell(key.name), cell(`${key.start}…`, "code"), cell(time(key.created_at)), cell(key.last_used_at ? time(key.last_used_at) : "never"), cell(button("Delete", () => deleteKey(agent.id, key), `Delete the key ${key.name}`, "secondary"))),
    ),
  );
}

async function deleteKey(agentId, key) {
  if (!confirm(`Delete the key "${key.name}" (${key.start}…)? Calls with it fail from the next request on.`)) return;
  await admin(`/agents/${agentId}/keys/${key.id}`, { method: "DELETE" });
  await loadKeys();
  say(`Deleted the key ${key.name}.`);
}

function openKeyDialog() {
  $("create-key").reset();
  $("create-key").hidden = false;
  $("new-key").hidden = true;
  $("key-dialog").showModal();
  $("key-name").focus();
}

async function createKey() {
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

function saveKey(key) {
  if (key) localStorage.setItem(KEY_STORE, key);
  else localStorage.removeItem(KEY_STORE);
  $("browser-key-value").value = key;
  renderExamples();
  say(key ? "Saved your API key in this browser." : "Forgot the API key of this browser.");
  if ($("key-dialog").open) $("key-dialog").close();
}

function renderExamples() {
  const key = savedKey();
  $("browser-key-status").textContent = key ? `Saved in this browser's localStorage (${key.slice(0, 8)}…). The examples below use it.` : "No key saved: the examples show a placeholder.";
  const apiKey = key || "a2a_your_key";
  const model = $("chat-model").value || "echo/echo";
  const thread = state.threadId || "thread_from_the_first_reply";
  $("example-curl").textContent = `curl ${API}/chat/completions \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'

# Continue the conversation: only the new message, and the thread_id of the reply
curl ${API}/chat/completions \\
  -H "Content-Type: application/json" \\
  -H "Authorization: Bearer ${apiKey}" \\
  -d '{"model": "${model}", "thread_id": "${thread}", "messages": [{"role": "user", "content": "And then?"}]}'`;
  $("example-python").textContent = `from openai import OpenAI

client = OpenAI(base_url="${API}", api_key="${apiKey}")

first = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(first.choices[0].message.content)

# Continue the conversation: only the new message, and the thread_id of the reply
reply = client.chat.completions.create(
    model="${model}",
    messages=[{"role": "user", "content": "And then?"}],
    extra_body={"thread_id": first.thread_id},
)
print(reply.choices[0].message.content)`;
  $("example-typescript").textContent = `import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${API}", apiKey: "${apiKey}" });

const first = await client.chat.completions.create({
  model: "${model}",
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(first.choices[0].message.content);

// Continue the conversation: only the new message, and the thread_id of the reply
const threadId = (first as any).thread_id;
const reply = await client.chat.completions.create({
  model: "${model}",
  messages: [{ role: "user", content: "And then?" }],
  thread_id: threadId,
} as any);
console.log(reply.choices[0].message.content);`;
}

async function sendChat() {
  const key = savedKey();
  const text = $("chat-input").value.trim();
  $("chat-error").textContent = "";
  if (!key) return void ($("chat-error").textContent = "Save an API key for this browser first.");
  if (!text) return;
  const body = { model: $("chat-model").value, messages: [{ role: "user", content: text }], stream: true, ...(state.threadId && { thread_id: state.threadId }) };
  const response = await fetch(`${API}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))).error;
    $("chat-error").textContent = `${response.status}: ${error?.message ?? response.statusText}`;
    return;
  }
  $("chat-input").value = "";
  $("chat-log").append(message("You", text, "user"));
  const answer = message("Agent", "", "assistant");
  $("chat-log").append(answer);
  setThread(response.headers.get("x-thread-id"));
  for await (const event of sse(response.body)) {
    if (event.error) throw new Error(event.error.message);
    setThread(event.thread_id);
    answer.lastChild.textContent += event.choices[0]?.delta?.content ?? "";
  }
  await Promise.all([loadBalance(), loadKeys()]);
}

function setThread(id) {
  if (!id || id === state.threadId) return;
  state.threadId = id;
  $("thread-id").textContent = id;
  renderExamples();
}

/** The JSON events of an SSE body, up to `[DONE]`. */
async function* sse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
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

function say(text) {
  $("status").textContent = text;
}

async function busy(control, action) {
  if (control) control.disabled = true;
  try {
    await action();
  } catch (error) {
    say(error.message);
  } finally {
    if (control) control.disabled = false;
  }
}

async function copy(text, control) {
  await navigator.clipboard.writeText(text);
  const label = control.textContent;
  control.textContent = "Copied";
  setTimeout(() => (control.textContent = label), 1500);
}

function dollars(micros) {
  return `$${(micros / 1_000_000).toFixed(6)}`;
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

function button(label, onClick, ariaLabel, className) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.className = className ?? "";
  if (ariaLabel) element.setAttribute("aria-label", ariaLabel);
  element.addEventListener("click", () => busy(element, onClick));
  return element;
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

function tr(...cells) {
  const row = document.createElement("tr");
  row.append(...cells);
  return row;
}

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sleep, type FakeUpstream } from "../fakes/_server";
import { ledgerLines } from "../_billing";
import { seedAgent, type TestGateway } from "../_setup";
import { startMessagesGateway, type MessagesGateway } from "./_messages-gateway";

/** The events of an Anthropic SSE body, in order. */
function events(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim())
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? "";
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? "{}") as Record<string, unknown>;
      return { event, data };
    });
}

// The Messages routes on the wire, without an SDK between: what goes up and what comes back.
describe("POST /v1/messages on the wire", () => {
  let fakes: { openai: FakeUpstream; anthropic: FakeUpstream };
  let t: TestGateway;
  let key: string;
  let accountId: string;
  const post = (body: object, headers: Record<string, string> = {}, path = "/api/v1/messages?beta=true") =>
    fetch(`${t.origin}${path}`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers }, body: JSON.stringify(body) });

  let gateway: MessagesGateway;

  beforeAll(async () => {
    gateway = await startMessagesGateway();
    ({ fakes, t, key, accountId } = gateway);
  });
  afterAll(() => gateway?.close());
  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  it("passes an anthropic/ request through: the vendor gets the client's body but for model, with its beta and version headers", async () => {
    const body = {
      model: "anthropic/claude-sonnet-4-6",
      max_tokens: 2048,
      stream: true,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      thinking: { type: "enabled", budget_tokens: 1024 },
      context_management: { edits: [{ type: "clear_tool_uses_20250919" }] },
      messages: [
        { role: "user", content: [{ type: "text", text: "hello", cache_control: { type: "ephemeral", ttl: "1h" } }] },
        { role: "assistant", content: [{ type: "thinking", thinking: "hm", signature: "sig123" }, { type: "text", text: "hi" }] },
        { role: "user", content: "again" },
      ],
      metadata: { user_id: '{"session":"abc"}' },
    };
    const response = await post(body, { "anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07", "anthropic-version": "2026-10-21" });
    expect(response.status).toBe(200);
    await response.text();
    const [sent] = fakes.anthropic.requests;
    expect(sent.body).toEqual({ ...body, model: "claude-sonnet-4-6" });
    expect(sent.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14,context-1m-2025-08-07");
    expect(sent.headers["anthropic-version"]).toBe("2026-10-21");
    expect(sent.headers.authorization).toBe(`Bearer ${fakes.anthropic.apiKey}`);
    expect(sent.headers["x-api-key"]).toBeUndefined(); // the client's key never goes upstream
  });

  it("gives a pass-through Anthropic's tool ids where another vendor's call had one outside its pattern (a Gemini 3 signature), the rest untouched", async () => {
    const foreign = "toolu_call_1~c2ln+bmF0dXJl/==";
    const body = {
      model: "anthropic/claude-sonnet-4-6",
      max_tokens: 256,
      messages: [
        { role: "user", content: "list files" },
        { role: "assistant", content: [{ type: "tool_use", id: foreign, name: "Bash", input: { command: "ls" } }, { type: "tool_use", id: "toolu_01AbC", name: "Bash", input: { command: "pwd" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: foreign, content: "a.txt" }, { type: "tool_result", tool_use_id: "toolu_01AbC", content: "/tmp" }] },
      ],
    };
    expect((await post(body)).status).toBe(200);
    const sent = fakes.anthropic.requests[0].body as typeof body;
    const use = (sent.messages[1].content as Array<{ id: string }>)[0].id;
    const result = (sent.messages[2].content as Array<{ tool_use_id: string }>)[0].tool_use_id;
    expect(use).toMatch(/^[\w-]+$/);
    expect(result).toBe(use);
    expect(sent.messages[1].content[1]).toEqual(body.messages[1].content[1]);
    expect(sent.messages[2].content[1]).toEqual(body.messages[2].content[1]);
  });

  it("streams a pass-through back as it came", async () => {
    fakes.anthropic.script({ reply: { text: "as it came" } });
    const response = await post({ model: "anthropic/claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "x" }] });
    const received = events(await response.text());
    expect(received.map((e) => e.event)).toEqual(["message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect((received[0].data.message as { model: string }).model).toBe("claude-sonnet-4-6");
  });

  it("passes an Anthropic mid-stream error through as it came, and charges nothing", async () => {
    const { key: own, accountId: account } = await seedAgent(t.gateway);
    fakes.anthropic.script({ reply: { text: "one two three four", failAfter: 3 } });
    const response = await post({ model: "anthropic/claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "x" }] }, { "x-api-key": own });
    const received = events(await response.text());
    expect(received.at(-1)).toEqual({ event: "error", data: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } });
    expect((await ledgerLines(t.gateway, account)).filter((line) => line.type === "charge")).toHaveLength(0);
    expect((await t.gateway.admin.getBilling(account)).reserved_micros).toBe(0);
  });

  it("sends Anthropic's server tools through to an anthropic/ model", async () => {
    const tools = [{ type: "web_search_20250305", name: "web_search", max_uses: 2 }, { name: "mine", input_schema: { type: "object" } }];
    const response = await post({ model: "anthropic/claude-sonnet-4-6", max_tokens: 100, tools, messages: [{ role: "user", content: "x" }] });
    expect(response.status).toBe(200);
    expect(fakes.anthropic.requests[0].body.tools).toEqual(tools);
  });

  it("lowers a pass-through's max_tokens to the model's largest answer, the cap the hold covers", async () => {
    await (await post({ model: "anthropic/claude-sonnet-4-6", max_tokens: 100_000, messages: [{ role: "user", content: "x" }] })).text();
    expect(fakes.anthropic.requests[0].body.max_tokens).toBe(64_000);
  });

  it("fits Claude Code's 64,000-token hold to a small balance: the cap sent is what the balance covers, and below 1,024 tokens it is a 402", async () => {
    const request = (apiKey: string) => fetch(`${t.origin}/api/v1/messages`, { method: "POST", headers: { "x-api-key": apiKey, "content-type": "application/json" }, body: JSON.stringify({ model: "anthropic/claude-sonnet-4-6", max_tokens: 64_000, stream: true, messages: [{ role: "user", content: "x" }] }) });
    const { key: small, accountId: account } = await seedAgent(t.gateway, { creditMicros: 500_000 }); // $0.50; the whole cap holds $0.96
    const response = await request(small);
    expect(response.status).toBe(200);
    await response.text();
    const sent = fakes.anthropic.requests[0].body.max_tokens as number;
    expect(sent).toBeLessThan(64_000);
    expect(sent).toBeGreaterThan(30_000);
    expect(sent * 15).toBeLessThanOrEqual(500_000);
    expect((await t.gateway.admin.getBilling(account)).reserved_micros).toBe(0);

    const { key: tiny } = await seedAgent(t.gateway, { creditMicros: 10_000 }); // 1,024 tokens cost 15,360
    const refused = await request(tiny);
    expect(refused.status).toBe(402);
    expect(await refused.json()).toMatchObject({ type: "error", error: { type: "billing_error" } });
    expect(fakes.anthropic.requests).toHaveLength(1);
  });

  it("streams a non-Anthropic answer in Anthropic's event sequence, text then a tool call, with cumulative usage", async () => {
    fakes.openai.script({ reply: { text: "Let me look.", toolCalls: [{ name: "read_file", arguments: { path: "a.txt" } }], usage: { prompt: 30, completion: 12, cached: 10 } } });
    const response = await post({ model: "openai/gpt-4o-mini", max_tokens: 100, stream: true, messages: [{ role: "user", content: "x" }] });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const received = events(await response.text());
    const names = received.map((e) => e.event);
    expect(names.slice(0, 3)).toEqual(["message_start", "ping", "content_block_start"]);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    const starts = received.filter((e) => e.event === "content_block_start").map((e) => e.data);
    expect(starts).toEqual([
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "read_file", input: {} } },
    ]);
    const json = received.filter((e) => (e.data.delta as { type?: string } | undefined)?.type === "input_json_delta").map((e) => (e.data.delta as { partial_json: string }).partial_json);
    expect(JSON.parse(json.join(""))).toEqual({ path: "a.txt" });
    expect(received.filter((e) => e.event === "content_block_stop").map((e) => e.data.index)).toEqual([0, 1]);
    const delta = received.find((e) => e.event === "message_delta")!.data;
    expect(delta).toEqual({ type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { input_tokens: 20, output_tokens: 12, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 } });
  });

  it("ends a stream whose vendor fails mid-way with event: error in Anthropic's shape, and charges nothing", async () => {
    const { key: own, accountId: account } = await seedAgent(t.gateway);
    fakes.openai.script({ reply: { text: "one two three four five", failAfter: 2 } });
    const response = await fetch(`${t.origin}/api/v1/messages`, { method: "POST", headers: { authorization: `Bearer ${own}`, "content-type": "application/json" }, body: JSON.stringify({ model: "openai/gpt-4o-mini", max_tokens: 100, stream: true, messages: [{ role: "user", content: "x" }] }) });
    const received = events(await response.text());
    const last = received.at(-1)!;
    expect(last.event).toBe("error");
    expect(last.data).toEqual({ type: "error", error: { type: expect.any(String), message: expect.any(String) } });
    expect((await ledgerLines(t.gateway, account)).filter((line) => line.type === "charge")).toHaveLength(0);
  });

  it("bills a client that leaves a pass-through stream for what was generated", async () => {
    const { key: own, accountId: account } = await seedAgent(t.gateway);
    fakes.anthropic.script({ reply: { text: "a b c d e f g h i j k l m n o p", chunkDelayMs: 30 } });
    const controller = new AbortController();
    const response = await fetch(`${t.origin}/api/v1/messages`, { method: "POST", signal: controller.signal, headers: { "x-api-key": own, "content-type": "application/json" }, body: JSON.stringify({ model: "anthropic/claude-sonnet-4-6", max_tokens: 100, stream: true, messages: [{ role: "user", content: "x" }] }) });
    const reader = response.body!.getReader();
    await reader.read();
    await sleep(100);
    controller.abort();
    await fakes.anthropic.requests[0].closed;
    await sleep(50);
    const charges = (await ledgerLines(t.gateway, account)).filter((line) => line.type === "charge");
    expect(charges).toHaveLength(1);
    expect(charges[0].prompt_tokens).toBe(10); // from message_start, as Anthropic counted
    expect(fakes.anthropic.requests[0].aborted).toBe(true);
  });

  it("continues a thread named by x-thread-id, and says its thread", async () => {
    const first = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "remember me" }] }) });
    const threadId = first.headers.get("x-thread-id")!;
    const response = await post({ model: "openai/gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: "and me" }] }, { "x-thread-id": threadId });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-thread-id")).toBe(threadId);
    const turns = fakes.openai.turns(fakes.openai.requests.at(-1)!).map((turn) => turn.text);
    expect(turns).toEqual(["remember me", "remember me", "and me"]);
    const thread = await t.gateway.admin.getThread(accountId, threadId);
    expect(thread.messages).toHaveLength(4);
  });

  it("translates a mid-conversation system turn, tool results with is_error, and drops what has no counterpart", async () => {
    await post({
      model: "openai/gpt-4o-mini",
      max_tokens: 100,
      top_k: 5,
      context_management: { edits: [] },
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      tools: [{ name: "t", input_schema: { type: "object" }, cache_control: { type: "ephemeral" } }],
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "t", input: { a: 1 } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", is_error: true, content: "boom", cache_control: { type: "ephemeral" } }] },
        { role: "system", content: "Mind the error." },
        { role: "user", content: "again" },
      ],
    });
    const sent = fakes.openai.requests[0].body as Record<string, unknown>;
    expect(sent.messages).toEqual([
      { role: "user", content: "go" },
      { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "t", arguments: '{"a":1}' } }] },
      { role: "tool", tool_call_id: "toolu_1", content: "Error: boom" },
      { role: "system", content: "Mind the error." },
      { role: "user", content: "again" },
    ]);
    expect(sent).toMatchObject({ tool_choice: "required", parallel_tool_calls: false, max_completion_tokens: 100 });
    expect(sent).not.toHaveProperty("top_k");
    expect(sent).not.toHaveProperty("context_management");
  });

  it("answers Claude Code's HEAD probe on the base URL", async () => {
    const response = await fetch(`${t.origin}/api`, { method: "HEAD" });
    expect(response.status).toBeGreaterThanOrEqual(200);
    expect(response.status).toBeLessThan(500);
  });

  it("takes the key as Authorization: Bearer and either anthropic-version", async () => {
    for (const version of ["2023-06-01", "2026-10-21"]) {
      const response = await post({ model: "openai/gpt-4o-mini", max_tokens: 10, messages: [{ role: "user", content: "hi" }] }, { "x-api-key": "", authorization: `Bearer ${key}`, "anthropic-version": version });
      expect(response.status).toBe(200);
    }
  });

  it("refuses a request without messages with 400, for every model, sending and charging nothing", async () => {
    const before = (await ledgerLines(t.gateway, accountId)).length;
    for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-6"]) {
      const res = await post({ model, max_tokens: 10, messages: [] });
      expect(res.status, model).toBe(400);
      expect(await res.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("at least one message") } });
    }
    expect(fakes.openai.requests.length + fakes.anthropic.requests.length).toBe(0);
    expect(await ledgerLines(t.gateway, accountId)).toHaveLength(before);
  });

  it("answers a request the gateway refuses in Anthropic's envelope, 413 included", async () => {
    const big = await post({ model: "openai/gpt-4o-mini", max_tokens: 10, messages: [{ role: "user", content: "x".repeat(2 * 1024 * 1024) }] });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ type: "error", error: { type: "request_too_large" }, request_id: expect.stringMatching(/^req_/) });
  });
});

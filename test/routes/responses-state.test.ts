import OpenAI from "openai";
import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryStorage, echo } from "../../src/index";
import { shardOf } from "../../src/stores/thread-records";
import { assertResponsesEvent, assertResponsesSchema, validatingFetch } from "../_openai-responses-schemas";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

/** The openai SDK with every Responses answer checked against OpenAI's schemas; no SDK retries. */
const openaiClient = (baseURL: string, apiKey: string) => new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: validatingFetch });

// What a Responses request keeps, and what a gateway's options change about it.
describe("stored responses and Responses options", () => {
  let t: TestGateway;
  let client: OpenAI;
  let key: string;
  let accountId: string;
  const storage = createStorage();

  beforeAll(async () => {
    t = await startGateway({ storage, responses: { dropUnsupportedTools: true } });
    ({ key, accountId } = await seedAgent(t.gateway));
    client = openaiClient(t.baseURL, key);
  });
  afterAll(() => t.close());

  it("lets a store: false request continue a stored response, reading its history and writing nothing", async () => {
    const first = await client.responses.create({ model: "echo/echo", input: "stored turn" });
    const threadId = (first as unknown as { thread_id: string }).thread_id;
    const next = await client.responses.create({ model: "echo/echo", input: "ephemeral turn", previous_response_id: first.id, store: false });
    expect(next.output_text).toBe("ephemeral turn");
    expect(next.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    expect((await t.gateway.admin.getThread(accountId, threadId)).messages).toHaveLength(2);
    await expect(client.responses.retrieve(next.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // The same by thread id: read, never written.
    const byThread = await client.responses.create({ model: "echo/echo", input: "by thread", store: false, thread_id: threadId } as never);
    expect((byThread as OpenAI.Responses.Response).usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    expect((await t.gateway.admin.getThread(accountId, threadId)).messages).toHaveLength(2);
  });

  it("answers previous_response_not_found once the response is deleted or its thread is gone, as for an unknown id", async () => {
    const deleted = await client.responses.create({ model: "echo/echo", input: "soon deleted" });
    await client.responses.delete(deleted.id);
    await expect(client.responses.create({ model: "echo/echo", input: "x", previous_response_id: deleted.id })).rejects.toMatchObject({ status: 400, code: "previous_response_not_found" });

    const orphan = await client.responses.create({ model: "echo/echo", input: "thread soon deleted" });
    await t.gateway.admin.deleteThread(accountId, (orphan as unknown as { thread_id: string }).thread_id);
    await expect(client.responses.create({ model: "echo/echo", input: "x", previous_response_id: orphan.id })).rejects.toMatchObject({ status: 400, code: "previous_response_not_found", param: "previous_response_id" });
    // Its responses went with the thread: they hold its messages.
    await expect(client.responses.retrieve(orphan.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect(await storage.getKeys(`thread-responses:${(orphan as unknown as { thread_id: string }).thread_id}`)).toEqual([]);
  });

  it("drops built-in tools when the gateway is configured to, keeping the function tools", async () => {
    const response = await client.responses.create({
      model: "echo/echo",
      input: "Paris",
      tools: [{ type: "web_search" }, { type: "function", name: "lookup", parameters: { type: "object", $schema: "http://json-schema.org/draft-07/schema#" }, strict: false }],
      tool_choice: "required",
    });
    assertResponsesSchema("response", response);
    expect(response.tools).toEqual([{ type: "function", name: "lookup", description: null, parameters: { type: "object", $schema: "http://json-schema.org/draft-07/schema#" }, strict: false }]);
    expect(response.output[0]).toMatchObject({ type: "function_call", name: "lookup" });
  });

  it("answers status incomplete at the output limit, and streams response.incomplete", async () => {
    const long = "word ".repeat(40).trim();
    const cut = await client.responses.create({ model: "echo/echo", input: long, max_output_tokens: 16 });
    assertResponsesSchema("response", cut);
    expect(cut.status).toBe("incomplete");
    expect(cut.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(cut.max_output_tokens).toBe(16);

    const stream = client.responses.stream({ model: "echo/echo", input: long, max_output_tokens: 16 });
    const types: string[] = [];
    for await (const event of stream) {
      assertResponsesEvent(event);
      types.push(event.type);
    }
    expect(types.at(-1)).toBe("response.incomplete");
  });

  it("echoes text.format and metadata", async () => {
    const format = { type: "json_schema" as const, name: "answer", schema: { type: "object", properties: { a: { type: "string" } } }, strict: true };
    const response = await client.responses.create({ model: "echo/echo", input: '{"a":"b"}', text: { format }, metadata: { run: "7" } });
    assertResponsesSchema("response", response);
    expect(response.text?.format).toEqual(format);
    expect(response.metadata).toEqual({ run: "7" });
  });

  it("answers 503 when storage returns garbage for a response, never reading it as data or as missing", async () => {
    const response = await client.responses.create({ model: "echo/echo", input: "soon torn" });
    await storage.setItem(`responses:${shardOf(response.id)}:${response.id}`, "torn file");
    const read = await client.responses.retrieve(response.id).catch((e) => e);
    expect(read).toMatchObject({ status: 503 });
    const continued = await client.responses.create({ model: "echo/echo", input: "x", previous_response_id: response.id }).catch((e) => e);
    expect(continued).toMatchObject({ status: 503 });
  });

  it("refuses an unknown item type and a bad field with a 400 naming it", async () => {
    const badItem = await client.responses.create({ model: "echo/echo", input: [{ type: "computer_call_output", call_id: "c", output: {} } as never] }).catch((e) => e);
    expect(badItem).toMatchObject({ status: 400, param: "input[0].type" });
    const badTemperature = await client.responses.create({ model: "echo/echo", input: "x", temperature: 5 }).catch((e) => e);
    expect(badTemperature).toMatchObject({ status: 400, param: "temperature" });
    const noInput = await fetch(`${t.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo" }) });
    expect(noInput.status).toBe(400);
    expect((await noInput.json()).error.param).toBe("input");
  });
});

describe("stored responses in the default memory storage", () => {
  it("are bounded like threads: past the count, the least recently used go", async () => {
    const t = await startGateway({ storage: createMemoryStorage({ maxThreads: 4 }) });
    try {
      const client = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await client.responses.create({ model: "echo/echo", input: `turn ${i}` })).id);
      const kept = (await t.gateway.records.storage.getKeys("responses:")).length;
      expect(kept).toBeLessThanOrEqual(4);
      // Their index entries went with them.
      expect((await t.gateway.records.storage.getKeys("thread-responses:")).length).toBe(kept);
      await expect(client.responses.retrieve(ids[0])).rejects.toBeInstanceOf(OpenAI.NotFoundError);
      expect((await client.responses.retrieve(ids[5])).id).toBe(ids[5]);
    } finally {
      await t.close();
    }
  });
});

describe("an agent's own options", () => {
  it("drop_unsupported_tools lets one agent send built-in tools while the gateway refuses them for others, and truncation sets its chat threads' mode", async () => {
    const t = await startGateway();
    try {
      const codex = await seedAgent(t.gateway, { agent: { name: "Codex", drop_unsupported_tools: true, truncation: "disabled" } });
      expect(await t.gateway.admin.getAgent(codex.accountId, codex.agent.id)).toMatchObject({ drop_unsupported_tools: true, truncation: "disabled" });
      const other = await seedAgent(t.gateway);
      const body = { model: "echo/echo", input: "hi", tools: [{ type: "web_search" }], tool_choice: { type: "web_search" } };
      const dropped = await openaiClient(t.baseURL, codex.key).responses.create(body as never);
      expect((dropped as OpenAI.Responses.Response).output_text).toBe("hi");
      await expect(openaiClient(t.baseURL, other.key).responses.create(body as never)).rejects.toMatchObject({ status: 400, code: "unsupported_parameter", param: "tools[0].type" });

      const patched = await t.gateway.admin.updateAgent(other.accountId, other.agent.id, { drop_unsupported_tools: true });
      expect(patched).toMatchObject({ drop_unsupported_tools: true });
      expect(((await openaiClient(t.baseURL, other.key).responses.create(body as never)) as OpenAI.Responses.Response).output_text).toBe("hi");
    } finally {
      await t.close();
    }
  });
});

describe("stored responses over time and streams cut short", () => {
  it("are swept once older than the threads' time to live, and are then not found", async () => {
    const t = await startGateway({ threads: { ttlSeconds: 60 } });
    try {
      const client = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
      const response = await client.responses.create({ model: "echo/echo", input: "short-lived" });
      expect(await t.gateway.records.sweepResponses(60)).toBe(0);
      expect(await t.gateway.records.sweepResponses(60, Date.now() + 61_000)).toBe(1);
      await expect(client.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    } finally {
      await t.close();
    }
  });

  it("bills a client that leaves mid-stream for what was generated, and keeps it in the thread", async () => {
    const t = await startGateway({ providers: [echo({ delayMs: 30 })] });
    try {
      const seed = await seedAgent(t.gateway);
      const res = await fetch(`${t.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${seed.key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo", input: "many words in a long slow answer here", stream: true }) });
      const threadId = res.headers.get("x-thread-id")!;
      const reader = res.body!.getReader();
      let text = "";
      while (!text.includes("response.output_text.delta")) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      await expect.poll(async () => (await t.gateway.admin.listUsage(seed.accountId)).data.filter((line) => line.type === "charge").length).toBe(1);
      const [charge] = (await t.gateway.admin.listUsage(seed.accountId)).data.filter((line) => line.type === "charge");
      expect(charge.completion_tokens).toBeGreaterThan(0);
      const thread = await t.gateway.admin.getThread(seed.accountId, threadId);
      expect(thread.messages[1].role).toBe("assistant");
    } finally {
      await t.close();
    }
  });
});

import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/index";
import { assertResponsesEvent, assertResponsesSchema, validatingFetch } from "../_openai-responses-schemas";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

/** The openai SDK with every Responses answer checked against OpenAI's schemas; no SDK retries. */
const openaiClient = (baseURL: string, apiKey: string) => new OpenAI({ baseURL, apiKey, maxRetries: 0, fetch: validatingFetch });

// The official openai SDK's Responses methods against a real gateway on the echo model.
describe("the Responses API through the openai SDK", () => {
  let t: TestGateway;
  let client: OpenAI;
  let key: string;
  let accountId: string;
  let agentId: string;

  beforeAll(async () => {
    t = await startGateway();
    let agent: { id: string };
    ({ key, accountId, agent } = await seedAgent(t.gateway, { agent: { name: "Responder", instructions: "Be brief." } }));
    agentId = agent.id;
    client = openaiClient(t.baseURL, key);
  });
  afterAll(() => t.close());

  it("answers a string input with a response object OpenAI's schema accepts, its thread id in the body and the header", async () => {
    const { data: response, response: raw } = await client.responses.create({ model: "echo/echo", input: "Hello there" }).withResponse();
    assertResponsesSchema("response", response);
    expect(response.id).toMatch(/^resp_/);
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe("Hello there");
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello there" }] });
    expect(response.usage).toMatchObject({ output_tokens: Math.ceil("Hello there".length / 4) });
    expect(response.usage!.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
    const threadId = (response as unknown as { thread_id: string }).thread_id;
    expect(threadId).toMatch(/^thread_/);
    expect(raw.headers.get("x-thread-id")).toBe(threadId);
  });

  it("answers input items: messages with input_text parts, a developer message and per-request instructions that the thread does not keep", async () => {
    const response = await client.responses.create({
      model: "echo/echo",
      instructions: "Answer in French.",
      input: [
        { role: "developer", content: "Be kind." },
        { type: "message", role: "user", content: [{ type: "input_text", text: "first part " }, { type: "input_text", text: "second part" }] },
      ],
    });
    assertResponsesSchema("response", response);
    expect(response.output_text).toBe("first part second part");
    expect(response.instructions).toBe("Answer in French.");
    const thread = await t.gateway.admin.getThread(accountId, (response as unknown as { thread_id: string }).thread_id);
    expect(thread.messages.map((m) => m.role)).toEqual(["system", "user", "assistant"]);
    expect(thread.messages.some((m) => m.content === "Answer in French.")).toBe(false);
  });

  it("streams the official event sequence, each event valid, and the SDK's own accumulation gets the final response", async () => {
    const stream = client.responses.stream({ model: "echo/echo", input: "one two three" });
    const events: Array<{ type: string; sequence_number: number }> = [];
    for await (const event of stream) events.push(event);
    const final = await stream.finalResponse();
    for (const event of events) assertResponsesEvent(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assertResponsesSchema("response", final);
    expect(final.output_text).toBe("one two three");
    expect(final.usage?.output_tokens).toBe(Math.ceil("one two three".length / 4));
    // What was streamed is stored: retrieve gives the same response.
    const retrieved = await client.responses.retrieve(final.id);
    expect(retrieved.output_text).toBe("one two three");
  });

  it("retrieves a response, lists its input items newest first in pages, and deletes it without touching its thread", async () => {
    const created = await client.responses.create({ model: "echo/echo", input: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }, { role: "user", content: "c" }] });
    const retrieved = await client.responses.retrieve(created.id);
    assertResponsesSchema("response", retrieved);
    expect(retrieved.id).toBe(created.id);
    expect(retrieved.output_text).toBe("c");

    const firstPage = await client.responses.inputItems.list(created.id, { limit: 2 });
    const raw = await fetch(`${t.baseURL}/responses/${created.id}/input_items?limit=2`, { headers: { authorization: `Bearer ${key}` } });
    assertResponsesSchema("itemList", await raw.json());
    expect(firstPage.data.map((item) => (item as { content: Array<{ text: string }> }).content[0].text)).toEqual(["c", "b"]);
    expect(firstPage.hasNextPage()).toBe(true);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(created.id, { limit: 2, order: "asc" })) all.push((item as { content: Array<{ text: string }> }).content[0].text);
    expect(all).toEqual(["a", "b", "c"]);

    await client.responses.delete(created.id);
    await expect(client.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.inputItems.list(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.responses.delete(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const thread = await t.gateway.admin.getThread(accountId, (created as unknown as { thread_id: string }).thread_id);
    expect(thread.messages.map((m) => m.content)).toEqual(["a", "b", "c", "c"]);
  });

  it("continues with previous_response_id in the same thread, which a chat completion with thread_id continues too", async () => {
    const first = await client.responses.create({ model: "echo/echo", input: "first turn" });
    const second = await client.responses.create({ model: "echo/echo", input: "second turn", previous_response_id: first.id });
    assertResponsesSchema("response", second);
    expect(second.previous_response_id).toBe(first.id);
    const threadId = (first as unknown as { thread_id: string }).thread_id;
    expect((second as unknown as { thread_id: string }).thread_id).toBe(threadId);
    // The model saw the first turn: more input tokens than the second turn alone.
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);

    await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "third turn" }], thread_id: threadId } as never);
    const third = await client.responses.create({ model: "echo/echo", input: "fourth turn", previous_response_id: second.id });
    expect(third.output_text).toBe("fourth turn");
    const thread = await t.gateway.admin.getThread(accountId, threadId);
    expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["first turn", "second turn", "third turn", "fourth turn"]);
  });

  it("makes a function-tool round trip that sends only the function_call_output with previous_response_id", async () => {
    const tools = [{ type: "function" as const, name: "get_weather", description: "Weather of a city", parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"] }, strict: false }];
    const called = await client.responses.create({ model: "echo/echo", input: "Paris", tools, tool_choice: "required" });
    assertResponsesSchema("response", called);
    expect(called.output_text).toBe("");
    const call = called.output[0];
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", arguments: JSON.stringify({ input: "Paris" }), status: "completed" });
    if (call.type !== "function_call") throw new Error("expected a function call");
    expect(call.id).toMatch(/^fc_/);

    const answered = await client.responses.create({ model: "echo/echo", previous_response_id: called.id, tools, input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }] });
    assertResponsesSchema("response", answered);
    expect(answered.status).toBe("completed");
    const thread = await t.gateway.admin.getThread(accountId, (answered as unknown as { thread_id: string }).thread_id);
    expect(thread.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
    expect(thread.messages[2]).toMatchObject({ role: "tool", tool_call_id: call.call_id, content: "sunny" });
  });

  it("streams a function call as output_item.added, argument deltas and done events with the name", async () => {
    const stream = client.responses.stream({ model: "echo/echo", input: "Rome", tools: [{ type: "function", name: "lookup", parameters: { type: "object" }, strict: false }], tool_choice: { type: "function", name: "lookup" } });
    const types: string[] = [];
    for await (const event of stream) {
      assertResponsesEvent(event);
      types.push(event.type);
      if (event.type === "response.function_call_arguments.done") expect(event.name).toBe("lookup");
    }
    expect(types).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.output_item.done", "response.completed"]);
    const final = await stream.finalResponse();
    expect(final.output[0]).toMatchObject({ type: "function_call", name: "lookup", arguments: JSON.stringify({ input: "Rome" }) });
  });

  it("resolves an item_reference against the agent's own stored items", async () => {
    const first = await client.responses.create({ model: "echo/echo", input: "remember this" });
    const reply = await client.responses.create({ model: "echo/echo", input: [{ role: "user", content: "remember this" }, { type: "item_reference", id: first.output[0].id! }, { role: "user", content: "and now" }] });
    const thread = await t.gateway.admin.getThread(accountId, (reply as unknown as { thread_id: string }).thread_id);
    expect(thread.messages.map((m) => [m.role, m.content])).toEqual([["user", "remember this"], ["assistant", "remember this"], ["user", "and now"], ["assistant", "and now"]]);
    await expect(client.responses.create({ model: "echo/echo", input: [{ type: "item_reference", id: "msg_unknown" }] })).rejects.toMatchObject({ status: 404, code: "item_not_found" });
  });

  it("with store: false answers without a thread or a stored response, and refuses a later previous_response_id to it", async () => {
    const before = (await t.gateway.records.listThreads(agentId)).length;
    const response = await client.responses.create({ model: "echo/echo", input: "ephemeral", store: false, include: ["reasoning.encrypted_content"], reasoning: { summary: "auto" } });
    assertResponsesSchema("response", response);
    expect(response.output_text).toBe("ephemeral");
    expect((response as unknown as { store: boolean }).store).toBe(false);
    expect((response as unknown as { thread_id: unknown }).thread_id).toBeNull();
    expect((await t.gateway.records.listThreads(agentId)).length).toBe(before);
    await expect(client.responses.retrieve(response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const refused = await client.responses.create({ model: "echo/echo", input: "more", previous_response_id: response.id }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: "previous_response_not_found", param: "previous_response_id" });
  });

  it("accepts what Codex sends: store false, the whole history with client ids, unknown fields", async () => {
    const res = await fetch(`${t.baseURL}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "echo/echo",
        store: false,
        stream: false,
        tool_choice: "auto",
        parallel_tool_calls: true,
        prompt_cache_key: "abc",
        client_metadata: { x: 1 },
        input: [
          { type: "message", id: "msg_0a1b2c", role: "developer", content: [{ type: "input_text", text: "You are Codex." }] },
          { type: "message", id: "msg_3d4e5f", role: "user", content: [{ type: "input_text", text: "list files" }] },
          { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "xyz" },
          { type: "function_call", id: "fc_1", call_id: "call_1", name: "exec_command", arguments: "{\"cmd\":\"ls\"}", status: "completed" },
          { type: "function_call_output", call_id: "call_1", output: "a.txt", status: "completed" },
          { type: "message", role: "user", content: [{ type: "input_text", text: "thanks" }] },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    assertResponsesSchema("response", body);
    expect(body.output[0].content[0].text).toBe("thanks");
  });

  it("streams a store: false request (as Codex does) without a thread: no x-thread-id, thread_id null on every response snapshot", async () => {
    const res = await fetch(`${t.baseURL}/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ model: "echo/echo", store: false, stream: true, input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "stream me" }] }] }),
    });
    expect(res.headers.get("x-thread-id")).toBeNull();
    const events = (await res.text()).split("\n\n").filter(Boolean).map((frame) => JSON.parse(frame.slice(frame.indexOf("data: ") + 6)));
    for (const event of events) assertResponsesEvent(event);
    const completed = events.at(-1);
    expect(completed.type).toBe("response.completed");
    expect(completed.response).toMatchObject({ store: false, thread_id: null, output: [{ content: [{ text: "stream me" }] }] });
    await expect(client.responses.retrieve(completed.response.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("refuses built-in tools and background naming the field, and another agent's response is exactly an unknown one", async () => {
    const builtIn = await client.responses.create({ model: "echo/echo", input: "x", tools: [{ type: "web_search" }] }).catch((e) => e);
    expect(builtIn).toMatchObject({ status: 400, code: "unsupported_parameter", param: "tools[0].type" });
    const background = await client.responses.create({ model: "echo/echo", input: "x", background: true }).catch((e) => e);
    expect(background).toMatchObject({ status: 400, code: "unsupported_parameter", param: "background" });

    const mine = await client.responses.create({ model: "echo/echo", input: "private" });
    const other = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
    const foreign = await other.responses.create({ model: "echo/echo", input: "x", previous_response_id: mine.id }).catch((e) => e);
    const unknown = await other.responses.create({ model: "echo/echo", input: "x", previous_response_id: "resp_doesnotexist" }).catch((e) => e);
    for (const error of [foreign, unknown]) {
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, code: "previous_response_not_found", param: "previous_response_id" });
    }
    expect(foreign.message.replace(mine.id, "ID")).toBe(unknown.message.replace("resp_doesnotexist", "ID"));
    await expect(other.responses.retrieve(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.inputItems.list(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(other.responses.delete(mine.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    expect((await client.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it("maps every error to its SDK class: 401, 402, 404, 409 and 429", async () => {
    const badKey = openaiClient(t.baseURL, "a2a_notarealkeyatallnotarealkeyatall00");
    await expect(badKey.responses.create({ model: "echo/echo", input: "x" })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const broke = openaiClient(t.baseURL, (await seedAgent(t.gateway, { creditMicros: 0 })).key);
    await expect(broke.responses.create({ model: "echo/echo", input: "x" })).rejects.toMatchObject({ status: 402, code: "insufficient_balance" });

    await expect(client.responses.create({ model: "nope/nope", input: "x" })).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const limited = openaiClient(t.baseURL, (await seedAgent(t.gateway, { agent: { name: "limited", limits: { requests_per_minute: 1 } } })).key);
    await limited.responses.create({ model: "echo/echo", input: "x" });
    await expect(limited.responses.create({ model: "echo/echo", input: "x" })).rejects.toBeInstanceOf(OpenAI.RateLimitError);

    // A stream holding the thread makes a continuation of it wait: 409 thread_busy.
    const slow = await startGateway({ providers: [echo({ delayMs: 20 })] });
    const slowKey = (await seedAgent(slow.gateway)).key;
    const slowClient = openaiClient(slow.baseURL, slowKey);
    const first = await slowClient.responses.create({ model: "echo/echo", input: "busy" });
    const held = await fetch(`${slow.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${slowKey}`, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo", input: "a long answer of many words", previous_response_id: first.id, stream: true }) });
    const reader = held.body!.getReader();
    await reader.read();
    const busy = await slowClient.responses.create({ model: "echo/echo", input: "x", previous_response_id: first.id }).catch((e) => e);
    expect(busy).toBeInstanceOf(OpenAI.ConflictError);
    expect(busy).toMatchObject({ status: 409, code: "thread_busy" });
    while (!(await reader.read()).done);
    await slow.close();
  });
});

import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "./_setup";

describe("the official openai SDK against a gateway on a real port", () => {
  let t: TestGateway;
  let client: OpenAI;
  let seeded: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    t = await startGateway();
    seeded = await seedAgent(t.gateway, { agent: { name: "Ada", instructions: "You are Ada, a careful assistant." } });
    client = openaiClient(t.baseURL, seeded.key);
  });
  afterAll(() => t.close());

  it("creates a thread, continues it with only the new message, and reads it back", async () => {
    const first = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "My name is Grace." }] });
    const threadId = (first as unknown as { thread_id: string }).thread_id;
    expect(threadId).toMatch(/^thread_/);
    expect(first.object).toBe("chat.completion");
    expect(first.choices[0].message).toMatchObject({ role: "assistant", content: "My name is Grace." });
    expect(first.choices[0].finish_reason).toBe("stop");
    expect(first.usage?.total_tokens).toBe((first.usage?.prompt_tokens ?? 0) + (first.usage?.completion_tokens ?? 0));

    const second = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "What is my name?" }], thread_id: threadId } as never);
    expect((second as unknown as { thread_id: string }).thread_id).toBe(threadId);
    // The server sent the whole history: the prompt grew by the first turn.
    expect(second.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);

    const thread = await client.get<{ id: string; object: string; agent_id: string; messages: Array<{ role: string; content: string }> }>(`/threads/${threadId}`);
    expect(thread).toMatchObject({ id: threadId, object: "thread", agent_id: seeded.agent.id });
    expect(thread.messages).toEqual([
      { role: "user", content: "My name is Grace." },
      { role: "assistant", content: "My name is Grace." },
      { role: "user", content: "What is my name?" },
      { role: "assistant", content: "What is my name?" },
    ]);
  });

  it("puts the agent's instructions first as the system message without storing them in the thread", async () => {
    const reply = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "abcd" }] });
    // echo counts ceil(chars / 4) over the instructions (32 chars) and the message (4 chars).
    expect(reply.usage!.prompt_tokens).toBe(Math.ceil(("You are Ada, a careful assistant.".length + 4) / 4));
    const thread = await client.get<{ messages: Array<{ role: string }> }>(`/threads/${(reply as unknown as { thread_id: string }).thread_id}`);
    expect(thread.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
  });

  it("streams word by word with one id, the role first, the finish reason last, usage and thread_id", async () => {
    const stream = await client.chat.completions.create({
      model: "echo/echo",
      messages: [{ role: "user", content: "stream these four words" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text).toBe("stream these four words");
    const withFinish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(withFinish.map((c) => c.choices[0].finish_reason)).toEqual(["stop"]);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: Math.ceil("stream these four words".length / 4) });
    const threadIds = new Set(chunks.map((c) => (c as unknown as { thread_id: string }).thread_id));
    expect(threadIds.size).toBe(1);
    const threadId = [...threadIds][0];
    const thread = await client.get<{ messages: Array<{ role: string; content: string }> }>(`/threads/${threadId}`);
    expect(thread.messages[1]).toEqual({ role: "assistant", content: "stream these four words" });
  });

  it("continues a streamed thread", async () => {
    const stream = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "one" }], stream: true });
    let threadId = "";
    for await (const chunk of stream) threadId = (chunk as unknown as { thread_id: string }).thread_id;
    const next = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "two" }], thread_id: threadId } as never);
    expect((next as unknown as { thread_id: string }).thread_id).toBe(threadId);
  });

  it("lists the agent's models in OpenAI's format", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(["echo/echo"]);
    expect(models.data[0]).toMatchObject({ object: "model", owned_by: "echo" });
  });

  it("retrieves one model by its full name, and 404s one it does not offer", async () => {
    expect(await client.models.retrieve("echo/echo")).toMatchObject({ id: "echo/echo", object: "model", owned_by: "echo" });
    await expect(client.models.retrieve("openai/gpt-4o-mini")).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("raises AuthenticationError for a bad key", async () => {
    const bad = openaiClient(t.baseURL, "a2a_not_a_real_key");
    await expect(bad.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("raises NotFoundError for an unknown model and for an unknown thread", async () => {
    const unknownModel = client.chat.completions.create({ model: "echo/nope", messages: [{ role: "user", content: "x" }] });
    await expect(unknownModel).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(unknownModel).rejects.toMatchObject({ code: "model_not_found" });
    const unknownThread = client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "x" }], thread_id: "thread_missing" } as never);
    await expect(unknownThread).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(unknownThread).rejects.toMatchObject({ code: "thread_not_found" });
  });

  it("raises BadRequestError naming the field for an invalid request", async () => {
    const bad = client.chat.completions.create({ model: "echo/echo", messages: [] });
    await expect(bad).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(bad).rejects.toMatchObject({ param: "messages" });
  });

  it("raises ConflictError while another request holds the thread", async () => {
    const slow = await startGateway({ providers: [(await import("../src/providers/echo")).echo({ delayMs: 60 })] });
    try {
      const s = await seedAgent(slow.gateway);
      const c = openaiClient(slow.baseURL, s.key);
      const first = await c.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "start" }] });
      const threadId = (first as unknown as { thread_id: string }).thread_id;
      const long = await c.chat.completions.create({ model: "echo/echo", stream: true, thread_id: threadId, messages: [{ role: "user", content: "a b c d e f g h" }] } as never);
      const busy = c.chat.completions.create({ model: "echo/echo", thread_id: threadId, messages: [{ role: "user", content: "me too" }] } as never);
      await expect(busy).rejects.toBeInstanceOf(OpenAI.ConflictError);
      await expect(busy).rejects.toMatchObject({ code: "thread_busy" });
      expect(((await busy.catch((e: unknown) => e)) as InstanceType<typeof OpenAI.ConflictError>).headers.get("x-thread-id")).toBe(threadId);
      for await (const _ of long as unknown as AsyncIterable<unknown>) void _;
      // Once the stream is done the thread is free again and nothing was lost.
      await c.chat.completions.create({ model: "echo/echo", thread_id: threadId, messages: [{ role: "user", content: "now" }] } as never);
      const { data: thread, response } = await c.get<{ messages: Array<{ content: string }> }>(`/threads/${threadId}`).withResponse();
      expect(response.headers.get("x-thread-id")).toBe(threadId);
      expect(thread.messages.map((m) => m.content)).toEqual(["start", "start", "a b c d e f g h", "a b c d e f g h", "now", "now"]);
    } finally {
      await slow.close();
    }
  });

  it("raises the 402 APIError when the balance cannot cover the request", async () => {
    const poor = await seedAgent(t.gateway, { creditMicros: 0 });
    const c = openaiClient(t.baseURL, poor.key, { maxRetries: 2 });
    const call = c.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "x" }] });
    await expect(call).rejects.toBeInstanceOf(OpenAI.APIError);
    await expect(call).rejects.toMatchObject({ status: 402, code: "insufficient_balance" });
  });
});

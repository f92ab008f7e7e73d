import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { echo } from "../../src/providers/echo";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

describe("the SSE stream, as raw bytes", () => {
  let t: TestGateway;
  let key: string;

  beforeAll(async () => {
    t = await startGateway({ providers: [echo({ delayMs: 5 })] });
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(() => t.close());

  const stream = (payload: object) =>
    fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: "one two three" }], ...payload }),
    });

  it("is text/event-stream of data lines, each one JSON object, ending with data: [DONE]", async () => {
    const res = await stream({});
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const threadId = res.headers.get("x-thread-id");
    expect(threadId).toMatch(/^thread_/);
    const text = await res.text();
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    const events = text.split("\n\n").filter(Boolean);
    for (const event of events) expect(event).toMatch(/^data: /);
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)));
    expect(chunks.length).toBe(5); // role, three words, finish
    for (const chunk of chunks) {
      expect(chunk).toMatchObject({ object: "chat.completion.chunk", model: "echo/echo", thread_id: threadId });
      expect(chunk).not.toHaveProperty("usage");
    }
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe("assistant");
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
  });

  it("puts usage: null on every chunk and the final usage in a last chunk with include_usage", async () => {
    const text = await (await stream({ stream_options: { include_usage: true } })).text();
    const chunks = text.split("\n\n").filter((e) => e && e !== "data: [DONE]").map((e) => JSON.parse(e.slice(6)));
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: Math.ceil("one two three".length / 4), completion_tokens: Math.ceil("one two three".length / 4), total_tokens: 2 * Math.ceil("one two three".length / 4) });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
  });

  it("sends the first chunk before the answer is complete", async () => {
    const res = await stream({ messages: [{ role: "user", content: Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ") }] });
    const reader = res.body!.getReader();
    const started = Date.now();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toContain('"role":"assistant"');
    while (!(await reader.read()).done);
    const total = Date.now() - started;
    expect(firstAt).toBeLessThan(total);
    expect(total).toBeGreaterThan(150); // 40 words at 5 ms each
  });

  it("charges what was generated and keeps it in the thread when the client leaves mid-stream", async () => {
    const slow = await startGateway({ providers: [echo({ delayMs: 40 })] });
    try {
      const s = await seedAgent(slow.gateway, { creditMicros: 1_000_000 });
      const controller = new AbortController();
      const res = await fetch(`${slow.baseURL}/chat/completions`, {
        method: "POST",
        signal: controller.signal,
        headers: { authorization: `Bearer ${s.key}` },
        body: JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ") }] }),
      });
      const threadId = res.headers.get("x-thread-id")!;
      const reader = res.body!.getReader();
      let seen = "";
      while (!seen.includes("word3")) seen += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      await expect.poll(async () => (await slow.gateway.admin.getBilling(s.accountId)).reserved_micros).toBe(0);
      const billing = await slow.gateway.admin.getBilling(s.accountId);
      expect(billing.balance_micros).toBeLessThan(1_000_000);
      const usage = await slow.gateway.admin.listUsage(s.accountId);
      const charge = usage.data.find((e) => e.type === "charge")!;
      expect(charge.thread_id).toBe(threadId);
      expect(charge.completion_tokens).toBeGreaterThan(0);
      expect(charge.completion_tokens).toBeLessThan(Math.ceil(50 * 6 / 4));
      const thread = await slow.gateway.admin.getThread(s.accountId, threadId);
      const reply = thread.messages[1].content as string;
      expect(reply.startsWith("word0 word1 word2")).toBe(true);
      expect(reply.length).toBeLessThan(50 * 6);
      // The thread is free again at once.
      const next = await fetch(`${slow.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${s.key}` }, body: JSON.stringify({ model: "echo/echo", thread_id: threadId, messages: [{ role: "user", content: "still there?" }] }) });
      expect(next.status).toBe(200);
    } finally {
      await slow.close();
    }
  });
});

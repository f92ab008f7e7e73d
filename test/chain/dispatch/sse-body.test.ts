import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineProvider, echo, type ChatCompletionChunk } from "../../../src/index";
import { seedAgent, startGateway, type TestGateway } from "../../_setup";

const chunk = (content: string): ChatCompletionChunk => ({ id: "", object: "chat.completion.chunk", created: 0, model: "model", choices: [{ index: 0, delta: { content }, finish_reason: null }] });

/**
 * Thinks for `slow.thinkMs` before its first word, and ignores the abort (as some vendors'
 * streams do): its first chunk comes after the client left, so the answer starts with the
 * response already closed.
 */
const slow = { thinkMs: 300, calls: 0 };
const thinker = defineProvider({
  id: "thinker",
  models: { "thinker/model": { inputPerMTok: 1, outputPerMTok: 1 } },
  async *chat() {
    slow.calls++;
    await new Promise((resolve) => setTimeout(resolve, slow.thinkMs));
    yield chunk("Finally ");
    yield chunk("an answer.");
  },
});

// On Node the SSE answer is written straight to the response (no web stream between): the
// same bytes, backpressure, and the same settle when the client leaves, also before the start.
describe("a streamed answer written straight to Node's response", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ providers: [echo(), thinker] });
  });
  afterAll(() => t.close());

  it("arrives whole and in order to a client that stops reading for a while (backpressure)", async () => {
    const { key } = await seedAgent(t.gateway, { creditMicros: 50_000_000 });
    // About 450 KB of frames (the echo model answers at most 16,384 characters), more than the sockets buffer.
    const words = Array.from({ length: 2_000 }, (_, i) => `w${i}`);
    const body = JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: words.join(" ") }] });
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        // Nothing read for half a second: the socket's buffers fill and the gateway must wait for them to drain.
        res.pause();
        setTimeout(() => res.resume(), 500);
        let out = "";
        res.setEncoding("utf8");
        res.on("data", (part: string) => (out += part));
        res.on("end", () => resolve(out));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const content = events
      .slice(0, -1)
      .map((event) => JSON.parse(event.slice("data: ".length)))
      .map((frame) => frame.choices[0]?.delta?.content ?? "")
      .join("");
    expect(content.length).toBe(words.join(" ").length);
    expect(content === words.join(" ")).toBe(true);
  });

  it("settles a client that left before the answer began at once, as a leave: its hold freed, only the prompt billed", async () => {
    const s = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    const controller = new AbortController();
    const calls = slow.calls;
    const leaving = fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { authorization: `Bearer ${s.key}` },
      body: JSON.stringify({ model: "thinker/model", stream: true, messages: [{ role: "user", content: "Take your time." }] }),
    }).catch((error: unknown) => error);
    await expect.poll(() => slow.calls).toBe(calls + 1);
    await expect.poll(async () => (await t.gateway.admin.getBilling(s.accountId)).reserved_micros).toBeGreaterThan(0);
    controller.abort();
    expect(await leaving).toBeInstanceOf(Error);
    // Well before the hold's own expiry (30 s): settled as a leave once the provider answered.
    await expect.poll(async () => (await t.gateway.admin.getBilling(s.accountId)).reserved_micros, { timeout: 3_000 }).toBe(0);
    // The vendor had started (it read the prompt), nothing reached the client.
    const charges = (await t.gateway.admin.listUsage(s.accountId)).data.filter((line) => line.type === "charge");
    expect(charges).toHaveLength(1);
    expect(charges[0].completion_tokens).toBe(0);
    expect(charges[0].prompt_tokens).toBeGreaterThan(0);
  });
});

// With CORS on, h3 merges its own headers into the answer and so reads the body as a web
// stream (srvx bridges the pipe through a PassThrough): a leave must still be seen.
describe("a streamed answer with CORS on (h3 reads the body as a web stream)", () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ providers: [echo({ delayMs: 40 })], cors: true });
  });
  afterAll(() => t.close());

  it("carries the CORS headers, and a client that leaves mid-stream is billed for what was generated and frees its hold", async () => {
    const s = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    const controller = new AbortController();
    const res = await fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { authorization: `Bearer ${s.key}`, origin: "https://app.example" },
      body: JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: Array.from({ length: 50 }, (_, i) => `word${i}`).join(" ") }] }),
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("x-thread-id")).toMatch(/^thread_/);
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("word3")) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await expect.poll(async () => (await t.gateway.admin.getBilling(s.accountId)).reserved_micros, { timeout: 3_000 }).toBe(0);
    const charge = (await t.gateway.admin.listUsage(s.accountId)).data.find((line) => line.type === "charge")!;
    expect(charge.completion_tokens).toBeGreaterThan(0);
    expect(charge.completion_tokens).toBeLessThan(Math.ceil((50 * 7) / 4));
  });
});

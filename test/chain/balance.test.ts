import { APIError, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineProvider, echo, upstreamError } from "../../src/index";
import { ledgerSum, ledgerLines } from "../_billing";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";

// 1 micro-USD per input token, 2 per output token; answers of at most 50 tokens.
const PRICE = { inputPerMTok: 1, outputPerMTok: 2, contextWindow: 10_000, maxOutputTokens: 50 };

describe("the balance step", () => {
  let t: TestGateway;
  let requestsSeen = 0;
  const broken = defineProvider({
    id: "broken",
    models: { "broken/model": PRICE },
    chat: () => Promise.reject(upstreamError({ provider: "broken", status: 500 })),
  });
  // Answers with one tool call and reports no usage, as some vendors and custom providers do.
  const silent = defineProvider({
    id: "silent",
    models: { "silent/tools": PRICE },
    chat: () => ({
      id: "x",
      object: "chat.completion",
      created: 0,
      model: "tools",
      choices: [{ index: 0, message: { role: "assistant", content: null, refusal: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"query":"weather in Paris"}' } }] }, finish_reason: "tool_calls", logprobs: null }],
    }),
  });

  beforeAll(async () => {
    t = await startGateway({
      providers: [echo({ delayMs: 20 }), broken, silent],
      models: { "echo/echo": PRICE },
      upstream: { retries: 0 },
    });
    t.server.on("request", () => requestsSeen++);
  });
  afterAll(() => t.close());

  const chat = (key: string, body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      signal,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", ...body }),
    });
  const billing = (accountId: string) => t.gateway.admin.getBilling(accountId);

  it("holds the worst case while answering, then charges the real usage and writes it to the ledger", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 1000 });
    // Prompt estimate: 4 per message + ceil(8 / 4) = 6 tokens; worst case 6 * 1 + 50 * 2 = 106.
    const res = await chat(seeded.key, { messages: [{ role: "user", content: "abcd efg" }], stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    expect(await billing(seeded.accountId)).toEqual({ balance_micros: 1000, reserved_micros: 106 });
    while (!(await reader.read()).done);
    // echo's real usage: 2 prompt tokens and 2 answer tokens = 2 * 1 + 2 * 2 = 6.
    expect(await billing(seeded.accountId)).toEqual({ balance_micros: 994, reserved_micros: 0 });
    const [credit, charge] = await ledgerLines(t.gateway, seeded.accountId);
    expect(credit).toMatchObject({ type: "credit", amount_micros: 1000 });
    expect(charge).toMatchObject({
      type: "charge",
      amount_micros: -6,
      agent_id: seeded.agent.id,
      key_id: seeded.keyId,
      model: "echo/echo",
      thread_id: res.headers.get("x-thread-id"),
      prompt_tokens: 2,
      completion_tokens: 2,
    });
    expect(await ledgerSum(t.gateway, seeded.accountId)).toBe(994);
  });

  it("estimates a reply of tool calls alone when the provider reports no usage, never charging it as empty", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 1000 });
    const res = await chat(seeded.key, { model: "silent/tools", messages: [{ role: "user", content: "12345678" }] });
    expect(res.status).toBe(200);
    // The call's name and arguments: ceil((6 + 27) / 4) = 9 completion tokens, next to a 6-token prompt.
    expect((await res.json()).usage).toEqual({ prompt_tokens: 6, completion_tokens: 9, total_tokens: 15 });
    expect(await billing(seeded.accountId)).toEqual({ balance_micros: 1000 - (6 + 9 * 2), reserved_micros: 0 });
  });

  it("refuses with 402 when the worst case does not fit, even if the real cost would", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 100 });
    const refused = await chat(seeded.key, { messages: [{ role: "user", content: "abcd efg" }] });
    expect(refused.status).toBe(402);
    expect((await refused.json()).error).toMatchObject({ type: "insufficient_balance", code: "insufficient_balance" });
    // A smaller max_tokens lowers the worst case: 6 + 10 * 2 = 26.
    expect((await chat(seeded.key, { messages: [{ role: "user", content: "abcd efg" }], max_tokens: 10 })).status).toBe(200);
    expect(await billing(seeded.accountId)).toEqual({ balance_micros: 94, reserved_micros: 0 });
  });

  it("raises the openai SDK's APIError with status 402, which the SDK does not retry", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 0 });
    const client = openaiClient(t.baseURL, seeded.key, { maxRetries: 3 });
    const before = requestsSeen;
    const error = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error).not.toBeInstanceOf(RateLimitError);
    expect((error as APIError).status).toBe(402);
    expect((error as APIError).code).toBe("insufficient_balance");
    expect(requestsSeen - before).toBe(1);
  });

  it("takes a credit into account on the very next request", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 0 });
    expect((await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).status).toBe(402);
    await t.gateway.admin.credit(seeded.accountId, 200);
    expect((await chat(seeded.key, { messages: [{ role: "user", content: "hi" }] })).status).toBe(200);
  });

  it("refunds everything when the upstream fails", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 1000 });
    const res = await chat(seeded.key, { model: "broken/model", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(502);
    expect(await billing(seeded.accountId)).toEqual({ balance_micros: 1000, reserved_micros: 0 });
    expect(await ledgerLines(t.gateway, seeded.accountId)).toHaveLength(1);
  });

  it("charges what was generated when the client leaves mid-stream", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 10_000 });
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const controller = new AbortController();
    const res = await chat(seeded.key, { messages: [{ role: "user", content: words }], stream: true }, controller.signal);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("word3")) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    await expect.poll(() => billing(seeded.accountId).then((b) => b.reserved_micros), { timeout: 5000 }).toBe(0);
    const [, charge] = await ledgerLines(t.gateway, seeded.accountId);
    const full = Math.ceil(words.length / 4);
    expect(charge.completion_tokens).toBeGreaterThan(0);
    expect(charge.completion_tokens).toBeLessThan(full);
    expect(charge.amount_micros).toBe(-(charge.prompt_tokens! * 1 + charge.completion_tokens! * 2));
    expect((await billing(seeded.accountId)).balance_micros).toBe(10_000 + charge.amount_micros);
  });

  it("admits exactly N of many concurrent requests when the balance covers N, and the ledger adds up", async () => {
    // No input price and max_tokens equal to echo's answer: the worst case is the real cost (4).
    const exact = await startGateway({ providers: [echo()], models: { "echo/echo": { inputPerMTok: 0, outputPerMTok: 2, maxOutputTokens: 50 } } });
    try {
      const seeded = await seedAgent(exact.gateway, { creditMicros: 40 });
      const statuses = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(`${exact.baseURL}/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${seeded.key}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "echo/echo", max_tokens: 2, messages: [{ role: "user", content: "abcdefgh" }] }),
          }).then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 402)).toHaveLength(20);
      expect(await exact.gateway.admin.getBilling(seeded.accountId)).toEqual({ balance_micros: 0, reserved_micros: 0 });
      expect(await ledgerSum(exact.gateway, seeded.accountId)).toBe(0);
    } finally {
      await exact.close();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { anthropic, gemini, openai } from "../../src/index";
import { ledgerLines } from "../_billing";
import { ADMIN_SECRET, openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";
import { startAnthropicFake } from "../fakes/anthropic";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";

describe("cache-aware billing", () => {
  let fakes: Record<"gemini" | "anthropic" | "openai", FakeUpstream>;
  let t: TestGateway;

  beforeAll(async () => {
    fakes = { gemini: await startGeminiFake(), anthropic: await startAnthropicFake(), openai: await startOpenAIFake() };
    t = await startGateway({
      providers: [
        gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
        anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
        openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
      ],
    });
  });
  afterEach(() => {
    for (const fake of Object.values(fakes)) fake.reset();
  });
  afterAll(async () => {
    await t?.close();
    for (const fake of Object.values(fakes ?? {})) await fake.close();
  });

  const charges = async (accountId: string, count = 1) => {
    for (let i = 0; i < 100; i++) {
      const lines = (await ledgerLines(t.gateway, accountId)).filter((line) => line.type === "charge");
      if (lines.length >= count) return lines;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("the charges did not reach the ledger");
  };
  const balance = async (accountId: string) => (await t.gateway.admin.getBilling(accountId)).balance_micros;

  it("prices Anthropic's cache reads at 0.1x and cache writes at 1.25x input, in the charge, the ledger line and the summary", async () => {
    const { key, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    const client = openaiClient(t.baseURL, key);
    const usage = { prompt: 10_000, completion: 100, cached: 8000, cacheWrite: 1000 };
    fakes.anthropic.script({ reply: { text: "cached answer", usage } }, { reply: { text: "streamed cached answer", usage } });

    const completion = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", messages: [{ role: "user", content: "long shared prefix" }] });
    expect(completion.usage).toMatchObject({ prompt_tokens: 10_000, completion_tokens: 100, prompt_tokens_details: { cached_tokens: 8000, cache_write_tokens: 1000 } });
    const stream = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", messages: [{ role: "user", content: "again" }], stream: true, stream_options: { include_usage: true } });
    let streamed;
    for await (const chunk of stream) if (chunk.usage) streamed = chunk.usage;
    expect(streamed).toMatchObject({ prompt_tokens: 10_000, prompt_tokens_details: { cached_tokens: 8000, cache_write_tokens: 1000 } });

    // 1000 uncached at $3 + 8000 read at $0.30 + 1000 written at $3.75 + 100 out at $15, per million: 10,650 micro-USD.
    const lines = await charges(accountId, 2);
    for (const line of lines) {
      expect(line).toMatchObject({ model: "anthropic/claude-sonnet-4-6", amount_micros: -10_650, prompt_tokens: 10_000, completion_tokens: 100, cache_read_tokens: 8000, cache_write_tokens: 1000 });
    }
    expect(await balance(accountId)).toBe(1_000_000 - 2 * 10_650);
    const summary = await t.gateway.ledger.summarize(accountId, { groupBy: ["model", "type"] });
    expect(summary.find((row) => row.type === "charge")).toEqual({ model: "anthropic/claude-sonnet-4-6", type: "charge", lines: 2, prompt_tokens: 20_000, completion_tokens: 200, cache_read_tokens: 16_000, cache_write_tokens: 2000, amount_micros: -21_300 });

    // The admin usage API shows them too.
    const token = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h" });
    const usageRes = await fetch(`${t.origin}/api/admin/usage`, { headers: { authorization: `Bearer ${token}` } });
    const charged = (await usageRes.json()).data.filter((entry: { type: string }) => entry.type === "charge");
    expect(charged[0]).toMatchObject({ cache_read_tokens: 8000, cache_write_tokens: 1000, cost_micros: 10_650 });
  });

  it("holds for the whole prompt at the cache-write price, Anthropic's dearest input", async () => {
    const { key } = await seedAgent(t.gateway, { creditMicros: 1 });
    const heldFor = async (model: string) => {
      const res = await fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, max_tokens: 1, messages: [{ role: "user", content: "x".repeat(400) }] }),
      });
      expect(res.status).toBe(402);
      return Number(/up to (\d+) micro-USD/.exec((await res.json()).error.message)?.[1]);
    };
    // gpt-4.1 has no cache-write price: its hold is the prompt at $2 plus one output token at $8.
    const promptTokens = ((await heldFor("openai/gpt-4.1")) - 8) / 2;
    expect(promptTokens).toBeGreaterThan(90);
    // Haiku's cache writes cost $1.25, more than its $1 input: every prompt token is held at $1.25.
    expect(await heldFor("anthropic/claude-haiku-4-5-20251001")).toBe(Math.ceil(promptTokens * 1.25 + 5));
    expect(fakes.anthropic.requests).toHaveLength(0);
  });

  it("prices OpenAI's and Gemini's cached input at their cached prices", async () => {
    const { key, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    const client = openaiClient(t.baseURL, key);
    fakes.openai.script({ reply: { text: "openai", usage: { prompt: 2000, completion: 100, cached: 1000 } } });
    fakes.gemini.script({ reply: { text: "gemini", usage: { prompt: 1000, completion: 10, cached: 500 } } });
    const fromOpenAI = await client.chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "a" }] });
    expect(fromOpenAI.usage?.prompt_tokens_details?.cached_tokens).toBe(1000);
    await client.chat.completions.create({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "b" }] });
    const [openaiLine, geminiLine] = await charges(accountId, 2);
    // gpt-4o-mini: 1000 at $0.15 + 1000 cached at $0.075 + 100 out at $0.60 = 285.
    expect(openaiLine).toMatchObject({ model: "openai/gpt-4o-mini", amount_micros: -285, cache_read_tokens: 1000 });
    expect(openaiLine.cache_write_tokens).toBeUndefined();
    // gemini-2.5-flash: 500 at $0.30 + 500 cached at $0.03 + 10 out at $2.50 = 190.
    expect(geminiLine).toMatchObject({ model: "gemini/gemini-2.5-flash", amount_micros: -190, cache_read_tokens: 500 });
  });
});

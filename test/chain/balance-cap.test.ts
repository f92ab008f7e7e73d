import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropic, DEFAULT_MODELS, gemini, openai, outputCap } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

/** The output cap a vendor was sent, read from its own wire. */
const sentCap = (fake: FakeUpstream) => {
  const body = fake.requests.at(-1)!.body as { max_completion_tokens?: number; max_tokens?: number; generationConfig?: { maxOutputTokens?: number } };
  return body.max_completion_tokens ?? body.max_tokens ?? body.generationConfig?.maxOutputTokens;
};

describe("the balance hold and the output cap dispatch sends", () => {
  let fakes: Record<"openai" | "anthropic" | "gemini", FakeUpstream>;
  const gateways: TestGateway[] = [];
  const start = async (options: Parameters<typeof startGateway>[0] = {}) => {
    const t = await startGateway({
      providers: [
        openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
        anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
        gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
      ],
      ...options,
    });
    gateways.push(t);
    return t;
  };
  const chat = (t: TestGateway, key: string, body: object) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });

  beforeAll(async () => {
    const [o, a, g] = await Promise.all([startOpenAIFake(), startAnthropicFake(), startGeminiFake()]);
    fakes = { openai: o, anthropic: a, gemini: g };
  });
  afterAll(async () => {
    for (const t of gateways) await t.close();
    await Promise.all(Object.values(fakes ?? {}).map((fake) => fake.close()));
  });

  it("lets a $0.50 account talk to every catalog model without a limit of its own, each sent the cap its hold covers", async () => {
    const t = await start();
    const { key } = await seedAgent(t.gateway, { creditMicros: 500_000 });
    const models = Object.keys(DEFAULT_MODELS);
    expect(models.length).toBeGreaterThan(5);
    for (const model of models) {
      const res = await chat(t, key, { model, messages: [{ role: "user", content: "Hello" }] });
      expect(res.status, model).toBe(200);
      const fake = fakes[model.split("/")[0] as keyof typeof fakes];
      expect(sentCap(fake), model).toBe(outputCap(undefined, { info: DEFAULT_MODELS[model], provider: undefined }));
    }
  });

  it("sends the client's own limit, bounded by the model's maximum, and holds for that", async () => {
    const t = await start();
    const { key } = await seedAgent(t.gateway, { creditMicros: 500_000 });
    expect((await chat(t, key, { model: "openai/gpt-4o-mini", max_tokens: 123, messages: [{ role: "user", content: "Hi" }] })).status).toBe(200);
    expect(sentCap(fakes.openai)).toBe(123);
    expect((await chat(t, key, { model: "openai/gpt-4o-mini", max_completion_tokens: 1_000_000, messages: [{ role: "user", content: "Hi" }] })).status).toBe(200);
    expect(sentCap(fakes.openai)).toBe(DEFAULT_MODELS["openai/gpt-4o-mini"].maxOutputTokens);
    // 64,000 Sonnet tokens is $0.96: more than the account has, so the hold refuses it.
    const before = fakes.anthropic.requests.length;
    expect((await chat(t, key, { model: "anthropic/claude-sonnet-4-6", max_tokens: 64_000, messages: [{ role: "user", content: "Hi" }] })).status).toBe(402);
    expect(fakes.anthropic.requests.length).toBe(before);
  });

  it("takes the default cap from the gateway, the provider or the model, the model's first", async () => {
    const t = await start({ defaultMaxTokens: 1_000, models: { "gemini/gemini-2.5-flash": { defaultMaxTokens: 700 } } });
    const { key } = await seedAgent(t.gateway);
    await chat(t, key, { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] });
    expect(sentCap(fakes.openai)).toBe(1_000);
    await chat(t, key, { model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "Hi" }] });
    expect(sentCap(fakes.gemini)).toBe(700);
    const own = await startGateway({ providers: [anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL, defaultMaxTokens: 2_048 })], defaultMaxTokens: 1_000 });
    gateways.push(own);
    const seeded = await seedAgent(own.gateway);
    await chat(own, seeded.key, { model: "anthropic/claude-haiku-4-5-20251001", messages: [{ role: "user", content: "Hi" }] });
    expect(sentCap(fakes.anthropic)).toBe(2_048);
  });

  it("refuses a default cap that is not a positive whole number", async () => {
    await expect(start({ defaultMaxTokens: 0 })).rejects.toThrow(/defaultMaxTokens/);
  });
});

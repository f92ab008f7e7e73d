import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openai } from "../../../src/index";
import { ledgerLines, ledgerSum } from "../../_billing";
import { startOpenAIFake } from "../../fakes/openai";
import type { FakeUpstream } from "../../fakes/_server";
import { seedAgent, startGateway, type TestGateway } from "../../_setup";

// The primary is cheap, the backup dear: what was held and charged shows which answered.
const MODELS = {
  "primary/small": { inputPerMTok: 1, outputPerMTok: 1, maxOutputTokens: 100 },
  "backup/large": { inputPerMTok: 10, outputPerMTok: 10, maxOutputTokens: 100 },
};

describe("fallback models", () => {
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let t: TestGateway;

  beforeAll(async () => {
    [primary, backup] = await Promise.all([startOpenAIFake(), startOpenAIFake()]);
    t = await startGateway({
      providers: [openai({ id: "primary", baseURL: primary.baseURL, apiKey: primary.apiKey }), openai({ id: "backup", baseURL: backup.baseURL, apiKey: backup.apiKey })],
      models: MODELS,
      fallbacks: { "primary/small": ["backup/large"] },
      upstream: { timeoutMs: 400, retries: 2 },
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all([primary.close(), backup.close()]);
  });
  beforeEach(() => {
    primary.reset();
    backup.reset();
  });

  const post = (key: string, body: Record<string, unknown>) =>
    fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "primary/small", max_tokens: 20, messages: [{ role: "user", content: "hello there" }], ...body }),
    });
  const readSSE = async (res: Response) => {
    const events = (await res.text()).split("\n\n").filter(Boolean).map((frame) => frame.replace(/^data: /, ""));
    const done = events.at(-1) === "[DONE]";
    const parsed = events.filter((e) => e !== "[DONE]").map((e) => JSON.parse(e) as { model?: string; error?: { code: string }; choices?: Array<{ delta: { content?: string } }> });
    return { done, chunks: parsed.filter((e) => !e.error), errors: parsed.filter((e) => e.error) };
  };

  for (const [what, step] of [
    ["429", { error: { status: 429, retryAfter: 1 } }],
    ["503", { error: { status: 503 } }],
    ["timeout", { hang: true }],
  ] as const) {
    it(`answers from the fallback when the model fails with a ${what} before its first byte, charged and named at the model that answered`, async () => {
      const { key, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
      primary.script(step);
      const res = await post(key, {});
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.model).toBe("backup/large");
      expect(body.choices[0].message.content).toBe("hello there");
      // No retries on the model that failed: the fallback is the retry.
      expect(primary.requests).toHaveLength(1);
      expect(backup.requests).toHaveLength(1);
      expect(backup.requests[0].body.model).toBe("large");
      const [charge] = (await ledgerLines(t.gateway, accountId)).filter((line) => line.type === "charge");
      const { prompt_tokens, completion_tokens } = body.usage;
      expect(charge).toMatchObject({ model: "backup/large", amount_micros: -Math.ceil((prompt_tokens + completion_tokens) * 10) });
      expect(await t.gateway.admin.getBilling(accountId)).toEqual({ balance_micros: 1_000_000 + charge.amount_micros, reserved_micros: 0 });
      expect(await ledgerSum(t.gateway, accountId)).toBe(1_000_000 + charge.amount_micros);
    });
  }

  it("streams from the fallback when the model fails before its first chunk, every chunk naming it", async () => {
    const { key } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    primary.script({ reply: { text: "never seen", failAfter: 0 } });
    const { done, chunks, errors } = await readSSE(await post(key, { stream: true }));
    expect(errors).toEqual([]);
    expect(done).toBe(true);
    expect(chunks.every((c) => c.model === "backup/large")).toBe(true);
    expect(chunks.map((c) => c.choices?.[0]?.delta.content ?? "").join("")).toBe("hello there");
  });

  it("ends a stream that already started with the error event as today, never switching models mid-answer", async () => {
    const { key, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    primary.script({ reply: { text: "one two three four five six", failAfter: 3 } });
    const { done, chunks, errors } = await readSSE(await post(key, { stream: true }));
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks.every((c) => c.model === "primary/small")).toBe(true);
    expect(done).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0].error!.code).toMatch(/^upstream_/);
    expect(backup.requests).toHaveLength(0);
    expect(await t.gateway.admin.getBilling(accountId)).toEqual({ balance_micros: 1_000_000, reserved_micros: 0 });
  });

  it("never retries a 400 elsewhere", async () => {
    const { key, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    primary.script({ error: { status: 400 } });
    const res = await post(key, {});
    expect(res.status).toBe(400);
    expect(backup.requests).toHaveLength(0);
    expect(await t.gateway.admin.getBilling(accountId)).toEqual({ balance_micros: 1_000_000, reserved_micros: 0 });
  });

  it("holds for the most expensive model that may answer", async () => {
    // Enough for the primary's worst case, not for the backup's.
    const { key } = await seedAgent(t.gateway, { creditMicros: 100 });
    const res = await post(key, {});
    expect(res.status).toBe(402);
    expect(primary.requests).toHaveLength(0);
  });

  it("takes an agent's own fallbacks over the gateway's, and passes the last model's failure on when every model fails", async () => {
    const { key, agent, accountId } = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    await t.gateway.admin.updateAgent(accountId, agent.id, { fallbacks: { "primary/small": [] } });
    primary.script({ error: { status: 503 } }, { error: { status: 503 } }, { error: { status: 503 } });
    const res = await post(key, {});
    // No fallback for this agent: the model's own retries (as many as the 400 ms deadline leaves time for), then 503.
    expect(res.status).toBe(503);
    expect(primary.requests.length).toBeGreaterThan(1);
    expect(backup.requests).toHaveLength(0);
    expect((await t.gateway.admin.getAgent(accountId, agent.id)).fallbacks).toEqual({ "primary/small": [] });

    await t.gateway.admin.updateAgent(accountId, agent.id, { fallbacks: null });
    primary.reset();
    primary.script({ error: { status: 429 } });
    backup.script({ error: { status: 503 } }, { error: { status: 503 } }, { error: { status: 503 } });
    const last = await post(key, {});
    expect(last.status).toBe(503);
    expect(primary.requests).toHaveLength(1);
    // The last model keeps dispatch's retries.
    expect(backup.requests.length).toBeGreaterThan(1);
  });
});

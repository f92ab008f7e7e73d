import { openai } from "../../src/index";
import { startOpenAIFake } from "../fakes/openai";
import { describe, expect, it } from "vitest";
import { openaiClient, seedAgent } from "../_setup";
import { sample } from "../_wire";
import { startProviderGateway, testProvider } from "./_suite";

testProvider({
  name: "openai",
  model: "openai/gpt-4o-mini",
  fake: startOpenAIFake,
  provider: (fake, apiKey) => openai({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});

describe("the request the openai provider sends upstream", () => {
  it("always asks for the final usage on streams, sends max_completion_tokens and leaves retries to the gateway", async () => {
    const fake = await startOpenAIFake();
    const t = await startProviderGateway([openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })], { retries: 1 });
    try {
      const { key } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const stream = await client.chat.completions.create({ model: "openai/gpt-4o-mini", stream: true, max_completion_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
      for await (const _ of stream);
      expect(fake.requests[0].body).toMatchObject({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, max_completion_tokens: 64 });
      expect(fake.requests[0].body).not.toHaveProperty("thread_id");
      expect(fake.requests[0].headers).toMatchObject({ authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" });
      fake.script({ error: { status: 500 } }, { error: { status: 500 } });
      await client.chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }).catch(() => undefined);
      // One retry, the gateway's: the provider itself never retries.
      expect(fake.requests.length).toBe(3);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("serves OpenAI-compatible vendors under their own ids, several at once, with static or per-request headers", async () => {
    const [groq, local] = await Promise.all([startOpenAIFake(), startOpenAIFake()]);
    let calls = 0;
    const providers = [
      openai({ id: "groq", apiKey: groq.apiKey, baseURL: groq.baseURL, headers: { "X-Team": "blue" }, models: { "groq/llama-3.3-70b": { inputPerMTok: 0.59, outputPerMTok: 0.79 } } }),
      // No key: the auth comes from the headers, fetched before every request (an expiring token).
      openai({ id: "vllm", baseURL: local.baseURL, headers: async () => ({ authorization: `Bearer ${local.apiKey}`, "x-call": String(++calls) }), models: { "vllm/qwen": {} } }),
    ];
    const t = await startProviderGateway(providers);
    try {
      const client = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
      const a = await client.chat.completions.create({ model: "groq/llama-3.3-70b", messages: [{ role: "user", content: "To groq" }] });
      await client.chat.completions.create({ model: "vllm/qwen", messages: [{ role: "user", content: "To vllm" }] });
      const b = await client.chat.completions.create({ model: "vllm/qwen", messages: [{ role: "user", content: "Again" }] });
      expect([a.choices[0].message.content, b.choices[0].message.content]).toEqual(["To groq", "Again"]);
      expect(groq.requests[0]).toMatchObject({ path: "/v1/chat/completions", body: { model: "llama-3.3-70b" }, headers: { authorization: `Bearer ${groq.apiKey}`, "x-team": "blue" } });
      expect(local.requests.map((r) => [r.body.model, r.headers["x-call"]])).toEqual([["qwen", "1"], ["qwen", "2"]]);
      groq.script({ error: { status: 401 } });
      const error = await client.chat.completions.create({ model: "groq/llama-3.3-70b", messages: [{ role: "user", content: "Hi" }] }).then(() => expect.unreachable("the call should fail"), (e: { status: number; message: string }) => e);
      expect(error).toMatchObject({ status: 502 });
      expect(error.message).toContain("groq");
    } finally {
      await t.close();
      await groq.close();
      await local.close();
    }
  });

  it("needs an apiKey or headers", () => {
    expect(() => openai({} as never)).toThrow(/apiKey/);
  });
});

describe("the openai provider when the gateway's OpenAI account cannot pay", () => {
  it("answers OpenAI's 429 insufficient_quota with a 502 naming the provider, without retrying or charging", async () => {
    const fake = await startOpenAIFake();
    const t = await startProviderGateway([openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key, accountId } = await seedAgent(t.gateway);
      const before = await t.gateway.admin.getBilling(accountId);
      fake.script({ error: { status: 429, retryAfter: 0, body: sample("openai", "error.429.insufficient_quota.json") } });
      const error = await openaiClient(t.baseURL, key)
        .chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] })
        .then(() => expect.unreachable("the call should fail"), (e: { status: number; code: string; message: string }) => e);
      expect(error).toMatchObject({ status: 502, code: "upstream_auth_failed" });
      expect(error.message).toContain("openai");
      expect(fake.requests.length).toBe(1);
      expect(await t.gateway.admin.getBilling(accountId)).toEqual(before);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("the openai provider's logprobs", () => {
  type Logprobs = { content: Array<{ token: string; top_logprobs: unknown[] }> } | null | undefined;
  const text = "one two three";

  it("passes OpenAI's logprobs through on streamed chunks, having asked with logprobs and top_logprobs", async () => {
    const fake = await startOpenAIFake();
    const t = await startProviderGateway([openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      fake.script({ reply: { text } });
      const stream = await openaiClient(t.baseURL, key).chat.completions.create({ model: "openai/gpt-4o-mini", stream: true, logprobs: true, top_logprobs: 2, messages: [{ role: "user", content: "Hi" }] });
      const entries: Array<{ token: string; top_logprobs: unknown[] }> = [];
      for await (const chunk of stream) entries.push(...((chunk.choices[0]?.logprobs as Logprobs)?.content ?? []));
      expect(fake.requests[0].body).toMatchObject({ logprobs: true, top_logprobs: 2 });
      expect(entries.map((entry) => entry.token).join("")).toBe(text);
      for (const entry of entries) expect(entry.top_logprobs).toHaveLength(2);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("passes OpenAI's logprobs through on a whole answer", async () => {
    const fake = await startOpenAIFake();
    const t = await startProviderGateway([openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      fake.script({ reply: { text } });
      const answer = await openaiClient(t.baseURL, key).chat.completions.create({ model: "openai/gpt-4o-mini", logprobs: true, top_logprobs: 2, messages: [{ role: "user", content: "Hi" }] });
      const logprobs = answer.choices[0].logprobs as Logprobs;
      expect(logprobs?.content.map((entry) => entry.token).join("")).toBe(text);
      expect(logprobs?.content[0].top_logprobs).toHaveLength(2);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

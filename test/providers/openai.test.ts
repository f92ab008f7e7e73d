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
  it("always asks for the final usage on streams, sends max_completion_tokens, leaves retries to the gateway and uses the injected fetch", async () => {
    const fake = await startOpenAIFake();
    const fetched: string[] = [];
    const counting: typeof fetch = (input, init) => (fetched.push(String(input)), fetch(input, init));
    const t = await startProviderGateway([openai({ apiKey: fake.apiKey, baseURL: fake.baseURL, fetch: counting })], { retries: 1 });
    try {
      const { key } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const stream = await client.chat.completions.create({ model: "openai/gpt-4o-mini", stream: true, max_completion_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
      for await (const _ of stream);
      expect(fake.requests[0].body).toMatchObject({ model: "gpt-4o-mini", stream: true, stream_options: { include_usage: true }, max_completion_tokens: 64 });
      expect(fake.requests[0].body).not.toHaveProperty("thread_id");
      fake.script({ error: { status: 500 } }, { error: { status: 500 } });
      await client.chat.completions.create({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }).catch(() => undefined);
      // Two attempts, both the SDK's first: the one retry was the gateway's.
      expect(fake.requests.slice(1).map((r) => r.headers["x-stainless-retry-count"])).toEqual(["0", "0"]);
      // Every call went through the injected fetch.
      expect(fetched).toEqual(Array(3).fill(`${fake.baseURL}/chat/completions`));
    } finally {
      await t.close();
      await fake.close();
    }
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

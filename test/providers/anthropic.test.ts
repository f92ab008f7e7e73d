import { describe, expect, it } from "vitest";
import { anthropic, ANTHROPIC_DEFAULT_MAX_TOKENS } from "../../src/index";
import { openaiClient, seedAgent } from "../_setup";
import { startAnthropicFake } from "../fakes/anthropic";
import { INSTRUCTIONS, startProviderGateway, testProvider } from "./_suite";

testProvider({
  name: "anthropic",
  model: "anthropic/claude-sonnet-4-6",
  fake: startAnthropicFake,
  provider: (fake, apiKey) => anthropic({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});

describe("the request the anthropic provider sends upstream", () => {
  it("puts the instructions in system, defaults max_tokens, maps tools, refuses sampling fields before any call, and uses the injected fetch", async () => {
    const fake = await startAnthropicFake();
    const fetched: string[] = [];
    const counting: typeof fetch = (input, init) => (fetched.push(String(input)), fetch(input, init));
    const t = await startProviderGateway([anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, fetch: counting })]);
    try {
      const { key, accountId } = await seedAgent(t.gateway, { agent: { name: "A", instructions: INSTRUCTIONS } });
      const client = openaiClient(t.baseURL, key);
      const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
      await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", tools, messages: [{ role: "user", content: "Hi" }] });
      expect(fake.requests[0].body).toMatchObject({
        model: "claude-sonnet-4-6",
        system: INSTRUCTIONS,
        max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
        messages: [{ role: "user", content: "Hi" }],
        tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      });
      const before = await t.gateway.admin.getBilling(accountId);
      const error = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", temperature: 1.5, messages: [{ role: "user", content: "Hi" }] }).catch((e: { status: number; code: string; param: string }) => e);
      expect(error).toMatchObject({ status: 400, code: "unsupported_parameter", param: "temperature" });
      expect(fake.requests.length).toBe(1);
      expect(fetched).toEqual([`${fake.baseURL}/v1/messages`]);
      expect(await t.gateway.admin.getBilling(accountId)).toEqual(before);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("the anthropic provider when Anthropic only sends pings for a while", () => {
  it("keeps the stream going past the upstream timeout, before the first text and mid-way, since each ping proves Anthropic alive", async () => {
    const fake = await startAnthropicFake();
    const t = await startProviderGateway([anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL })], { timeoutMs: 1_000, retries: 0 });
    try {
      const client = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
      // After message_start; then after the first words. 5 pings 300 ms apart: 1.5 s without a chunk.
      for (const after of [1, 4]) {
        fake.script({ reply: { text: "still here after all", pings: { after, count: 5, everyMs: 300 } } });
        const stream = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", stream: true, messages: [{ role: "user", content: "Hi" }] });
        let text = "";
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
        expect(text).toBe("still here after all");
      }
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

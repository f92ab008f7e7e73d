import { describe, expect, it } from "vitest";
import { anthropic } from "../../src/index";
import { ANTHROPIC_VERSION } from "../../src/providers/anthropic";
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
  it("puts the instructions in system, defaults max_tokens, maps tools, sends the SDK's auth and version headers, and refuses sampling fields before any call", async () => {
    const fake = await startAnthropicFake();
    const t = await startProviderGateway([anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key, accountId } = await seedAgent(t.gateway, { agent: { name: "A", instructions: INSTRUCTIONS } });
      const client = openaiClient(t.baseURL, key);
      const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
      await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", tools, messages: [{ role: "user", content: "Hi" }] });
      expect(fake.requests[0].body).toMatchObject({
        model: "claude-sonnet-4-6",
        system: INSTRUCTIONS,
        max_tokens: expect.any(Number),
        messages: [{ role: "user", content: "Hi" }],
        tools: [{ name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      });
      expect(fake.requests[0].headers).toMatchObject({ authorization: `Bearer ${fake.apiKey}`, "anthropic-version": ANTHROPIC_VERSION, "content-type": "application/json" });
      const before = await t.gateway.admin.getBilling(accountId);
      const error = await client.chat.completions.create({ model: "anthropic/claude-sonnet-4-6", temperature: 1.5, messages: [{ role: "user", content: "Hi" }] }).catch((e: { status: number; code: string; param: string }) => e);
      expect(error).toMatchObject({ status: 400, code: "unsupported_parameter", param: "temperature" });
      expect(fake.requests.length).toBe(1);
      expect(await t.gateway.admin.getBilling(accountId)).toEqual(before);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("never repeats the vendor key that a vendor message quotes", async () => {
    const fake = await startAnthropicFake();
    const t = await startProviderGateway([anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      fake.script({ error: { status: 400, body: { type: "error", error: { type: "invalid_request_error", message: `bad header ${fake.apiKey}` } } } });
      const res = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "anthropic/claude-sonnet-4-6", messages: [{ role: "user", content: "Hi" }] }) });
      const text = await res.text();
      expect(res.status).toBe(400);
      expect(text).toContain("bad header [redacted]");
      expect(text).not.toContain(fake.apiKey);
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

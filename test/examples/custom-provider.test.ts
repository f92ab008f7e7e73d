import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localLLM } from "../../examples/custom-provider";
import { openaiClient, seedAgent, type TestGateway } from "../_setup";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { startProviderGateway } from "../providers/_suite";

describe("the README's custom provider example", () => {
  let fake: FakeUpstream;
  let t: TestGateway;
  beforeAll(async () => {
    fake = await startOpenAIFake();
    const provider = localLLM({ baseURL: fake.baseURL, apiKey: fake.apiKey, models: { "local/llama-3.1-8b": { inputPerMTok: 0.05, outputPerMTok: 0.1, contextWindow: 128_000, maxOutputTokens: 4_096 } } });
    t = await startProviderGateway([provider], { maxRetryDelayMs: 50 });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
  });

  it("is in the README verbatim", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme).toContain(readFileSync(new URL("../../examples/custom-provider.ts", import.meta.url), "utf8").trim());
  });

  it("answers, streams with the server's own usage, and bills it", async () => {
    const { key, accountId } = await seedAgent(t.gateway);
    const client = openaiClient(t.baseURL, key);
    const completion = await client.chat.completions.create({ model: "local/llama-3.1-8b", messages: [{ role: "user", content: "Hello, local model" }] });
    expect(completion.choices[0].message.content).toBe("Hello, local model");
    expect(fake.requests[0].body).toMatchObject({ model: "llama-3.1-8b" });

    fake.script({ reply: { usage: { prompt: 40, completion: 9 } } });
    const stream = await client.chat.completions.create({ model: "local/llama-3.1-8b", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Stream it" }] });
    let text = "";
    let usage: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("Stream it");
    expect(usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 9, total_tokens: 49 });
    const charges = (await t.gateway.admin.listUsage(accountId)).data.filter((entry) => entry.type === "charge");
    expect(charges.at(-1)).toMatchObject({ model: "local/llama-3.1-8b", prompt_tokens: 40, completion_tokens: 9 });
  });

  it("maps the server's errors like the built-in providers do", async () => {
    const { key } = await seedAgent(t.gateway);
    const client = openaiClient(t.baseURL, key);
    fake.script({ error: { status: 400 } });
    const error = await client.chat.completions.create({ model: "local/llama-3.1-8b", messages: [{ role: "user", content: "Hi" }] }).catch((e: { status: number; message: string }) => e);
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining("Invalid type for 'temperature'") });
  });
});

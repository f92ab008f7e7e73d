import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readConfig } from "../../playground/config";
import { createPlaygroundGateway } from "../../playground/app";
import type { Gateway } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { seedAgent } from "../_setup";

describe("the playground's vendor providers", () => {
  let fakes: FakeUpstream[];
  let gateway: Gateway;
  beforeAll(async () => {
    fakes = await Promise.all([startOpenAIFake(), startAnthropicFake(), startGeminiFake()]);
    const [o, a, g] = fakes;
    const env = {
      STORAGE: "memory",
      ADMIN_SECRET: "playground-vendors-test-secret-long-enough",
      ...{ OPENAI_API_KEY: o.apiKey, OPENAI_BASE_URL: o.baseURL },
      ...{ ANTHROPIC_API_KEY: a.apiKey, ANTHROPIC_BASE_URL: a.baseURL },
      ...{ GEMINI_API_KEY: g.apiKey, GEMINI_BASE_URL: g.baseURL },
    };
    gateway = await createPlaygroundGateway(readConfig(env));
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  it("answers openai/*, anthropic/* and gemini/* models when their keys and base URLs are set", async () => {
    const { key } = await seedAgent(gateway);
    for (const model of ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5-20251001", "gemini/gemini-2.0-flash"]) {
      const res = await gateway.fetch(
        new Request("http://localhost/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model, messages: [{ role: "user", content: `Hello ${model}` }] }),
        }),
      );
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content).toBe(`Hello ${model}`);
    }
    expect(fakes.map((fake) => fake.requests.length)).toEqual([1, 1, 1]);
  });
});

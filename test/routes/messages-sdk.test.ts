import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropic, gemini, openai } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

// The real @anthropic-ai/sdk (1.x) as the client, fake vendors behind the gateway.
describe("the Anthropic SDK against the gateway's Messages API", () => {
  let fakes: Record<"openai" | "anthropic" | "gemini", FakeUpstream>;
  let t: TestGateway;
  let key: string;
  let accountId: string;
  let client: Anthropic;

  beforeAll(async () => {
    fakes = { openai: await startOpenAIFake(), anthropic: await startAnthropicFake(), gemini: await startGeminiFake() };
    t = await startGateway({
      providers: [
        openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
        anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
        gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
      ],
    });
    ({ key, accountId } = await seedAgent(t.gateway));
    client = new Anthropic({ apiKey: key, baseURL: `${t.origin}/api`, maxRetries: 0 });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });
  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-6", "gemini/gemini-2.5-flash"]) {
    it(`messages.create answers in Anthropic's shape through ${model}`, async () => {
      const message = await client.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "Hello there" }] });
      expect(message).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "Hello there" }], stop_reason: "end_turn" });
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(message.id).toMatch(/^msg_/);
    });

    it(`messages.stream adds up to the same message through ${model}`, async () => {
      const stream = client.messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "one two three" }] });
      let text = "";
      stream.on("text", (delta) => (text += delta));
      const message = await stream.finalMessage();
      expect(text).toBe("one two three");
      expect(message.content).toEqual([expect.objectContaining({ type: "text", text: "one two three" })]);
      expect(message.stop_reason).toBe("end_turn");
      expect(message.usage.output_tokens).toBeGreaterThan(0);
    });
  }
});

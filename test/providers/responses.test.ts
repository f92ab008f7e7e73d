import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropic, gemini, openai, type Provider } from "../../src/index";
import { assertResponsesEvent, assertResponsesSchema, validatingFetch } from "../_openai-responses-schemas";
import { seedAgent, type TestGateway } from "../_setup";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import { INSTRUCTIONS, startProviderGateway } from "./_suite";

// The Responses API in front of each vendor's fake upstream: the providers are the chat ones, untouched.
const vendors: Array<{ name: string; model: string; fake: () => Promise<FakeUpstream>; provider(fake: FakeUpstream): Provider }> = [
  { name: "openai", model: "openai/gpt-4o-mini", fake: startOpenAIFake, provider: (fake) => openai({ apiKey: fake.apiKey, baseURL: fake.baseURL }) },
  { name: "anthropic", model: "anthropic/claude-sonnet-4-6", fake: startAnthropicFake, provider: (fake) => anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL }) },
  { name: "gemini", model: "gemini/gemini-2.5-flash", fake: startGeminiFake, provider: (fake) => gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL }) },
];

const TOOLS = [{ type: "function" as const, name: "get_weather", description: "Current weather", parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"] }, strict: false }];

for (const vendor of vendors) {
  describe(`the Responses API on the ${vendor.name} provider`, () => {
    let fake: FakeUpstream;
    let t: TestGateway;
    const { model } = vendor;

    beforeAll(async () => {
      fake = await vendor.fake();
      t = await startProviderGateway([vendor.provider(fake)]);
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });
    beforeEach(() => fake.reset());

    const setup = async () => {
      const seed = await seedAgent(t.gateway, { agent: { name: "Suite agent", instructions: INSTRUCTIONS } });
      return { ...seed, client: new OpenAI({ baseURL: t.baseURL, apiKey: seed.key, maxRetries: 0, fetch: validatingFetch }), billing: await t.gateway.admin.getBilling(seed.accountId) };
    };
    const charges = async (accountId: string) => (await t.gateway.admin.listUsage(accountId)).data.filter((entry) => entry.type === "charge");

    it("answers text with the instructions first and the vendor's usage billed", async () => {
      const { client, accountId } = await setup();
      fake.script({ reply: { usage: { prompt: 21, completion: 5, cached: 4 } } });
      const response = await client.responses.create({ model, input: "Hello there, friend", instructions: "Be warm." });
      assertResponsesSchema("response", response);
      expect(response.output_text).toBe("Hello there, friend");
      expect(response.usage).toMatchObject({ input_tokens: 21, output_tokens: 5, total_tokens: 26, input_tokens_details: { cached_tokens: 4 } });
      // The agent's instructions, then the request's (vendors with one system field join them), then the input.
      const turns = fake.turns(fake.requests[0]);
      expect(turns[0]).toMatchObject({ role: "system" });
      expect(turns[0].text.startsWith(INSTRUCTIONS)).toBe(true);
      expect(turns.filter((turn) => turn.role === "system").map((turn) => turn.text).join("\n")).toContain("Be warm.");
      expect(turns.at(-1)).toEqual({ role: "user", text: "Hello there, friend" });
      const [charge] = await charges(accountId);
      expect(charge).toMatchObject({ prompt_tokens: 21, completion_tokens: 5 });
      expect(charge.cost_micros).toBeGreaterThan(0);
    });

    it("streams the event sequence, each event valid, the final usage on response.completed", async () => {
      const { client } = await setup();
      fake.script({ reply: { text: "one two three", usage: { prompt: 12, completion: 3 } } });
      const stream = client.responses.stream({ model, input: "Count" });
      const types: string[] = [];
      for await (const event of stream) {
        assertResponsesEvent(event);
        types.push(event.type);
      }
      const final = await stream.finalResponse();
      expect(types[0]).toBe("response.created");
      expect(types.at(-1)).toBe("response.completed");
      expect(types.filter((type) => type === "response.output_text.delta").length).toBeGreaterThan(0);
      expect(final.output_text).toBe("one two three");
      expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 3 });
    });

    it("round-trips a function call, then only the function_call_output sent with previous_response_id", async () => {
      const { client } = await setup();
      fake.script({ reply: { toolCalls: [{ name: "get_weather", arguments: { input: "Paris" } }] } });
      const called = await client.responses.create({ model, input: "Weather in Paris?", tools: TOOLS, tool_choice: "required" });
      assertResponsesSchema("response", called);
      const call = called.output.find((item) => item.type === "function_call");
      if (call?.type !== "function_call") throw new Error("expected a function call");
      expect(JSON.parse(call.arguments)).toEqual({ input: "Paris" });

      const answered = await client.responses.create({ model, tools: TOOLS, previous_response_id: called.id, input: [{ type: "function_call_output", call_id: call.call_id, output: '{"sky":"clear"}' }] });
      expect(answered.output_text).toBe("Weather in Paris?");
      expect(fake.turns(fake.requests[1]).slice(-3)).toEqual([
        { role: "user", text: "Weather in Paris?" },
        { role: "assistant", text: "" },
        { role: "tool", text: '{"sky":"clear"}' },
      ]);
    });

    it("sends text.format as the chat response_format, and reasoning.effort only where the vendor takes it", async () => {
      const { client } = await setup();
      const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"] };
      fake.script({ reply: { text: '{"a":"b"}' } });
      await client.responses.create({ model, input: "json please", text: { format: { type: "json_schema", name: "answer", schema, strict: true } }, reasoning: { effort: "low" } });
      const body = fake.requests[0].body;
      if (vendor.name === "openai") {
        expect(body).toMatchObject({ response_format: { type: "json_schema", json_schema: { name: "answer", schema, strict: true } }, reasoning_effort: "low" });
      } else {
        expect(JSON.stringify(body)).toContain('"a"');
        expect(body).not.toHaveProperty("reasoning_effort");
      }
    });

    it("maps vendor errors as on chat completions: a 400 with the vendor's message, a 5xx as 502", async () => {
      const { client } = await setup();
      fake.script({ error: { status: 400 } });
      await expect(client.responses.create({ model, input: "x" })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      fake.script({ error: { status: 500 } }, { error: { status: 500 } }, { error: { status: 500 } });
      await expect(client.responses.create({ model, input: "x" })).rejects.toMatchObject({ status: 502, code: "upstream_error" });
    });

    it("ends a stream that fails mid-way with the error event and response.failed, charging nothing", async () => {
      const seed = await setup();
      fake.script({ reply: { text: "one two three four five six", failAfter: 4 } });
      const res = await fetch(`${t.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${seed.key}`, "content-type": "application/json" }, body: JSON.stringify({ model, input: "Hello", stream: true }) });
      expect(res.status).toBe(200);
      const events = (await res.text()).split("\n\n").filter(Boolean).map((frame) => JSON.parse(frame.slice(frame.indexOf("data: ") + 6)));
      for (const event of events) assertResponsesEvent(event);
      expect(events.slice(-2).map((event) => event.type)).toEqual(["error", "response.failed"]);
      expect(fake.requests.length).toBe(1);
      expect(await t.gateway.admin.getBilling(seed.accountId)).toEqual(seed.billing);
      expect(await charges(seed.accountId)).toEqual([]);
    });
  });
}

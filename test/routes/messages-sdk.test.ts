import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropic, gemini, openai } from "../../src/index";
import { FAKE_TOKEN_COUNT, startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { FAKE_TOKEN_COUNT as GEMINI_TOKEN_COUNT, startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import { ledgerLines } from "../_billing";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

// The real @anthropic-ai/sdk (1.x) as the client, fake vendors behind the gateway.
describe("the Anthropic SDK against the gateway's Messages API", () => {
  let fakes: Record<"openai" | "anthropic" | "gemini", FakeUpstream>;
  let t: TestGateway;
  let key: string;
  let accountId: string;
  let client: Anthropic;
  const sdk = (apiKey: string) => new Anthropic({ apiKey, baseURL: `${t.origin}/api`, maxRetries: 0 });

  beforeAll(async () => {
    fakes = { openai: await startOpenAIFake(), anthropic: await startAnthropicFake(), gemini: await startGeminiFake() };
    t = await startGateway({
      providers: [
        openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
        anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
        gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
      ],
      upstream: { retries: 0 },
    });
    ({ key, accountId } = await seedAgent(t.gateway));
    client = sdk(key);
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });
  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-6", "gemini/gemini-2.5-flash"]) {
    it(`messages.create answers in Anthropic's shape through ${model}`, async () => {
      const { data: message, response } = await client.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "Hello there" }] }).withResponse();
      expect(message).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "Hello there" }], stop_reason: "end_turn" });
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect(message.id).toMatch(/^msg_/);
      expect(response.headers.get("x-thread-id")).toBeNull(); // stateless, as Anthropic's API is
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

  it("answers with the model name the client sent and a request-id, through a non-Anthropic model", async () => {
    const { data, response } = await client.messages.create({ model: "openai/gpt-4o-mini", max_tokens: 50, messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect(data.model).toBe("openai/gpt-4o-mini");
    expect(data.usage).toEqual({ input_tokens: 10, output_tokens: expect.any(Number), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(response.headers.get("request-id")).toMatch(/^req_/);
  });

  it("completes a tool-use round trip through OpenAI with ids that stay stable across turns", async () => {
    const tools = [{ name: "read_file", description: "Reads a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] } }];
    fakes.openai.script({ reply: { toolCalls: [{ name: "read_file", arguments: { path: "README.md" } }] } }, { reply: { text: "It says hello." } });
    const first = await client.messages.stream({ model: "openai/gpt-4o-mini", max_tokens: 200, tools, messages: [{ role: "user", content: "What does README.md say?" }] }).finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((block) => block.type === "tool_use")!;
    expect(call).toMatchObject({ type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "read_file", input: { path: "README.md" } });

    const second = await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 200,
      tools,
      messages: [
        { role: "user", content: "What does README.md say?" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: [{ type: "text", text: "hello" }] }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "It says hello." }]);
    const sent = fakes.openai.requests[1].body as { messages: Array<{ role: string; tool_calls?: Array<{ id: string }>; tool_call_id?: string; content?: unknown }>; tools: unknown[] };
    expect(sent.tools).toEqual([{ type: "function", function: { name: "read_file", description: "Reads a file", parameters: tools[0].input_schema } }]);
    const assistant = sent.messages.find((m) => m.role === "assistant")!;
    const result = sent.messages.find((m) => m.role === "tool")!;
    expect(result.tool_call_id).toBe(assistant.tool_calls![0].id);
    expect(result.content).toBe("hello");
  });

  it("sends an image block (base64 and url) to OpenAI as image parts", async () => {
    const data = Buffer.from("fake png").toString("base64");
    await client.messages.create({
      model: "openai/gpt-4o-mini",
      max_tokens: 50,
      messages: [
        {
          role: "user",
          content: [
            { type: "image", source: { type: "base64", media_type: "image/png", data } },
            { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
            { type: "text", text: "What is this?" },
          ],
        },
      ],
    });
    const user = (fakes.openai.requests[0].body.messages as Array<{ role: string; content: unknown }>).find((m) => m.role === "user")!;
    expect(user.content).toEqual([
      { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
      { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
      { type: "text", text: "What is this?" },
    ]);
  });

  it("takes system blocks with cache_control: joined for OpenAI, sent as they are to Anthropic", async () => {
    const system = [
      { type: "text" as const, text: "You are terse." },
      { type: "text" as const, text: "Answer in English.", cache_control: { type: "ephemeral" as const } },
    ];
    await client.messages.create({ model: "openai/gpt-4o-mini", max_tokens: 50, system, messages: [{ role: "user", content: "hi" }] });
    expect((fakes.openai.requests[0].body.messages as unknown[])[0]).toEqual({ role: "system", content: "You are terse.\n\nAnswer in English." });
    await client.messages.create({ model: "anthropic/claude-sonnet-4-6", max_tokens: 50, system, messages: [{ role: "user", content: "hi" }] });
    expect(fakes.anthropic.requests[0].body.system).toEqual(system);
  });

  it("counts tokens exactly through Anthropic and Gemini, by estimate elsewhere, and bills nothing", async () => {
    const before = (await ledgerLines(t.gateway, accountId)).length;
    const exact = await client.messages.countTokens({ model: "anthropic/claude-sonnet-4-6", messages: [{ role: "user", content: "count me" }] });
    expect(exact).toEqual({ input_tokens: FAKE_TOKEN_COUNT });
    expect(fakes.anthropic.requests[0].path).toBe("/v1/messages/count_tokens");
    expect(fakes.anthropic.requests[0].body.model).toBe("claude-sonnet-4-6");
    const gemini = await client.messages.countTokens({ model: "gemini/gemini-2.5-flash", system: "Be brief.", messages: [{ role: "user", content: "count me" }] });
    expect(gemini).toEqual({ input_tokens: GEMINI_TOKEN_COUNT });
    expect(fakes.gemini.requests[0].path).toBe("/v1beta/models/gemini-2.5-flash:countTokens");
    expect(fakes.gemini.requests[0].body).toMatchObject({ generateContentRequest: { model: "models/gemini-2.5-flash", systemInstruction: expect.anything(), contents: [{ role: "user" }] } });
    const estimate = await client.messages.countTokens({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "count me" }] });
    expect(estimate.input_tokens).toBeGreaterThan(0);
    expect(fakes.openai.requests).toHaveLength(0);
    expect(await ledgerLines(t.gateway, accountId)).toHaveLength(before);
  });

  it("bills a streamed pass-through from the usage Anthropic reported", async () => {
    fakes.anthropic.script({ reply: { text: "billed answer", usage: { prompt: 1000, completion: 200 } } });
    const { accountId: account, key: own } = await seedAgent(t.gateway);
    await sdk(own).messages.stream({ model: "anthropic/claude-sonnet-4-6", max_tokens: 1000, messages: [{ role: "user", content: "bill me" }] }).finalMessage();
    const [line] = (await ledgerLines(t.gateway, account)).filter((entry) => entry.type === "charge");
    expect(line).toMatchObject({ model: "anthropic/claude-sonnet-4-6", prompt_tokens: 1000, completion_tokens: 200, amount_micros: -(1000 * 3 + 200 * 15) });
  });

  describe("errors, each as the SDK's own class", () => {
    const create = (c: Anthropic, body: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) =>
      c.messages.create({ model: "openai/gpt-4o-mini", max_tokens: 10, messages: [{ role: "user", content: "hi" }], ...body } as Anthropic.MessageCreateParamsNonStreaming);
    const failure = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        return error as InstanceType<typeof Anthropic.APIError>;
      }
      throw new Error("expected a failure");
    };

    it("401 authentication_error for a wrong key", async () => {
      const error = await failure(create(sdk("a2a_not-a-real-key-000000000000000000")));
      expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
      expect(error.error).toMatchObject({ type: "error", error: { type: "authentication_error" }, request_id: expect.stringMatching(/^req_/) });
      expect(error.requestID).toMatch(/^req_/);
    });

    it("402 billing_error when the balance cannot cover the hold", async () => {
      const { key: broke } = await seedAgent(t.gateway, { creditMicros: 0 });
      const error = await failure(create(sdk(broke)));
      expect(error).toBeInstanceOf(Anthropic.PaymentRequiredError);
      expect(error.error).toMatchObject({ error: { type: "billing_error" } });
    });

    it("403 permission_error for a model the agent may not use", async () => {
      const { key: narrow } = await seedAgent(t.gateway, { agent: { name: "Narrow", models: ["openai/gpt-4o-mini"] } });
      const error = await failure(create(sdk(narrow), { model: "anthropic/claude-sonnet-4-6" }));
      expect(error).toBeInstanceOf(Anthropic.PermissionDeniedError);
      expect(error.error).toMatchObject({ error: { type: "permission_error" } });
      expect(fakes.anthropic.requests).toHaveLength(0);
    });

    it("404 not_found_error for a model that does not exist", async () => {
      const error = await failure(create(client, { model: "nobody/nothing" }));
      expect(error).toBeInstanceOf(Anthropic.NotFoundError);
      expect(error.error).toMatchObject({ error: { type: "not_found_error" } });
    });

    it("400 invalid_request_error without max_tokens, and nothing is sent", async () => {
      const error = await failure(create(client, { max_tokens: undefined }));
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect(error.error).toMatchObject({ error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") } });
      expect(fakes.openai.requests).toHaveLength(0);
    });

    it("400 naming a server tool sent to a vendor other than Anthropic", async () => {
      const error = await failure(create(client, { tools: [{ type: "web_search_20250305", name: "web_search" }] }));
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect(error.message).toContain("web_search");
    });

    it("429 rate_limit_error with retry-after", async () => {
      const { key: limited } = await seedAgent(t.gateway, { agent: { name: "Limited", limits: { requests_per_minute: 1 } } });
      await create(sdk(limited));
      const error = await failure(create(sdk(limited)));
      expect(error).toBeInstanceOf(Anthropic.RateLimitError);
      expect(error.error).toMatchObject({ error: { type: "rate_limit_error" } });
      expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
    });

    it("529 overloaded_error when the vendor is overloaded", async () => {
      fakes.openai.script({ error: { status: 503 } });
      const error = await failure(create(client));
      expect(error).toBeInstanceOf(Anthropic.OverloadedError);
      expect(error.error).toMatchObject({ error: { type: "overloaded_error" } });
    });

    it("an Anthropic upstream's own error comes back with its status, type and message", async () => {
      fakes.anthropic.script({ error: { status: 529 } }, { error: { status: 400 } });
      const overloaded = await failure(create(client, { model: "anthropic/claude-sonnet-4-6" }));
      expect(overloaded).toBeInstanceOf(Anthropic.OverloadedError);
      expect((overloaded.error as { error: unknown }).error).toEqual((fakes.anthropic.errorBody(529) as { error: unknown }).error);
      const bad = await failure(create(client, { model: "anthropic/claude-sonnet-4-6" }));
      expect(bad.status).toBe(400);
      expect((bad.error as { error: unknown }).error).toEqual((fakes.anthropic.errorBody(400) as { error: unknown }).error);
    });
  });
});

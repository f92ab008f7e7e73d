import OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GatewayOptions, Provider } from "../../src/index";
import { assertOpenAISchema } from "../_openai-schemas";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";
import type { FakeUpstream } from "../fakes/_server";

export interface ProviderSuiteOptions {
  /** Shown in the test names. */
  name: string;
  /** The full model name clients ask for (`anthropic/claude-sonnet-4-6`). */
  model: string;
  /** Starts the vendor's fake upstream. A provider without an upstream (echo) has none,
   * and then the vendor-error cases, which need one to script, are not part of its run. */
  fake?: () => Promise<FakeUpstream>;
  /** The provider under test, pointed at the fake; `apiKey` overrides the fake's key. */
  provider(fake: FakeUpstream | undefined, apiKey?: string): Provider;
}

export const INSTRUCTIONS = "You answer in one short sentence.";

/** A gateway in front of `providers`, with retries fast enough for tests. */
export function startProviderGateway(providers: Provider[], upstream: GatewayOptions["upstream"] = {}): Promise<TestGateway> {
  return startGateway({ providers, upstream: { timeoutMs: 10_000, retries: 2, maxRetryDelayMs: 1_500, ...upstream } });
}

/**
 * The provider conformance suite: the real gateway, the official openai SDK as the
 * client (raw fetch where the bytes matter), the provider's real SDK against its fake.
 */
export function testProvider(options: ProviderSuiteOptions): void {
  const { model } = options;

  describe(`the ${options.name} provider behind the gateway`, () => {
    let fake: FakeUpstream | undefined;
    let t: TestGateway;

    beforeAll(async () => {
      fake = await options.fake?.();
      t = await startProviderGateway([options.provider(fake)]);
    });
    afterAll(async () => {
      await t?.close();
      await fake?.close();
    });
    beforeEach(() => fake?.reset());

    const setup = async (gateway: TestGateway = t) => {
      const seed = await seedAgent(gateway.gateway, { agent: { name: "Suite agent", instructions: INSTRUCTIONS } });
      const billing = await gateway.gateway.admin.getBilling(seed.accountId);
      const ledger = (await gateway.gateway.admin.listUsage(seed.accountId)).data.length;
      return { ...seed, client: openaiClient(gateway.baseURL, seed.key), billing, ledger };
    };
    const charges = async (accountId: string) => (await t.gateway.admin.listUsage(accountId)).data.filter((entry) => entry.type === "charge");
    const post = (key: string, body: object, init: RequestInit = {}, gateway = t) =>
      fetch(`${gateway.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model, ...body }), ...init });
    const thread = async (key: string, id: string) => {
      const res = await fetch(`${t.baseURL}/threads/${id}`, { headers: { authorization: `Bearer ${key}` } });
      return res.status === 200 ? ((await res.json()) as { messages: Array<{ role: string; content: unknown; tool_calls?: unknown[] }> }) : undefined;
    };

    it("answers a plain request in OpenAI's schema, with the instructions first and the vendor's usage billed", async () => {
      const { client, accountId } = await setup();
      fake?.script({ reply: { usage: { prompt: 21, completion: 5, cached: 4 } } });
      const completion = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hello there, friend" }] });
      assertOpenAISchema("completion", completion);
      expect(completion.choices[0].message.content).toBe("Hello there, friend");
      expect(completion.choices[0].finish_reason).toBe("stop");
      if (fake) {
        expect(completion.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 5, total_tokens: 26, prompt_tokens_details: { cached_tokens: 4 } });
        expect(fake.turns(fake.requests[0])).toEqual([
          { role: "system", text: INSTRUCTIONS },
          { role: "user", text: "Hello there, friend" },
        ]);
      }
      const [charge] = await charges(accountId);
      expect(charge).toMatchObject({ prompt_tokens: completion.usage!.prompt_tokens, completion_tokens: completion.usage!.completion_tokens });
      expect(charge.cost_micros).toBeGreaterThan(0);
    });

    it("streams chunks in OpenAI's schema: one id, the role first, thread_id on each, a finish reason, then [DONE]", async () => {
      const { key } = await setup();
      const res = await post(key, { stream: true, messages: [{ role: "user", content: "one two three four" }] });
      expect(res.status).toBe(200);
      const threadId = res.headers.get("x-thread-id");
      const { chunks, done, errors } = await readSSE(res);
      expect(errors).toEqual([]);
      expect(done).toBe(true);
      for (const chunk of chunks) assertOpenAISchema("chunk", chunk);
      expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
      expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
      expect(chunks.every((c) => (c as { thread_id?: string }).thread_id === threadId)).toBe(true);
      expect(chunks[0].choices[0].delta.role).toBe("assistant");
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("one two three four");
      expect(chunks.at(-1)!.choices[0].finish_reason).toBe("stop");
      expect(chunks.filter((c) => c.choices[0]?.finish_reason).length).toBe(1);
    });

    it("ends a stream with the vendor's final usage when include_usage is set, and bills that count", async () => {
      const { client, accountId } = await setup();
      const messages = [{ role: "user" as const, content: "Count these words for me" }];
      const expected = fake ? { prompt_tokens: 33, completion_tokens: 7, total_tokens: 40 } : (await client.chat.completions.create({ model, messages })).usage!;
      fake?.script({ reply: { usage: { prompt: 33, completion: 7 } } });
      const before = (await charges(accountId)).length;
      const stream = await client.chat.completions.create({ model, messages, stream: true, stream_options: { include_usage: true } });
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.at(-1)!.choices).toEqual([]);
      expect(chunks.at(-1)!.usage).toMatchObject(expected);
      for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();
      const after = await charges(accountId);
      expect(after.length).toBe(before + 1);
      expect(after.at(-1)).toMatchObject({ prompt_tokens: expected.prompt_tokens, completion_tokens: expected.completion_tokens });
    });

    it("round-trips a tool call: streamed tool-call deltas, then only the tool result sent with thread_id", async () => {
      const { client, key } = await setup();
      const question = "Weather in Paris?";
      fake?.script({ reply: { toolCalls: [{ name: "get_weather", arguments: { input: question } }] } });
      const stream = await client.chat.completions.create({ model, messages: [{ role: "user", content: question }], tools: TOOLS, tool_choice: "required", stream: true });
      const deltas: NonNullable<ChatCompletionChunk.Choice.Delta["tool_calls"]> = [];
      let finish: string | null = null;
      let threadId = "";
      for await (const chunk of stream) {
        threadId = (chunk as { thread_id?: string }).thread_id ?? threadId;
        deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      expect(finish).toBe("tool_calls");
      expect(deltas.every((d) => d.index === 0)).toBe(true);
      expect(deltas[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather" } });
      const callId = deltas[0].id!;
      expect(JSON.parse(deltas.map((d) => d.function?.arguments ?? "").join(""))).toEqual({ input: question });

      const answer = await client.chat.completions.create({ model, thread_id: threadId, tools: TOOLS, messages: [{ role: "tool", tool_call_id: callId, content: '{"sky":"clear"}' }] } as never as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect(answer.choices[0].message.content).toBe(question);
      if (fake) {
        expect(fake.turns(fake.requests[1])).toEqual([
          { role: "system", text: INSTRUCTIONS },
          { role: "user", text: question },
          { role: "assistant", text: "" },
          { role: "tool", text: '{"sky":"clear"}' },
        ]);
      }
      const saved = await thread(key, threadId);
      expect(saved!.messages.map((m) => m.role)).toEqual(["user", "assistant", "tool", "assistant"]);
      expect(saved!.messages[1].tool_calls).toEqual([{ id: callId, type: "function", function: { name: "get_weather", arguments: JSON.stringify({ input: question }) } }]);
    });

    it("continues a multi-turn thread: the upstream gets the whole history", async () => {
      const { client, key } = await setup();
      const first = await client.chat.completions.create({ model, messages: [{ role: "user", content: "My name is Ada" }] });
      const threadId = (first as { thread_id?: string }).thread_id!;
      const second = await client.chat.completions.create({ model, thread_id: threadId, messages: [{ role: "user", content: "What is my name?" }] } as never as OpenAI.ChatCompletionCreateParamsNonStreaming);
      expect((second as { thread_id?: string }).thread_id).toBe(threadId);
      expect(second.choices[0].message.content).toBe("What is my name?");
      if (fake) {
        expect(fake.turns(fake.requests[1])).toEqual([
          { role: "system", text: INSTRUCTIONS },
          { role: "user", text: "My name is Ada" },
          { role: "assistant", text: "My name is Ada" },
          { role: "user", text: "What is my name?" },
        ]);
      }
      expect((await thread(key, threadId))!.messages.map((m) => m.content)).toEqual(["My name is Ada", "My name is Ada", "What is my name?", "What is my name?"]);
    });

    it("aborts the upstream call when the client leaves mid-stream, keeping and billing what was generated", async () => {
      const { key, accountId } = await setup();
      const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
      fake?.script({ reply: { chunkDelayMs: 25 } });
      const controller = new AbortController();
      const res = await post(key, { stream: true, messages: [{ role: "user", content: words }] }, { signal: controller.signal });
      const threadId = res.headers.get("x-thread-id")!;
      const reader = res.body!.getReader();
      let received = "";
      while ((received.match(/"content":"word/g) ?? []).length < 3) received += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      if (fake) {
        await fake.requests[0].closed;
        expect(fake.requests[0].aborted).toBe(true);
      }
      const saved = await eventually(() => thread(key, threadId));
      const [, reply] = saved.messages;
      expect(reply.role).toBe("assistant");
      expect(typeof reply.content === "string" && reply.content.length > 0 && words.startsWith(reply.content) && reply.content.length < words.length).toBe(true);
      const [charge] = await eventually(() => charges(accountId).then((list) => (list.length ? list : undefined)));
      expect(charge.completion_tokens).toBeGreaterThan(0);
      expect(charge.cost_micros).toBeGreaterThan(0);
    });

    if (!options.fake) return;

    describe("when the vendor fails", () => {
      let slow: TestGateway;
      let badKey: TestGateway;
      beforeAll(async () => {
        slow = await startProviderGateway([options.provider(fake)], { timeoutMs: 300, retries: 0 });
        badKey = await startProviderGateway([options.provider(fake, BAD_KEY)]);
      });
      afterAll(async () => {
        await slow?.close();
        await badKey?.close();
      });

      /** The failed call's OpenAI error, after checking it charged nothing and left no reservation. */
      const failing = async (body: object = {}, gateway: TestGateway = t) => {
        const seed = await setup(gateway);
        const error = await seed.client.chat.completions.create({ model, messages: [{ role: "user", content: "Hello" }], ...body }).then(
          () => expect.unreachable("the call should fail"),
          (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
        );
        expect(error).toBeInstanceOf(OpenAI.APIError);
        expect(await gateway.gateway.admin.getBilling(seed.accountId)).toEqual(seed.billing);
        expect((await gateway.gateway.admin.listUsage(seed.accountId)).data.length).toBe(seed.ledger);
        return error;
      };
      const vendorMessage = (status: number) => (fake!.errorBody(status) as { error: { message: string } }).error.message;

      it("retries a 429 after the vendor's retry-after, then answers", async () => {
        const { client } = await setup();
        fake!.script({ error: { status: 429, retryAfter: 1 } });
        const started = Date.now();
        const completion = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hello again" }] });
        expect(completion.choices[0].message.content).toBe("Hello again");
        expect(fake!.requests.length).toBe(2);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      });

      it("passes a 429 on with its retry-after when the vendor asks for a longer wait than the gateway holds", async () => {
        fake!.script({ error: { status: 429, retryAfter: 7 } });
        const error = await failing();
        expect(error.status).toBe(429);
        expect(error.headers?.get("retry-after")).toBe("7");
        expect(error.code).toBe("rate_limit_exceeded");
        expect(fake!.requests.length).toBe(1);
      });

      it("answers a vendor 400 with a 400 carrying the vendor's message, without retrying", async () => {
        fake!.script({ error: { status: 400 } });
        const error = await failing();
        expect(error.status).toBe(400);
        expect(error.message).toContain(vendorMessage(400));
        expect(fake!.requests.length).toBe(1);
      });

      it("answers a vendor 5xx with a 502 after two retries", async () => {
        fake!.script({ error: { status: 500 } }, { error: { status: 500 } }, { error: { status: 500 } });
        const error = await failing();
        expect(error.status).toBe(502);
        expect(error.code).toBe("upstream_error");
        expect(fake!.requests.length).toBe(3);
      });

      it("answers an overloaded vendor with a 503", async () => {
        const status = fake!.overloadedStatus;
        fake!.script({ error: { status } }, { error: { status } }, { error: { status } });
        const error = await failing();
        expect(error.status).toBe(503);
        expect(error.code).toBe("upstream_overloaded");
      });

      it("answers a silent vendor with a 504 and aborts the upstream call", async () => {
        fake!.script({ hang: true });
        const error = await failing({}, slow);
        expect(error.status).toBe(504);
        expect(error.code).toBe("upstream_timeout");
        await fake!.requests[0].closed;
        expect(fake!.requests[0].aborted).toBe(true);
      });

      it("ends a stream whose vendor falls silent mid-way with a timeout error event and aborts the upstream call", async () => {
        const seed = await setup(slow);
        fake!.script({ reply: { text: "one two three four five six", stallAfter: 4 } });
        const res = await post(seed.key, { stream: true, messages: [{ role: "user", content: "Hello" }] }, {}, slow);
        const { chunks, done, errors } = await readSSE(res);
        expect(chunks.length).toBeGreaterThan(0);
        expect(done).toBe(false);
        expect(errors).toMatchObject([{ error: { code: "upstream_timeout" } }]);
        await fake!.requests[0].closed;
        expect(fake!.requests[0].aborted).toBe(true);
        expect(await slow.gateway.admin.getBilling(seed.accountId)).toEqual(seed.billing);
      });

      it("answers a rejected vendor key with a 502 naming the provider and never showing the key", async () => {
        const { key } = await setup(badKey);
        const res = await post(key, { messages: [{ role: "user", content: "Hello" }] }, {}, badKey);
        const text = await res.text();
        expect(res.status).toBe(502);
        expect(JSON.parse(text).error).toMatchObject({ code: "upstream_auth_failed" });
        expect(JSON.parse(text).error.message).toContain(fake!.vendor);
        expect(text).not.toContain(BAD_KEY);
        expect(fake!.requests.length).toBe(1);
        await failing({}, badKey);
      });

      it("retries a stream that fails before its first chunk reached the client", async () => {
        const { key } = await setup();
        fake!.script({ reply: { text: "never seen", failAfter: 0 } });
        const res = await post(key, { stream: true, messages: [{ role: "user", content: "second try" }] });
        const { chunks, done, errors } = await readSSE(res);
        expect(errors).toEqual([]);
        expect(done).toBe(true);
        expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("second try");
        expect(fake!.requests.length).toBe(2);
      });

      it("ends a stream that fails mid-way with an OpenAI error event, charging nothing and saving nothing", async () => {
        const seed = await setup();
        fake!.script({ reply: { text: "one two three four five six", failAfter: 4 } });
        const res = await post(seed.key, { stream: true, messages: [{ role: "user", content: "Hello" }] });
        expect(res.status).toBe(200);
        const { chunks, done, errors } = await readSSE(res);
        expect(chunks.length).toBeGreaterThan(0);
        expect(done).toBe(false);
        expect(errors.length).toBe(1);
        assertOpenAISchema("error", errors[0]);
        expect((errors[0] as { error: { code: string } }).error.code).toMatch(/^upstream_/);
        expect(fake!.requests.length).toBe(1);
        expect(await t.gateway.admin.getBilling(seed.accountId)).toEqual(seed.billing);
        expect((await t.gateway.admin.listUsage(seed.accountId)).data.length).toBe(seed.ledger);
        expect(await thread(seed.key, res.headers.get("x-thread-id")!)).toBeUndefined();
      });
    });
  });
}

// --- internal ---

const BAD_KEY = "wrong-vendor-key-SECRET-0123456789";

const TOOLS: ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", description: "Current weather", parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"] } } },
];

/** Parses an SSE body: the chunks, the error events, and whether it ended with [DONE]. */
async function readSSE(res: Response): Promise<{ chunks: ChatCompletionChunk[]; errors: object[]; done: boolean }> {
  const text = await res.text();
  const chunks: ChatCompletionChunk[] = [];
  const errors: object[] = [];
  let done = false;
  for (const event of text.split("\n\n").filter(Boolean)) {
    expect(event.startsWith("data: ")).toBe(true);
    const data = event.slice(6);
    if (data === "[DONE]") done = true;
    else {
      const json = JSON.parse(data) as ChatCompletionChunk | { error: object };
      if ("error" in json) errors.push(json);
      else chunks.push(json);
    }
  }
  return { chunks, errors, done };
}

/** Polls until `probe` gives a value (settling after a client leaves is asynchronous). */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 3_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out waiting for the gateway to settle");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

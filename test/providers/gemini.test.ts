import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import { gemini } from "../../src/index";
import { openaiClient, seedAgent, type TestGateway } from "../_setup";
import { sample } from "../_wire";
import { startGeminiFake } from "../fakes/gemini";
import { INSTRUCTIONS, startProviderGateway, testProvider } from "./_suite";

testProvider({
  name: "gemini",
  model: "gemini/gemini-2.5-flash",
  fake: startGeminiFake,
  provider: (fake, apiKey) => gemini({ apiKey: apiKey ?? fake!.apiKey, baseURL: fake!.baseURL }),
});

describe("the request the gemini provider sends upstream", () => {
  it("calls the model's path with the key header, the instructions as systemInstruction and the limits in generationConfig", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway, { agent: { name: "G", instructions: INSTRUCTIONS } });
      const client = openaiClient(t.baseURL, key);
      const stream = await client.chat.completions.create({ model: "gemini/gemini-2.5-flash", stream: true, max_tokens: 50, temperature: 0.4, messages: [{ role: "user", content: "Hi" }] });
      for await (const _ of stream);
      const [call] = fake.requests;
      expect(call.path).toBe("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
      expect(call.headers["x-goog-api-key"]).toBe(fake.apiKey);
      expect(call.body).toMatchObject({
        contents: [{ role: "user", parts: [{ text: "Hi" }] }],
        systemInstruction: { parts: [{ text: INSTRUCTIONS }] },
        generationConfig: { maxOutputTokens: 50, temperature: 0.4 },
      });
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("answers a request with parallel_tool_calls: false with the turn's first function call, whole and streamed", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];
      const twoCalls = { reply: { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }, { name: "get_weather", arguments: { city: "Rome" } }] } };
      const body = { model: "gemini/gemini-2.5-flash", tools, parallel_tool_calls: false, messages: [{ role: "user" as const, content: "Weather?" }] };
      fake.script(twoCalls, twoCalls);
      const whole = await client.chat.completions.create(body);
      expect(whole.choices[0].message.tool_calls!.map((call) => (call as { function: { arguments: string } }).function.arguments)).toEqual(['{"city":"Paris"}']);
      expect(whole.choices[0].finish_reason).toBe("tool_calls");
      const names: string[] = [];
      for await (const chunk of await client.chat.completions.create({ ...body, stream: true })) for (const call of chunk.choices[0]?.delta.tool_calls ?? []) names.push(call.function?.arguments ?? "");
      expect(names).toEqual(['{"city":"Paris"}']);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("replays a Gemini 3 function call with its thought signature and the tool's name on the thread's next turn", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const model = "gemini/gemini-3-pro-preview";
      const tools = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];
      fake.script({ reply: { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" }, signature: "c2lnbmF0dXJlLTE=" }] } });
      const first = await client.chat.completions.create({ model, tools, messages: [{ role: "user", content: "Weather?" }] });
      const call = first.choices[0].message.tool_calls![0];
      await client.chat.completions.create({ model, tools, thread_id: (first as { thread_id?: string }).thread_id, messages: [{ role: "tool", tool_call_id: call.id, content: "sunny" }] } as never);
      expect((fake.requests[1].body.contents as unknown[]).slice(1)).toEqual([
        { role: "model", parts: [{ functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "c2lnbmF0dXJlLTE=" }] },
        { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { output: "sunny" } } }] },
      ]);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("the gemini provider on a 429", () => {
  /** Google's sample 429 body, with its RetryInfo replaced by `retryDelay` (or none). */
  const limited = (retryDelay?: number) => {
    const body = sample<{ error: { details: Array<Record<string, unknown>> } }>("gemini", "error.429.json");
    body.error.details = body.error.details.filter((detail) => !String(detail["@type"]).endsWith("RetryInfo"));
    if (retryDelay !== undefined) body.error.details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryDelay}s` });
    return body;
  };

  it("waits a retry-after header on a 429 without RetryInfo, then answers", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      fake.script({ error: { status: 429, body: limited(), headers: { "retry-after": "1" } } });
      const started = Date.now();
      const completion = await openaiClient(t.baseURL, key).chat.completions.create({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "Hello again" }] });
      expect(completion.choices[0].message.content).toBe("Hello again");
      expect(fake.requests.length).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("takes the larger of the retry-after header and RetryInfo, passing the 429 on when that is longer than the gateway holds", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const attempt = () =>
        client.chat.completions.create({ model: "gemini/gemini-2.5-flash", messages: [{ role: "user", content: "Hi" }] }).then(
          () => expect.unreachable("the call should fail"),
          (e: { status: number; code: string; headers: Headers }) => e,
        );
      fake.script({ error: { status: 429, body: limited(1), headers: { "retry-after": "7" } } });
      const first = await attempt();
      expect(first).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
      expect(first.headers.get("retry-after")).toBe("7");
      fake.script({ error: { status: 429, body: limited(8), headers: { "retry-after": "1" } } });
      expect((await attempt()).headers.get("retry-after")).toBe("8");
      expect(fake.requests.length).toBe(2);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

describe("the usage the gemini provider reports", () => {
  const model = "gemini/gemini-2.5-flash";
  const charges = async (t: TestGateway, accountId: string) => (await t.gateway.admin.listUsage(accountId)).data.filter((entry) => entry.type === "charge");

  it("bills Gemini's last usageMetadata when the final count arrives after the finish reason", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key, accountId } = await seedAgent(t.gateway);
      fake.script({ reply: { text: "Hi there", usage: { prompt: 30, completion: 99 }, usageAfterFinish: true } });
      const stream = await openaiClient(t.baseURL, key).chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hi" }] });
      const chunks: ChatCompletionChunk[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hi there");
      expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 30, completion_tokens: 99, total_tokens: 129 });
      expect(await charges(t, accountId)).toMatchObject([{ prompt_tokens: 30, completion_tokens: 99 }]);
    } finally {
      await t.close();
      await fake.close();
    }
  });

  it("bills the gateway's estimate, never zero, when Gemini reports no usage, answered whole or streamed", async () => {
    const fake = await startGeminiFake();
    const t = await startProviderGateway([gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })]);
    try {
      const { key, accountId } = await seedAgent(t.gateway);
      const client = openaiClient(t.baseURL, key);
      const text = "An answer of some length";
      const estimated = { prompt_tokens: expect.any(Number), completion_tokens: Math.ceil(text.length / 4) };
      fake.script({ reply: { text, withoutUsage: true } }, { reply: { text, withoutUsage: true } });
      const whole = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }] });
      expect(whole.usage).toMatchObject(estimated);
      expect(whole.usage!.prompt_tokens).toBeGreaterThan(0);
      const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Hi" }] });
      let usage: ChatCompletionChunk["usage"];
      for await (const chunk of stream) usage = chunk.usage ?? usage;
      expect(usage).toMatchObject(estimated);
      const billed = await charges(t, accountId);
      expect(billed).toHaveLength(2);
      for (const charge of billed) expect(charge.cost_micros).toBeGreaterThan(0);
    } finally {
      await t.close();
      await fake.close();
    }
  });
});

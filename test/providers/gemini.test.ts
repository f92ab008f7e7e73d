import { describe, expect, it } from "vitest";
import { gemini } from "../../src/index";
import { openaiClient, seedAgent } from "../_setup";
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

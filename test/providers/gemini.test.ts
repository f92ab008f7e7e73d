import { describe, expect, it } from "vitest";
import { gemini } from "../../src/index";
import { openaiClient, seedAgent } from "../_setup";
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

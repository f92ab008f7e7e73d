import type OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropic, gemini, openai } from "../../src/index";
import { openaiClient, seedAgent, type TestGateway } from "../_setup";
import { startAnthropicFake } from "../fakes/anthropic";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { startProviderGateway } from "./_suite";

// A Gemini 3 thought signature: base64, so `+`, `/` and `=`, and far longer than 40 characters.
const SIGNATURE = `${"Q2xhdWRlK0dlbWluaS9PcGVuQUk=".repeat(4)}+/w==`;
const TOOLS = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];

type Block = { type: string; id?: string; tool_use_id?: string };
type Message = { role: string; content?: unknown; tool_calls?: Array<{ id: string }>; tool_call_id?: string };

describe("one gateway in front of all three vendors", () => {
  let fakes: Record<"gemini" | "anthropic" | "openai", FakeUpstream>;
  let t: TestGateway;

  beforeAll(async () => {
    fakes = { gemini: await startGeminiFake(), anthropic: await startAnthropicFake(), openai: await startOpenAIFake() };
    t = await startProviderGateway([
      gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
      anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
      openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
    ]);
  });
  afterAll(async () => {
    await t?.close();
    for (const fake of Object.values(fakes ?? {})) await fake.close();
  });

  /** A thread whose history holds a Gemini tool call (its id carries the signature) and its result. */
  const geminiToolThread = async () => {
    const { key } = await seedAgent(t.gateway);
    const client = openaiClient(t.baseURL, key);
    fakes.gemini.script({ reply: { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" }, signature: SIGNATURE }] } });
    const first = await client.chat.completions.create({ model: "gemini/gemini-3-pro-preview", tools: TOOLS, messages: [{ role: "user", content: "Weather?" }] });
    const callId = first.choices[0].message.tool_calls![0].id;
    expect(callId).toContain(SIGNATURE);
    const threadId = (first as { thread_id?: string }).thread_id!;
    const next = (model: string) =>
      client.chat.completions.create({ model, tools: TOOLS, thread_id: threadId, messages: [{ role: "tool", tool_call_id: callId, content: "sunny" }] } as never as OpenAI.ChatCompletionCreateParamsNonStreaming);
    return { next };
  };

  it("continues a Gemini 3 tool call on Anthropic with a tool_use id stripped of its signature, matching Anthropic's pattern, and the same id on the tool_result", async () => {
    const { next } = await geminiToolThread();
    await next("anthropic/claude-sonnet-4-6");
    const messages = fakes.anthropic.requests.at(-1)!.body.messages as Array<{ role: string; content: Block[] }>;
    const use = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === "tool_use")!;
    const result = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : [])).find((b) => b.type === "tool_result")!;
    expect(use.id).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(result.tool_use_id).toBe(use.id);
  });

  it("refuses logprobs on Anthropic and Gemini, which have none, with a 400 naming the field, before calling either", async () => {
    const client = openaiClient(t.baseURL, (await seedAgent(t.gateway)).key);
    for (const model of ["anthropic/claude-sonnet-4-6", "gemini/gemini-2.5-flash"]) {
      for (const stream of [false, true]) {
        const before = fakes.anthropic.requests.length + fakes.gemini.requests.length;
        const error = await client.chat.completions.create({ model, stream, logprobs: true, top_logprobs: 2, messages: [{ role: "user", content: "Hi" }] }).then(
          () => expect.unreachable("the call should fail"),
          (e: { status: number; type: string; param: string }) => e,
        );
        expect(error).toMatchObject({ status: 400, type: "invalid_request_error", param: "logprobs" });
        expect(fakes.anthropic.requests.length + fakes.gemini.requests.length).toBe(before);
      }
    }
  });

  it("continues a Gemini 3 tool call on OpenAI with an id of at most 40 characters, the same on the assistant call and the tool message", async () => {
    const { next } = await geminiToolThread();
    await next("openai/gpt-4o-mini");
    const messages = fakes.openai.requests.at(-1)!.body.messages as Message[];
    const callId = messages.find((m) => m.tool_calls)!.tool_calls![0].id;
    expect(callId.length).toBeLessThanOrEqual(40);
    expect(callId).not.toContain("~");
    expect(messages.find((m) => m.role === "tool")!.tool_call_id).toBe(callId);
  });
});

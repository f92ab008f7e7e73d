import type { ChatCompletionChunk as OpenAIChunk, ChatCompletion as OpenAICompletion } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import { fromOpenAIChunk, fromOpenAICompletion, fromOpenAIError, OPENAI_FINISH_REASONS, toOpenAIParams } from "../../src/providers/openai";
import { upstreamError } from "../../src/providers/_errors";
import { readWire, sample } from "../_wire";

describe("the OpenAI request mapping", () => {
  it("sends the one token limit as max_completion_tokens and passes OpenAI's own fields through", () => {
    const params = toOpenAIParams({
      model: "gpt-4.1-mini",
      messages: [
        { role: "system", content: "Agent instructions." },
        { role: "user", content: [{ type: "text", text: "Hi" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "done" },
      ],
      max_tokens: 100,
      stream: true,
      stream_options: { include_usage: false },
      parallel_tool_calls: null,
      tool_choice: { type: "function", function: { name: "f" } },
      ...{ seed: 7, logit_bias: { "50256": -100 } },
    });
    expect(params).toEqual({
      model: "gpt-4.1-mini",
      messages: [
        { role: "system", content: "Agent instructions." },
        { role: "user", content: [{ type: "text", text: "Hi" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "low" } }] },
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "done" },
      ],
      max_completion_tokens: 100,
      tool_choice: { type: "function", function: { name: "f" } },
      seed: 7,
      logit_bias: { "50256": -100 },
    });
  });
});

describe("the OpenAI request mapping of another vendor's call ids", () => {
  it("drops a Gemini thought signature and keeps ids within 40 characters, the same on the call and its tool message", () => {
    const ids = ["call_abc~c2lnbmF0dXJl+/==", "y".repeat(64)];
    const { messages } = toOpenAIParams({
      model: "gpt-4.1-mini",
      messages: [
        { role: "assistant", content: null, tool_calls: ids.map((id) => ({ id, type: "function" as const, function: { name: "f", arguments: "{}" } })) },
        ...ids.map((id) => ({ role: "tool" as const, tool_call_id: id, content: "ok" })),
      ],
    });
    const calls = (messages[0] as { tool_calls: Array<{ id: string }> }).tool_calls.map((call) => call.id);
    expect(calls[0]).toBe("call_abc");
    expect(calls[1].length).toBeLessThanOrEqual(40);
    expect(messages.slice(1).map((m) => (m as { tool_call_id: string }).tool_call_id)).toEqual(calls);
  });
});

describe("the OpenAI response mapping", () => {
  it("keeps a completion's text, finish and usage with its cached and reasoning counts", () => {
    const completion = fromOpenAICompletion(sample<OpenAICompletion>("openai", "response.chat.json"));
    expect(completion.choices[0]).toMatchObject({ message: { content: "Hello! How can I assist you today?", refusal: null }, finish_reason: "stop" });
    expect(completion.usage).toEqual({ prompt_tokens: 19, completion_tokens: 10, total_tokens: 29, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    const tools = fromOpenAICompletion(sample<OpenAICompletion>("openai", "response.chat.tool_calls.json"));
    expect(tools.choices[0]).toMatchObject({ finish_reason: "tool_calls", message: { content: null, tool_calls: [{ id: "call_abc123", function: { name: "get_weather" } }] } });
  });

  it("maps finish reasons through one table, the legacy function_call included", () => {
    expect(OPENAI_FINISH_REASONS).toEqual({ stop: "stop", length: "length", tool_calls: "tool_calls", function_call: "tool_calls", content_filter: "content_filter" });
  });

  it("maps streamed chunks, keeping tool-call indices and the final usage-only chunk", () => {
    const chunks = readWire("samples", "openai", "stream.chat.tool_calls.sse")
      .split("\n\n")
      .filter((event) => event && event !== "data: [DONE]")
      .map((event) => fromOpenAIChunk(JSON.parse(event.slice(6)) as OpenAIChunk));
    expect(chunks[0].choices[0].delta.tool_calls).toEqual([{ index: 0, id: "call_abc123", type: "function", function: { name: "get_weather", arguments: "" } }]);
    expect(chunks[1].choices[0].delta.tool_calls).toEqual([{ index: 0, function: { arguments: '{"ci' } }]);
    expect(chunks[3].choices[0].finish_reason).toBe("tool_calls");
    expect(chunks[4]).toMatchObject({ choices: [], usage: { prompt_tokens: 82, completion_tokens: 17, total_tokens: 99 } });
  });
});

describe("the OpenAI error mapping", () => {
  it("keeps the vendor's message and retry-after; a bad key becomes a 502", () => {
    const limited = fromOpenAIError(429, sample("openai", "error.429.rate_limit.json"), new Headers({ "retry-after": "1" }));
    expect(limited).toMatchObject({ provider: "openai", status: 429, retryAfterSeconds: 1, message: expect.stringMatching(/^Rate limit reached/) });
    const key = "sk-test-1234567890abcdef";
    const rejected = upstreamError(fromOpenAIError(401, { error: { message: `Incorrect API key provided: ${key}` } }));
    expect(rejected.status).toBe(502);
    expect(JSON.stringify(rejected.data)).not.toContain(key);
  });
});

import type { Message, RawMessageStreamEvent } from "@anthropic-ai/sdk/resources/messages";
import { HTTPError } from "h3";
import { describe, expect, it } from "vitest";
import {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  ANTHROPIC_FINISH_REASONS,
  createAnthropicStreamState,
  fromAnthropicError,
  fromAnthropicMessage,
  fromAnthropicStreamEvent,
  fromAnthropicUsage,
  toAnthropicParams,
} from "../../src/providers/anthropic";
import type { ProviderRequest } from "../../src/providers/_define";
import type { ChatCompletionChunk } from "../../src/schema";
import { readWire, sample } from "../_wire";

const request = (extra: Partial<ProviderRequest> & Record<string, unknown> = {}): ProviderRequest => ({
  model: "claude-sonnet-4-6",
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

/** The error a call throws, for asserting on its OpenAI envelope. */
function thrown(fn: () => unknown): { status: number; data: { code: string; param: string | null; message: string } } {
  try {
    fn();
  } catch (error) {
    if (HTTPError.isError(error)) return error as never;
    throw error;
  }
  throw new Error("expected a throw");
}

describe("the Anthropic request mapping", () => {
  it("puts leading system and developer messages (the agent's instructions first) in `system`, later ones in place", () => {
    const params = toAnthropicParams(
      request({
        messages: [
          { role: "system", content: "Agent instructions." },
          { role: "developer", content: [{ type: "text", text: "Be brief." }] },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "system", content: "Now answer in French." },
          { role: "user", content: "Bye" },
        ],
      }),
    );
    expect(params.system).toBe("Agent instructions.\n\nBe brief.");
    expect(params.messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: [{ type: "text", text: "Hello!" }] },
      { role: "system", content: "Now answer in French." },
      { role: "user", content: "Bye" },
    ]);
  });

  it("maps tool calls to tool_use blocks and puts consecutive tool results in one user turn", () => {
    const params = toAnthropicParams(
      request({
        messages: [
          { role: "user", content: "Weather in Paris and Rome?" },
          {
            role: "assistant",
            content: null,
            tool_calls: [
              { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "toolu_2", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: "tool", tool_call_id: "toolu_1", content: "18C" },
          { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "24C" }] },
        ],
      }),
    );
    expect(params.messages.slice(1)).toEqual([
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Rome" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
          { type: "tool_result", tool_use_id: "toolu_2", content: "24C" },
        ],
      },
    ]);
  });

  it("puts a user message that follows tool results (the images a tool returned) in the results' turn, after them", () => {
    const params = toAnthropicParams(
      request({
        messages: [
          { role: "user", content: "Look." },
          { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "view_image", arguments: "{}" } }] },
          { role: "tool", tool_call_id: "toolu_1", content: "The result is an image, in the next message." },
          { role: "user", content: [{ type: "text", text: "The result of tool call toolu_1:" }, { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } }] },
          { role: "user", content: "And now?" },
        ],
      }),
    );
    expect(params.messages.slice(2)).toEqual([
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "The result is an image, in the next message." },
          { type: "text", text: "The result of tool call toolu_1:" },
          { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } },
        ],
      },
      { role: "user", content: "And now?" },
    ]);
  });

  it("rewrites call ids outside Anthropic's pattern the same way on the tool_use and its tool_result, keeping distinct ids apart", () => {
    const ids = ["call.1:a", "call.1/a", "x".repeat(60)];
    const params = toAnthropicParams(
      request({
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", content: null, tool_calls: ids.map((id) => ({ id, type: "function" as const, function: { name: "f", arguments: "{}" } })) },
          ...ids.map((id) => ({ role: "tool" as const, tool_call_id: id, content: "ok" })),
        ],
      }),
    );
    const uses = (params.messages[1].content as Array<{ id: string }>).map((block) => block.id);
    const results = (params.messages[2].content as Array<{ tool_use_id: string }>).map((block) => block.tool_use_id);
    for (const id of uses) expect(id).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(results).toEqual(uses);
    expect(new Set(uses).size).toBe(ids.length);
  });

  it("sends image parts as base64 or URL sources and refuses an image type Anthropic cannot read", () => {
    const params = toAnthropicParams(
      request({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
            ],
          },
        ],
      }),
    );
    expect(params.messages[0].content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ]);
    const error = thrown(() => toAnthropicParams(request({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/tiff;base64,AAAA" } }] }] })));
    expect(error.status).toBe(400);
    expect(error.data).toMatchObject({ code: "unsupported_parameter", param: "messages[0].content[0]" });
  });

  it("defaults max_tokens (Anthropic requires it) and maps the limits, stops, tools and tool choice", () => {
    expect(toAnthropicParams(request()).max_tokens).toBe(ANTHROPIC_DEFAULT_MAX_TOKENS);
    expect(toAnthropicParams(request(), { defaultMaxTokens: 1000 }).max_tokens).toBe(1000);
    const params = toAnthropicParams(
      request({
        max_tokens: 256,
        stop: "END",
        user: "user-1",
        parallel_tool_calls: false,
        tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
      }),
    );
    expect(params).toMatchObject({
      max_tokens: 256,
      stop_sequences: ["END"],
      metadata: { user_id: "user-1" },
      tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      tool_choice: { type: "tool", name: "get_weather", disable_parallel_tool_use: true },
    });
    expect(toAnthropicParams(request({ tool_choice: "required" })).tool_choice).toEqual({ type: "any" });
    expect(toAnthropicParams(request({ tool_choice: "none" })).tool_choice).toEqual({ type: "none" });
  });

  it("maps a json_schema response_format to output_config and refuses json_object, which Anthropic has no mode for", () => {
    const schema = { type: "object", properties: { n: { type: "number" } }, required: ["n"], additionalProperties: false };
    expect(toAnthropicParams(request({ response_format: { type: "json_schema", json_schema: { name: "n", schema } } })).output_config).toEqual({ format: { type: "json_schema", schema } });
    expect(thrown(() => toAnthropicParams(request({ response_format: { type: "json_object" } }))).data).toMatchObject({ code: "unsupported_parameter", param: "response_format" });
  });

  it("passes temperature (0 to 1) and top_p through for the API to judge", () => {
    expect(toAnthropicParams(request({ temperature: 0.2, top_p: 0.5 }))).toMatchObject({ temperature: 0.2, top_p: 0.5 });
    expect(toAnthropicParams(request({}))).not.toHaveProperty("temperature");
  });

  it("answers a field it cannot honour with a 400 naming it, and lets OpenAI defaults through", () => {
    expect(thrown(() => toAnthropicParams(request({ temperature: 1.5 }))).data).toMatchObject({ code: "unsupported_parameter", param: "temperature" });
    expect(thrown(() => toAnthropicParams(request({ seed: 42 }))).data).toMatchObject({ code: "unsupported_parameter", param: "seed" });
    expect(thrown(() => toAnthropicParams(request({ logprobs: true }))).data).toMatchObject({ code: "unsupported_parameter", param: "logprobs" });
    expect(() => toAnthropicParams(request({ temperature: 1, top_p: 1, n: 1, presence_penalty: 0, logprobs: false, store: false }))).not.toThrow();
  });
});

describe("the Anthropic response mapping", () => {
  it("turns a message into a chat.completion with usage", () => {
    const completion = fromAnthropicMessage(sample<Message>("anthropic", "response.message.json"));
    expect(completion.choices[0]).toMatchObject({ message: { role: "assistant", content: "Hello! How can I help you today?", refusal: null }, finish_reason: "stop" });
    expect(completion.usage).toEqual({ prompt_tokens: 12, completion_tokens: 10, total_tokens: 22, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it("turns tool_use blocks into tool_calls with a tool_calls finish", () => {
    const completion = fromAnthropicMessage(sample<Message>("anthropic", "response.message.tool_use.json"));
    expect(completion.choices[0].message).toMatchObject({
      content: "I'll check the weather in Paris.",
      tool_calls: [{ id: "toolu_01A09q90qw90lq917835lq9", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
    });
    expect(completion.choices[0].finish_reason).toBe("tool_calls");
  });

  it("maps every stop reason through one table", () => {
    expect(ANTHROPIC_FINISH_REASONS).toEqual({
      end_turn: "stop",
      stop_sequence: "stop",
      pause_turn: "stop",
      max_tokens: "length",
      model_context_window_exceeded: "length",
      tool_use: "tool_calls",
      refusal: "content_filter",
    });
  });

  it("counts cache reads and writes in the prompt, as OpenAI does, and reports them as cached and cache-write tokens", () => {
    expect(fromAnthropicUsage({ input_tokens: 100, cache_creation_input_tokens: 20, cache_read_input_tokens: 30, output_tokens: 10 })).toEqual({
      prompt_tokens: 150,
      completion_tokens: 10,
      total_tokens: 160,
      prompt_tokens_details: { cached_tokens: 30, cache_write_tokens: 20 },
    });
  });

  it("turns a streamed tool call into indexed tool-call deltas and a finish chunk with the final usage", () => {
    const events = readWire("samples", "anthropic", "stream.tool_use.sse")
      .split("\n\n")
      .filter(Boolean)
      .map((event) => JSON.parse(event.split("\n")[1].slice(6)) as RawMessageStreamEvent);
    const state = createAnthropicStreamState();
    const chunks = events.map((event) => fromAnthropicStreamEvent(event, state)).filter((chunk): chunk is ChatCompletionChunk => chunk !== undefined);
    expect(chunks[0].choices[0].delta).toEqual({ content: "Let me check the weather." });
    expect(chunks[1].choices[0].delta).toEqual({ tool_calls: [{ index: 0, id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", type: "function", function: { name: "get_weather", arguments: "" } }] });
    const args = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []).map((d) => d.function?.arguments ?? "").join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris" });
    const last = chunks.at(-1)!;
    expect(last.choices[0].finish_reason).toBe("tool_calls");
    // Input from message_start; output from the last, cumulative, message_delta.
    expect(last.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
  });
});

describe("the Anthropic error mapping", () => {
  const headers = (init: Record<string, string> = {}) => new Headers(init);

  it("reads the vendor's message and retry-after, and names overloaded and auth failures", () => {
    const limited = fromAnthropicError(429, sample("anthropic", "error.429.json"), headers({ "retry-after": "12" }));
    expect(limited).toMatchObject({ provider: "anthropic", status: 429, retryAfterSeconds: 12 });
    expect(limited.message).toMatch(/^Number of request tokens has exceeded/);
    expect(fromAnthropicError(529, sample("anthropic", "error.529.json"), headers())).toMatchObject({ status: 529 });
    expect(fromAnthropicError(401, sample("anthropic", "error.401.json"), headers())).toMatchObject({ status: 401, authFailed: true });
  });

  it("treats a mid-stream overloaded error event, which has no status, as overloaded", () => {
    // The data of an `event: error` in a stream.
    expect(fromAnthropicError(undefined, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } })).toMatchObject({ status: 529, message: "Overloaded" });
  });
});

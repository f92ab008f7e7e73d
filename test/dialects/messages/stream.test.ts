import { describe, expect, it } from "vitest";
import { messagesStreamEncoder } from "../../../src/dialects/messages/stream";
import type { AnswerMeta } from "../../../src/dialects/types";
import { createAPIError } from "../../../src/errors";
import type { ChatCompletionChunk } from "../../../src/schema";

const meta: AnswerMeta = { id: "msg_1", created: 0, model: "openai/gpt-4o-mini", threadId: null, request: { model: "openai/gpt-4o-mini", messages: [] }, promptTokens: 7 };
const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"]): ChatCompletionChunk => ({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: null }] });
const parse = (frames: string) =>
  frames
    .split("\n\n")
    .filter(Boolean)
    .map((frame) => JSON.parse(frame.split("\n")[1].slice("data: ".length)) as { type: string } & Record<string, unknown>);

describe("the Messages stream encoder", () => {
  it("opens one block per text run and per tool call, each with its own index, and closes them in order", () => {
    const encoder = messagesStreamEncoder(meta);
    const frames =
      encoder.open!() +
      encoder.chunk(chunk({ content: "Hi" })) +
      encoder.chunk(chunk({ tool_calls: [{ index: 0, id: "call_a", function: { name: "f", arguments: '{"x":' } }] })) +
      encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] })) +
      encoder.chunk(chunk({ tool_calls: [{ index: 1, id: "call_b", function: { name: "g", arguments: "{}" } }] })) +
      encoder.end({ usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 }, finishReason: "tool_calls", reply: { role: "assistant", content: "Hi", refusal: null } });
    const events = parse(frames);
    expect(events.map((e) => e.type)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[0]).toMatchObject({ message: { id: "msg_1", model: "openai/gpt-4o-mini", usage: { input_tokens: 7 } } });
    expect(events.filter((e) => e.type === "content_block_start").map((e) => [e.index, (e.content_block as { id?: string }).id])).toEqual([
      [0, undefined],
      [1, "toolu_call_a"],
      [2, "toolu_call_b"],
    ]);
    expect(events.at(-2)).toEqual({ type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { input_tokens: 7, output_tokens: 3, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } });
  });

  it("ends a failed stream with one error event in Anthropic's shape", () => {
    const [event] = parse(messagesStreamEncoder(meta).fail(createAPIError({ code: "upstream_overloaded", message: "busy" })));
    expect(event).toEqual({ type: "error", error: { type: "overloaded_error", message: "busy" } });
  });
});

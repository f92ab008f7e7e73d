import { describe, expect, it } from "vitest";
import { attachCall } from "../../../src/dialects/responses/call";
import { newResponseId } from "../../../src/dialects/responses/ids";
import { responsesStreamEncoder } from "../../../src/dialects/responses/stream";
import type { AnswerMeta } from "../../../src/dialects/types";
import { createAPIError } from "../../../src/errors";
import type { ChatCompletionChunk, ChatRequest } from "../../../src/schema";
import { assertResponsesEvent } from "../../_openai-responses-schemas";

function meta(): AnswerMeta {
  const request: ChatRequest = { model: "echo/echo", messages: [{ role: "user", content: "hi" }] };
  attachCall(request, { body: { model: "echo/echo", input: "hi" }, tools: [], store: true, inputItems: [], refusedTool: null, dropUnsupportedTools: false });
  return { id: newResponseId(), created: 1_700_000_000, model: "echo/echo", threadId: "thread_1", request, promptTokens: 3 };
}

const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"]): ChatCompletionChunk => ({ id: "", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: null }] });

function events(frames: string): Array<{ type: string; sequence_number: number } & Record<string, unknown>> {
  return frames.split("\n\n").filter(Boolean).map((frame) => {
    const [event, data] = frame.split("\n");
    const parsed = JSON.parse(data.slice("data: ".length));
    expect(event).toBe(`event: ${parsed.type}`);
    assertResponsesEvent(parsed);
    return parsed;
  });
}

describe("the Responses stream encoder", () => {
  it("closes the text item before the first call's item, and numbers parallel calls after it", () => {
    const encoder = responsesStreamEncoder(meta());
    let frames = encoder.open!();
    frames += encoder.chunk(chunk({ role: "assistant", content: "Let me look." }));
    frames += encoder.chunk(chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "one", arguments: "" } }] }));
    frames += encoder.chunk(chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "two", arguments: '{"x"' } }] }));
    frames += encoder.chunk(chunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }, { index: 1, function: { arguments: ":1}" } }] }));
    frames += encoder.end({
      usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 },
      finishReason: "tool_calls",
      reply: { role: "assistant", content: "Let me look.", refusal: null },
    });
    const list = events(frames);
    expect(list.map((e) => e.sequence_number)).toEqual(list.map((_, i) => i));
    const textDone = list.findIndex((e) => e.type === "response.output_item.done");
    const firstCall = list.findIndex((e) => e.type === "response.output_item.added" && (e.item as { type: string }).type === "function_call");
    expect(textDone).toBeLessThan(firstCall);
    const done = list.filter((e) => e.type === "response.function_call_arguments.done");
    expect(done.map((e) => [e.output_index, e.name, e.arguments])).toEqual([
      [1, "one", "{}"],
      [2, "two", '{"x":1}'],
    ]);
    const completed = list.at(-1)!;
    expect(completed.type).toBe("response.completed");
    expect((completed.response as { output: Array<{ type: string }> }).output.map((item) => item.type)).toEqual(["message", "function_call", "function_call"]);
    expect(encoder.answer!()).toEqual(completed.response);
  });

  it("fails with the spec's error event (and a nested error) then response.failed", () => {
    const encoder = responsesStreamEncoder(meta());
    const frames = encoder.open!() + encoder.chunk(chunk({ content: "Hel" })) + encoder.fail(createAPIError({ code: "upstream_error", message: "The vendor failed." }));
    const list = events(frames);
    const [error, failed] = list.slice(-2);
    expect(error).toMatchObject({ type: "error", code: "server_error", message: "The vendor failed.", param: null, error: { type: "upstream_error", code: "server_error", message: "The vendor failed." } });
    expect(failed).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "server_error", message: "The vendor failed." } } });
  });
});

describe("an answer that says nothing", () => {
  it("is one empty message item, streamed with its added and done events", () => {
    const encoder = responsesStreamEncoder(meta());
    const frames = encoder.open!() + encoder.chunk(chunk({ role: "assistant", content: "" })) + encoder.end({ usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 }, finishReason: "stop", reply: { role: "assistant", content: "", refusal: null } });
    const list = events(frames);
    expect(list.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect((list.at(-1)!.response as { output: unknown[] }).output).toHaveLength(1);
  });
});

import { describe, expect, it } from "vitest";
import { toMessagesAnswer } from "../../../src/dialects/messages/answer";
import type { AnswerMeta } from "../../../src/dialects/types";

const meta: AnswerMeta = { id: "msg_1", created: 0, model: "openai/gpt-4o-mini", threadId: null, request: { model: "openai/gpt-4o-mini", messages: [] }, promptTokens: 7 };

describe("the Messages answer", () => {
  it("reports input tokens without cache reads and writes, which get their own fields", () => {
    const answer = toMessagesAnswer(
      {
        id: "msg_2",
        object: "chat.completion",
        created: 0,
        model: "m",
        thread_id: null,
        choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, logprobs: null, finish_reason: "length" }],
        usage: { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 30 } },
      },
      meta,
    );
    expect(answer).toEqual({
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "openai/gpt-4o-mini",
      content: [{ type: "text", text: "ok" }],
      stop_reason: "max_tokens",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 60, cache_creation_input_tokens: 30 },
    });
  });
});

import { describe, expect, it } from "vitest";
import { chatStreamEncoder } from "../../../src/dialects/chat/stream";
import type { AnswerMeta } from "../../../src/dialects/types";
import type { ChatRequest } from "../../../src/schema";

const meta = (threadId: string | null, includeUsage: boolean): AnswerMeta => ({
  id: "chatcmpl-abc",
  created: 1_796_322_563,
  model: "openai/gpt-4o-mini",
  threadId,
  request: { model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true, ...(includeUsage && { stream_options: { include_usage: true } }) } as ChatRequest,
  promptTokens: 3,
});

/** What OpenAI sends, field by field and in its order, as the frame's JSON text. */
const frame = (fields: object) => `data: ${JSON.stringify(fields)}\n\n`;
const head = { id: "chatcmpl-abc", object: "chat.completion.chunk", created: 1_796_322_563, model: "openai/gpt-4o-mini" };
const usage = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 };
const reply = { role: "assistant" as const, content: "Hi there", refusal: null };

describe("the chat completions stream encoder", () => {
  for (const [threadId, includeUsage] of [["thread_1", true], ["thread_\"q\"", false], [null, true], [null, false]] as const) {
    it(`writes OpenAI's chunks byte for byte (thread ${threadId ?? "none"}, usage ${includeUsage ? "asked for" : "not asked for"})`, () => {
      const encoder = chatStreamEncoder(meta(threadId, includeUsage));
      const extra = { ...(includeUsage && { usage: null }), ...(threadId !== null && { thread_id: threadId }) };
      const first = encoder.chunk({ id: "up-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] });
      expect(first).toBe(frame({ ...head, choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, logprobs: null, finish_reason: null }], ...extra }));
      const second = encoder.chunk({ id: "up-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, delta: { content: " there" }, finish_reason: null }] });
      expect(second).toBe(frame({ ...head, choices: [{ index: 0, delta: { content: " there" }, logprobs: null, finish_reason: null }], ...extra }));
      expect(encoder.chunk({ id: "up-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini", choices: [], usage })).toBe("");
      const end = encoder.end({ usage, reply, finishReason: "stop" });
      const finish = frame({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }], ...extra });
      const usageFrame = includeUsage ? frame({ ...head, choices: [], usage, ...(threadId !== null && { thread_id: threadId }) }) : "";
      expect(end).toBe(`${finish}${usageFrame}data: [DONE]\n\n`);
      for (const text of [first, second, end]) {
        for (const line of text.split("\n\n").filter((l) => l && l !== "data: [DONE]")) expect(() => JSON.parse(line.slice("data: ".length))).not.toThrow();
      }
    });
  }

  it("sends no second finish chunk when the upstream's carried the finish reason", () => {
    const encoder = chatStreamEncoder(meta("thread_1", false));
    encoder.chunk({ id: "u", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: {}, finish_reason: "length" }] });
    expect(encoder.end({ usage, reply, finishReason: "length" })).toBe("data: [DONE]\n\n");
  });
});

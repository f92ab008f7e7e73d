import { toErrorBody } from "../../errors";
import type { ChatCompletionChunk } from "../../schema";
import type { AnswerMeta, StreamEncoder } from "../types";

/**
 * OpenAI's chat-completion SSE: one `id` and `created` for the whole stream, the role in
 * the first delta, `thread_id` on every chunk, `usage: null` on each chunk and the final
 * usage in a last chunk when `stream_options.include_usage` is set, then `[DONE]`. A
 * failure mid-way is one OpenAI-style error event.
 */
export function chatStreamEncoder(meta: AnswerMeta): StreamEncoder {
  const includeUsage = meta.request.stream_options?.include_usage === true;
  const thread = meta.threadId === null ? {} : { thread_id: meta.threadId };
  let sentRole = false;
  let sentFinish = false;
  const frame = (payload: object) => `data: ${JSON.stringify(payload)}\n\n`;
  const base = () => ({ id: meta.id, object: "chat.completion.chunk", created: meta.created, model: meta.model });

  return {
    chunk(chunk: ChatCompletionChunk) {
      // Usage-only chunks say nothing here: ours comes last.
      if (chunk.choices.length === 0) return "";
      const choices = chunk.choices.map((choice) => {
        const delta = sentRole ? choice.delta : { role: "assistant" as const, ...choice.delta };
        if (choice.finish_reason) sentFinish = true;
        return { index: choice.index, delta, logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason ?? null };
      });
      sentRole = true;
      return frame({ ...base(), choices, ...(includeUsage && { usage: null }), ...thread });
    },
    end({ usage, finishReason }) {
      let out = "";
      if (!sentFinish) out += frame({ ...base(), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: finishReason }], ...(includeUsage && { usage: null }), ...thread });
      if (includeUsage) out += frame({ ...base(), choices: [], usage, ...thread });
      return `${out}data: [DONE]\n\n`;
    },
    fail(error) {
      return frame({ ...toErrorBody(error).body, ...thread });
    },
  };
}

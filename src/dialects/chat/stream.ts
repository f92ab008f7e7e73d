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
  const threadField = meta.threadId === null ? "" : `,"thread_id":${JSON.stringify(meta.threadId)}`;
  let sentRole = false;
  let sentFinish = false;
  // Every chunk's JSON is {id, object, created, model, choices, [usage,] [thread_id]}: the
  // fields that never change are written once (on first use: the model is the one that
  // answered), so each chunk stringifies only its choices.
  let opening: string | undefined;
  const open = () => (opening ??= `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},"model":${JSON.stringify(meta.model)},"choices":`);
  const closing = `${includeUsage ? ',"usage":null' : ""}${threadField}}\n\n`;

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
      return `${open()}${JSON.stringify(choices)}${closing}`;
    },
    end({ usage, finishReason }) {
      let out = "";
      if (!sentFinish) out += `${open()}[{"index":0,"delta":{},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]${closing}`;
      if (includeUsage) out += `${open()}[],"usage":${JSON.stringify(usage)}${threadField}}\n\n`;
      return `${out}data: [DONE]\n\n`;
    },
    fail(error) {
      return `data: ${JSON.stringify({ ...toErrorBody(error).body, ...thread })}\n\n`;
    },
  };
}

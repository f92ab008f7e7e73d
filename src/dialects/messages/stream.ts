import type { ChatCompletionChunk } from "../../schema";
import type { AnswerMeta, StreamEncoder } from "../types";
import { STOP_REASONS, toMessagesUsage, toolUseId } from "./answer";
import { toMessagesError } from "./errors";

/** One SSE event as Anthropic frames it: an `event:` line naming its `type`. */
export function messagesEvent(type: string, data: object = {}): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Normalized chunks → Anthropic's event sequence: `message_start` and a `ping` first, then
 * each text or tool call as one content block (`content_block_start`, its deltas,
 * `content_block_stop`) with its own `index`, then `message_delta` with the stop reason and
 * the whole usage, then `message_stop`. A failure mid-way is one `event: error`.
 */
export function messagesStreamEncoder(meta: AnswerMeta): StreamEncoder {
  /** The open block: its Anthropic index, and the vendor's tool call index for a tool_use block. */
  let open: { index: number; kind: "text" } | { index: number; kind: "tool"; call: number } | undefined;
  let nextIndex = 0;

  const close = () => {
    if (!open) return "";
    const out = messagesEvent("content_block_stop", { index: open.index });
    open = undefined;
    return out;
  };

  return {
    open() {
      const usage = { input_tokens: meta.promptTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
      const message = { id: meta.id, type: "message", role: "assistant", model: meta.request.model, content: [], stop_reason: null, stop_sequence: null, usage };
      return messagesEvent("message_start", { message }) + messagesEvent("ping");
    },
    chunk(chunk: ChatCompletionChunk) {
      const delta = chunk.choices[0]?.delta;
      if (!delta) return "";
      let out = "";
      const text = (delta.content ?? "") + (delta.refusal ?? "");
      if (text) {
        if (open?.kind !== "text") {
          out += close();
          open = { index: nextIndex++, kind: "text" };
          out += messagesEvent("content_block_start", { index: open.index, content_block: { type: "text", text: "" } });
        }
        out += messagesEvent("content_block_delta", { index: open.index, delta: { type: "text_delta", text } });
      }
      for (const call of delta.tool_calls ?? []) {
        if (open?.kind !== "tool" || open.call !== call.index) {
          out += close();
          open = { index: nextIndex++, kind: "tool", call: call.index };
          const block = { type: "tool_use", id: toolUseId(call.id ?? `call_${meta.id}_${call.index}`), name: call.function?.name ?? "", input: {} };
          out += messagesEvent("content_block_start", { index: open.index, content_block: block });
        }
        const json = call.function?.arguments;
        if (json) out += messagesEvent("content_block_delta", { index: open.index, delta: { type: "input_json_delta", partial_json: json } });
      }
      return out;
    },
    end({ usage, finishReason }) {
      return (
        close() +
        messagesEvent("message_delta", { delta: { stop_reason: STOP_REASONS[finishReason], stop_sequence: null }, usage: toMessagesUsage(usage) }) +
        messagesEvent("message_stop")
      );
    },
    fail(error) {
      return messagesEvent("error", { error: toMessagesError(error).body.error });
    },
  };
}

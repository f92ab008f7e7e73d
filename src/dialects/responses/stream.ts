import { toErrorBody } from "../../errors";
import type { ChatCompletionChunk } from "../../schema";
import type { AnswerMeta, StreamEncoder } from "../types";
import { itemId } from "./ids";
import { outputText, type StoredItem } from "./items";
import { responseObject, statusOf } from "./output";

/**
 * OpenAI's Responses event stream for one answer (RESPONSES.md §6): `response.created` and
 * `response.in_progress`, then per output item its `added`, deltas, `done`s, and last
 * `response.completed` (or `response.incomplete`) carrying the whole output and the usage.
 * Every event has the next `sequence_number`; no `[DONE]`. A failure mid-way is an `error`
 * event (the spec's fields and a nested `error`, so every client stops at once) and then
 * `response.failed`.
 */
export function responsesStreamEncoder(meta: AnswerMeta): StreamEncoder {
  let sequence = 0;
  const output: StoredItem[] = [];
  // The text item being written, and the function calls by their chat stream index.
  let text: { index: number; id: string; text: string } | null = null;
  const calls = new Map<number, { index: number; item: Extract<StoredItem, { type: "function_call" }> }>();
  let finalAnswer: Record<string, unknown> | undefined;

  const event = (type: string, payload: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload, sequence_number: sequence++ })}\n\n`;

  const openText = (): string => {
    const current = { index: output.length, id: itemId(meta.id, "msg", "o", output.length), text: "" };
    text = current;
    output.push({ id: current.id, type: "message", role: "assistant", status: "in_progress" as "completed", content: [] });
    return (
      event("response.output_item.added", { output_index: current.index, item: { id: current.id, type: "message", status: "in_progress", role: "assistant", content: [] } }) +
      event("response.content_part.added", { item_id: current.id, output_index: current.index, content_index: 0, part: outputText("") })
    );
  };
  const closeText = (status: "completed" | "incomplete"): string => {
    if (!text) return "";
    const { index, id } = text;
    const part = outputText(text.text);
    const item: StoredItem = { id, type: "message", role: "assistant", status, content: [part] };
    output[index] = item;
    text = null;
    return (
      event("response.output_text.done", { item_id: id, output_index: index, content_index: 0, text: (part as { text: string }).text, logprobs: [] }) +
      event("response.content_part.done", { item_id: id, output_index: index, content_index: 0, part }) +
      event("response.output_item.done", { output_index: index, item })
    );
  };
  const closeCalls = (): string => {
    let out = "";
    for (const { index, item } of calls.values()) {
      out += event("response.function_call_arguments.done", { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
      out += event("response.output_item.done", { output_index: index, item });
    }
    calls.clear();
    return out;
  };

  return {
    open() {
      const snapshot = responseObject(meta, { status: "in_progress", output: [] });
      return event("response.created", { response: snapshot }) + event("response.in_progress", { response: snapshot });
    },
    chunk(chunk: ChatCompletionChunk) {
      const delta = chunk.choices[0]?.delta;
      if (!delta) return "";
      let out = "";
      if (delta.content) {
        if (!text) out += openText();
        const current = text!;
        current.text += delta.content;
        out += event("response.output_text.delta", { item_id: current.id, output_index: current.index, content_index: 0, delta: delta.content, logprobs: [] });
      }
      for (const piece of delta.tool_calls ?? []) {
        let call = calls.get(piece.index);
        if (!call) {
          // The text item ends before the first call's item begins.
          out += closeText("completed");
          const index = output.length;
          const item = { id: itemId(meta.id, "fc", "o", index), type: "function_call" as const, status: "completed" as const, call_id: piece.id ?? `call_${index}`, name: piece.function?.name ?? "", arguments: "" };
          call = { index, item };
          calls.set(piece.index, call);
          output.push(item);
          out += event("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress" } });
        }
        const args = piece.function?.arguments;
        if (args) {
          call.item.arguments += args;
          out += event("response.function_call_arguments.delta", { item_id: call.item.id, output_index: call.index, delta: args });
        }
      }
      return out;
    },
    end({ usage, finishReason, reply }) {
      const status = statusOf(finishReason);
      // An answer that said nothing is one empty message, as a whole answer gives it (clients need an output item).
      let out = (output.length === 0 && !reply.refusal ? openText() : "") + closeText(status) + closeCalls();
      // A refusal streams no text events: it is in the final output only.
      if (reply.refusal) {
        output.push({ id: itemId(meta.id, "msg", "o", output.length), type: "message", role: "assistant", status, content: [{ type: "refusal", refusal: reply.refusal }] });
      }
      finalAnswer = responseObject(meta, { status, output, usage, finishReason });
      out += event(status === "completed" ? "response.completed" : "response.incomplete", { response: finalAnswer });
      return out;
    },
    fail(error) {
      const { status, body } = toErrorBody(error);
      const code = status === 429 ? "rate_limit_exceeded" : "server_error";
      const { message, param, type } = body.error;
      return (
        event("error", { code, message, param, error: { type, code, message, param } }) +
        event("response.failed", { response: responseObject(meta, { status: "failed", output: [], error: { code, message } }) })
      );
    },
    answer: () => finalAnswer,
  };
}

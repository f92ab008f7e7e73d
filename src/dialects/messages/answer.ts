import type { FinishReason, ToolCall, Usage } from "../../schema";
import type { AnswerMeta, NormalizedCompletion } from "../types";

/** OpenAI finish reasons → Anthropic stop reasons (a stop on a stop sequence reads as `end_turn`: vendors do not say which). */
export const STOP_REASONS: Record<FinishReason, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  content_filter: "refusal",
};

/** Anthropic's usage block. */
export interface MessagesUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/**
 * Pure: the gateway's usage → Anthropic's. `prompt_tokens` counts every input token, cache
 * reads and writes included (src/schema.ts); Anthropic's `input_tokens` leaves both out.
 */
export function toMessagesUsage(usage: Usage): MessagesUsage {
  const read = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const write = usage.prompt_tokens_details?.cache_write_tokens ?? 0;
  return { input_tokens: Math.max(0, usage.prompt_tokens - read - write), output_tokens: usage.completion_tokens, cache_creation_input_tokens: write, cache_read_input_tokens: read };
}

/**
 * A tool-use id as Anthropic writes them (`toolu_…`), made from the vendor's call id so
 * the same call keeps the same id across turns; the id comes back as the vendor's call id
 * (a Gemini thought signature inside it included) when the client continues.
 */
export function toolUseId(callId: string): string {
  return callId.startsWith("toolu_") ? callId : `toolu_${callId}`;
}

/** A tool call's arguments as the `input` object Anthropic sends; `{}` for what does not parse. */
export function toolInput(call: ToolCall): Record<string, unknown> {
  try {
    const input: unknown = JSON.parse(call.function.arguments || "{}");
    return input && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Pure: the normalized completion → Anthropic's `message`, under the model name the client sent. */
export function toMessagesAnswer(completion: NormalizedCompletion, meta: AnswerMeta): object {
  const choice = completion.choices[0];
  const content: object[] = [];
  const text = choice?.message.content ?? "";
  if (text) content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) content.push({ type: "tool_use", id: toolUseId(call.id), name: call.function.name, input: toolInput(call) });
  return {
    id: meta.id,
    type: "message",
    role: "assistant",
    model: meta.request.model,
    content,
    stop_reason: STOP_REASONS[choice?.finish_reason ?? "stop"],
    stop_sequence: null,
    usage: toMessagesUsage(completion.usage),
  };
}

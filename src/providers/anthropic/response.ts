import type { AnthropicMessage as Message, AnthropicStopReason as StopReason } from "./wire-types";
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../schema";
import type { UpstreamFailure } from "../_errors";
import { retryAfterSeconds } from "../_mapping";
import type { HeaderReader } from "../_upstream";

/** Anthropic stop reasons → OpenAI finish reasons. */
export const ANTHROPIC_FINISH_REASONS: Record<StopReason, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** Pure: Anthropic's message → an OpenAI `chat.completion` (the gateway sets id and created). */
export function fromAnthropicMessage(message: Message): ChatCompletion {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content ?? []) {
    if (block.type === "text") text += block.text ?? "";
    else if (block.type === "tool_use") toolCalls.push({ id: block.id ?? "", type: "function", function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) } });
  }
  return {
    id: message.id,
    object: "chat.completion",
    created: 0,
    model: message.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text || (toolCalls.length ? null : ""), refusal: null, ...(toolCalls.length && { tool_calls: toolCalls }) },
        finish_reason: ANTHROPIC_FINISH_REASONS[message.stop_reason ?? "end_turn"] ?? "stop",
        logprobs: null,
      },
    ],
    usage: fromAnthropicUsage(message.usage ?? {}),
  };
}

/** Anthropic's token counts, as they accumulate over a stream. */
export interface AnthropicUsageCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/**
 * Pure: Anthropic usage → OpenAI usage. Anthropic's `input_tokens` leaves out cached
 * input, so prompt = input + cache writes + cache reads (OpenAI's prompt includes cached
 * tokens), `cached_tokens` is the cache reads and `cache_write_tokens` the writes.
 */
export function fromAnthropicUsage(usage: AnthropicUsageCounts): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + written + cached;
  const completion = usage.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached, ...(written > 0 && { cache_write_tokens: written }) } };
}

/**
 * Pure: an Anthropic error (an HTTP status with its `{type:"error", error:{type, message}}`
 * body, or a mid-stream `event: error` without a status) → what the gateway knows of it.
 */
export function fromAnthropicError(status: number | undefined, body: unknown, headers?: HeaderReader): UpstreamFailure {
  const error = (body as { error?: { type?: unknown; message?: unknown } } | undefined)?.error;
  const type = typeof error?.type === "string" ? error.type : undefined;
  const message = typeof error?.message === "string" ? error.message : typeof body === "string" && body ? body : undefined;
  return {
    provider: "anthropic",
    // A mid-stream error has no HTTP status; its type still says what happened.
    status: status ?? (type === "overloaded_error" ? 529 : type === "rate_limit_error" ? 429 : undefined),
    message,
    retryAfterSeconds: retryAfterSeconds(headers),
    authFailed: type === "authentication_error" || type === "permission_error",
    cause: body,
  };
}

import type { OpenAICompletion, OpenAIFinishReason, OpenAILogprobs, OpenAIUsage } from "./wire-types";
import type { ChatCompletion, ChoiceLogprobs, FinishReason, ToolCall, Usage } from "../../schema";
import type { UpstreamFailure } from "../_errors";
import { retryAfterSeconds } from "../_mapping";
import type { HeaderReader } from "../_upstream";

/** OpenAI finish reasons → the gateway's (the legacy `function_call` is a tool call). */
export const OPENAI_FINISH_REASONS: Record<OpenAIFinishReason, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

/** Pure: OpenAI's `chat.completion` → the gateway's (first choice; the gateway sets id and created). */
export function fromOpenAICompletion(completion: OpenAICompletion): ChatCompletion {
  const choice = completion.choices?.[0];
  const message = choice?.message;
  const toolCalls: ToolCall[] = [];
  for (const call of message?.tool_calls ?? []) {
    if (call.type === "function" && call.function) toolCalls.push({ id: call.id, type: "function", function: { name: call.function.name, arguments: call.function.arguments } });
  }
  return {
    id: completion.id,
    object: "chat.completion",
    created: completion.created,
    model: completion.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: message?.content ?? (toolCalls.length ? null : ""), refusal: message?.refusal ?? null, ...(toolCalls.length && { tool_calls: toolCalls }) },
        finish_reason: OPENAI_FINISH_REASONS[choice?.finish_reason ?? "stop"] ?? "stop",
        logprobs: passLogprobs(choice?.logprobs),
      },
    ],
    usage: completion.usage ? fromOpenAIUsage(completion.usage) : undefined,
  };
}

/** Pure: OpenAI usage, keeping the cached and reasoning counts. */
export function fromOpenAIUsage(usage: OpenAIUsage): Usage {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
    ...(typeof cached === "number" && { prompt_tokens_details: { cached_tokens: cached } }),
    ...(typeof reasoning === "number" && { completion_tokens_details: { reasoning_tokens: reasoning } }),
  };
}

/**
 * Pure: an OpenAI error (an HTTP status with its body, or a mid-stream `{error}` event
 * without one) → what the gateway knows of the failure. `provider` is the id it runs
 * under (an OpenAI-compatible vendor's own).
 */
export function fromOpenAIError(status: number | undefined, body: unknown, headers?: HeaderReader, provider = "openai"): UpstreamFailure {
  const error = (body as { error?: { message?: unknown; code?: unknown; type?: unknown } } | undefined)?.error;
  // Some compatible servers answer a bare string or `{message}`.
  const message = typeof error?.message === "string" ? error.message : typeof (body as { message?: unknown })?.message === "string" ? (body as { message: string }).message : undefined;
  return {
    provider,
    status,
    message,
    retryAfterSeconds: retryAfterSeconds(headers),
    // OpenAI says "out of credit" with a 429, but waiting cannot fix it as it fixes a rate limit.
    billingFailed: error?.code === "insufficient_quota" || error?.type === "insufficient_quota",
    cause: body,
  };
}

// --- internal ---

/**
 * OpenAI's logprobs (asked for with `logprobs`/`top_logprobs`), passed through untouched.
 * The gateway's schema types choice logprobs as `null`, which no other vendor can fill.
 */
export function passLogprobs(logprobs: OpenAILogprobs | undefined): ChoiceLogprobs | null {
  return (logprobs as ChoiceLogprobs | null | undefined) ?? null;
}

import type { GeminiFinishReason, GeminiPart as Part, GeminiResponse, GeminiUsageMetadata as GenerateContentResponseUsageMetadata } from "./wire-types";

export type { GeminiResponse } from "./wire-types";
import type { ChatCompletion, FinishReason, ToolCall, Usage } from "../../schema";
import type { UpstreamFailure } from "../_errors";
import { createCallId, GEMINI_SIGNATURE_SEPARATOR, retryAfterSeconds } from "../_mapping";
import type { HeaderReader } from "../_upstream";

const PROVIDER_NAME = "gemini";

/** Gemini finish reasons → OpenAI's (a function call finishes with STOP: see fromGeminiResponse). */
export const GEMINI_FINISH_REASONS: Record<GeminiFinishReason, FinishReason> = {
  FINISH_REASON_UNSPECIFIED: "stop",
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  LANGUAGE: "content_filter",
  OTHER: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  MALFORMED_FUNCTION_CALL: "stop",
  UNEXPECTED_TOOL_CALL: "stop",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
  IMAGE_OTHER: "content_filter",
  NO_IMAGE: "stop",
};


/** Pure: a Gemini response → an OpenAI `chat.completion` (the gateway sets id and created). */
export function fromGeminiResponse(response: GeminiResponse): ChatCompletion {
  const candidate = response.candidates?.[0];
  const { text, toolCalls } = readParts(candidate?.content?.parts);
  return {
    id: response.responseId ?? "",
    object: "chat.completion",
    created: 0,
    model: response.modelVersion ?? "",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text || (toolCalls.length ? null : ""), refusal: null, ...(toolCalls.length && { tool_calls: toolCalls }) },
        finish_reason: finishReason(response, toolCalls.length > 0) ?? "stop",
        logprobs: null,
      },
    ],
    usage: fromGeminiUsage(response.usageMetadata),
  };
}

/**
 * Pure: Gemini usage → OpenAI usage; undefined when Gemini reported none (no prompt
 * count), so the gateway estimates instead of billing zero. Thinking tokens are output
 * the model wrote, so completion = candidates + thoughts (OpenAI's completion includes
 * reasoning), and the total is their sum with the prompt, as Gemini's `totalTokenCount` is.
 */
export function fromGeminiUsage(usage: GenerateContentResponseUsageMetadata | undefined): Usage | undefined {
  if (typeof usage?.promptTokenCount !== "number") return undefined;
  const prompt = usage.promptTokenCount + (usage.toolUsePromptTokenCount ?? 0);
  const thoughts = usage.thoughtsTokenCount ?? 0;
  // A candidates count Gemini leaves out is what its total has left, not zero.
  const candidates = usage.candidatesTokenCount ?? Math.max(0, (usage.totalTokenCount ?? 0) - prompt - thoughts);
  const completion = candidates + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/**
 * Pure: a Gemini error (an HTTP status with Google's `{error:{code, message, status,
 * details}}`, or the same object as a mid-stream event) → what the gateway knows of it:
 * the larger of a `retry-after` header and `RetryInfo.retryDelay` for 429s, and
 * `API_KEY_INVALID` (a 400) for a bad key.
 */
export function fromGeminiError(status: number | undefined, body: unknown, headers?: HeaderReader): UpstreamFailure {
  const error = (body as { error?: GoogleErrorBody } | undefined)?.error;
  const delays: number[] = [];
  let authFailed = false;
  const header = retryAfterSeconds(headers);
  if (header !== undefined) delays.push(header);
  for (const detail of Array.isArray(error?.details) ? error.details : []) {
    if (detail["@type"]?.endsWith("google.rpc.RetryInfo") && typeof detail.retryDelay === "string") delays.push(Number.parseFloat(detail.retryDelay));
    if (detail.reason === "API_KEY_INVALID" || detail.reason === "API_KEY_EXPIRED") authFailed = true;
  }
  // Both may come (a proxy's header, Google's RetryInfo): the larger, because retrying
  // before either one's time is up only meets the same refusal again.
  const valid = delays.filter(Number.isFinite);
  return {
    provider: PROVIDER_NAME,
    status: status ?? (typeof error?.code === "number" ? error.code : undefined),
    message: typeof error?.message === "string" ? error.message : typeof body === "string" && body ? body : undefined,
    retryAfterSeconds: valid.length ? Math.max(...valid) : undefined,
    authFailed,
    cause: body,
  };
}

// --- internal ---

interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ "@type"?: string; reason?: string; retryDelay?: string }>;
}

/** Text (thoughts left out) and tool calls of a candidate's parts; a thought signature rides in the call id. */
export function readParts(parts: Part[] | undefined): { text: string; toolCalls: ToolCall[] } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const part of parts ?? []) {
    // Thought summaries are the model's reasoning, not its answer.
    if (typeof part.text === "string" && !part.thought) text += part.text;
    if (part.functionCall?.name) toolCalls.push(toolCallOf(part as Part & { functionCall: { name: string } }));
  }
  return { text, toolCalls };
}

/** A part's function call as an OpenAI tool call; its thought signature rides in the call id. */
export function toolCallOf(part: Part & { functionCall: { name: string } }): ToolCall {
  const id = part.thoughtSignature ? `${createCallId()}${GEMINI_SIGNATURE_SEPARATOR}${part.thoughtSignature}` : createCallId();
  return { id, type: "function", function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } };
}

/** The finish reason of a response, if it has one; a call of tools finishes as `tool_calls`. */
export function finishReason(response: GeminiResponse, calledTools: boolean): FinishReason | undefined {
  // A blocked prompt has no candidates, only promptFeedback.
  if (!response.candidates?.length && response.promptFeedback?.blockReason) return "content_filter";
  const reason = response.candidates?.[0]?.finishReason;
  if (!reason) return undefined;
  const mapped = GEMINI_FINISH_REASONS[reason as GeminiFinishReason] ?? "stop";
  return mapped === "stop" && calledTools ? "tool_calls" : mapped;
}

import type { AssistantMessage, FinishReason, Usage } from "../../schema";
import type { AnswerMeta } from "../types";
import { callOf } from "./call";
import { itemId } from "./ids";
import { outputText, type OutputPart, type StoredItem } from "./items";

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** What a response object says beyond the request's echo. */
export interface ResponseState {
  status: ResponseStatus;
  output: StoredItem[];
  usage?: Usage;
  finishReason?: FinishReason;
  error?: { code: string; message: string };
}

/**
 * The response object as OpenAI shapes it (RESPONSES.md §4): every key the spec requires,
 * `usage` only once the answer is done, and agentgate's `thread_id` (null when not stored).
 */
export function responseObject(meta: AnswerMeta, state: ResponseState): Record<string, unknown> {
  const { body, tools, store } = callOf(meta.request);
  const done = state.status !== "in_progress";
  const incomplete = state.status === "incomplete" ? { reason: state.finishReason === "content_filter" ? "content_filter" : "max_output_tokens" } : null;
  return {
    id: meta.id,
    object: "response",
    created_at: meta.created,
    status: state.status,
    background: false,
    completed_at: state.status === "completed" ? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: incomplete,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: meta.model,
    output: state.output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: body.reasoning?.summary ?? null },
    service_tier: "default",
    store,
    temperature: body.temperature ?? 1,
    text: { format: body.text?.format ?? { type: "text" }, verbosity: body.text?.verbosity ?? "medium" },
    // A built-in tool's choice was dropped with its tool: the model chose freely.
    tool_choice: typeof body.tool_choice === "object" && body.tool_choice?.type !== "function" && body.tool_choice?.type !== "allowed_tools" ? "auto" : (body.tool_choice ?? "auto"),
    tools,
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? "disabled",
    ...(done && state.usage && { usage: toResponsesUsage(state.usage) }),
    metadata: body.metadata ?? {},
    thread_id: meta.threadId,
  };
}

/** The status a chat finish reason gives a response (RESPONSES.md §3.2). */
export function statusOf(finishReason: FinishReason): "completed" | "incomplete" {
  return finishReason === "length" || finishReason === "content_filter" ? "incomplete" : "completed";
}

/** A whole assistant reply as output items: the message (when it says something), then each call. */
export function outputItems(responseId: string, reply: AssistantMessage, status: "completed" | "incomplete" = "completed"): StoredItem[] {
  const items: StoredItem[] = [];
  const content: OutputPart[] = [];
  if (reply.content) content.push(outputText(reply.content));
  if (reply.refusal) content.push({ type: "refusal", refusal: reply.refusal });
  // An answer that said nothing (no text, no call) is still one message: clients read output items.
  if (!content.length && !reply.tool_calls?.length) content.push(outputText(""));
  if (content.length) items.push({ id: itemId(responseId, "msg", "o", 0), type: "message", role: "assistant", status, content });
  for (const call of reply.tool_calls ?? []) {
    items.push({ id: itemId(responseId, "fc", "o", items.length), type: "function_call", status: "completed", call_id: call.id, name: call.function.name, arguments: call.function.arguments });
  }
  return items;
}

/** Chat usage → Responses usage: every detail the spec requires, zero when the vendor gave none. */
export function toResponsesUsage(usage: Usage) {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0, cache_write_tokens: usage.prompt_tokens_details?.cache_write_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
  };
}

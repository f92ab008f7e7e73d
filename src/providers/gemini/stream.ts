import type { ChatCompletionChunk, ToolCallDelta, Usage } from "../../schema";
import type { SSEEvent } from "../_sse";
import { eventJSON, StreamFailure } from "../_wire";
import type { GeminiPart as Part } from "./wire-types";
import { finishReason, fromGeminiUsage, toolCallOf, type GeminiResponse } from "./response";

/** What a stream mapping remembers between Gemini chunks. */
export interface GeminiStreamState {
  toolCalls: number;
  /** `parallel_tool_calls: false`: the turn's first function call is passed on, later ones are not (Gemini has no such switch). */
  oneCall?: boolean;
  finished: boolean;
  /** The last usage Gemini reported: each chunk's count supersedes the one before. */
  usage?: Usage;
  /** That count as Gemini sent it, turned into `usage` only when a chunk carries it (most never do). */
  usageMetadata?: GeminiResponse["usageMetadata"];
}

/** A fresh state for one stream (of a request with `parallel_tool_calls: false`: one function call at most). */
export function createGeminiStreamState(request?: { parallel_tool_calls?: boolean | null }): GeminiStreamState {
  return { toolCalls: 0, finished: false, ...(request?.parallel_tool_calls === false && { oneCall: true }) };
}

/**
 * Pure but for `state`: one streamed Gemini response → OpenAI chunks. Function calls
 * arrive whole, so each becomes one tool-call delta with its index. The finish chunk
 * carries the last usage seen; Gemini may send its final count after the finish reason,
 * so a later usage becomes a usage-only chunk (`choices: []`), which the gateway bills.
 */
export function fromGeminiStreamChunk(response: GeminiResponse, state: GeminiStreamState): ChatCompletionChunk[] {
  const out = mapStreamChunk(response, state);
  return out === undefined ? [] : Array.isArray(out) ? out : [out];
}

/** Pure but for `state`: one SSE event → chunks; an `{error}` event throws. */
export function fromGeminiSSE(event: SSEEvent, state: GeminiStreamState): ChatCompletionChunk | ChatCompletionChunk[] | undefined {
  const data = eventJSON<GeminiResponse & { error?: unknown }>("gemini", event);
  if (data.error) throw new StreamFailure(data);
  return mapStreamChunk(data, state);
}

// --- internal ---

/** `fromGeminiStreamChunk` as the stream reads it: one chunk (most events), two, or none, with no array for one. */
function mapStreamChunk(response: GeminiResponse, state: GeminiStreamState): ChatCompletionChunk | ChatCompletionChunk[] | undefined {
  const id = response.responseId ?? "";
  const model = response.modelVersion ?? "";
  let text = "";
  let deltas: ToolCallDelta[] | undefined;
  for (const part of response.candidates?.[0]?.content?.parts ?? NO_PARTS) {
    // Thought summaries are the model's reasoning, not its answer.
    if (typeof part.text === "string" && !part.thought) text += part.text;
    if (part.functionCall?.name && !(state.oneCall && state.toolCalls > 0)) (deltas ??= []).push({ index: state.toolCalls++, ...toolCallOf(part as Part & { functionCall: { name: string } }) });
  }
  const reported = typeof response.usageMetadata?.promptTokenCount === "number";
  if (reported) {
    state.usageMetadata = response.usageMetadata;
    state.usage = undefined;
  }
  let said: ChatCompletionChunk | undefined;
  if (text || deltas) {
    const delta = deltas ? (text ? { content: text, tool_calls: deltas } : { tool_calls: deltas }) : { content: text };
    said = { id, object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta, finish_reason: null }] };
  }
  const finish = state.finished ? undefined : finishReason(response, state.toolCalls > 0);
  let closing: ChatCompletionChunk | undefined;
  if (finish) {
    state.finished = true;
    const usage = usageOf(state);
    closing = { id, object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta: {}, finish_reason: finish }], ...(usage && { usage }) };
  } else if (state.finished && reported) {
    closing = { id, object: "chat.completion.chunk", created: 0, model, choices: [], usage: usageOf(state) };
  }
  if (said && closing) return [said, closing];
  return said ?? closing;
}

const NO_PARTS: Part[] = [];

/** The last usage reported, made once from Gemini's count. */
function usageOf(state: GeminiStreamState): Usage | undefined {
  if (!state.usage && state.usageMetadata) state.usage = fromGeminiUsage(state.usageMetadata);
  return state.usage;
}

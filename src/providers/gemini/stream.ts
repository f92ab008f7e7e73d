import type { ChatCompletionChunk, ToolCallDelta, Usage } from "../../schema";
import type { SSEEvent } from "../_sse";
import { eventJSON, StreamFailure } from "../_wire";
import { finishReason, fromGeminiUsage, readParts, type GeminiResponse } from "./response";

/** What a stream mapping remembers between Gemini chunks. */
export interface GeminiStreamState {
  toolCalls: number;
  finished: boolean;
  /** The last usage Gemini reported: each chunk's count supersedes the one before. */
  usage?: Usage;
}

/** A fresh state for one stream. */
export function createGeminiStreamState(): GeminiStreamState {
  return { toolCalls: 0, finished: false };
}

/**
 * Pure but for `state`: one streamed Gemini response → OpenAI chunks. Function calls
 * arrive whole, so each becomes one tool-call delta with its index. The finish chunk
 * carries the last usage seen; Gemini may send its final count after the finish reason,
 * so a later usage becomes a usage-only chunk (`choices: []`), which the gateway bills.
 */
export function fromGeminiStreamChunk(response: GeminiResponse, state: GeminiStreamState): ChatCompletionChunk[] {
  const base = { id: response.responseId ?? "", object: "chat.completion.chunk" as const, created: 0, model: response.modelVersion ?? "" };
  const { text, toolCalls } = readParts(response.candidates?.[0]?.content?.parts);
  const chunks: ChatCompletionChunk[] = [];
  const usage = fromGeminiUsage(response.usageMetadata);
  if (usage) state.usage = usage;
  const deltas: ToolCallDelta[] = toolCalls.map((call) => ({ index: state.toolCalls++, ...call }));
  if (text || deltas.length) chunks.push({ ...base, choices: [{ index: 0, delta: { ...(text && { content: text }), ...(deltas.length && { tool_calls: deltas }) }, finish_reason: null }] });
  const finish = state.finished ? undefined : finishReason(response, state.toolCalls > 0);
  if (finish) {
    state.finished = true;
    chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finish }], ...(state.usage && { usage: state.usage }) });
  } else if (state.finished && usage) {
    chunks.push({ ...base, choices: [], usage });
  }
  return chunks;
}

/** Pure but for `state`: one SSE event → chunks; an `{error}` event throws. */
export function fromGeminiSSE(event: SSEEvent, state: GeminiStreamState): ChatCompletionChunk[] {
  const data = eventJSON<GeminiResponse & { error?: unknown }>("gemini", event);
  if (data.error) throw new StreamFailure(data);
  return fromGeminiStreamChunk(data, state);
}

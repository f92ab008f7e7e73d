import type { AnthropicStreamEvent as RawMessageStreamEvent } from "./wire-types";
import type { ChatCompletionChunk, FinishReason } from "../../schema";
import type { SSEEvent } from "../_sse";
import { eventJSON, StreamFailure } from "../_wire";
import { ANTHROPIC_FINISH_REASONS, fromAnthropicUsage, type AnthropicUsageCounts } from "./response";

/** What a stream mapping remembers between events. */
export interface AnthropicStreamState {
  id: string;
  model: string;
  usage: AnthropicUsageCounts;
  /** Content block index → OpenAI tool call index. */
  toolIndexes: Map<number, number>;
  finished: boolean;
}

/** A fresh state for one stream. */
export function createAnthropicStreamState(): AnthropicStreamState {
  return { id: "", model: "", usage: {}, toolIndexes: new Map(), finished: false };
}

/** Pure but for `state`: one SSE event → a chunk or none; `ping` makes none, `event: error` throws. */
export function fromAnthropicSSE(event: SSEEvent, state: AnthropicStreamState): ChatCompletionChunk | undefined {
  // The event name is what Anthropic's SDK goes by: nameless events are skipped, as it does.
  if (event.event === "ping" || event.event === "message") return undefined;
  if (event.event === "error") throw new StreamFailure(eventJSON("anthropic", event));
  return fromAnthropicStreamEvent(eventJSON<RawMessageStreamEvent>("anthropic", event), state);
}

/**
 * Pure but for `state`: one Anthropic stream event → an OpenAI chunk (or nothing).
 * Usage counts come from `message_start` and the cumulative `message_delta`; the chunk
 * with the finish reason carries the final count.
 */
export function fromAnthropicStreamEvent(event: RawMessageStreamEvent, state: AnthropicStreamState): ChatCompletionChunk | undefined {
  const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"], finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: state.id,
    object: "chat.completion.chunk",
    created: 0,
    model: state.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  switch (event.type) {
    case "message_start":
      state.id = event.message.id;
      state.model = event.message.model;
      state.usage = { ...event.message.usage };
      return undefined;
    case "content_block_start": {
      if (event.content_block.type !== "tool_use") return undefined;
      const index = state.toolIndexes.size;
      state.toolIndexes.set(event.index, index);
      const { id = "", name = "" } = event.content_block;
      return chunk({ tool_calls: [{ index, id, type: "function", function: { name, arguments: "" } }] });
    }
    case "content_block_delta": {
      const delta = event.delta;
      if (delta.type === "text_delta") return delta.text ? chunk({ content: delta.text }) : undefined;
      if (delta.type === "input_json_delta") {
        const index = state.toolIndexes.get(event.index);
        return index === undefined || !delta.partial_json ? undefined : chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] });
      }
      return undefined;
    }
    case "message_delta": {
      for (const [key, value] of Object.entries(event.usage ?? {})) {
        if (typeof value === "number" && key in USAGE_KEYS) state.usage[key as keyof AnthropicUsageCounts] = value;
      }
      state.finished = true;
      const finish = ANTHROPIC_FINISH_REASONS[event.delta.stop_reason ?? "end_turn"] ?? "stop";
      return { ...chunk({}, finish), usage: fromAnthropicUsage(state.usage) };
    }
    default:
      return undefined;
  }
}

// --- internal ---

const USAGE_KEYS: Record<keyof AnthropicUsageCounts, true> = {
  input_tokens: true,
  output_tokens: true,
  cache_creation_input_tokens: true,
  cache_read_input_tokens: true,
};

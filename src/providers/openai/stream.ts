import type { OpenAIChunk } from "./wire-types";
import type { ChatCompletionChunk } from "../../schema";
import type { SSEEvent } from "../_sse";
import { eventJSON, StreamFailure } from "../_wire";
import { fromOpenAIUsage, OPENAI_FINISH_REASONS, passLogprobs } from "./response";

/** What an OpenAI stream mapping remembers between events. */
export interface OpenAIStreamState {
  finished: boolean;
}

/** Pure: one OpenAI stream chunk → the gateway's chunk (usage-only chunks keep `choices: []`). */
export function fromOpenAIChunk(chunk: OpenAIChunk): ChatCompletionChunk {
  return {
    id: chunk.id,
    object: "chat.completion.chunk",
    created: chunk.created,
    model: chunk.model,
    choices: (chunk.choices ?? []).map((choice) => {
      const { content, refusal, tool_calls } = choice.delta ?? {};
      return {
        index: choice.index,
        delta: {
          ...(typeof content === "string" && { content }),
          ...(typeof refusal === "string" && { refusal }),
          ...(tool_calls?.length && {
            tool_calls: tool_calls.map((call) => ({
              index: call.index,
              ...(call.id && { id: call.id }),
              ...(call.type && { type: call.type }),
              ...(call.function && { function: { ...(call.function.name && { name: call.function.name }), ...(typeof call.function.arguments === "string" && { arguments: call.function.arguments }) } }),
            })),
          }),
        },
        finish_reason: choice.finish_reason ? (OPENAI_FINISH_REASONS[choice.finish_reason] ?? "stop") : null,
        ...(choice.logprobs && { logprobs: passLogprobs(choice.logprobs) }),
      };
    }),
    ...(chunk.usage && { usage: fromOpenAIUsage(chunk.usage) }),
  };
}

/** Pure but for `state`: one SSE event → a chunk; `[DONE]` makes none, an `{error}` event throws. */
export function fromOpenAIEvent(provider: string, event: SSEEvent, state: OpenAIStreamState): ChatCompletionChunk | undefined {
  if (event.data === "[DONE]") return undefined;
  const data = eventJSON<OpenAIChunk & { error?: unknown }>(provider, event);
  if (data.error) throw new StreamFailure(data);
  const chunk = fromOpenAIChunk(data);
  if (chunk.choices.some((choice) => choice.finish_reason)) state.finished = true;
  return chunk;
}

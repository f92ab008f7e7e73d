import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall, Usage } from "../../schema";
import { contentText, estimateTokens, messageText } from "../../tokens";
import { defineProvider, type ModelInfo, type Provider, type ProviderRequest } from "../_define";

const PROVIDER_NAME = "echo";

export interface EchoProviderOptions {
  /**
   * Models served, with prices. Tiny but not zero, so billing shows.
   * @default { "echo/echo": { inputPerMTok: 0.1, outputPerMTok: 0.4, contextWindow: 1_000_000, maxOutputTokens: 4096 } }
   */
  models?: Record<string, ModelInfo>;
  /**
   * Milliseconds to wait between streamed words (0: as fast as possible).
   * @default 0
   */
  delayMs?: number;
}

/**
 * The offline, deterministic provider: it answers with the text of the last user
 * message, counts tokens as ceil(characters / 4) and streams word by word. When the
 * request forces a tool (`tool_choice: "required"` or a named function), it calls that
 * tool with `{"input": <text>}`, so tool round trips can be tried offline too.
 *
 * @example
 * createGateway({ providers: [echo()] }) // then model "echo/echo"
 */
export function echo(options: EchoProviderOptions = {}): Provider {
  const delayMs = options.delayMs ?? 0;
  return defineProvider({
    id: PROVIDER_NAME,
    models: options.models ?? { "echo/echo": { inputPerMTok: 0.1, outputPerMTok: 0.4, contextWindow: 1_000_000, maxOutputTokens: 4096 } },
    chat(request, { signal }) {
      const answer = echoAnswer(request);
      return request.stream ? streamAnswer(answer, delayMs, request, signal) : completionOf(answer);
    },
  });
}

export default echo;

/** What echo says to a request: text or a tool call, its finish reason and usage. */
export interface EchoAnswer {
  text: string;
  toolCall?: ToolCall;
  finishReason: FinishReason;
  usage: Usage;
}

/** Pure: the deterministic answer to a request. */
export function echoAnswer(request: ProviderRequest): EchoAnswer {
  let last = "";
  for (let i = request.messages.length - 1; i >= 0; i--) {
    if (request.messages[i].role === "user") {
      last = contentText(request.messages[i].content);
      break;
    }
  }
  let promptChars = 0;
  for (const message of request.messages) promptChars += messageText(message).length;
  const prompt_tokens = estimateTokens(" ".repeat(promptChars));

  const forced = forcedTool(request);
  if (forced) {
    const toolCall: ToolCall = { id: `call_echo_${request.messages.length}`, type: "function", function: { name: forced, arguments: JSON.stringify({ input: last }) } };
    const completion_tokens = estimateTokens(forced + toolCall.function.arguments);
    return { text: "", toolCall, finishReason: "tool_calls", usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens } };
  }

  let text = last;
  let finishReason: FinishReason = "stop";
  if (request.max_tokens && estimateTokens(text) > request.max_tokens) {
    text = text.slice(0, request.max_tokens * 4);
    finishReason = "length";
  }
  const completion_tokens = estimateTokens(text);
  return { text, finishReason, usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens } };
}

// --- internal ---

function forcedTool(request: ProviderRequest): string | undefined {
  const choice = request.tool_choice;
  if (!request.tools?.length || !choice || choice === "none" || choice === "auto") return undefined;
  // After a tool result, answer in text so a round trip ends.
  if (request.messages[request.messages.length - 1]?.role === "tool") return undefined;
  return choice === "required" ? request.tools[0].function.name : choice.function.name;
}

function completionOf(answer: EchoAnswer): ChatCompletion {
  return {
    id: "",
    object: "chat.completion",
    created: 0,
    model: "",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: answer.toolCall ? null : answer.text,
          refusal: null,
          ...(answer.toolCall && { tool_calls: [answer.toolCall] }),
        },
        finish_reason: answer.finishReason,
        logprobs: null,
      },
    ],
    usage: answer.usage,
  };
}

async function* streamAnswer(answer: EchoAnswer, delayMs: number, request: ProviderRequest, signal?: AbortSignal): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"], finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: "",
    object: "chat.completion.chunk",
    created: 0,
    model: request.model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  if (answer.toolCall) {
    const { id, type, function: fn } = answer.toolCall;
    yield chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, id, type, function: { name: fn.name, arguments: "" } }] });
    yield chunk({ tool_calls: [{ index: 0, function: { arguments: fn.arguments } }] });
  } else {
    yield chunk({ role: "assistant", content: "" });
    for (const word of answer.text.match(/\s*\S+\s*/g) ?? []) {
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      // Stops like a vendor stream when the gateway aborts (client gone, timeout).
      if (signal?.aborted) throw signal.reason;
      yield chunk({ content: word });
    }
  }
  yield { ...chunk({}, answer.finishReason), usage: answer.usage };
}

import type OpenAI from "openai";
import type { APIError as OpenAIAPIError } from "openai";
import type {
  ChatCompletionChunk as OpenAIChunk,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletion as OpenAICompletion,
} from "openai/resources/chat/completions";
import type { CompletionUsage } from "openai/resources/completions";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ChoiceLogprobs, FinishReason, ToolCall, Usage } from "../schema";
import { createKeepAliveFetch } from "./_fetch";
import { defineProvider, type ModelInfo, type Provider, type ProviderRequest } from "./_define";
import { upstreamError, type UpstreamFailure } from "./_errors";
import { portableCallId, retryAfterSeconds } from "./_mapping";
import { lazyClient, mapSDKError, redact, SDK_TIMEOUT_MS } from "./_sdk";

const PROVIDER_NAME = "openai";

export interface OpenAIProviderOptions {
  /** The OpenAI API key (sent by the SDK; never shown in an error). */
  apiKey: string;
  /**
   * The API base URL as the openai SDK takes it, ending in `/v1`; also any
   * OpenAI-compatible server.
   * @default "https://api.openai.com/v1" (the SDK's default)
   */
  baseURL?: string;
  /**
   * The fetch the SDK uses.
   * @default a pooled keep-alive client over node:http (`createKeepAliveFetch()`); the global fetch outside Node
   */
  fetch?: typeof fetch;
  /**
   * Models to add to the catalog (full names, `openai/...`), with their prices.
   * @default {} (the built-in catalog already lists the common OpenAI models)
   */
  models?: Record<string, ModelInfo>;
}

/**
 * OpenAI models through the official `openai` SDK (an optional peer dependency, loaded on
 * first use). Requests pass through nearly unchanged; streams always ask for the final
 * usage (`include_usage`) so billing uses OpenAI's own count. The gateway does retries
 * and timeouts, so the SDK's own are off.
 *
 * @example
 * createGateway({ providers: [openai({ apiKey: process.env.OPENAI_API_KEY! })] })
 * // then model "openai/gpt-4.1-mini"
 */
export function openai(options: OpenAIProviderOptions): Provider {
  if (!options?.apiKey) throw new Error("[agentgate] [openai] Missing required option `apiKey`");
  const getSDK = lazyClient(PROVIDER_NAME, "openai", async () => {
    const sdk = await import("openai");
    const client = new sdk.OpenAI({ apiKey: options.apiKey, baseURL: options.baseURL, fetch: options.fetch ?? createKeepAliveFetch(), maxRetries: 0, timeout: SDK_TIMEOUT_MS });
    return { client, APIError: sdk.APIError };
  });
  const toError = (error: unknown, signal: AbortSignal, APIError: typeof OpenAIAPIError): unknown =>
    mapSDKError(PROVIDER_NAME, error, signal, APIError, (vendorError) => fromOpenAIError(vendorError, options.apiKey));

  return defineProvider({
    id: PROVIDER_NAME,
    models: options.models,
    async chat(request, { signal }) {
      const params = toOpenAIParams(request);
      const { client, APIError } = await getSDK();
      if (!request.stream) {
        try {
          return fromOpenAICompletion(await client.chat.completions.create(params, { signal }));
        } catch (error) {
          throw toError(error, signal, APIError);
        }
      }
      return streamCompletions(client, params, signal, (error) => toError(error, signal, APIError));
    },
  });
}

export default openai;

/** OpenAI finish reasons → the gateway's (the legacy `function_call` is a tool call). */
export const OPENAI_FINISH_REASONS: Record<OpenAICompletion.Choice["finish_reason"], FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool_calls",
  function_call: "tool_calls",
  content_filter: "content_filter",
};

/**
 * Pure: the gateway's request → OpenAI parameters (without `stream`). Fields the gateway
 * does not model (`seed`, `logit_bias`, `reasoning_effort`...) pass through unchanged:
 * OpenAI honours or rejects them itself. The one token limit goes out as
 * `max_completion_tokens`, which every current model takes.
 */
export function toOpenAIParams(request: ProviderRequest): ChatCompletionCreateParamsNonStreaming {
  const { model, messages, max_tokens, stream: _stream, stream_options: _options, tools, tool_choice, response_format, parallel_tool_calls, ...rest } = request;
  return {
    ...rest,
    ...(typeof parallel_tool_calls === "boolean" && { parallel_tool_calls }),
    model,
    messages: messages.map(toOpenAIMessage),
    ...(max_tokens !== undefined && { max_completion_tokens: max_tokens }),
    ...(tools && { tools: tools.map((tool) => ({ type: "function" as const, function: tool.function })) }),
    ...(tool_choice !== undefined && { tool_choice: typeof tool_choice === "string" ? tool_choice : { type: "function" as const, function: { name: tool_choice.function.name } } }),
    ...(response_format && { response_format }),
  };
}

/**
 * Pure: a stored OpenAI-shaped message → the SDK's message type. Call ids go out portable:
 * a thread begun on Gemini carries its thought signatures in them, past OpenAI's 40 characters.
 */
export function toOpenAIMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: message.role, content: textContent(message.content) };
    case "user":
      // OpenAI validates its own content parts; ours are the same objects.
      return { role: "user", content: typeof message.content === "string" ? message.content : (message.content as ChatCompletionContentPart[]) };
    case "assistant":
      return {
        role: "assistant",
        content: message.content === undefined || message.content === null ? null : textContent(message.content),
        ...(message.tool_calls?.length && {
          tool_calls: message.tool_calls.map((call) => ({ id: portableCallId(call.id), type: "function" as const, function: { name: call.function.name, arguments: call.function.arguments } })),
        }),
      };
    case "tool":
      return { role: "tool", tool_call_id: portableCallId(message.tool_call_id), content: textContent(message.content) };
  }
}

/** Pure: OpenAI's `chat.completion` → the gateway's (first choice; the gateway sets id and created). */
export function fromOpenAICompletion(completion: OpenAICompletion): ChatCompletion {
  const choice = completion.choices[0];
  const message = choice?.message;
  const toolCalls: ToolCall[] = [];
  for (const call of message?.tool_calls ?? []) {
    if (call.type === "function") toolCalls.push({ id: call.id, type: "function", function: { name: call.function.name, arguments: call.function.arguments } });
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

/** Pure: one OpenAI stream chunk → the gateway's chunk (usage-only chunks keep `choices: []`). */
export function fromOpenAIChunk(chunk: OpenAIChunk): ChatCompletionChunk {
  return {
    id: chunk.id,
    object: "chat.completion.chunk",
    created: chunk.created,
    model: chunk.model,
    choices: chunk.choices.map((choice) => {
      const { content, refusal, tool_calls } = choice.delta;
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

/** Pure: OpenAI usage, keeping the cached and reasoning counts. */
export function fromOpenAIUsage(usage: CompletionUsage): Usage {
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

/** Pure: an `openai` SDK error → what the gateway knows of an upstream failure. */
export function fromOpenAIError(error: OpenAIAPIError, apiKey?: string): UpstreamFailure {
  const body = error.error as { message?: unknown; code?: unknown; type?: unknown } | undefined;
  const message = typeof body?.message === "string" ? body.message : undefined;
  return {
    provider: PROVIDER_NAME,
    status: error.status,
    message: message ? redact(message, apiKey) : undefined,
    retryAfterSeconds: retryAfterSeconds(error.headers),
    // OpenAI says "out of credit" with a 429, but waiting cannot fix it as it fixes a rate limit.
    billingFailed: body?.code === "insufficient_quota" || body?.type === "insufficient_quota",
    cause: error,
  };
}

// --- internal ---

/**
 * OpenAI's logprobs (asked for with `logprobs`/`top_logprobs`), passed through untouched.
 * The gateway's schema types choice logprobs as `null`, which no other vendor can fill.
 */
function passLogprobs(logprobs: OpenAICompletion.Choice["logprobs"] | undefined): ChoiceLogprobs | null {
  return logprobs ?? null;
}

function textContent(content: ChatMessage["content"]): string | Array<{ type: "text"; text: string }> {
  if (typeof content === "string") return content;
  const parts: Array<{ type: "text"; text: string }> = [];
  for (const part of content ?? []) if (part.type === "text" && "text" in part && typeof part.text === "string") parts.push({ type: "text", text: part.text });
  return parts;
}

async function* streamCompletions(client: OpenAI, params: ChatCompletionCreateParamsNonStreaming, signal: AbortSignal, toError: (error: unknown) => unknown): AsyncGenerator<ChatCompletionChunk> {
  let finished = false;
  try {
    // Always ask for the final usage: the gateway bills it whether or not the client asked.
    const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, { signal });
    for await (const chunk of stream) {
      const mapped = fromOpenAIChunk(chunk);
      if (mapped.choices.some((choice) => choice.finish_reason)) finished = true;
      yield mapped;
    }
  } catch (error) {
    throw toError(error);
  }
  // The SDKs end a stream quietly when it is aborted: say why, so dispatch can name it (timeout or client gone).
  if (signal.aborted) throw signal.reason;
  // A connection that closes before the finish reason is a failure, never a silent cut.
  if (!finished) throw upstreamError({ provider: PROVIDER_NAME, message: "The stream ended before the answer was complete." });
}

import type { CooldownStore } from "./_key-pool";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest } from "../schema";

/** Price and size of one model; money is USD per million tokens. */
export interface ModelInfo {
  /** USD per million input tokens. Unpriced models are free. */
  inputPerMTok?: number;
  /** USD per million output tokens. */
  outputPerMTok?: number;
  /** USD per million input tokens read from the vendor's prompt cache; unset: the input price. */
  cachedInputPerMTok?: number;
  /** USD per million input tokens written to the vendor's prompt cache (Anthropic); unset: the input price. */
  cacheWritePerMTok?: number;
  /** Context window in tokens. */
  contextWindow?: number;
  /** The most tokens the model writes in one answer; no request is sent a larger cap. */
  maxOutputTokens?: number;
  /**
   * The output cap sent (and held for) when the client sets no `max_tokens`; overrides
   * the provider's and the gateway's `defaultMaxTokens`.
   */
  defaultMaxTokens?: number;
}

/** The request a provider receives: OpenAI's shape, with the thread's full history. */
export interface ProviderRequest extends Omit<ChatRequest, "thread_id" | "messages"> {
  /** The model's own id, without the `provider/` prefix (`gpt-4o-mini`). */
  model: string;
  /** The whole conversation: agent instructions first, then history, then the new messages. */
  messages: ChatMessage[];
  /** The largest number of tokens to generate (`max_completion_tokens` ?? `max_tokens`). */
  max_tokens?: number;
}

/** What the gateway hands a provider beside the request. */
export interface ProviderContext {
  /** Aborted when the client goes away or the upstream timeout passes. */
  signal: AbortSignal;
  /** The full model name as the client sent it (`openai/gpt-4o-mini`). */
  model: string;
  /**
   * Restarts the upstream silence clock: call it whenever the vendor shows it is alive,
   * also with bytes that make no chunk (a ping, a thinking block).
   */
  keepAlive(): void;
  /** Where key pools share their cooldowns across instances (set by the gateway; absent: each pool keeps its own). */
  cooldowns?: CooldownStore;
  /** Headers the gateway sends with the upstream call: W3C `traceparent`/`tracestate` when tracing. */
  headers?: Readonly<Record<string, string>>;
}

/** A provider answers with one completion, or with chunks when `request.stream` is true. */
export type ProviderResult = ChatCompletion | AsyncIterable<ChatCompletionChunk>;

/** A model backend: the built-ins (`echo`, `openai`, `anthropic`, `gemini`) or your own. */
export interface Provider {
  /** The model prefix it serves: `openai` serves `openai/*`. */
  id: string;
  /** Models it adds to the catalog, by full name (`acme/small`), with their prices. */
  models?: Record<string, ModelInfo>;
  /**
   * Answers an OpenAI-format request. Throw `createAPIError(...)` (or an `UpstreamError`)
   * for failures; anything else becomes a 502.
   */
  chat(request: ProviderRequest, context: ProviderContext): Promise<ProviderResult> | ProviderResult;
  /**
   * Counts a request's input tokens exactly, through the vendor's own counting endpoint
   * (Gemini's `countTokens`); absent when the vendor has none (the gateway then estimates).
   */
  countTokens?(request: ProviderRequest, context: ProviderContext): Promise<number>;
  /** The output cap for its models when the client sets none (a model's own `defaultMaxTokens` wins). */
  defaultMaxTokens?: number;
  /** Releases clients and sockets; called by `gateway.close()`. */
  close?(): Promise<void> | void;
}

/**
 * Declares a provider. It only checks the definition and gives it its type.
 *
 * @example
 * const acme = defineProvider({
 *   id: "acme",
 *   models: { "acme/tiny": { inputPerMTok: 0.1, outputPerMTok: 0.2 } },
 *   async chat(request) {
 *     return { id: "", object: "chat.completion", created: 0, model: request.model,
 *       choices: [{ index: 0, message: { role: "assistant", content: "hi", refusal: null }, finish_reason: "stop", logprobs: null }] };
 *   },
 * });
 */
export function defineProvider<P extends Provider>(provider: P): P {
  if (!provider || typeof provider.id !== "string" || !/^[a-z0-9][a-z0-9._-]*$/i.test(provider.id)) {
    throw new Error("[agentgate] defineProvider: `id` must be a simple name such as `acme`");
  }
  if (typeof provider.chat !== "function") throw new Error(`[agentgate] [${provider.id}] defineProvider: \`chat\` must be a function`);
  for (const name of Object.keys(provider.models ?? {})) {
    if (!name.startsWith(`${provider.id}/`)) throw new Error(`[agentgate] [${provider.id}] model \`${name}\` must start with \`${provider.id}/\``);
  }
  return provider;
}

/** True when a provider answered with chunks rather than one completion. */
export function isChunkStream(result: ProviderResult): result is AsyncIterable<ChatCompletionChunk> {
  return typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

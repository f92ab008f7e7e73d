import type Anthropic from "@anthropic-ai/sdk";
import type { APIError as AnthropicAPIError } from "@anthropic-ai/sdk";
import type {
  ContentBlockParam,
  ImageBlockParam,
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
  StopReason,
  TextBlockParam,
  Tool,
  ToolChoice,
  ToolResultBlockParam,
} from "@anthropic-ai/sdk/resources/messages";
import type { Stream as AnthropicStream } from "@anthropic-ai/sdk/core/streaming";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, FinishReason, ToolCall, Usage } from "../schema";
import { contentText } from "../tokens";
import { createKeepAliveFetch } from "./_fetch";
import { defineProvider, type ModelInfo, type Provider, type ProviderRequest } from "./_define";
import { upstreamError, type UpstreamFailure } from "./_errors";
import { parseDataUrl, parseToolArguments, portableCallId, rejectUnhandled, retryAfterSeconds, stopList, unsupportedParameter } from "./_mapping";
import { lazyClient, mapSDKError, redact, SDK_TIMEOUT_MS } from "./_sdk";

const PROVIDER_NAME = "anthropic";

/**
 * Anthropic requires `max_tokens`; a request without one gets this many. 4,096 covers a
 * long chat answer, and keeps a forgotten limit from buying 64k tokens of output.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4_096;

export interface AnthropicProviderOptions {
  /** The Anthropic API key (sent by the SDK; never shown in an error). */
  apiKey: string;
  /**
   * The API origin, as @anthropic-ai/sdk takes it (no `/v1`).
   * @default "https://api.anthropic.com" (the SDK's default)
   */
  baseURL?: string;
  /**
   * The fetch the SDK uses.
   * @default a pooled keep-alive client over node:http (`createKeepAliveFetch()`); the global fetch outside Node
   */
  fetch?: typeof fetch;
  /**
   * Models to add to the catalog (full names, `anthropic/...`), with their prices.
   * @default {} (the built-in catalog already lists Anthropic's current models)
   */
  models?: Record<string, ModelInfo>;
  /**
   * `max_tokens` for requests that set neither `max_tokens` nor `max_completion_tokens`.
   * @default 4096
   */
  defaultMaxTokens?: number;
}

/**
 * Claude models through Anthropic's official SDK (`@anthropic-ai/sdk`, an optional peer
 * dependency loaded on first use). The gateway does retries and timeouts, so the SDK's
 * own are off; a client that disconnects aborts the upstream call.
 *
 * @example
 * createGateway({ providers: [anthropic({ apiKey: process.env.ANTHROPIC_API_KEY! })] })
 * // then model "anthropic/claude-sonnet-4-6"
 */
export function anthropic(options: AnthropicProviderOptions): Provider {
  if (!options?.apiKey) throw new Error("[agentgate] [anthropic] Missing required option `apiKey`");
  const defaultMaxTokens = options.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
  const getSDK = lazyClient(PROVIDER_NAME, "@anthropic-ai/sdk", async () => {
    const [sdk, streaming] = await Promise.all([import("@anthropic-ai/sdk"), import("@anthropic-ai/sdk/core/streaming")]);
    const client = new sdk.Anthropic({ apiKey: options.apiKey, baseURL: options.baseURL, fetch: options.fetch ?? createKeepAliveFetch(), maxRetries: 0, timeout: SDK_TIMEOUT_MS });
    return { client, APIError: sdk.APIError, Stream: streaming.Stream };
  });
  const toError = (error: unknown, signal: AbortSignal, APIError: typeof AnthropicAPIError): unknown =>
    mapSDKError(PROVIDER_NAME, error, signal, APIError, (vendorError) => fromAnthropicError(vendorError, options.apiKey));

  return defineProvider({
    id: PROVIDER_NAME,
    models: options.models,
    async chat(request, { signal, keepAlive }) {
      const params = toAnthropicParams(request, { defaultMaxTokens });
      const { client, APIError, Stream } = await getSDK();
      if (!request.stream) {
        try {
          return fromAnthropicMessage(await client.messages.create(params, { signal }));
        } catch (error) {
          throw toError(error, signal, APIError);
        }
      }
      return streamMessages(client, Stream, params, signal, keepAlive, (error) => toError(error, signal, APIError));
    },
  });
}

export default anthropic;

/** Anthropic stop reasons → OpenAI finish reasons. */
export const ANTHROPIC_FINISH_REASONS: Record<StopReason, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** Request fields the mapping below translates (the rest must be absent or at OpenAI's default). */
const HANDLED = new Set(["max_tokens", "stop", "tools", "tool_choice", "parallel_tool_calls", "response_format"]);

/** Pure: an OpenAI-format request → Anthropic Messages parameters (without `stream`). */
export function toAnthropicParams(request: ProviderRequest, options: { defaultMaxTokens?: number } = {}): MessageCreateParamsNonStreaming {
  // Anthropic samples with temperature 0..1 (OpenAI allows up to 2): above 1 it cannot honour.
  if (request.temperature != null && request.temperature > 1) {
    throw unsupportedParameter(PROVIDER_NAME, "temperature", "Anthropic takes a temperature from 0 to 1.");
  }
  rejectUnhandled(PROVIDER_NAME, request, new Set([...HANDLED, "temperature", "top_p"]));

  const { system, messages } = toAnthropicMessages(request.messages);
  const params: MessageCreateParamsNonStreaming = {
    model: request.model,
    max_tokens: request.max_tokens ?? options.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system) params.system = system;
  // @anthropic-ai/sdk 1.x no longer types the sampling fields (WIRE.md §3.1); they are sent as
  // given and the API decides: a model that refuses them answers 400, passed on with its message.
  const sampling = params as MessageCreateParamsNonStreaming & { temperature?: number; top_p?: number };
  if (request.temperature != null) sampling.temperature = request.temperature;
  if (request.top_p != null) sampling.top_p = request.top_p;
  const stop = stopList(request.stop);
  if (stop?.length) params.stop_sequences = stop;
  if (request.tools?.length) params.tools = request.tools.map(toAnthropicTool);
  const toolChoice = toAnthropicToolChoice(request);
  if (toolChoice) params.tool_choice = toolChoice;
  const format = request.response_format;
  if (format?.type === "json_object") {
    throw unsupportedParameter(PROVIDER_NAME, "response_format", "Anthropic needs a schema; send `{ type: \"json_schema\", json_schema: { schema } }`.");
  }
  if (format?.type === "json_schema") {
    if (!format.json_schema.schema) throw unsupportedParameter(PROVIDER_NAME, "response_format", "`json_schema.schema` is required.");
    params.output_config = { format: { type: "json_schema", schema: format.json_schema.schema } };
  }
  if (request.user) params.metadata = { user_id: request.user };
  return params;
}

/**
 * Pure: OpenAI messages → Anthropic's top-level `system` and `messages`. Leading
 * system/developer messages (the agent's instructions first) become `system`; later ones
 * stay in place as `system` turns. Consecutive `tool` results share one user turn. Call
 * ids go out portable (another vendor's, a Gemini signature, would be refused).
 */
export function toAnthropicMessages(input: readonly ChatMessage[]): { system?: string; messages: MessageParam[] } {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  input.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer": {
        const text = contentText(message.content);
        if (messages.length === 0) system.push(text);
        else messages.push({ role: "system", content: text });
        return;
      }
      case "user": {
        const content = typeof message.content === "string" ? message.content : message.content.map((part, j) => toAnthropicPart(part, index, j));
        messages.push({ role: "user", content });
        return;
      }
      case "assistant": {
        const blocks: ContentBlockParam[] = [];
        const text = contentText(message.content);
        if (text) blocks.push({ type: "text", text });
        for (const call of message.tool_calls ?? []) {
          blocks.push({ type: "tool_use", id: portableCallId(call.id), name: call.function.name, input: parseToolArguments(call.function.arguments, index) });
        }
        if (blocks.length) messages.push({ role: "assistant", content: blocks });
        return;
      }
      case "tool": {
        const result: ToolResultBlockParam = { type: "tool_result", tool_use_id: portableCallId(message.tool_call_id), content: contentText(message.content) };
        const last = messages[messages.length - 1];
        const previous = last?.role === "user" && Array.isArray(last.content) ? last.content : undefined;
        if (previous?.every((block) => block.type === "tool_result")) previous.push(result);
        else messages.push({ role: "user", content: [result] });
        return;
      }
    }
  });
  return { system: system.length ? system.join("\n\n") : undefined, messages };
}

/** Pure: Anthropic's message → an OpenAI `chat.completion` (the gateway sets id and created). */
export function fromAnthropicMessage(message: Message): ChatCompletion {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === "text") text += block.text;
    else if (block.type === "tool_use") toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
  }
  return {
    id: message.id,
    object: "chat.completion",
    created: 0,
    model: message.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text || (toolCalls.length ? null : ""), refusal: null, ...(toolCalls.length && { tool_calls: toolCalls }) },
        finish_reason: ANTHROPIC_FINISH_REASONS[message.stop_reason ?? "end_turn"] ?? "stop",
        logprobs: null,
      },
    ],
    usage: fromAnthropicUsage(message.usage),
  };
}

/** Anthropic's token counts, as they accumulate over a stream. */
export interface AnthropicUsageCounts {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/**
 * Pure: Anthropic usage → OpenAI usage. Anthropic's `input_tokens` leaves out cached
 * input, so prompt = input + cache writes + cache reads (OpenAI's prompt includes cached
 * tokens), and `cached_tokens` is the cache reads.
 */
export function fromAnthropicUsage(usage: AnthropicUsageCounts): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + cached;
  const completion = usage.output_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

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
      const { id, name } = event.content_block;
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
      for (const [key, value] of Object.entries(event.usage)) {
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

/** Pure: an @anthropic-ai/sdk error → what the gateway knows of an upstream failure. */
export function fromAnthropicError(error: AnthropicAPIError, apiKey?: string): UpstreamFailure {
  const body = error.error as { error?: { type?: string; message?: string } } | undefined;
  const type = body?.error?.type ?? error.type ?? undefined;
  const message = body?.error?.message ?? error.apiMessage ?? undefined;
  // A mid-stream `event: error` has no HTTP status; its type still says what happened.
  const status = error.status ?? (type === "overloaded_error" ? 529 : type === "rate_limit_error" ? 429 : undefined);
  return {
    provider: PROVIDER_NAME,
    status,
    message: message ? redact(message, apiKey) : undefined,
    retryAfterSeconds: retryAfterSeconds(error.headers),
    authFailed: type === "authentication_error" || type === "permission_error",
    cause: error,
  };
}

// --- internal ---

const USAGE_KEYS: Record<keyof AnthropicUsageCounts, true> = {
  input_tokens: true,
  output_tokens: true,
  cache_creation_input_tokens: true,
  cache_read_input_tokens: true,
};

const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

type UserPart = Exclude<Extract<ChatMessage, { role: "user" }>["content"], string>[number];

function toAnthropicPart(part: UserPart, index: number, j: number): TextBlockParam | ImageBlockParam {
  if (part.type === "text" && "text" in part && typeof part.text === "string") return { type: "text", text: part.text };
  if (part.type === "image_url" && "image_url" in part && part.image_url && typeof part.image_url === "object") {
    const url = String((part.image_url as { url: unknown }).url);
    const data = parseDataUrl(url);
    if (data) {
      if (!IMAGE_TYPES.has(data.mimeType)) throw unsupportedParameter(PROVIDER_NAME, `messages[${index}].content[${j}]`, `images must be JPEG, PNG, GIF or WebP (got ${data.mimeType}).`);
      return { type: "image", source: { type: "base64", media_type: data.mimeType as "image/png", data: data.data } };
    }
    if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
    throw unsupportedParameter(PROVIDER_NAME, `messages[${index}].content[${j}]`, "images must be data: or http(s) URLs.");
  }
  throw unsupportedParameter(PROVIDER_NAME, `messages[${index}].content[${j}]`, `content parts of type \`${part.type}\` are not supported.`);
}

function toAnthropicTool(tool: NonNullable<ProviderRequest["tools"]>[number]): Tool {
  const fn = tool.function;
  return {
    name: fn.name,
    ...(fn.description && { description: fn.description }),
    input_schema: { ...(fn.parameters ?? { properties: {} }), type: "object" },
    ...(typeof fn.strict === "boolean" && { strict: fn.strict }),
  };
}

function toAnthropicToolChoice(request: ProviderRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  const disable = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...disable };
  if (choice && typeof choice === "object") return { type: "tool", name: choice.function.name, ...disable };
  if (choice === "auto" || (request.tools?.length && request.parallel_tool_calls === false)) return { type: "auto", ...disable };
  return undefined;
}

async function* streamMessages(
  client: Anthropic,
  Stream: typeof AnthropicStream,
  params: MessageCreateParamsNonStreaming,
  signal: AbortSignal,
  keepAlive: () => void,
  toError: (error: unknown) => unknown,
): AsyncGenerator<ChatCompletionChunk> {
  const state = createAnthropicStreamState();
  try {
    // The SDK parses the events but drops `ping`s; the bytes, read first, restart the silence clock.
    const response = await client.messages.create({ ...params, stream: true }, { signal }).asResponse();
    const stream = Stream.fromSSEResponse<RawMessageStreamEvent>(keepAliveBody(response, keepAlive), new AbortController(), client);
    for await (const event of stream) {
      const chunk = fromAnthropicStreamEvent(event, state);
      if (chunk) yield chunk;
    }
  } catch (error) {
    throw toError(error);
  }
  // The SDKs end a stream quietly when it is aborted: say why, so dispatch can name it (timeout or client gone).
  if (signal.aborted) throw signal.reason;
  // A connection that closes before `message_delta` is a failure, never a silent cut.
  if (!state.finished) throw upstreamError({ provider: PROVIDER_NAME, message: "The stream ended before the answer was complete." });
}

/** The same response, its body calling `keepAlive` on every piece that arrives. */
function keepAliveBody(response: Response, keepAlive: () => void): Response {
  if (!response.body) return response;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    transform(piece, controller) {
      keepAlive();
      controller.enqueue(piece);
    },
  });
  return new Response(response.body.pipeThrough(tap), { status: response.status, statusText: response.statusText, headers: response.headers });
}

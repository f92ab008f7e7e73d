import type {
  ApiError as GeminiApiError,
  Content,
  FinishReason as GeminiFinishReason,
  FunctionCallingConfigMode,
  GenerateContentConfig,
  GenerateContentParameters,
  GenerateContentResponse,
  GenerateContentResponseUsageMetadata,
  GoogleGenAI,
  Part,
  ToolConfig,
} from "@google/genai";
import { createAPIError } from "../errors";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, FinishReason, ToolCall, ToolCallDelta, Usage } from "../schema";
import { contentText } from "../tokens";
import { defineProvider, type ModelInfo, type Provider, type ProviderRequest } from "./_define";
import { upstreamError, type UpstreamFailure } from "./_errors";
import { keepRetryAfterHeader, RETRY_AFTER_HEADER_FIELD } from "./_gemini-http";
import { createCallId, GEMINI_SIGNATURE_SEPARATOR, parseDataUrl, parseToolArguments, rejectUnhandled, stopList, toolNamesById, unsupportedParameter } from "./_mapping";
import { lazyClient, mapSDKError, redact } from "./_sdk";

const PROVIDER_NAME = "gemini";

export interface GeminiProviderOptions {
  /** The Gemini API key (sent by the SDK as `x-goog-api-key`; never shown in an error). */
  apiKey: string;
  /**
   * The API origin, as @google/genai's `httpOptions.baseUrl` takes it (no version path).
   * @default "https://generativelanguage.googleapis.com" (the SDK's default)
   */
  baseURL?: string;
  /**
   * Models to add to the catalog (full names, `gemini/...`), with their prices.
   * @default {} (the built-in catalog already lists Google's current models)
   */
  models?: Record<string, ModelInfo>;
}

/**
 * Gemini models through Google's maintained SDK (`@google/genai`, an optional peer
 * dependency loaded on first use). The SDK has no retries of its own by default and no
 * timeout unless asked, so the gateway's apply alone; a client that disconnects aborts
 * the upstream call. @google/genai always calls the global `fetch`, so unlike the other
 * providers this one takes no `fetch` option.
 *
 * @example
 * createGateway({ providers: [gemini({ apiKey: process.env.GEMINI_API_KEY! })] })
 * // then model "gemini/gemini-2.5-flash"
 */
export function gemini(options: GeminiProviderOptions): Provider {
  if (!options?.apiKey) throw new Error("[agentgate] [gemini] Missing required option `apiKey`");
  const getSDK = lazyClient(PROVIDER_NAME, "@google/genai", async () => {
    const sdk = await import("@google/genai");
    // vertexai: false, explicitly: GOOGLE_GENAI_USE_VERTEXAI in the environment would switch backends.
    const client = new sdk.GoogleGenAI({ apiKey: options.apiKey, vertexai: false, ...(options.baseURL && { httpOptions: { baseUrl: options.baseURL } }) });
    keepRetryAfterHeader(client);
    return { client, ApiError: sdk.ApiError };
  });
  const toError = (error: unknown, signal: AbortSignal, ApiError: typeof GeminiApiError): unknown =>
    mapSDKError(PROVIDER_NAME, error, signal, ApiError, (vendorError) => fromGeminiError(vendorError, options.apiKey));

  return defineProvider({
    id: PROVIDER_NAME,
    models: options.models,
    async chat(request, { signal, keepAlive }) {
      const params = toGeminiRequest(request);
      const { client, ApiError } = await getSDK();
      const withSignal = { ...params, config: { ...params.config, abortSignal: signal } };
      if (!request.stream) {
        try {
          return fromGeminiResponse(await client.models.generateContent(withSignal));
        } catch (error) {
          throw toError(error, signal, ApiError);
        }
      }
      return streamContent(client, withSignal, signal, keepAlive, (error) => toError(error, signal, ApiError));
    },
  });
}

export default gemini;

/** Gemini finish reasons → OpenAI's (a function call finishes with STOP: see fromGeminiResponse). */
export const GEMINI_FINISH_REASONS: Record<`${GeminiFinishReason}`, FinishReason> = {
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

// Gemini 3 rejects replayed function calls without their thought signature: it travels in
// the tool call id (see GEMINI_SIGNATURE_SEPARATOR), and a call that never had one
// (another vendor's history) gets Google's documented placeholder.
export { GEMINI_SIGNATURE_SEPARATOR };
const PLACEHOLDER_SIGNATURE = "skip_thought_signature_validator";

/** Request fields the mapping below translates (the rest must be absent or at OpenAI's default). */
const HANDLED = new Set(["max_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "tools", "tool_choice", "response_format"]);

/** `generateContent` parameters as the mapping builds them: contents always a list, config always set. */
export type GeminiRequest = GenerateContentParameters & { contents: Content[]; config: GenerateContentConfig };

/** Pure: an OpenAI-format request → @google/genai `generateContent` parameters. */
export function toGeminiRequest(request: ProviderRequest): GeminiRequest {
  rejectUnhandled(PROVIDER_NAME, request, HANDLED);
  const extra = request as ProviderRequest & { seed?: number | null; presence_penalty?: number | null; frequency_penalty?: number | null };
  const { systemInstruction, contents } = toGeminiContents(request.messages, request.model);
  const config: GenerateContentConfig = {};
  if (systemInstruction) config.systemInstruction = systemInstruction;
  if (request.max_tokens !== undefined) config.maxOutputTokens = request.max_tokens;
  if (typeof request.temperature === "number") config.temperature = request.temperature;
  if (typeof request.top_p === "number") config.topP = request.top_p;
  if (typeof extra.seed === "number") config.seed = extra.seed;
  if (typeof extra.presence_penalty === "number") config.presencePenalty = extra.presence_penalty;
  if (typeof extra.frequency_penalty === "number") config.frequencyPenalty = extra.frequency_penalty;
  const stop = stopList(request.stop);
  if (stop?.length) config.stopSequences = stop;
  if (request.tools?.length) {
    // parametersJsonSchema takes JSON Schema as is (`parameters` is Google's OpenAPI subset).
    config.tools = [
      { functionDeclarations: request.tools.map(({ function: fn }) => ({ name: fn.name, ...(fn.description && { description: fn.description }), ...(fn.parameters && { parametersJsonSchema: fn.parameters }) })) },
    ];
  }
  const toolConfig = toGeminiToolConfig(request.tool_choice);
  if (toolConfig) config.toolConfig = toolConfig;
  const format = request.response_format;
  if (format?.type === "json_object") config.responseMimeType = "application/json";
  if (format?.type === "json_schema") {
    config.responseMimeType = "application/json";
    if (format.json_schema.schema) config.responseJsonSchema = format.json_schema.schema;
  }
  return { model: request.model, contents, config };
}

/**
 * Pure: OpenAI messages → Gemini's `systemInstruction` and `contents`. Gemini has one
 * system instruction, so every system/developer message (the agent's instructions first)
 * joins it, in order. Assistant turns become `model` turns; `tool` results become
 * `functionResponse` parts, named from the assistant call they answer.
 */
export function toGeminiContents(messages: readonly ChatMessage[], model = ""): { systemInstruction?: string; contents: Content[] } {
  const system: string[] = [];
  const contents: Content[] = [];
  const names = toolNamesById(messages);
  const needsSignature = Number(/^gemini-(\d+)/.exec(model)?.[1] ?? 0) >= 3;
  messages.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(contentText(message.content));
        return;
      case "user":
        contents.push({ role: "user", parts: typeof message.content === "string" ? [{ text: message.content }] : message.content.map((part, j) => toGeminiPart(part, index, j)) });
        return;
      case "assistant": {
        const parts: Part[] = [];
        const text = contentText(message.content);
        if (text) parts.push({ text });
        (message.tool_calls ?? []).forEach((call, k) => {
          const signature = call.id.split(GEMINI_SIGNATURE_SEPARATOR)[1] || (needsSignature && k === 0 ? PLACEHOLDER_SIGNATURE : undefined);
          parts.push({ functionCall: { name: call.function.name, args: parseToolArguments(call.function.arguments, index) }, ...(signature && { thoughtSignature: signature }) });
        });
        if (parts.length) contents.push({ role: "model", parts });
        return;
      }
      case "tool": {
        const name = names.get(message.tool_call_id);
        if (!name) {
          throw createAPIError({ code: "invalid_request", param: `messages[${index}].tool_call_id`, message: `No earlier assistant tool call has the id '${message.tool_call_id}'.` });
        }
        const part: Part = { functionResponse: { name, response: toFunctionResponse(contentText(message.content)) } };
        const last = contents[contents.length - 1];
        if (last?.role === "user" && last.parts?.every((p) => p.functionResponse)) last.parts.push(part);
        else contents.push({ role: "user", parts: [part] });
        return;
      }
    }
  });
  return { systemInstruction: system.length ? system.join("\n\n") : undefined, contents };
}

/** The fields of a Gemini response the mappers read (plain JSON works, as in tests). */
export type GeminiResponse = Pick<GenerateContentResponse, "candidates" | "usageMetadata" | "promptFeedback" | "modelVersion" | "responseId">;

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

/**
 * Pure: a @google/genai `ApiError` → what the gateway knows of an upstream failure. The
 * SDK keeps only the status and the JSON body as its message; the body says the rest:
 * `RetryInfo.retryDelay` for 429s (and a `retry-after` header, copied in by
 * `keepRetryAfterHeader`), `API_KEY_INVALID` (a 400) for a bad key.
 */
export function fromGeminiError(error: Pick<GeminiApiError, "status" | "message">, apiKey?: string): UpstreamFailure {
  const body = parseErrorBody(error.message);
  const delays: number[] = [];
  let authFailed = false;
  const header = body?.[RETRY_AFTER_HEADER_FIELD];
  if (typeof header === "number") delays.push(header);
  for (const detail of body?.details ?? []) {
    if (detail["@type"]?.endsWith("google.rpc.RetryInfo") && typeof detail.retryDelay === "string") delays.push(Number.parseFloat(detail.retryDelay));
    if (detail.reason === "API_KEY_INVALID" || detail.reason === "API_KEY_EXPIRED") authFailed = true;
  }
  // Both may come (a proxy's header, Google's RetryInfo): the larger, because retrying
  // before either one's time is up only meets the same refusal again.
  const valid = delays.filter(Number.isFinite);
  return {
    provider: PROVIDER_NAME,
    status: error.status || body?.code,
    message: body?.message ? redact(body.message, apiKey) : undefined,
    retryAfterSeconds: valid.length ? Math.max(...valid) : undefined,
    authFailed,
    cause: error,
  };
}

// --- internal ---

type UserPart = Exclude<Extract<ChatMessage, { role: "user" }>["content"], string>[number];

const IMAGE_EXTENSIONS: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif", heic: "image/heic", heif: "image/heif" };

function toGeminiPart(part: UserPart, index: number, j: number): Part {
  if (part.type === "text" && "text" in part && typeof part.text === "string") return { text: part.text };
  if (part.type === "image_url" && "image_url" in part && part.image_url && typeof part.image_url === "object") {
    const url = String((part.image_url as { url: unknown }).url);
    const data = parseDataUrl(url);
    if (data) return { inlineData: { mimeType: data.mimeType, data: data.data } };
    const mimeType = IMAGE_EXTENSIONS[/\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase() ?? ""];
    if (/^https?:\/\//i.test(url) && mimeType) return { fileData: { fileUri: url, mimeType } };
    throw unsupportedParameter(PROVIDER_NAME, `messages[${index}].content[${j}]`, "images must be data: URLs, or http(s) URLs ending in a known image extension.");
  }
  throw unsupportedParameter(PROVIDER_NAME, `messages[${index}].content[${j}]`, `content parts of type \`${part.type}\` are not supported.`);
}

/** A tool's text result as the object `functionResponse.response` must be. */
function toFunctionResponse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    return { output: value };
  } catch {
    return { output: text };
  }
}

function toGeminiToolConfig(choice: ProviderRequest["tool_choice"]): ToolConfig | undefined {
  if (choice === undefined) return undefined;
  const mode = (value: `${FunctionCallingConfigMode}`) => value as FunctionCallingConfigMode;
  if (choice === "auto") return { functionCallingConfig: { mode: mode("AUTO") } };
  if (choice === "none") return { functionCallingConfig: { mode: mode("NONE") } };
  if (choice === "required") return { functionCallingConfig: { mode: mode("ANY") } };
  return { functionCallingConfig: { mode: mode("ANY"), allowedFunctionNames: [choice.function.name] } };
}

function readParts(parts: Part[] | undefined): { text: string; toolCalls: ToolCall[] } {
  let text = "";
  const toolCalls: ToolCall[] = [];
  for (const part of parts ?? []) {
    // Thought summaries are the model's reasoning, not its answer.
    if (typeof part.text === "string" && !part.thought) text += part.text;
    if (part.functionCall?.name) {
      const id = part.thoughtSignature ? `${createCallId()}${GEMINI_SIGNATURE_SEPARATOR}${part.thoughtSignature}` : createCallId();
      toolCalls.push({ id, type: "function", function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } });
    }
  }
  return { text, toolCalls };
}

function finishReason(response: GeminiResponse, calledTools: boolean): FinishReason | undefined {
  // A blocked prompt has no candidates, only promptFeedback.
  if (!response.candidates?.length && response.promptFeedback?.blockReason) return "content_filter";
  const reason = response.candidates?.[0]?.finishReason;
  if (!reason) return undefined;
  const mapped = GEMINI_FINISH_REASONS[reason] ?? "stop";
  return mapped === "stop" && calledTools ? "tool_calls" : mapped;
}

interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ "@type"?: string; reason?: string; retryDelay?: string }>;
  [RETRY_AFTER_HEADER_FIELD]?: unknown;
}

function parseErrorBody(message: string): GoogleErrorBody | undefined {
  // Plain HTTP errors are the JSON body; mid-stream ones are prefixed ("got status: …. {json}").
  const start = message.indexOf("{");
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(message.slice(start)) as { error?: GoogleErrorBody };
    return parsed.error;
  } catch {
    return undefined;
  }
}

async function* streamContent(client: GoogleGenAI, params: GenerateContentParameters, signal: AbortSignal, keepAlive: () => void, toError: (error: unknown) => unknown): AsyncGenerator<ChatCompletionChunk> {
  const state = createGeminiStreamState();
  try {
    const stream = await client.models.generateContentStream(params);
    for await (const response of stream) {
      // A chunk of thoughts only maps to nothing, yet proves Gemini alive.
      keepAlive();
      yield* fromGeminiStreamChunk(response, state);
    }
  } catch (error) {
    throw toError(error);
  }
  // The SDKs end a stream quietly when it is aborted: say why, so dispatch can name it (timeout or client gone).
  if (signal.aborted) throw signal.reason;
  // A connection that closes before the finish reason is a failure, never a silent cut.
  if (!state.finished) throw upstreamError({ provider: PROVIDER_NAME, message: "The stream ended before the answer was complete." });
}

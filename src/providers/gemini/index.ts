import type { Provider, ProviderRequest } from "../_define";
import type { ChatCompletion } from "../../schema";
import { createWireProvider, type WireProviderOptions } from "../_wire";
import { toGeminiBody, toGeminiRequest } from "./request";
import { fromGeminiError, fromGeminiResponse, type GeminiResponse } from "./response";
import { createGeminiStreamState, fromGeminiSSE } from "./stream";

export { GEMINI_SIGNATURE_SEPARATOR } from "../_mapping";
export { toGeminiBody, toGeminiContents, toGeminiRequest, type GeminiRequest } from "./request";
export { fromGeminiError, fromGeminiResponse, fromGeminiUsage, GEMINI_FINISH_REASONS, type GeminiResponse } from "./response";
export { createGeminiStreamState, fromGeminiSSE, fromGeminiStreamChunk, type GeminiStreamState } from "./stream";

export interface GeminiProviderOptions extends WireProviderOptions {
  /**
   * The Gemini API key, sent as `x-goog-api-key` as @google/genai sends it; never shown in
   * an error. Optional when `headers` brings the auth (a Vertex AI access token).
   */
  apiKey?: string;
  /**
   * The API origin, as @google/genai's `httpOptions.baseUrl` takes it (no version path).
   * @default "https://generativelanguage.googleapis.com"
   */
  baseURL?: string;
}

/**
 * Gemini models over Google's `generateContent` wire (`…:streamGenerateContent?alt=sse`
 * for streams), spoken over a pooled HTTP client (no SDK on the request path). The
 * gateway does retries and timeouts; a client that disconnects closes the upstream connection.
 *
 * @example
 * createGateway({ providers: [gemini({ apiKey: process.env.GEMINI_API_KEY! })] })
 * // then model "gemini/gemini-2.5-flash"
 */
export function gemini(options: GeminiProviderOptions): Provider {
  return createWireProvider(
    {
      id: "gemini",
      defaultBaseURL: "https://generativelanguage.googleapis.com",
      headers: {},
      authHeaders: (apiKey) => ({ "x-goog-api-key": apiKey }),
      path: (request, stream) => `/v1beta/models/${request.model}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
      body: (request) => toGeminiBody(toGeminiRequest(request)),
      completion: (json: GeminiResponse, request) => firstCallOnly(fromGeminiResponse(json), request),
      streamState: createGeminiStreamState,
      streamEvent: fromGeminiSSE,
      streamFinished: (state) => state.finished,
      failure: fromGeminiError,
      countTokens: {
        path: (request) => `/v1beta/models/${request.model}:countTokens`,
        // The whole request (system instruction and tools too), as generateContent would get it.
        body: (request) => ({ generateContentRequest: { model: `models/${request.model}`, ...toGeminiBody(toGeminiRequest(request)) } }),
        read: (json: { totalTokens?: number }) => json.totalTokens ?? Number.NaN,
      },
    },
    options,
  );
}

export default gemini;

// --- internal ---

/** `parallel_tool_calls: false` on Gemini, which has no such switch: the turn's first function call is passed on, later ones are not. */
function firstCallOnly(completion: ChatCompletion, request: ProviderRequest): ChatCompletion {
  const message = completion.choices[0]?.message;
  if (request.parallel_tool_calls !== false || !message?.tool_calls || message.tool_calls.length < 2) return completion;
  message.tool_calls = message.tool_calls.slice(0, 1);
  return completion;
}

import type { Provider } from "../_define";
import { createWireProvider, type WireProviderOptions } from "../_wire";
import { toGeminiBody, toGeminiRequest } from "./request";
import { fromGeminiError, fromGeminiResponse } from "./response";
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
      completion: fromGeminiResponse,
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

import type { Provider } from "../_define";
import { createWireProvider, type WireProviderOptions } from "../_wire";
import { toOpenAIBody } from "./request";
import { fromOpenAICompletion, fromOpenAIError } from "./response";
import { fromOpenAIEvent, type OpenAIStreamState } from "./stream";

export { toOpenAIBody, toOpenAIMessage, toOpenAIParams } from "./request";
export { fromOpenAICompletion, fromOpenAIError, fromOpenAIUsage, OPENAI_FINISH_REASONS } from "./response";
export { fromOpenAIChunk, fromOpenAIEvent } from "./stream";

export interface OpenAIProviderOptions extends WireProviderOptions {
  /**
   * The model prefix it serves, for an OpenAI-compatible vendor beside OpenAI itself
   * (`groq` serves `groq/llama-3.3-70b-versatile`); errors name it.
   * @default "openai"
   */
  id?: string;
  /**
   * The OpenAI API key, sent as `Authorization: Bearer` (never shown in an error).
   * Optional when `headers` brings the auth (Azure's `api-key`, an Entra ID token).
   */
  apiKey?: string;
  /**
   * The API base URL as the openai SDK takes it, ending in `/v1`; also any
   * OpenAI-compatible server (vLLM, Ollama, Groq, Together, Mistral, DeepSeek, OpenRouter).
   * @default "https://api.openai.com/v1"
   */
  baseURL?: string;
}

/**
 * OpenAI models, and any OpenAI-compatible vendor under its own id, spoken over a pooled
 * HTTP client (no SDK on the request path). Requests pass through nearly unchanged;
 * streams always ask for the final usage (`include_usage`) so billing uses the vendor's
 * own count. The gateway does retries and timeouts.
 *
 * @example
 * createGateway({ providers: [
 *   openai({ apiKey: process.env.OPENAI_API_KEY! }), // "openai/gpt-4.1-mini"
 *   openai({ id: "groq", baseURL: "https://api.groq.com/openai/v1", apiKey: process.env.GROQ_API_KEY!,
 *     models: { "groq/llama-3.3-70b-versatile": { inputPerMTok: 0.59, outputPerMTok: 0.79 } } }),
 * ] })
 */
export function openai(options: OpenAIProviderOptions): Provider {
  const id = options?.id ?? "openai";
  return createWireProvider<OpenAIStreamState>(
    {
      id,
      defaultBaseURL: "https://api.openai.com/v1",
      headers: { accept: "application/json" },
      authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      path: () => "/chat/completions",
      body: toOpenAIBody,
      completion: fromOpenAICompletion,
      streamState: () => ({ finished: false }),
      streamEvent: (event, state) => fromOpenAIEvent(id, event, state),
      streamFinished: (state) => state.finished,
      failure: (status, body, headers) => fromOpenAIError(status, body, headers, id),
    },
    options,
  );
}

export default openai;

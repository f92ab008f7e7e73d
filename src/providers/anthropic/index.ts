import type { Provider } from "../_define";
import { createWireProvider, type WireProviderOptions } from "../_wire";
import { toAnthropicBody } from "./request";
import { createAnthropicRawClient, withRawClient } from "./raw";
import { fromAnthropicError, fromAnthropicMessage } from "./response";
import { createAnthropicStreamState, fromAnthropicSSE } from "./stream";

export { ANTHROPIC_DEFAULT_MAX_TOKENS, toAnthropicBody, toAnthropicMessages, toAnthropicParams } from "./request";
export { ANTHROPIC_FINISH_REASONS, fromAnthropicError, fromAnthropicMessage, fromAnthropicUsage, type AnthropicUsageCounts } from "./response";
export { anthropicRawClient, type AnthropicRawClient } from "./raw";
export { createAnthropicStreamState, fromAnthropicSSE, fromAnthropicStreamEvent, type AnthropicStreamState } from "./stream";

/** The API version @anthropic-ai/sdk 1.x sends (WIRE.md §3.1). */
export const ANTHROPIC_VERSION = "2026-10-21";

export interface AnthropicProviderOptions extends WireProviderOptions {
  /**
   * The Anthropic API key, sent as @anthropic-ai/sdk 1.x sends it (`Authorization: Bearer`,
   * with `anthropic-version`); never shown in an error. Optional when `headers` brings the auth.
   */
  apiKey?: string;
  /**
   * The API origin, as @anthropic-ai/sdk takes it (no `/v1`).
   * @default "https://api.anthropic.com"
   */
  baseURL?: string;
  /**
   * The output cap for Anthropic models when the client sets none (a model's own
   * `defaultMaxTokens` wins; without either, the gateway's `defaultMaxTokens`). The hold
   * covers exactly the cap that is sent.
   */
  defaultMaxTokens?: number;
}

/**
 * Claude models over Anthropic's Messages wire, spoken over a pooled HTTP client (no SDK
 * on the request path). The gateway does retries and timeouts; a client that
 * disconnects closes the upstream connection; each `ping` keeps a quiet stream alive.
 *
 * @example
 * createGateway({ providers: [anthropic({ apiKey: process.env.ANTHROPIC_API_KEY! })] })
 * // then model "anthropic/claude-sonnet-4-6"
 */
export function anthropic(options: AnthropicProviderOptions): Provider {
  const defaultMaxTokens = options?.defaultMaxTokens;
  const provider = createWireProvider(
    {
      id: "anthropic",
      defaultBaseURL: "https://api.anthropic.com",
      headers: { accept: "application/json", "anthropic-version": ANTHROPIC_VERSION },
      authHeaders: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      path: () => "/v1/messages",
      body: (request, stream) => toAnthropicBody(request, stream, defaultMaxTokens),
      completion: fromAnthropicMessage,
      streamState: createAnthropicStreamState,
      streamEvent: fromAnthropicSSE,
      streamFinished: (state) => state.finished,
      failure: fromAnthropicError,
    },
    options,
    defaultMaxTokens === undefined ? {} : { defaultMaxTokens },
  );
  // The Messages route's pass-through: the same key and headers, the client's body as it came.
  const custom = options.headers;
  const fixed = { "content-type": "application/json", accept: "application/json", "anthropic-version": ANTHROPIC_VERSION, ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) };
  const headers = async (model: string) => ({ ...fixed, ...lowerCased(typeof custom === "function" ? await custom({ model }) : (custom ?? {})) });
  return withRawClient(provider, createAnthropicRawClient({ apiKey: options.apiKey, baseURL: options.baseURL || "https://api.anthropic.com", headers, connections: options.connections }));
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) out[name.toLowerCase()] = headers[name];
  return out;
}

export default anthropic;

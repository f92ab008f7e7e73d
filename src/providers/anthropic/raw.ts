import { HTTPError } from "h3";
import type { Provider } from "../_define";
import { redact, upstreamError } from "../_errors";
import { createUpstreamClient, readBody, type UpstreamResponse } from "../_upstream";
import type { Usage } from "../../schema";
import { fromAnthropicError, fromAnthropicUsage, type AnthropicUsageCounts } from "./response";

/**
 * The Messages wire as it is: a client's body and its `anthropic-version` and
 * `anthropic-beta` headers go to Anthropic, and the answer comes back unread, so prompt
 * caching, thinking signatures, betas and server tools work through the gateway.
 */
export interface AnthropicRawClient {
  /** POSTs `body` (JSON text) to `path`; an HTTP error from Anthropic throws, keeping its status, type and message. */
  post(path: "/v1/messages" | "/v1/messages/count_tokens", body: string, headers: { model: string; version?: string; beta?: string }, signal: AbortSignal): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

/** Where the anthropic provider keeps its raw client (a symbol: no field in the `Provider` contract). */
const kRawClient = Symbol.for("agentgate.anthropic.raw");

/** The raw client of a provider, when it is the built-in anthropic provider. */
export function anthropicRawClient(provider: Provider): AnthropicRawClient | undefined {
  return (provider as { [kRawClient]?: AnthropicRawClient })[kRawClient];
}

/** Gives `provider` its raw client; its `close` closes both. */
export function withRawClient(provider: Provider, raw: AnthropicRawClient): Provider {
  const close = provider.close;
  return Object.assign(provider, {
    [kRawClient]: raw,
    close: async () => void (await Promise.all([close?.call(provider), raw.close()])),
  });
}

export interface RawClientOptions {
  apiKey?: string;
  baseURL: string;
  /** The provider's own headers (auth, a default version, the user's extra headers). */
  headers: (model: string) => Record<string, string> | Promise<Record<string, string>>;
  connections?: number;
}

export function createAnthropicRawClient(options: RawClientOptions): AnthropicRawClient {
  const client = createUpstreamClient(options.baseURL, { connections: options.connections });
  return {
    async post(path, body, request, signal) {
      const headers = { ...(await options.headers(request.model)) };
      if (request.version) headers["anthropic-version"] = request.version;
      if (request.beta) headers["anthropic-beta"] = request.beta;
      let response: UpstreamResponse;
      try {
        response = await client.post(path, body, headers, signal);
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        throw upstreamError({ provider: "anthropic", cause: error });
      }
      if (response.status >= 300) throw rawFailure(response, await readBody(response.body).catch(() => undefined), options.apiKey);
      return response;
    },
    close: () => client.close(),
  };
}

/** Anthropic's usage → the gateway's: every input token in `prompt_tokens`, cache reads and writes named. */
export function rawUsage(counts: AnthropicUsageCounts): Usage {
  const usage = fromAnthropicUsage(counts);
  return { ...usage, prompt_tokens_details: { ...usage.prompt_tokens_details, cache_write_tokens: counts.cache_creation_input_tokens ?? 0 } };
}

// --- internal ---

/**
 * Anthropic's own error, as it came: status, type and message. A rejected gateway key
 * (401, 403) is the exception, as on every route: the client's key is not at fault.
 */
function rawFailure(response: UpstreamResponse, body: unknown, apiKey: string | undefined): HTTPError {
  const failure = fromAnthropicError(response.status, body, response.headers);
  const error = (body as { error?: { type?: unknown } } | undefined)?.error;
  if (failure.authFailed || response.status === 401 || response.status === 403 || typeof error?.type !== "string" || !failure.message) {
    if (failure.message) failure.message = redact(failure.message, apiKey);
    return upstreamError(failure);
  }
  const message = redact(failure.message, apiKey);
  const headers = new Headers();
  const retryAfter = response.headers.get("retry-after");
  if (retryAfter) headers.set("retry-after", retryAfter);
  // `type` (OpenAI's) lets dispatch see a finished gateway error; `anthropicError` is what the Messages dialect sends.
  return new HTTPError({ status: response.status, message, headers, data: { message, type: "upstream_error", param: null, code: "upstream_error", anthropicError: { type: error.type, message } } });
}

import { HTTPError } from "h3";
import type { ChatCompletion, ChatCompletionChunk } from "../schema";
import { defineProvider, type ModelInfo, type Provider, type ProviderContext, type ProviderRequest } from "./_define";
import { redact, upstreamError, type UpstreamFailure } from "./_errors";
import { createSSEDecoder, type SSEEvent } from "./_sse";
import { cooldownAfter, createKeyPool, type PoolMember } from "./_key-pool";
import { createUpstreamClient, readBody, type HeaderReader, type UpstreamClient, type UpstreamResponse } from "./_upstream";

/**
 * Extra request headers: fixed, or a function called before every request (for tokens
 * that expire: Azure OpenAI's Entra ID, Vertex AI's access tokens). They are sent after
 * the vendor's own, so they may replace its auth header.
 */
export type HeadersOption = Record<string, string> | ((context: { model: string }) => Record<string, string> | Promise<Record<string, string>>);

/** The options every built-in vendor provider takes. */
export interface WireProviderOptions {
  /** The vendor API key, sent as the vendor's SDK sends it; never shown in an error. Optional when `headers` brings the auth. */
  apiKey?: string;
  /** The API base URL, as the vendor's SDK takes it. */
  baseURL?: string;
  /**
   * Several API keys of the vendor (instead of `apiKey`): requests take turns over them,
   * and one answering 429 or failing is skipped for its `retry-after` (or a backoff) while
   * the others serve, across instances with Redis. See README "Key pools".
   */
  apiKeys?: string[];
  /**
   * Several deployments (a base URL and its key each; a missing one is `baseURL` / `apiKey`),
   * pooled as `apiKeys` are: regions, Azure deployments, self-hosted replicas.
   */
  deployments?: Array<{ apiKey?: string; baseURL?: string }>;
  /** Extra headers for every request (see `HeadersOption`). */
  headers?: HeadersOption;
  /** Models to add to the catalog (full names, `<id>/...`), with their prices. */
  models?: Record<string, ModelInfo>;
  /**
   * Connections kept to the vendor at most.
   * @default 256
   */
  connections?: number;
  /**
   * @deprecated Ignored: the providers no longer run a vendor SDK, and speak HTTP over
   * their own pooled undici client.
   */
  fetch?: typeof fetch;
}

/** What one vendor's wire needs, as small pure parts; `createWireProvider` does the rest. */
export interface WireVendor<State> {
  /** The provider id (and model prefix); errors name it. */
  id: string;
  defaultBaseURL: string;
  /** Headers the vendor's SDK sends on every request, besides `content-type` (`accept`, an API version). */
  headers: Record<string, string>;
  /** The vendor's auth header for a key, as its SDK sends it. */
  authHeaders(apiKey: string): Record<string, string>;
  /** The endpoint, after the base URL. */
  path(request: ProviderRequest, stream: boolean): string;
  /** Gateway request → vendor body; throws a 400 for what the vendor cannot do, before any call. */
  body(request: ProviderRequest, stream: boolean): object;
  /** Vendor JSON answer → completion (the request, for what the answer must honour). */
  completion(json: never, request: ProviderRequest): ChatCompletion;
  streamState(request: ProviderRequest): State;
  /** One SSE event → chunks (or none); throws a `StreamFailure` for the vendor's mid-stream error. */
  streamEvent(event: SSEEvent, state: State): ChatCompletionChunk | ChatCompletionChunk[] | undefined;
  /** True once the vendor said the answer is complete; a stream that ends before is a failure. */
  streamFinished(state: State): boolean;
  /** A vendor error (an HTTP status, or none mid-stream) → what the gateway knows of it. */
  failure(status: number | undefined, body: unknown, headers?: HeaderReader): UpstreamFailure;
  /** The vendor's token-counting endpoint, when it has one. */
  countTokens?: {
    path(request: ProviderRequest): string;
    body(request: ProviderRequest): object;
    /** The vendor's answer → the input tokens. */
    read(json: never): number;
  };
}

/**
 * A provider speaking `vendor`'s wire over one pooled undici client for its origin:
 * the factory boilerplate every built-in shares (options, headers, error mapping, the
 * stream and its tail), so each vendor only maps bodies and events.
 */
export function createWireProvider<State>(vendor: WireVendor<State>, options: WireProviderOptions, extra: Partial<Pick<Provider, "defaultMaxTokens">> = {}): Provider {
  const { headers: custom } = options ?? {};
  const targets = deploymentsOf(vendor, options);
  if (targets.some((t) => !t.apiKey) && !custom) throw new Error(`[agentgate] [${vendor.id}] Missing required option \`apiKey\``);
  // One pooled client per origin, shared by the deployments on it.
  const clients = new Map<string, UpstreamClient>();
  const deployments: Deployment[] = targets.map(({ apiKey, baseURL }) => {
    const client = clients.get(baseURL) ?? createUpstreamClient(baseURL, { connections: options.connections });
    clients.set(baseURL, client);
    const fixed: Record<string, string> = { "content-type": "application/json", ...vendor.headers, ...(apiKey && vendor.authHeaders(apiKey)), ...(typeof custom === "object" && lowerCased(custom)) };
    return { apiKey, baseURL, client, fixed };
  });
  const headersFor = typeof custom === "function" ? async (d: Deployment, model: string) => ({ ...d.fixed, ...lowerCased(await custom({ model })) }) : (d: Deployment) => d.fixed;
  const secrets = targets.map((t) => t.apiKey);
  const fail = (status: number | undefined, body: unknown, headers?: HeaderReader): HTTPError => {
    const failure = vendor.failure(status, body, headers);
    // Any key of the pool, whichever answered: none is ever shown.
    const message = failure.message;
    if (message) failure.message = secrets.reduce<string>((text, secret) => redact(text, secret), message);
    return upstreamError(failure);
  };
  const pool = deployments.length > 1 ? createKeyPool(vendor.id, deployments, (d) => `${d.baseURL}\n${d.apiKey ?? ""}`) : undefined;

  /** One call to one deployment, up to the answer's status (a stream's chunks are read later). */
  const call = async (d: Deployment, request: ProviderRequest, context: ProviderContext) => {
    const stream = request.stream === true;
    const body = JSON.stringify(vendor.body(request, stream));
    const own = await headersFor(d, context.model);
    // The gateway's own (trace context) go along with the vendor's.
    const headers = context.headers ? { ...own, ...context.headers } : own;
    let response: UpstreamResponse;
    try {
      response = await d.client.post(vendor.path(request, stream), body, headers, context.signal);
    } catch (error) {
      throw networkFailure(vendor.id, error, context.signal);
    }
    if (response.status >= 300) throw fail(response.status, await readBody(response.body).catch(() => undefined), response.headers);
    if (!stream) {
      const json = await readBody(response.body).catch((error: unknown) => Promise.reject(networkFailure(vendor.id, error, context.signal)));
      if (!json || typeof json !== "object") throw upstreamError({ provider: vendor.id, message: "The answer was not JSON." });
      return vendor.completion(json as never, request);
    }
    return streamChunks(vendor, request, response, context, fail);
  };

  /**
   * Over a pool: the next member that is not cooling takes the request; one that fails
   * before answering cools down and the next ready one is tried at once, within the same
   * deadline. With every member cooling, the failure goes to dispatch (its retries wait).
   */
  const callPool = async (members: Array<PoolMember<Deployment> & { cooling: boolean }>, request: ProviderRequest, context: ProviderContext) => {
    for (let i = 0; ; i++) {
      const member = members[i];
      try {
        const result = await call(member.value, request, context);
        pool!.succeeded(member);
        return result;
      } catch (error) {
        const ms = HTTPError.isError(error) && !context.signal.aborted ? cooldownAfter(error, pool!.failuresOf(member)) : undefined;
        if (ms === undefined) throw error;
        pool!.failed(member, ms, context.cooldowns);
        if (!members[i + 1] || members[i + 1].cooling) throw error;
      }
    }
  };

  return defineProvider({
    id: vendor.id,
    models: options.models,
    ...extra,
    async chat(request, context) {
      if (!pool) return call(deployments[0], request, context);
      return callPool(await pool.order(context.cooldowns), request, context);
    },
    close: async () => {
      await Promise.all([...clients.values()].map((client) => client.close()));
    },
    ...(vendor.countTokens && { countTokens: (request: ProviderRequest, context: ProviderContext) => countTokens(vendor.countTokens!, request, context) }),
  });

  // Counting is free and rare: the first deployment answers it.
  async function countTokens(counter: NonNullable<WireVendor<State>["countTokens"]>, request: ProviderRequest, context: ProviderContext): Promise<number> {
    const d = deployments[0];
    let response: UpstreamResponse;
    try {
      response = await d.client.post(counter.path(request), JSON.stringify(counter.body(request)), await headersFor(d, context.model), context.signal);
    } catch (error) {
      throw networkFailure(vendor.id, error, context.signal);
    }
    const json = await readBody(response.body).catch((error: unknown) => Promise.reject(networkFailure(vendor.id, error, context.signal)));
    if (response.status >= 300) throw fail(response.status, json, response.headers);
    const tokens = counter.read(json as never);
    if (!Number.isFinite(tokens)) throw upstreamError({ provider: vendor.id, message: "The token count was not a number." });
    return tokens;
  }
}

/** The vendor's error event inside a stream, thrown by `streamEvent` with the error's body. */
export class StreamFailure {
  constructor(readonly body: unknown) {}
}

/** Parses an event's JSON data; a vendor that sends something else failed. */
export function eventJSON<T>(provider: string, event: SSEEvent): T {
  try {
    return JSON.parse(event.data) as T;
  } catch (error) {
    throw upstreamError({ provider, message: "The stream carried an event that is not JSON.", cause: error });
  }
}

// --- internal ---

/** One key and base URL of a provider, with its client and fixed headers. */
interface Deployment {
  apiKey?: string;
  baseURL: string;
  client: UpstreamClient;
  fixed: Record<string, string>;
}

/** `deployments`, else `apiKeys`, else the one `apiKey`: each with its base URL (an empty one means the vendor's own). */
function deploymentsOf(vendor: { id: string; defaultBaseURL: string }, options: WireProviderOptions): Array<{ apiKey?: string; baseURL: string }> {
  const base = options.baseURL || vendor.defaultBaseURL;
  if (options.deployments?.length) return options.deployments.map((d) => ({ apiKey: d.apiKey ?? options.apiKey, baseURL: d.baseURL || base }));
  if (options.apiKeys !== undefined) {
    if (!options.apiKeys.length || options.apiKeys.some((key) => typeof key !== "string" || !key)) throw new Error(`[agentgate] [${vendor.id}] \`apiKeys\` must be a non-empty list of keys`);
    return options.apiKeys.map((apiKey) => ({ apiKey, baseURL: base }));
  }
  return [{ apiKey: options.apiKey, baseURL: base }];
}

async function* streamChunks<State>(vendor: WireVendor<State>, request: ProviderRequest, response: UpstreamResponse, context: ProviderContext, fail: (status: number | undefined, body: unknown) => HTTPError): AsyncGenerator<ChatCompletionChunk> {
  const state = vendor.streamState(request);
  const decoder = createSSEDecoder();
  try {
    for await (const bytes of response.body) {
      // Any bytes prove the vendor alive, also a ping or a thinking block that makes no chunk.
      context.keepAlive();
      for (const event of decoder.push(bytes as Uint8Array)) {
        const out = vendor.streamEvent(event, state);
        if (out === undefined) continue;
        // Not `yield*`: over an array it steps through an async-from-sync iterator, a promise per chunk.
        if (Array.isArray(out)) for (const chunk of out) yield chunk;
        else yield out;
      }
    }
  } catch (error) {
    if (error instanceof StreamFailure) throw fail(undefined, error.body);
    if (HTTPError.isError(error)) throw error;
    throw networkFailure(vendor.id, error, context.signal);
  } finally {
    // Left early (the client went away): close the vendor's connection rather than drain it.
    if (!response.body.readableEnded) response.body.destroy();
  }
  if (context.signal.aborted) throw context.signal.reason;
  // A connection that closes before the vendor's finish is a failure, never a silent cut.
  if (!vendor.streamFinished(state)) throw upstreamError({ provider: vendor.id, message: "The stream ended before the answer was complete." });
}

/** The gateway's own aborts pass through for dispatch to name (timeout, client gone); anything else is a 502. */
function networkFailure(provider: string, error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? error;
  if (HTTPError.isError(error)) return error;
  return upstreamError({ provider, cause: error });
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) out[name.toLowerCase()] = headers[name];
  return out;
}

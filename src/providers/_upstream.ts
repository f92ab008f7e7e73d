import type { Dispatcher, Pool } from "undici";

/** Options of one vendor's pooled connection. */
export interface UpstreamClientOptions {
  /**
   * Connections kept open to the vendor's origin at most; requests beyond wait for a free one.
   * @default 256
   */
  connections?: number;
}

/** A vendor's answer: status, headers, and the body still to be read. */
export interface UpstreamResponse {
  status: number;
  headers: HeaderReader;
  body: Dispatcher.ResponseData["body"];
}

/** Reads a response header by its lower-case name, the way `Headers.get` does. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** One vendor origin's HTTP client: created with the provider, shared by all its requests. */
export interface UpstreamClient {
  /** POSTs a JSON body to `path` (after the base URL's own path); rejects with the signal's reason on abort. */
  post(path: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<UpstreamResponse>;
  /** Closes the pooled connections (idle ones at once, busy ones when they finish). */
  close(): Promise<void>;
}

/**
 * An undici `Pool` for the origin of `baseURL` on Node: keep-alive, bounded connections,
 * no clock of its own (the gateway's deadline aborts through the signal and restarts per
 * chunk, so undici's header and body timeouts are off). undici is imported on first use,
 * and other runtimes (Bun, workers, edge) get their own `fetch` instead.
 */
export function createUpstreamClient(baseURL: string, options: UpstreamClientOptions = {}): UpstreamClient {
  const url = new URL(baseURL);
  const basePath = url.pathname.replace(/\/+$/, "");
  if (!onNode()) return fetchClient(url.origin + basePath);
  let pool: Pool | undefined;
  let loading: Promise<Pool> | undefined;
  const load = () =>
    (loading ??= import("undici").then(({ Pool }) => (pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 }))));
  return {
    async post(path, body, headers, signal) {
      const response = await (pool ?? (await load())).request({ method: "POST", path: basePath + path, headers, body, signal });
      const raw = response.headers;
      return { status: response.statusCode, body: response.body, headers: { get: (name) => firstValue(raw[name]) } };
    },
    close: async () => void (loading && (await (await loading).close())),
  };
}

/** The whole body, decoded once and parsed as JSON; the text itself when it is not JSON. */
export async function readBody(body: UpstreamResponse["body"]): Promise<unknown> {
  const text = await body.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// --- internal ---

/** Node itself (Bun and Deno also say `versions.node`, but are not served by undici's pool). */
function onNode(): boolean {
  const global = globalThis as { process?: { versions?: Record<string, string> }; Bun?: unknown; Deno?: unknown };
  return typeof global.process?.versions?.node === "string" && global.Bun === undefined && global.Deno === undefined;
}

/** The runtime's own `fetch`, its body shaped as the wire reads undici's (text, chunks, destroy). */
function fetchClient(base: string): UpstreamClient {
  return {
    async post(path, body, headers, signal) {
      const response = await fetch(base + path, { method: "POST", headers, body, signal });
      return { status: response.status, body: webBody(response), headers: response.headers };
    },
    close: async () => undefined,
  };
}

function webBody(response: Response): UpstreamResponse["body"] {
  const stream = response.body;
  const out = {
    readableEnded: stream === null,
    text: () => response.text(),
    destroy: () => void stream?.cancel().catch(() => undefined),
    async *[Symbol.asyncIterator]() {
      if (!stream) return;
      const reader = stream.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          yield value;
        }
        out.readableEnded = true;
      } finally {
        reader.releaseLock();
      }
    },
  };
  return out as unknown as UpstreamResponse["body"];
}

function firstValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === "string" ? value : (value[0] ?? null);
}

import { Pool, type Dispatcher } from "undici";

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
 * An undici `Pool` for the origin of `baseURL`: keep-alive, bounded connections, no clock
 * of its own (the gateway's deadline aborts through the signal and restarts per chunk, so
 * undici's header and body timeouts are off).
 */
export function createUpstreamClient(baseURL: string, options: UpstreamClientOptions = {}): UpstreamClient {
  const url = new URL(baseURL);
  const basePath = url.pathname.replace(/\/+$/, "");
  const pool = new Pool(url.origin, { connections: options.connections ?? 256, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  return {
    async post(path, body, headers, signal) {
      const response = await pool.request({ method: "POST", path: basePath + path, headers, body, signal });
      const raw = response.headers;
      return { status: response.statusCode, body: response.body, headers: { get: (name) => firstValue(raw[name]) } };
    },
    close: () => pool.close(),
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

function firstValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === "string" ? value : (value[0] ?? null);
}

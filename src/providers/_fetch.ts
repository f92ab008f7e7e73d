import type { Agent as HttpAgent, IncomingMessage } from "node:http";

/** Options of the pooled upstream client. */
export interface KeepAliveFetchOptions {
  /**
   * Sockets kept per upstream host.
   * @default 256
   */
  maxSockets?: number;
}

/**
 * @deprecated The built-in providers no longer use a `fetch` (they speak HTTP over their
 * own pooled undici client); kept for hosts that hand it to an SDK of their own.
 *
 * A `fetch` for the vendor SDKs over Node's own `http`/`https` with keep-alive agents:
 * sockets are pooled per host and reused across requests. On the gateway's hot path it
 * costs about half the CPU of the global `fetch` (undici), because JSON answers are
 * handed over as one buffer and only event streams go through a web stream. Outside
 * Node (workers, Deno) it falls back to the global `fetch`.
 *
 * It speaks plain HTTP/1.1: no redirects, no cookies, and it asks for no compression,
 * which is all an API client needs.
 */
export function createKeepAliveFetch(options: KeepAliveFetchOptions = {}): typeof fetch {
  if (typeof process === "undefined" || !process.versions?.node) return globalThis.fetch;
  const maxSockets = options.maxSockets ?? 256;
  let modules: Promise<{ http: typeof import("node:http"); https: typeof import("node:https"); agents: Record<string, HttpAgent> }> | undefined;
  const load = () =>
    (modules ??= Promise.all([import("node:http"), import("node:https")]).then(([http, https]) => ({
      http,
      https,
      agents: <Record<string, HttpAgent>>{
        "http:": new http.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" }),
        "https:": new https.Agent({ keepAlive: true, maxSockets, scheduling: "lifo" }),
      },
    })));

  return async function keepAliveFetch(input, init = {}) {
    if (input instanceof Request) return globalThis.fetch(input, init); // SDKs pass URLs; keep the rare rest correct
    const { http, https, agents } = await load();
    const url = input instanceof URL ? input : new URL(input);
    const body = await requestBody(init.body);
    const headers = plainHeaders(init.headers);
    // Node would otherwise send a chunked body; vendors accept both, but a length is cheaper.
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    delete headers["accept-encoding"];

    return new Promise<Response>((resolve, reject) => {
      const transport = url.protocol === "https:" ? https : http;
      const request = transport.request(
        { agent: agents[url.protocol], hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: init.method ?? "GET", headers, signal: init.signal ?? undefined },
        (response) => resolve(toResponse(response)),
      );
      request.once("error", (error) => reject(init.signal?.aborted ? init.signal.reason : new TypeError("fetch failed", { cause: error })));
      request.end(body);
    });
  };
}

// --- internal ---

function plainHeaders(input: HeadersInit | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!input) return out;
  if (input instanceof Headers) input.forEach((value, name) => (out[name] = value));
  else if (Array.isArray(input)) for (const [name, value] of input) out[name.toLowerCase()] = value;
  else for (const name in input) out[name.toLowerCase()] = (input as Record<string, string>)[name];
  return out;
}

async function requestBody(body: BodyInit | null | undefined): Promise<Uint8Array | undefined> {
  if (body == null) return undefined;
  if (typeof body === "string") return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // FormData, Blob, streams: let the platform serialise them.
  return new Uint8Array(await new Response(body).arrayBuffer());
}

function toResponse(message: IncomingMessage): Response {
  const headers = new Headers();
  for (let i = 0; i < message.rawHeaders.length; i += 2) headers.append(message.rawHeaders[i], message.rawHeaders[i + 1]);
  const init = { status: message.statusCode ?? 502, statusText: message.statusMessage, headers };
  const streamed = (message.headers["content-type"] ?? "").includes("text/event-stream");
  return new Response(streamed ? toWebStream(message) : bufferedStream(message), init);
}

/** Non-streamed answers arrive whole: one chunk, no per-chunk web-stream machinery. */
function bufferedStream(message: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const parts: Buffer[] = [];
      message.on("data", (part: Buffer) => parts.push(part));
      message.once("end", () => {
        if (parts.length) controller.enqueue(parts.length === 1 ? parts[0] : Buffer.concat(parts));
        controller.close();
      });
      message.once("error", (error) => failQuietly(controller, error));
    },
    cancel() {
      message.destroy();
    },
  });
}

/** Event streams chunk by chunk, pausing the socket when the reader falls behind. */
function toWebStream(message: IncomingMessage): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      message.on("data", (part: Buffer) => {
        controller.enqueue(part);
        if ((controller.desiredSize ?? 1) <= 0) message.pause();
      });
      message.once("end", () => controller.close());
      message.once("error", (error) => failQuietly(controller, error));
    },
    pull() {
      message.resume();
    },
    cancel() {
      message.destroy();
    },
  });
}

/** A socket error after the stream already ended (or was cancelled) has nobody left to tell. */
function failQuietly(controller: ReadableStreamDefaultController<Uint8Array>, error: unknown): void {
  try {
    controller.error(error);
  } catch {
    // already closed
  }
}

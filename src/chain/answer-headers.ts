import type { H3Event } from "h3";
// h3's own response class: on Node a light response that srvx writes straight to the socket
// (headers as plain pairs, no web `Headers` built); elsewhere the runtime's `Response`.
import { FastResponse } from "srvx";
import { useGatewayContext } from "../context";
import type { SSEBody } from "./dispatch/sse-body";
import { reasonPhrase } from "../reason-phrase";

/** What every SSE answer says besides the chain's own headers. */
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" } as const;
const JSON_TYPE = "application/json; charset=utf-8";
// srvx's Node response writes a body with `pipe` (and no `on`) by calling `body.pipe(res)`;
// the runtime's own `Response` (Bun, workers) takes web streams only.
const pipesToNode = typeof (FastResponse.prototype as { _toNodeResponse?: unknown })._toNodeResponse === "function";

/**
 * Sets a header of the request's answer (rate-limit state, `x-thread-id`, `request-id`).
 * Kept as a plain record on the gateway context, not in h3's `event.res.headers`: a web
 * `Headers` object per request, merged into another for the answer, cost about 30 µs on
 * Node. Error answers carry them too (`renderError`).
 */
export function setAnswerHeader(event: H3Event, name: string, value: string): void {
  (useGatewayContext(event).headers ??= {})[name] = value;
}

/** A header set with `setAnswerHeader`, if any. */
export function answerHeader(event: H3Event | undefined, name: string): string | undefined {
  return event?.context.gateway?.headers?.[name];
}

/** A 200 JSON answer (`body` already serialized) with the chain's headers. */
export function jsonAnswer(event: H3Event, body: string): Response {
  return new FastResponse(body, { status: 200, statusText: reasonPhrase(200), headers: { "content-type": JSON_TYPE, ...useGatewayContext(event).headers } });
}

/**
 * Whether a stream may be written straight to Node's response (see `sseBody`): the answer
 * is srvx's Node response, the request came through srvx's Node adapter, and h3 holds no
 * headers of its own for the answer (a CORS middleware's), which it would merge by reading
 * the body as a web stream. The one place that decides.
 */
export function writesDirectly(event: H3Event): boolean {
  if (!pipesToNode || !event.runtime?.node?.res) return false;
  // An empty `Headers` when no middleware set one: h3 then merges nothing.
  return event.res.headers.keys().next().done === true;
}

/** A 200 SSE answer with the chain's headers. */
export function sseAnswer(event: H3Event, body: SSEBody): Response {
  // srvx's Node response takes a body it can pipe (see sseBody); the type names web bodies only.
  return new FastResponse(body as ReadableStream<Uint8Array>, { status: 200, statusText: reasonPhrase(200), headers: { ...SSE_HEADERS, ...useGatewayContext(event).headers } });
}

import { HTTPError, type H3Event } from "h3";
import { answerHeader } from "../../chain/answer-headers";
import { renderError, toErrorBody } from "../../errors";

/** Anthropic's error body: `{type:"error", error:{type, message}, request_id}`. */
export interface MessagesErrorBody {
  type: "error";
  error: { type: string; message: string };
  request_id: string | null;
}

/**
 * An error an `anthropic/` upstream answered on the pass-through: its status, type and
 * message go back to the client as they were (the vendor key already scrubbed).
 */
export interface UpstreamMessagesError {
  anthropicError: { type: string; message: string };
}

/** Anthropic's error type for each status the gateway answers with. */
const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** Pure: any thrown value → Anthropic's status and envelope (an overloaded vendor is a 529, as Anthropic answers). */
export function toMessagesError(error: unknown, requestId: string | null = null): { status: number; body: MessagesErrorBody } {
  const upstream = HTTPError.isError(error) ? (error.data as Partial<UpstreamMessagesError> | undefined)?.anthropicError : undefined;
  if (upstream && HTTPError.isError(error)) return { status: error.status, body: { type: "error", error: upstream, request_id: requestId } };
  const { status: openaiStatus, body } = toErrorBody(error);
  const status = body.error.code === "upstream_overloaded" ? 529 : openaiStatus;
  const type = TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
  return { status, body: { type: "error", error: { type, message: body.error.message }, request_id: requestId } };
}

/**
 * The Messages routes' error answer: Anthropic's envelope and status, with the headers the
 * chain had set (CORS, rate limits, `retry-after`, the thread) and the `request-id`.
 */
export function renderMessagesError(error: unknown, event: H3Event): Response {
  const carried = renderError(error, event);
  const requestId = answerHeader(event, "request-id") ?? null;
  const { status, body } = toMessagesError(error, requestId);
  const headers = new Headers(carried.headers);
  if (requestId) headers.set("request-id", requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

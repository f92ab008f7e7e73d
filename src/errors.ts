import { HTTPError, type H3Event } from "h3";
import { reasonPhrase } from "./reason-phrase";

/** The four fields of OpenAI's error envelope: `{ error: { message, type, param, code } }`. */
export interface APIErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Every error the gateway sends, by code: status and OpenAI `type` live here, once. */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  invalid_json: { status: 400, type: "invalid_request_error" },
  incomplete_body: { status: 400, type: "invalid_request_error" },
  unsupported_parameter: { status: 400, type: "invalid_request_error" },
  upstream_bad_request: { status: 400, type: "invalid_request_error" },
  context_length_exceeded: { status: 400, type: "invalid_request_error" },
  previous_response_not_found: { status: 400, type: "invalid_request_error" },
  invalid_api_key: { status: 401, type: "invalid_request_error" },
  invalid_admin_token: { status: 401, type: "invalid_request_error" },
  insufficient_balance: { status: 402, type: "insufficient_balance" },
  budget_exceeded: { status: 402, type: "budget_exceeded" },
  insufficient_scope: { status: 403, type: "permission_error" },
  not_found: { status: 404, type: "invalid_request_error" },
  model_not_found: { status: 404, type: "invalid_request_error" },
  thread_not_found: { status: 404, type: "invalid_request_error" },
  response_not_found: { status: 404, type: "invalid_request_error" },
  item_not_found: { status: 404, type: "invalid_request_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  thread_busy: { status: 409, type: "conflict_error" },
  request_too_large: { status: 413, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "rate_limit_error" },
  server_error: { status: 500, type: "server_error" },
  upstream_error: { status: 502, type: "upstream_error" },
  upstream_auth_failed: { status: 502, type: "upstream_error" },
  provider_not_configured: { status: 503, type: "server_error" },
  upstream_overloaded: { status: 503, type: "server_error" },
  service_unavailable: { status: 503, type: "server_error" },
  upstream_timeout: { status: 504, type: "timeout_error" },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface APIErrorInit {
  code: ErrorCode;
  message: string;
  param?: string | null;
  /** Overrides the status of the code table (an upstream 429 keeps its own code, say). */
  status?: number;
  headers?: HeadersInit;
  cause?: unknown;
}

/**
 * The one error that crosses middleware boundaries: an h3 `HTTPError` whose `data`
 * is the OpenAI envelope, so `renderError` can send it as OpenAI SDKs expect.
 */
export function createAPIError(init: APIErrorInit): HTTPError<APIErrorBody> {
  const entry = ERROR_CODES[init.code];
  return new HTTPError<APIErrorBody>({
    status: init.status ?? entry.status,
    message: init.message,
    headers: init.headers,
    cause: init.cause,
    data: { message: init.message, type: entry.type, param: init.param ?? null, code: init.code },
  });
}

/** A value quoted in an error message, cut when long: an error never echoes a megabyte back. */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Whether an error is none of the gateway's own answers (a bug, or a library failing in a
 * way no step expected): then it becomes a generic 500, and what it returns is the cause
 * to log; undefined for an answer the gateway meant.
 */
export function unexpectedError(error: unknown): unknown {
  if (intendedAnswer(error)) return undefined;
  return HTTPError.isError(error) && error.unhandled ? (error.cause ?? error) : error;
}

/** The OpenAI envelope of any thrown value; unknown errors become a generic 500. */
export function toErrorBody(error: unknown): ErrorAnswer {
  return (
    intendedAnswer(error) ?? {
      status: 500,
      body: { error: { message: "The server had an error while processing your request.", type: "server_error", param: null, code: "server_error" } },
    }
  );
}

/**
 * Renders any error as an OpenAI-style JSON response (the gateway's h3 `onError`), keeping
 * the headers the chain had already set on `event` (see `carriedHeaders`).
 */
export function renderError(error: unknown, event?: H3Event): Response {
  const { status, body, headers } = toErrorBody(error);
  const out = new Headers(carriedHeaders(event));
  // The error's own headers (a 429's retry-after and windows) win over what was carried.
  new Headers(headers).forEach((value, name) => out.set(name, value));
  out.set("content-type", "application/json; charset=utf-8");
  return new Response(JSON.stringify(body), { status, statusText: reasonPhrase(status), headers: out });
}

// --- internal ---

type ErrorAnswer = { status: number; body: { error: APIErrorBody }; headers?: Headers };

/** The answer an error was meant to be: one of ours (an API error), or h3's own below 500 (a malformed URL, the body limit). */
function intendedAnswer(error: unknown): ErrorAnswer | undefined {
  if (!HTTPError.isError(error)) return undefined;
  const data = error.data as Partial<APIErrorBody> | undefined;
  if (data && typeof data.message === "string" && typeof data.type === "string") {
    return { status: error.status, headers: error.headers, body: { error: { message: data.message, type: data.type, param: data.param ?? null, code: data.code ?? null } } };
  }
  if (error.unhandled || error.status >= 500) return undefined;
  const code: ErrorCode = error.status === 413 ? "request_too_large" : error.status === 404 ? "not_found" : "invalid_request";
  return { status: error.status, headers: error.headers, body: { error: { message: error.message, type: ERROR_CODES[code].type, param: null, code } } };
}

/**
 * Headers the chain already put on this event that an error answer must keep: CORS (so a
 * browser can read the error), the rate-limit state, and the thread id when the request
 * named a thread that exists (a new thread whose first request failed was never created).
 */
function carriedHeaders(event: H3Event | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const gateway = event?.context.gateway;
  // The thread step sets the header only for a thread it found (or found busy); a new
  // thread is named only once saved.
  const threadExists = gateway?.thread?.record != null || gateway?.request?.thread_id != null;
  const carry = (value: string, name: string) => {
    if (name.startsWith("access-control-") || name.startsWith("x-ratelimit-") || (name === "x-thread-id" && threadExists)) out.push([name, value]);
  };
  // h3's own (CORS), then the chain's (setAnswerHeader).
  event?.res.headers.forEach(carry);
  for (const name in gateway?.headers) carry(gateway.headers[name], name);
  return out;
}

import type { HTTPError } from "h3";
import { createAPIError, type APIErrorBody } from "../errors";

/** What a provider knows about a failed upstream call, whatever the vendor. */
export interface UpstreamFailure {
  provider: string;
  /** The vendor's HTTP status; undefined for a network failure. */
  status?: number;
  /** The vendor's own message (safe to show: it never contains our vendor key). */
  message?: string;
  /** Seconds to wait, from a `retry-after` header or the vendor's body. */
  retryAfterSeconds?: number;
  /** The vendor reported a bad or missing API key (Gemini says so with a 400). */
  authFailed?: boolean;
  /** The gateway's vendor account cannot pay (a 402; OpenAI says so with a 429 `insufficient_quota`). */
  billingFailed?: boolean;
  cause?: unknown;
}

/**
 * Maps an upstream failure onto the gateway's contract: 429 stays 429 (with
 * `retry-after`), 400 stays 400 with the vendor's message, a bad vendor key is a 502
 * naming the provider, overloaded (503, 529) is 503, any other 5xx or network error 502
 * (as is a vendor account that cannot pay: a 402, or OpenAI's 429 `insufficient_quota`).
 * 401 is never passed on: it is only ever about the client's own key.
 */
export function upstreamError(failure: UpstreamFailure): HTTPError<APIErrorBody> {
  const { provider, status, message, cause } = failure;
  if (failure.authFailed || status === 401 || status === 403) {
    return createAPIError({ code: "upstream_auth_failed", cause, message: `The ${provider} provider rejected the gateway's credentials; check its API key configuration.` });
  }
  if (status === 402 || failure.billingFailed) {
    // The gateway's own vendor account is out of credit: nothing the client can fix, and
    // no retry can help (upstream_auth_failed is never retried).
    return createAPIError({ code: "upstream_auth_failed", cause, message: `The ${provider} provider refused the request for billing reasons; check the gateway's ${provider} account.` });
  }
  if (status === 429) {
    const headers = new Headers();
    if (failure.retryAfterSeconds !== undefined) headers.set("retry-after", String(Math.max(1, Math.ceil(failure.retryAfterSeconds))));
    return createAPIError({ code: "rate_limit_exceeded", cause, headers, message: `The ${provider} provider is rate limiting requests: ${message ?? "too many requests"}` });
  }
  if (status === 503 || status === 529) {
    return createAPIError({ code: "upstream_overloaded", cause, message: `The ${provider} provider is overloaded; retry shortly.` });
  }
  if (status === 408 || status === 504) {
    return createAPIError({ code: "upstream_timeout", cause, message: `The ${provider} provider timed out.` });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return createAPIError({ code: "upstream_bad_request", status: 400, cause, message: message ?? `The ${provider} provider rejected the request.` });
  }
  return createAPIError({ code: "upstream_error", cause, message: `The ${provider} provider failed${status ? ` with status ${status}` : ""}; retry shortly.` });
}

/** The error for a call that outlived the upstream timeout. */
export function upstreamTimeout(provider: string): HTTPError<APIErrorBody> {
  return createAPIError({ code: "upstream_timeout", message: `The ${provider} provider did not answer in time.` });
}

/** Whether a failure before the first byte is worth another try. */
export function isRetryable(error: HTTPError): boolean {
  // A rejected vendor key (or account) fails the same way every time.
  if ((error.data as { code?: unknown } | undefined)?.code === "upstream_auth_failed") return false;
  return error.status === 429 || error.status === 502 || error.status === 503 || error.status === 504;
}

/** Removes a secret from a vendor message before it can reach a client or a log. */
export function redact(text: string, secret: string | undefined): string {
  return secret && secret.length >= 4 ? text.split(secret).join("[redacted]") : text;
}

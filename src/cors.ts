import { handleCors, type CorsOptions, type Middleware } from "h3";

/** Headers a browser client may read: the thread id and the rate-limit state. */
const EXPOSED_HEADERS = [
  "x-thread-id",
  "retry-after",
  "retry-after-ms",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
  "x-ratelimit-limit-tokens",
  "x-ratelimit-remaining-tokens",
  "x-ratelimit-reset-tokens",
  "x-budget-reset",
];

/**
 * CORS for browser clients of the API-key routes: answers preflights and marks every
 * answer, errors included (`renderError` keeps the headers). Keys travel in headers, never cookies,
 * so credentials stay off unless you turn them on.
 */
export function corsMiddleware(options: CorsOptions | true): Middleware {
  const resolved: CorsOptions = {
    origin: "*",
    methods: ["GET", "POST", "OPTIONS"],
    // "*": the SDKs send their own headers (x-stainless-*); without credentials, any is fine.
    allowHeaders: "*",
    exposeHeaders: EXPOSED_HEADERS,
    ...(options === true ? {} : options),
  };
  return function cors(event) {
    const preflight = handleCors(event, resolved);
    if (preflight !== false) return preflight;
  };
}

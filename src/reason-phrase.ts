import type { H3, H3Event } from "h3";

/**
 * The reason phrase of each status the gateway answers with. A web `Response` made
 * without `statusText` has "", and Node writes that as is (`HTTP/1.1 200 `).
 */
const REASON_PHRASES: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  529: "Site Overloaded",
};

/** The reason phrase for `status`, or "" for a status without a common one. */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? "";
}

/**
 * Makes every route registered on `app` from now on answer with its reason phrase: h3
 * builds the response of a returned value with `event.res.statusText`, so the handler
 * sets it (one property per request, no wrapping of Node's response). Errors and the
 * streams are `Response`s built with theirs (`renderError`, the SSE answer).
 */
export function answerWithReasonPhrases(app: H3): void {
  const on = app.on;
  app.on = function onWithReasonPhrase(this: H3, method, route, handler, opts) {
    if (typeof handler !== "function") return on.call(this, method, route, handler, opts);
    const answer = handler as (event: H3Event) => unknown;
    return on.call(this, method, route, (event: H3Event) => {
      event.res.statusText = "OK";
      return answer(event);
    }, opts);
  } as H3["on"];
}

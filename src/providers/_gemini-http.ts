import type { GoogleGenAI } from "@google/genai";
import { retryAfterSeconds } from "./_mapping";

/** Where `keepRetryAfterHeader` leaves a `retry-after` header inside a Gemini error body. */
export const RETRY_AFTER_HEADER_FIELD = "retryAfterHeaderSeconds";

type ApiCall = (url: string, init: RequestInit) => Promise<Response>;

/**
 * @google/genai keeps only an error's status and body (`ApiError`), so a `retry-after`
 * header on a 429 would be lost. This wraps the client's one fetch call site
 * (`apiClient.apiCall`, private: left alone if a release renames it) to copy the header
 * into the error body, where `fromGeminiError` reads it.
 */
export function keepRetryAfterHeader(client: GoogleGenAI): void {
  const api = (client as unknown as { apiClient?: { apiCall?: ApiCall } }).apiClient;
  const call = api?.apiCall;
  if (!api || typeof call !== "function") return;
  api.apiCall = async (url, init) => {
    const response = await call.call(api, url, init);
    const seconds = response.ok ? undefined : retryAfterSeconds(response.headers);
    if (seconds === undefined) return response;
    const text = await response.text();
    // A body that is not JSON gets the envelope the SDK itself would wrap it in.
    const body = parseObject(text) ?? { error: { code: response.status, message: text, status: response.statusText } };
    if (body.error && typeof body.error === "object") (body.error as Record<string, unknown>)[RETRY_AFTER_HEADER_FIELD] = seconds;
    const headers = new Headers(response.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    return new Response(JSON.stringify(body), { status: response.status, statusText: response.statusText, headers });
  };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

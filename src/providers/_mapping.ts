import type { HTTPError } from "h3";
import { createAPIError, type APIErrorBody } from "../errors";
import { createId } from "../ids";
import type { ChatMessage } from "../schema";
import type { ProviderRequest } from "./_define";

/**
 * Request fields that change nothing about the answer (bookkeeping for OpenAI's own
 * dashboards, or handled by the gateway itself), so a vendor without them can ignore them.
 */
const NO_EFFECT_FIELDS = new Set(["model", "messages", "stream", "stream_options", "user", "metadata", "store", "service_tier", "prompt_cache_key", "safety_identifier"]);

/** OpenAI's defaults: a field sent with its default value asks for nothing a vendor must do. */
const OPENAI_DEFAULTS: Record<string, unknown> = {
  n: 1,
  temperature: 1,
  top_p: 1,
  frequency_penalty: 0,
  presence_penalty: 0,
  logprobs: false,
  parallel_tool_calls: true,
};

/** A 400 for a request field this vendor cannot honour. */
export function unsupportedParameter(provider: string, param: string, why?: string): HTTPError<APIErrorBody> {
  return createAPIError({
    code: "unsupported_parameter",
    param,
    message: `The ${provider} provider does not support \`${param}\`${why ? `: ${why}` : "."}`,
  });
}

/**
 * Throws a 400 for the first field the vendor cannot honour: any field outside `handled`
 * that is set to something other than OpenAI's default (unknown fields included, since
 * ignoring them would be silence).
 */
export function rejectUnhandled(provider: string, request: ProviderRequest, handled: ReadonlySet<string>): void {
  for (const [field, value] of Object.entries(request)) {
    if (value === undefined || value === null || handled.has(field) || NO_EFFECT_FIELDS.has(field)) continue;
    if (field in OPENAI_DEFAULTS && OPENAI_DEFAULTS[field] === value) continue;
    throw unsupportedParameter(provider, field);
  }
}

/** `data:<mime>;base64,<data>` split in two; undefined for any other URL. */
export function parseDataUrl(url: string): { mimeType: string; data: string } | undefined {
  const match = /^data:([\w.+-]+\/[\w.+-]+)(?:;[\w-]+=[^;,]*)*;base64,(.*)$/s.exec(url);
  return match ? { mimeType: match[1].toLowerCase(), data: match[2] } : undefined;
}

/** Tool names by call id, from the assistant turns (a `tool` message names only the id). */
export function toolNamesById(messages: readonly ChatMessage[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== "assistant") continue;
    for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
  }
  return names;
}

/** Tool-call arguments (a JSON string) as the object vendors want. */
export function parseToolArguments(args: string, index: number): Record<string, unknown> {
  if (args.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(args);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the 400 below
  }
  throw createAPIError({ code: "invalid_request", param: `messages[${index}].tool_calls`, message: "Tool call `arguments` must be a JSON object." });
}

/** The `stop` field as a list. */
export function stopList(stop: ProviderRequest["stop"]): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  return typeof stop === "string" ? [stop] : stop;
}

/**
 * Seconds to wait from a vendor's `retry-after-ms` or `retry-after` header (seconds or an
 * HTTP date); undefined when there is none.
 */
export function retryAfterSeconds(headers: { get(name: string): string | null } | undefined | null): number | undefined {
  const ms = Number.parseFloat(headers?.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number.parseFloat(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

/**
 * Gemini 3's thought signature travels inside the tool call id (`call_…~<signature>`; `~`
 * is not base64), so it comes back with the thread.
 */
export const GEMINI_SIGNATURE_SEPARATOR = "~";

/**
 * A tool call id any vendor takes, for a call and its result alike: without a Gemini
 * thought signature, only `[A-Za-z0-9_-]` (Anthropic's pattern), at most 40 characters
 * (OpenAI's limit). An id that needs more than the cut is rewritten with a hash of it, so
 * the same id always maps the same way and different ids stay apart.
 */
export function portableCallId(id: string): string {
  const bare = id.split(GEMINI_SIGNATURE_SEPARATOR)[0];
  if (/^[\w-]{1,40}$/.test(bare)) return bare;
  return `${bare.replace(/[^\w-]/g, "_").slice(0, 31)}_${fnv1a(bare)}`;
}

/** A fresh OpenAI-style tool call id, for vendors whose calls carry none. */
export function createCallId(): string {
  return createId("call_", 24);
}

// --- internal ---

/** FNV-1a, 32 bits, as 8 hex digits: short, stable, and plenty to keep a thread's ids apart. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

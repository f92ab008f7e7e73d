import type { H3Event, Middleware } from "h3";
import { agentAliasTable, type ModelAliases } from "../aliases";
import { useGatewayContext, type GatewayContext } from "../context";
import { clip, createAPIError } from "../errors";
import type { GatewayRuntime } from "../runtime";
import { chatRequestSchema, type ChatRequest } from "../schema";
import { parseOrThrow } from "../validate";
import { readLimitedText } from "./request-body";

/**
 * First step: reads the JSON body (at most `maxBodyBytes`, else 413), validates it
 * against OpenAI's request schema (400 naming the field) and resolves the model through
 * the gateway's aliases and the catalog (503 when its provider is not configured). A name
 * the gateway does not know is left to the auth step, which knows the agent and its
 * aliases (404 `model_not_found` there when they do not know it either).
 */
export function requestParser(runtime: GatewayRuntime): Middleware {
  return async function requestParser(event) {
    const ctx = useGatewayContext(event);
    const request = await requireChatRequest(event, runtime.maxBodyBytes);
    request.thread_id ??= threadIdHeader(event);
    ctx.request = request;
    resolveRequestModel(runtime, ctx, request.model);
    ctx.sessionId ??= sessionIdHeader(event);
  };
}

/**
 * What a dialect's parser may call with the model the client named: records the name (the
 * auth step routes it again through the agent's aliases) and sets `ctx.model` when the
 * gateway's aliases or catalog know it; an unknown name waits for the agent's aliases.
 */
export function resolveRequestModel(runtime: Pick<GatewayRuntime, "catalog" | "aliases">, ctx: GatewayContext, name: string): void {
  ctx.modelName = name;
  const routed = routeModel(runtime, name);
  ctx.model = routed === undefined ? undefined : catalogEntry(runtime, routed, name);
}

/**
 * The catalog entry a request's model names, with its provider, after aliases: the
 * agent's (when given), then the gateway's, then the catalog itself, then a bare
 * `claude-…` name as `anthropic/claude-…`. 404 `model_not_found` (param `model`) when
 * unknown, 503 when its provider is not configured. Every dialect's parser resolves its
 * model here (without the agent: the auth step routes the name again with it).
 */
export function resolveModel(runtime: Pick<GatewayRuntime, "catalog"> & Partial<Pick<GatewayRuntime, "aliases">>, name: string, agentAliases?: ModelAliases | null): NonNullable<GatewayContext["model"]> {
  return catalogEntry(runtime, routeModel(runtime, name, agentAliases), name);
}

/** The catalog name `name` routes to (aliases, the catalog, bare `claude-` names), or undefined. */
export function routeModel(runtime: Pick<GatewayRuntime, "catalog"> & Partial<Pick<GatewayRuntime, "aliases">>, name: string, agentAliases?: ModelAliases | null): string | undefined {
  const isModel = (model: string) => runtime.catalog.get(model) !== undefined;
  const aliased = (agentAliases ? agentAliasTable(agentAliases, isModel).resolve(name) : undefined) ?? runtime.aliases?.resolve(name);
  if (aliased !== undefined) return aliased;
  if (isModel(name)) return name;
  return bareClaude(runtime.catalog, name);
}

/**
 * The client's session, recorded on the request's ledger line: `X-Claude-Code-Session-Id`
 * (Claude Code), or `Session-Id` / `session_id` (Codex CLI, by release). A value no
 * session id looks like (over 200 characters) is ignored, not refused.
 */
export function sessionIdHeader(event: H3Event): string | undefined {
  const headers = event.req.headers;
  const value = (headers.get("x-claude-code-session-id") ?? headers.get("session-id") ?? headers.get("session_id"))?.trim();
  return value && value.length <= 200 && !value.includes("\0") ? value : undefined;
}

/**
 * `X-Thread-Id` on the request continues a thread like the body's `thread_id` (which wins
 * when both are sent), for clients that can add a header but not a body field.
 */
export function threadIdHeader(event: H3Event): string | undefined {
  const value = event.req.headers.get("x-thread-id")?.trim();
  if (!value) return undefined;
  if (value.length > 200) throw createAPIError({ code: "invalid_request", param: "x-thread-id", message: "The `X-Thread-Id` header must be at most 200 characters." });
  return value;
}

/** Reads and validates a chat-completions body; the guard the parser step uses. */
export async function requireChatRequest(event: H3Event, maxBytes: number): Promise<ChatRequest> {
  return parseOrThrow(chatRequestSchema, await readJSONBody(event, maxBytes));
}

/**
 * Reads a JSON body without ever holding more than `maxBytes` of it. With `optional`, a
 * body left out (or only whitespace) reads as `{}`.
 */
export async function readJSONBody(event: H3Event, maxBytes: number, options: { optional?: boolean } = {}): Promise<unknown> {
  const text = await readLimitedText(event.req, maxBytes);
  if (!text.trim()) {
    if (options.optional) return {};
    throw createAPIError({ code: "invalid_json", message: "The request body is empty; send a JSON object." });
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw createAPIError({ code: "invalid_json", message: `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep.` });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw createAPIError({ code: "invalid_json", message: "The request body is not valid JSON." });
  }
}

// --- internal ---

/** The entry of a routed name with its provider: 404 (naming what the client sent) or 503. */
function catalogEntry(runtime: Pick<GatewayRuntime, "catalog">, routed: string | undefined, name: string): NonNullable<GatewayContext["model"]> {
  const entry = routed === undefined ? undefined : runtime.catalog.get(routed);
  if (!entry) {
    throw createAPIError({ code: "model_not_found", param: "model", message: `The model \`${clip(name)}\` does not exist or you do not have access to it.` });
  }
  if (!entry.provider) {
    throw createAPIError({ code: "provider_not_configured", message: `The provider \`${entry.providerId}\` is not configured on this gateway.` });
  }
  return { ...entry, provider: entry.provider };
}

/**
 * Claude Code and the Anthropic SDKs send Anthropic's own names (`claude-sonnet-4-5-20250929`):
 * one with no alias is `anthropic/<name>` when that is in the catalog with its provider
 * configured, or else the name without its date (`anthropic/claude-sonnet-4-5`).
 */
function bareClaude(catalog: GatewayRuntime["catalog"], name: string): string | undefined {
  if (!name.startsWith("claude-")) return undefined;
  for (const candidate of [`anthropic/${name}`, `anthropic/${name.replace(/-\d{8}$/, "")}`]) {
    if (catalog.get(candidate)?.provider) return candidate;
  }
  return undefined;
}

/**
 * How deep a body's arrays and objects may nest: far beyond any real request, and far
 * short of the depth where saving it (JSON.stringify recurses) overflows the stack.
 */
const MAX_JSON_DEPTH = 128;

/** True when the JSON text's brackets (outside strings) nest deeper than `limit`; one pass, no recursion. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}


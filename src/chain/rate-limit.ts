import type { H3Event, Middleware } from "h3";
import { requireContext, useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import { setAnswerHeader } from "./answer-headers";
import type { GatewayRuntime, RateLimits } from "../runtime";
import type { RateDecision, RateWindow, RateWindowState } from "../stores/atomics";
import { estimatePromptTokens } from "../tokens";

const MINUTE = 60_000;

/**
 * Admits the request under the agent's limits (all its keys together) and the key's
 * own, for requests and tokens per minute, with GCRA: a burst of N, then one every 60/N s
 * (so up to 2N − 1 in the 60 s that start with a full burst; see the README's departures). Tokens are charged at the prompt's estimate now and corrected at settle time.
 * Sets OpenAI's `x-ratelimit-*` headers; refuses with 429 and `retry-after`.
 */
export function rateLimit(runtime: GatewayRuntime): Middleware {
  return async function rateLimit(event) {
    await requireRateAdmission(event, runtime);
  };
}

/** The guard behind `rateLimit`. */
export async function requireRateAdmission(event: H3Event, runtime: GatewayRuntime): Promise<void> {
  const ctx = useGatewayContext(event);
  const { agent, key } = requireContext(event, "auth", "apiKeyAuth");
  const request = requireContext(event, "request", "requestParser");
  const estimatedTokens = estimatePromptTokens(request.messages, request.tools);

  const agentLimits: RateLimits = {
    requestsPerMinute: agent.limits?.requests_per_minute ?? runtime.limits.requestsPerMinute,
    tokensPerMinute: agent.limits?.tokens_per_minute ?? runtime.limits.tokensPerMinute,
  };
  const windows = [...windowsOf("agent", agentLimits, estimatedTokens), ...windowsOf(`key:${key.id}`, runtime.keyLimits, estimatedTokens)];
  if (windows.length === 0) return;
  // A prompt larger than a whole minute's tokens is never admitted: say so, not "retry later".
  const tooLarge = windows.find((window) => window.cost > window.limit);
  if (tooLarge) {
    throw createAPIError({
      code: "rate_limit_exceeded",
      message: `Request too large: about ${tooLarge.cost} tokens, and the limit is ${tooLarge.limit} tokens per minute. Send fewer tokens.`,
    });
  }

  const decision = await runtime.atomics.hitRate(agent.id, windows);
  const headers = rateLimitHeaders(decision);
  if (!decision.allowed) {
    const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    headers["retry-after"] = String(seconds);
    headers["retry-after-ms"] = String(Math.max(1, decision.retryAfterMs));
    // The key's own limit (keyLimits) or the agent's, whichever has no room for this request.
    const agentFull = windows.some((window, i) => !window.name.startsWith("key:") && decision.windows[i].remaining < window.cost);
    throw createAPIError({ code: "rate_limit_exceeded", message: `Rate limit reached for this ${agentFull ? "agent" : "key"}. Try again in ${seconds}s.`, headers: new Headers(headers) });
  }
  for (const name in headers) setAnswerHeader(event, name, headers[name]);

  ctx.rate = { windows, estimatedTokens };
  const tokenWindows = windows.filter((w) => w.name.endsWith("tokens"));
  if (tokenWindows.length) {
    ctx.settlers.push(async ({ usage }) => {
      const extra = (usage?.total_tokens ?? 0) - estimatedTokens;
      // Best effort: if Redis is down now, the store's own log says so, and a lost
      // correction only loosens this agent's token window once.
      if (extra > 0) await runtime.atomics.chargeRate(agent.id, tokenWindows.map((w) => ({ ...w, cost: extra }))).catch(() => {});
    });
  }
}

/** Go-style durations, as OpenAI writes `x-ratelimit-reset-*`: `20ms`, `1.5s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  if (ms < MINUTE) return `${Number((ms / 1000).toFixed(3))}s`;
  const minutes = Math.floor(ms / MINUTE);
  return `${minutes}m${Math.ceil((ms - minutes * MINUTE) / 1000)}s`;
}

// --- internal ---

function windowsOf(prefix: string, limits: RateLimits, tokens: number): RateWindow[] {
  const windows: RateWindow[] = [];
  if (limits.requestsPerMinute) windows.push({ name: `${prefix}:requests`, limit: limits.requestsPerMinute, periodMs: MINUTE, cost: 1 });
  if (limits.tokensPerMinute) windows.push({ name: `${prefix}:tokens`, limit: limits.tokensPerMinute, periodMs: MINUTE, cost: tokens });
  return windows;
}

/** The tightest window of each kind is what the client is told about. */
function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const kind of ["requests", "tokens"] as const) {
    let tightest: RateWindowState | undefined;
    for (const state of decision.windows) {
      if (state.name.endsWith(kind) && (!tightest || state.remaining < tightest.remaining)) tightest = state;
    }
    if (!tightest) continue;
    headers[`x-ratelimit-limit-${kind}`] = String(tightest.limit);
    headers[`x-ratelimit-remaining-${kind}`] = String(tightest.remaining);
    headers[`x-ratelimit-reset-${kind}`] = formatResetDuration(tightest.resetMs);
  }
  return headers;
}

import type { ModelInfo, Provider } from "./providers/_define";

/**
 * The built-in catalog: list prices in USD per million tokens, as the vendors publish
 * them (looked up 2026-11; see the README). Pass `models` to createGateway to change a
 * price or add a model.
 */
export const DEFAULT_MODELS: Record<string, ModelInfo> = {
  "gemini/gemini-2.0-flash": { inputPerMTok: 0.1, outputPerMTok: 0.4, cachedInputPerMTok: 0.025, contextWindow: 1_048_576, maxOutputTokens: 8_192 },
  "gemini/gemini-2.5-flash": { inputPerMTok: 0.3, outputPerMTok: 2.5, cachedInputPerMTok: 0.03, contextWindow: 1_048_576, maxOutputTokens: 65_536 },
  "gemini/gemini-2.5-pro": { inputPerMTok: 1.25, outputPerMTok: 10, cachedInputPerMTok: 0.125, contextWindow: 1_048_576, maxOutputTokens: 65_536 },
  "gemini/gemini-3-flash-preview": { inputPerMTok: 0.5, outputPerMTok: 3, cachedInputPerMTok: 0.05, contextWindow: 1_048_576, maxOutputTokens: 65_536 },
  "gemini/gemini-3-pro-preview": { inputPerMTok: 2, outputPerMTok: 12, cachedInputPerMTok: 0.2, contextWindow: 1_048_576, maxOutputTokens: 65_536 },
  // Anthropic: cache writes (the 5-minute cache) at 1.25x input, cache reads at 0.1x.
  "anthropic/claude-sonnet-4-6": { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, contextWindow: 200_000, maxOutputTokens: 64_000 },
  "anthropic/claude-sonnet-4-5": { inputPerMTok: 3, outputPerMTok: 15, cachedInputPerMTok: 0.3, cacheWritePerMTok: 3.75, contextWindow: 200_000, maxOutputTokens: 64_000 },
  "anthropic/claude-haiku-4-5-20251001": { inputPerMTok: 1, outputPerMTok: 5, cachedInputPerMTok: 0.1, cacheWritePerMTok: 1.25, contextWindow: 200_000, maxOutputTokens: 64_000 },
  "openai/gpt-4o-mini": { inputPerMTok: 0.15, outputPerMTok: 0.6, cachedInputPerMTok: 0.075, contextWindow: 128_000, maxOutputTokens: 16_384 },
  "openai/gpt-4.1-mini": { inputPerMTok: 0.4, outputPerMTok: 1.6, cachedInputPerMTok: 0.1, contextWindow: 1_047_576, maxOutputTokens: 32_768 },
  "openai/gpt-4.1": { inputPerMTok: 2, outputPerMTok: 8, cachedInputPerMTok: 0.5, contextWindow: 1_047_576, maxOutputTokens: 32_768 },
};

/**
 * The output cap sent, and held for, when the client sets no `max_tokens` (and neither
 * the model nor its provider has a default of its own): room for a long answer with some
 * reasoning, at most about $0.25 held on the priciest built-in model, and under the size
 * Anthropic only allows streamed. Change it with `createGateway({ defaultMaxTokens })`.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/**
 * The output cap of a request: the client's own limit, else the model's, the provider's
 * or the gateway's default, and never above the model's maximum. The balance holds for
 * exactly this many tokens and dispatch sends exactly this as the limit.
 */
export function outputCap(requested: number | null | undefined, entry: Pick<CatalogEntry, "info" | "provider">, gatewayDefault: number = DEFAULT_MAX_OUTPUT_TOKENS): number {
  const wanted = requested ?? entry.info.defaultMaxTokens ?? entry.provider?.defaultMaxTokens ?? gatewayDefault;
  const max = entry.info.maxOutputTokens;
  return max == null ? wanted : Math.min(wanted, max);
}

/** A model the gateway can answer for: its full name, price and provider (if configured). */
export interface CatalogEntry {
  name: string;
  info: ModelInfo;
  providerId: string;
  provider: Provider | undefined;
}

/** The resolved catalog: built-ins, then providers' own models, then the user's `models`. */
export interface Catalog {
  get(name: string): CatalogEntry | undefined;
  list(): CatalogEntry[];
}

export function createCatalog(providers: readonly Provider[], models: Record<string, ModelInfo> = {}, includeDefaults = true): Catalog {
  const byId = new Map<string, Provider>();
  for (const provider of providers) {
    if (byId.has(provider.id)) throw new Error(`[agentgate] two providers claim the id \`${provider.id}\``);
    byId.set(provider.id, provider);
  }
  const merged: Record<string, ModelInfo> = { ...(includeDefaults ? DEFAULT_MODELS : {}) };
  for (const provider of providers) Object.assign(merged, provider.models);
  for (const [name, info] of Object.entries(models)) merged[name] = { ...merged[name], ...info };

  const entries = new Map<string, CatalogEntry>();
  for (const [name, info] of Object.entries(merged)) {
    const slash = name.indexOf("/");
    if (slash <= 0 || slash === name.length - 1) throw new Error(`[agentgate] model \`${name}\` must be named \`provider/model\``);
    const providerId = name.slice(0, slash);
    entries.set(name, { name, info, providerId, provider: byId.get(providerId) });
  }
  return {
    get: (name) => entries.get(name),
    list: () => [...entries.values()],
  };
}

/** Of a request's prompt tokens, those read from and written to the vendor's prompt cache. */
export interface CacheTokens {
  read?: number;
  write?: number;
}

/**
 * Cost of a request in micro-USD, rounded up so a priced model never costs 0 and
 * identical requests cost the same. Prices are USD per million tokens, which is
 * exactly micro-USD per token. `promptTokens` counts every input token; those in `cache`
 * are priced at the model's cache-read and cache-write prices, the rest at its input price.
 */
export function costMicros(info: ModelInfo, promptTokens: number, completionTokens: number, cache: CacheTokens = {}): number {
  // Integer pico-USD per token avoids float drift (0.1 + 0.2) before rounding up.
  const inPico = pico(info.inputPerMTok);
  const read = Math.min(cache.read ?? 0, promptTokens);
  const write = Math.min(cache.write ?? 0, promptTokens - read);
  const total = (promptTokens - read - write) * inPico + read * pico(info.cachedInputPerMTok ?? info.inputPerMTok) + write * pico(info.cacheWritePerMTok ?? info.inputPerMTok) + completionTokens * pico(info.outputPerMTok);
  return Math.ceil(total / 1e6);
}

/**
 * The most a request can cost: every prompt token at the dearer of the input and the
 * cache-write price (an Anthropic prompt may all be written to the cache, at 1.25x), and
 * the whole output cap. What the balance holds before dispatch.
 */
export function worstCaseMicros(info: ModelInfo, promptTokens: number, outputTokens: number): number {
  const dearest = Math.max(info.inputPerMTok ?? 0, info.cacheWritePerMTok ?? 0);
  return costMicros({ ...info, inputPerMTok: dearest }, promptTokens, outputTokens);
}

/** Whether an agent's `models` list admits a model (exact names or `prefix/*`). */
export function agentAllowsModel(allowed: readonly string[] | null, model: string): boolean {
  if (!allowed) return true;
  for (const pattern of allowed) {
    if (pattern === model || pattern === "*") return true;
    if (pattern.endsWith("/*") && model.startsWith(pattern.slice(0, -1))) return true;
  }
  return false;
}

// --- internal ---

function pico(perMTok: number | undefined): number {
  return Math.round((perMTok ?? 0) * 1e6);
}

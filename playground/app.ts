import type { Storage } from "unstorage";
import { createFsLedger, createFsStorage } from "../src/fs";
import { anthropic, createGateway, createMemoryLedger, createMemoryStorage, echo, gemini, openai, type Gateway, type LedgerStore, type Provider, type TelemetryOptions } from "../src/index";
import type { PlaygroundConfig } from "./config";

/** The playground's gateway: echo always, vendors when their keys are set. */
export async function createPlaygroundGateway(config: PlaygroundConfig, extra: { telemetry?: TelemetryOptions } = {}): Promise<Gateway> {
  const providers: Provider[] = [echo({ delayMs: 15 })];
  // Each vendor's SDK loads on its first request, so an unset key costs nothing.
  if (config.openai) providers.push(openai(config.openai));
  if (config.anthropic) providers.push(anthropic(config.anthropic));
  if (config.gemini) providers.push(gemini(config.gemini));
  return createGateway({
    storage: createPlaygroundStorage(config),
    ledger: createPlaygroundLedger(config),
    // REDIS_URL: rate windows, balances and leases live in Redis, shared by every instance.
    redis: config.redisUrl,
    admin: { secret: config.adminSecret },
    providers,
    // 0 turns a limit off; the defaults (60 requests, 200,000 tokens a minute per agent) show 429s early.
    limits: { requestsPerMinute: config.requestsPerMinute || undefined, tokensPerMinute: config.tokensPerMinute || undefined },
    upstream: { timeoutMs: config.upstreamTimeoutMs || undefined },
    telemetry: extra.telemetry,
  });
}

/**
 * The ledger beside the documents, whatever holds the balances: files in DATA_DIR/ledger
 * (so turning REDIS_URL on or off keeps it), in memory, or with STORAGE=redis in Redis.
 */
function createPlaygroundLedger(config: PlaygroundConfig): LedgerStore | undefined {
  if (config.storage === "fs") return createFsLedger({ dir: config.dataDir + "/ledger" });
  if (config.storage === "memory") return createMemoryLedger();
  return undefined; // STORAGE=redis: createGateway keeps it in Redis, beside the documents
}

/** The documents' storage for STORAGE (exported for tests). */
export function createPlaygroundStorage(config: PlaygroundConfig): Storage | undefined {
  if (config.storage === "memory") return createMemoryStorage();
  // agentgate's own fs driver, not unstorage's fs or fs-lite: a listing walks only its
  // prefix's folder, open files are bounded (a big listing cannot take every descriptor),
  // every failure rejects, and writes land whole.
  if (config.storage === "fs") return createFsStorage({ dir: config.dataDir + "/storage" });
  // STORAGE=redis: createGateway keeps the documents on REDIS_URL too.
  return undefined;
}

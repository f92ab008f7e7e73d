import { createStorage, type Storage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { anthropic, boundedDriver, createGateway, echo, gemini, openai, type Gateway, type Provider } from "../src/index";
import type { PlaygroundConfig } from "./config";

/** The playground's gateway: echo always, vendors when their keys are set. */
export async function createPlaygroundGateway(config: PlaygroundConfig): Promise<Gateway> {
  const providers: Provider[] = [echo({ delayMs: 15 })];
  // Each vendor's SDK loads on its first request, so an unset key costs nothing.
  if (config.openai) providers.push(openai(config.openai));
  if (config.anthropic) providers.push(anthropic(config.anthropic));
  if (config.gemini) providers.push(gemini(config.gemini));
  return createGateway({
    storage: createPlaygroundStorage(config),
    // REDIS_URL: rate windows, balances and leases live in Redis, shared by every instance.
    redis: config.redisUrl,
    admin: { secret: config.adminSecret },
    providers,
    // 0 turns a limit off; the defaults (60 requests, 200,000 tokens a minute per agent) show 429s early.
    limits: { requestsPerMinute: config.requestsPerMinute || undefined, tokensPerMinute: config.tokensPerMinute || undefined },
    upstream: { timeoutMs: config.upstreamTimeoutMs || undefined },
  });
}

/** The documents' storage for STORAGE (exported for tests). */
export function createPlaygroundStorage(config: PlaygroundConfig): Storage | undefined {
  if (config.storage === "memory") return createStorage();
  // fs-lite, not fs: both read and write files with the same code, and fs only adds a
  // chokidar watcher (started by storage.watch(), which nothing here calls) and an ignore
  // list matched against every file of every listing. Bounded: a big listing cannot take
  // every file descriptor (see boundedDriver).
  if (config.storage === "fs") return createStorage({ driver: boundedDriver(fsLiteDriver({ base: config.dataDir + "/storage" })) });
  // STORAGE=redis: createGateway keeps the documents on REDIS_URL too.
  return undefined;
}

import { createStorage, type Storage } from "unstorage";
import type { Logger } from "../runtime";
import type { Atomics } from "./atomics";
import { failClosed } from "./fail-closed";
import { createMemoryAtomics } from "./memory-atomics";
import { createRecords, type Records } from "./records";
import { createRedisAtomics } from "./redis-atomics";
import { createRedisStorage, reportOnce, type RedisInput } from "./redis-connection";
import { createRetryQueue, type RetryQueue } from "./retry-queue";

export interface StoresOptions {
  storage?: Storage;
  atomics?: Atomics;
  redis?: RedisInput;
  /** @default "agentgate:" */
  redisPrefix?: string;
  /** How long a hold may outlive its request; settle retries stop then. */
  holdTtlMs: number;
  logger: Logger;
}

/** The gateway's stores, resolved once: records, atomics and the settle retry queue. */
export interface Stores {
  records: Records;
  atomics: Atomics;
  retries: RetryQueue;
  close(): Promise<void>;
}

/**
 * Picks storage and atomics: given ones win; with `redis`, atomics go to Redis and
 * (unless `storage` is given) documents to unstorage's redis driver on the same server,
 * under `<prefix>data:`; otherwise memory storage and in-process atomics. Either driver
 * writes balances through to storage (`balances:<account>`) and takes over from the
 * other's copy, so switching drivers over one storage keeps every balance. Both are
 * wrapped to fail closed (503) when their backend is unreachable.
 */
export function createStores(options: StoresOptions): Stores {
  const { redis, logger } = options;
  const prefix = options.redisPrefix ?? "agentgate:";
  const onError = reportOnce((message) => logger.warn(message));
  const ownStorage = !options.storage && redis !== undefined;
  const storage = options.storage ?? (redis !== undefined ? createRedisStorage(redis, `${prefix}data`, onError, (message) => logger.warn(message)) : createStorage());
  const rawRecords = createRecords(storage);
  const rawAtomics =
    options.atomics ??
    (redis !== undefined ? createRedisAtomics({ redis, prefix, onConnectionError: onError, records: rawRecords, logger }) : createMemoryAtomics({ records: rawRecords }));
  const retries = createRetryQueue({ logger, maxAgeMs: options.holdTtlMs });
  const atomics = failClosed(rawAtomics, "shared state (rate limits, balances, leases)", logger);
  return {
    records: failClosed(rawRecords, "storage", logger),
    atomics,
    retries,
    async close() {
      await retries.close();
      await rawAtomics.close();
      if (ownStorage) await storage.dispose();
    },
  };
}

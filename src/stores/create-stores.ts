import type { Storage } from "unstorage";
import { createId } from "../ids";
import type { Logger } from "../runtime";
import { SETTLE_MEMORY_MS, type Atomics } from "./atomics";
import { failClosed } from "./fail-closed";
import { createMemoryLedger } from "./ledger/memory";
import { createRedisLedger } from "./ledger/redis";
import { createStorageLedger, moveLegacyLedger } from "./ledger/storage";
import type { LedgerStore } from "./ledger/types";
import { createMemoryAtomics } from "./memory-atomics";
import { createMemoryStorage, type MemoryStorageOptions } from "./memory-storage";
import { createRecords, type Records } from "./records";
import { createRedisAtomics } from "./redis-atomics";
import { createRedisStorage, reportOnce, type RedisInput } from "./redis-connection";
import { createRetryQueue, type RetryQueue } from "./retry-queue";
import { threadLeaseName, type ThreadSweepLease } from "./thread-records";

export interface StoresOptions {
  storage?: Storage;
  atomics?: Atomics;
  ledger?: LedgerStore;
  redis?: RedisInput;
  /** @default "agentgate:" */
  redisPrefix?: string;
  /** Threads idle this long are deleted (by the sweeper, or by Redis itself). */
  threadTtlSeconds: number;
  /** How often the sweeper looks for expired threads; 0: never. */
  threadSweepIntervalMs: number;
  /** Bounds of the default memory storage and ledger. */
  memory?: MemoryStorageOptions & { maxLedgerLines?: number };
  /** How long a hold may outlive its request (renewed while it runs). */
  holdTtlMs: number;
  logger: Logger;
}

/** The gateway's stores, resolved once: records, atomics and the settle retry queue. */
export interface Stores {
  records: Records;
  atomics: Atomics;
  ledger: LedgerStore;
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
  const inMemory = !options.storage && redis === undefined;
  const storage = options.storage ?? (redis !== undefined ? createRedisStorage(redis, `${prefix}data`, onError, (message) => logger.warn(message)) : createMemoryStorage(options.memory));
  if (inMemory) warnMemoryOnce(logger, options.ledger !== undefined);
  const rawRecords = createRecords(storage, { threadTtlSeconds: options.threadTtlSeconds });
  const rawLedger = options.ledger ?? defaultLedger(options, storage, prefix, logger);
  // Lines agentgate 0.1 kept in storage move into the ledger store, in the background
  // (balances never depend on it; the usage list is complete once it is done).
  const moving = inMemory ? Promise.resolve() : moveLegacy(storage, rawLedger, logger);
  const rawAtomics =
    options.atomics ??
    (redis !== undefined
      ? createRedisAtomics({ redis, prefix, onConnectionError: onError, records: rawRecords, ledger: rawLedger, logger })
      : createMemoryAtomics({ records: rawRecords, ledger: rawLedger }));
  // Not the hold's short TTL: a charge taken but not yet in the ledger, or a turn not yet
  // saved, is worth retrying longer; a settle retried stays idempotent for SETTLE_MEMORY_MS.
  const retries = createRetryQueue({ logger, maxAgeMs: Math.max(options.holdTtlMs, SETTLE_MEMORY_MS) });
  const atomics = failClosed(rawAtomics, "shared state (rate limits, balances, leases)", logger);
  // Redis expires threads by itself (their keys carry the TTL); other storage is swept.
  // Each expired thread goes under its lease, as an admin delete takes it: never one a request is answering on.
  const takeLease: ThreadSweepLease = async (agentId, threadId) => {
    const name = threadLeaseName(agentId, threadId);
    const token = createId("lease_", 16);
    return (await rawAtomics.acquireLease(name, token, options.holdTtlMs)) ? () => rawAtomics.releaseLease(name, token) : undefined;
  };
  const stopSweeper = expiresKeys(storage) ? undefined : startThreadSweeper(rawRecords, takeLease, options.threadTtlSeconds, options.threadSweepIntervalMs, logger);
  return {
    records: failClosed(rawRecords, "storage", logger),
    atomics,
    ledger: failClosed(rawLedger, "ledger", logger),
    retries,
    async close() {
      stopSweeper?.();
      await moving;
      await retries.close();
      await rawAtomics.close();
      // Like the atomics, the ledger is closed (flushed) with the gateway; a Redis client you passed in stays open.
      await rawLedger.close();
      if (ownStorage) await storage.dispose();
    },
  };
}

// --- internal ---

/**
 * The ledger follows the documents, so switching atomics (in-process or Redis) over one
 * storage never moves it: given `storage`, it stays there as agentgate 0.1 kept it (a line
 * a key: fine for small deployments, said once in the log); documents on Redis, the Redis
 * ledger beside them (one hash tag per account, as the atomics); neither, the bounded
 * memory ledger.
 */
function defaultLedger(options: StoresOptions, storage: Storage, prefix: string, logger: Logger): LedgerStore {
  if (options.storage) {
    logger.warn("agentgate: the ledger is kept in `storage`, one key per line, and every usage page reads the whole account: pass `ledger` (createFsLedger, createRedisLedger or createSqlLedger) for production volumes");
    return createStorageLedger(storage);
  }
  if (options.redis !== undefined) return createRedisLedger({ redis: options.redis, prefix });
  return createMemoryLedger({ maxLines: options.memory?.maxLedgerLines });
}

async function moveLegacy(storage: Storage, ledger: LedgerStore, logger: Logger): Promise<void> {
  try {
    const moved = await moveLegacyLedger(storage, ledger);
    if (moved > 0) logger.warn(`agentgate: moved ${moved} ledger lines that agentgate 0.1 kept in storage into the ledger store`);
  } catch (error) {
    logger.warn("agentgate: could not move agentgate 0.1's ledger lines out of storage yet; they move at the next start", error instanceof Error ? error.message : String(error));
  }
}

// Once per logger: a process that builds many gateways (tests) is told once.
const warnedMemory = new WeakSet<Logger>();
function warnMemoryOnce(logger: Logger, ownLedger: boolean): void {
  if (warnedMemory.has(logger)) return;
  warnedMemory.add(logger);
  const what = ownLedger ? "agents, keys and threads live" : "agents, keys, threads and the ledger live";
  logger.warn(`agentgate: no \`storage\` or \`redis\` given, so ${what} in this process's memory (bounded, gone on restart): for development only`);
}

/** True for storage whose driver deletes keys when their TTL passes (unstorage's redis driver). */
function expiresKeys(storage: Storage): boolean {
  return storage.getMount("").driver.name === "redis";
}

/** Sweeps a minute after start (a process restarted more often than hourly still sweeps), then every `intervalMs`. Returns a stop function. */
function startThreadSweeper(records: Records, takeLease: ThreadSweepLease, ttlSeconds: number, intervalMs: number, logger: Logger): (() => void) | undefined {
  if (!(intervalMs > 0)) return undefined;
  let running = false;
  const sweep = async () => {
    if (running) return; // a slow sweep of a large index is never run twice at once
    running = true;
    try {
      await records.sweepThreads(ttlSeconds, Date.now(), takeLease);
      // Stored Responses live as long as threads.
      await records.sweepResponses(ttlSeconds);
    } catch (error) {
      logger.warn("agentgate: sweeping expired threads failed; trying again later", error instanceof Error ? error.message : String(error));
    } finally {
      running = false;
    }
  };
  const first = setTimeout(sweep, Math.min(intervalMs, 60_000));
  const every = setInterval(sweep, intervalMs);
  // Sweeps never keep a process alive on their own.
  first.unref?.();
  every.unref?.();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}

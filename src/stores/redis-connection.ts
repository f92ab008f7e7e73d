import { Redis, type Cluster, type RedisOptions } from "ioredis";
import { createStorage, type Storage } from "unstorage";
import redisDriver from "unstorage/drivers/redis";

/** An ioredis client (or cluster client), or a `redis://` / `rediss://` URL. */
export type RedisInput = Redis | Cluster | string;

/**
 * The ioredis options agentgate uses for the clients it creates from a URL: a command
 * fails within about a second while Redis is down (no offline queue that waits
 * forever), the client reconnects by itself, and a command lost with a dropped
 * connection is never sent twice (a credit must not be applied twice).
 */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  // Queued commands are failed after the second failed reconnect (about 300 ms)...
  maxRetriesPerRequest: 1,
  // ...and any command after 3 s, even when Redis hangs instead of refusing.
  commandTimeout: 3_000,
  connectTimeout: 3_000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  autoResendUnfulfilledCommands: false,
};

/** A client from a URL with `REDIS_CLIENT_OPTIONS`; connection errors are reported, not thrown. */
export function createRedisClient(url: string, onError: (error: Error) => void = reportOnce()): Redis {
  const client = new Redis(url, REDIS_CLIENT_OPTIONS);
  client.on("error", onError);
  return client;
}

/** Whether a value is an ioredis client rather than a URL. */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  return typeof value === "object" && value !== null && typeof (value as Redis).evalsha === "function";
}

/**
 * Storage on the same Redis, through unstorage's redis driver, under `base`. A URL gets
 * the fail-fast options; a client lends its connection options (a Cluster client cannot:
 * pass `storage` yourself then).
 */
export function createRedisStorage(input: RedisInput, base: string, onError: (error: Error) => void = reportOnce()): Storage {
  let options: Parameters<typeof redisDriver>[0];
  if (typeof input === "string") options = { ...REDIS_CLIENT_OPTIONS, url: input, base };
  else if (input instanceof Redis) options = { ...input.options, base };
  else throw new Error("[agentgate] with a Redis Cluster client, pass `storage` too (unstorage's redis driver with `cluster`)");
  const driver = redisDriver(options);
  (driver.getInstance!() as Redis).on("error", onError);
  return createStorage({ driver });
}

/**
 * An ioredis `error` listener: connection errors repeat on every reconnect attempt, so
 * one line per 30 s is enough (and without a listener ioredis prints each one).
 */
export function reportOnce(log: (message: string) => void = (message) => console.warn(message)): (error: Error) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 30_000) return;
    last = now;
    log(`[agentgate] Redis connection error (reconnecting by itself): ${error.message}`);
  };
}

import type { Cluster, ClusterOptions, Redis, RedisOptions } from "ioredis";
import { createStorage, type Driver, type Storage } from "unstorage";
import { lazyDriver, lazyRedis } from "./redis-lazy";

/**
 * An ioredis client (or Cluster client), a `redis://` / `rediss://` URL, or the URLs of a
 * Redis Cluster's nodes (a Cluster client is made from them).
 */
export type RedisInput = Redis | Cluster | string | string[];

/**
 * The ioredis options agentgate uses for the clients it creates from a URL: the client
 * reconnects by itself, a command lost with a dropped connection is never sent twice (a
 * credit must not be applied twice), and no command waits long for a Redis that is
 * gone. Once connected, agentgate also turns the offline queue off (see
 * `failFastWhenOffline`), so while Redis is down every command fails at once.
 */
export const REDIS_CLIENT_OPTIONS: RedisOptions = {
  // Before the first connection, queued commands fail after the second failed attempt...
  maxRetriesPerRequest: 1,
  // ...and any command after 2 s, even when Redis hangs instead of refusing.
  commandTimeout: 2_000,
  connectTimeout: 2_000,
  retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  autoResendUnfulfilledCommands: false,
  // Commands that concurrent requests send in the same tick go out as one write (and come
  // back as one read): under load, a fraction of the syscalls on both sides.
  enableAutoPipelining: true,
};

/**
 * A client from a URL with `REDIS_CLIENT_OPTIONS`; connection errors are reported, not
 * thrown. ioredis (Node's `net`) is imported on first use, so the core entry loads in
 * runtimes without it (workers, edge) as long as no Redis URL is given.
 */
export function createRedisClient(url: string | string[], onError: (error: Error) => void = reportOnce()): Redis {
  return lazyRedis(async () => {
    const { Redis, Cluster } = await import("ioredis");
    const client = typeof url === "string" ? new Redis(url, REDIS_CLIENT_OPTIONS) : (new Cluster(url.map(clusterNode), clusterOptions(url[0])) as unknown as Redis);
    client.on("error", onError);
    failFastWhenOffline(client);
    return client;
  });
}

/** A Cluster node from its URL. */
function clusterNode(url: string): { host: string; port: number } {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port || 6379) };
}

/** The Cluster client's options: `REDIS_CLIENT_OPTIONS` for each node's connection, auth and TLS from the first URL. */
function clusterOptions(first: string | undefined): ClusterOptions {
  const url = first ? new URL(first) : undefined;
  const auth = url && { username: decodeURIComponent(url.username) || undefined, password: decodeURIComponent(url.password) || undefined, ...(url.protocol === "rediss:" && { tls: {} }) };
  return {
    redisOptions: { ...REDIS_CLIENT_OPTIONS, ...auth },
    enableAutoPipelining: true,
    clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    // A moved slot is followed at once; a node that is down fails its commands (503), never waits.
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
  };
}

/**
 * Queues commands only until the first connection (so a gateway can be used as soon as
 * it is created); after that, a command sent while Redis is unreachable fails at once
 * instead of waiting in ioredis' offline queue, and the request gets its 503 right away.
 */
export function failFastWhenOffline(client: Redis): void {
  client.once("ready", () => {
    client.options.enableOfflineQueue = false;
  });
}

/** Whether a value is an ioredis client rather than a URL. */
export function isRedisClient(value: unknown): value is Redis | Cluster {
  return typeof value === "object" && value !== null && typeof (value as Redis).evalsha === "function";
}

/**
 * Storage on the same Redis, through unstorage's redis driver, under `base`. A URL gets
 * the fail-fast options; a client lends its connection options (a Cluster client cannot:
 * pass `storage` yourself then). On its first connection it checks that this Redis keeps
 * what it holds across a restart (see `warnWithoutPersistence`).
 */
export function createRedisStorage(input: RedisInput, base: string, onError: (error: Error) => void = reportOnce(), warn: (message: string) => void = (message) => console.warn(message)): Storage {
  // Duck-typed (`isCluster`), so a client from another copy of ioredis works too.
  if (Array.isArray(input) || (typeof input !== "string" && (input as { isCluster?: boolean }).isCluster)) {
    throw new Error("[agentgate] with a Redis Cluster, pass `storage` too: documents are listed by SCAN, which unstorage's redis driver runs on one node of a Cluster");
  }
  const options = typeof input === "string" ? { ...REDIS_CLIENT_OPTIONS, url: input, base } : { ...(input as Redis).options, base };
  // unstorage's redis driver imports ioredis: loaded with the first document read or written.
  const driver = lazyDriver("redis", async () => {
    const { default: redisDriver } = await import("unstorage/drivers/redis");
    const driver = redisDriver(options) as Driver;
    const client = driver.getInstance!() as Redis;
    client.on("error", onError);
    if (typeof input === "string") failFastWhenOffline(client);
    client.once("ready", () => void warnWithoutPersistence(client, warn));
    return driver;
  });
  return createStorage({ driver });
}

/**
 * Warns (once: called on the first connection) when this Redis has neither AOF
 * (`appendonly yes`) nor RDB snapshots (`save` set): a restart of it would lose every
 * document and balance. Best effort: a Redis that refuses CONFIG (managed ones often do)
 * or does not say is taken on trust, silently.
 */
export async function warnWithoutPersistence(client: Redis, warn: (message: string) => void): Promise<void> {
  let aof: unknown;
  let rdb: unknown;
  try {
    [[, aof], [, rdb]] = (await Promise.all([client.config("GET", "appendonly"), client.config("GET", "save")])) as [string[], string[]];
  } catch {
    return;
  }
  if (aof !== "no" || rdb !== "") return;
  const { host, port } = client.options;
  warn(
    `[agentgate] The Redis at ${host}:${port} that keeps the documents has no persistence (appendonly no, save ""): a restart of it loses every agent, key, thread and ledger line, and all balances, holds, rate windows and leases. Turn on AOF (appendonly yes, appendfsync everysec or always) or RDB snapshots (save).`,
  );
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

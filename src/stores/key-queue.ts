/**
 * Keys in the order they were last queued, oldest first, for memory that forgets its
 * oldest entries (expiry, a size cap, least recently used). Not a `Map`'s own order: V8
 * keeps a deleted `Map` entry as a hole until the table is rebuilt, so reading a busy
 * `Map`'s oldest entry (`keys().next()`, or a loop that stops at the first live one)
 * walks every hole before it, about 10 µs a call at 20,000 entries. Here the oldest key
 * is found in O(1) on average: a key queued again leaves a stale place behind that is
 * skipped once, and the queue is rebuilt when stale places outnumber the keys.
 */
export interface KeyQueue {
  /** Queues `key` as the newest (again, if it was queued). */
  push(key: string): void;
  /** Forgets `key` (its place is skipped). */
  delete(key: string): void;
  /** The oldest key, left queued. */
  oldest(): string | undefined;
  /** Keys queued. */
  readonly size: number;
  clear(): void;
}

export function createKeyQueue(): KeyQueue {
  let keys: string[] = [];
  let stamps: number[] = [];
  let head = 0;
  let next = 0;
  // Each queued key's newest stamp: a place with another stamp is stale.
  const latest = new Map<string, number>();

  const compact = () => {
    const live: string[] = [];
    const liveStamps: number[] = [];
    for (let i = head; i < keys.length; i++) {
      if (latest.get(keys[i]) === stamps[i]) {
        live.push(keys[i]);
        liveStamps.push(stamps[i]);
      }
    }
    keys = live;
    stamps = liveStamps;
    head = 0;
  };

  return {
    push(key) {
      const stamp = next++;
      latest.set(key, stamp);
      keys.push(key);
      stamps.push(stamp);
      // Rebuilt once half the arrays are places already taken, or stale places outnumber the keys.
      if ((head > 1024 && head * 2 > keys.length) || keys.length - head > 2 * latest.size + 1024) compact();
    },
    delete(key) {
      latest.delete(key);
    },
    oldest() {
      while (head < keys.length) {
        if (latest.get(keys[head]) === stamps[head]) return keys[head];
        head++;
      }
      // Empty: start over, so the arrays never keep what was taken.
      keys = [];
      stamps = [];
      head = 0;
      return undefined;
    },
    get size() {
      return latest.size;
    },
    clear() {
      keys = [];
      stamps = [];
      head = 0;
      latest.clear();
    },
  };
}

/** A map whose entries expire in the order they were set (one lifetime for all), kept to `max` at most, oldest dropped first. */
export interface ExpiringMemory<V extends { expiresAt: number }> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Drops what expired by `now`. */
  sweep(now: number): void;
  readonly size: number;
}

export function createExpiringMemory<V extends { expiresAt: number }>(max = Number.POSITIVE_INFINITY): ExpiringMemory<V> {
  const entries = new Map<string, V>();
  const order = createKeyQueue();
  const drop = (key: string) => {
    entries.delete(key);
    order.delete(key);
  };
  return {
    get: (key) => entries.get(key),
    set(key, value) {
      entries.set(key, value);
      order.push(key);
      while (entries.size > max) drop(order.oldest()!);
    },
    delete: drop,
    sweep(now) {
      for (let key = order.oldest(); key !== undefined && entries.get(key)!.expiresAt <= now; key = order.oldest()) drop(key);
    },
    get size() {
      return entries.size;
    },
  };
}

import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { HTTPError } from "h3";

/**
 * Where a pool's cooldowns are shared: the gateway passes one built on its atomics
 * (in-process, or Redis so every instance skips a key another one saw throttled).
 */
export interface CooldownStore {
  /** Marks `member` of `pool` as cooling for `ms` from now, for every instance. */
  coolDown(pool: string, member: string, ms: number): Promise<void>;
  /** The members of `pool` cooling now, with the milliseconds each has left. */
  coolingDown(pool: string): Promise<Record<string, number>>;
}

/** One member of a pool: what it is, and its id (a digest: the same on every instance, never the key). */
export interface PoolMember<T> {
  id: string;
  value: T;
}

export interface KeyPool<T> {
  /**
   * The members to try, in order: those not cooling first, taking turns (round robin),
   * then the cooling ones, the one whose cooldown ends first first.
   */
  order(store?: CooldownStore): Promise<Array<PoolMember<T> & { cooling: boolean }>>;
  /** Cools a member down after a failure (`ms` from `cooldownAfter`). */
  failed(member: PoolMember<T>, ms: number, store?: CooldownStore): void;
  /** A member answered: its backoff starts again from the smallest step. */
  succeeded(member: PoolMember<T>): void;
  /** Its failures in a row (for `cooldownAfter`'s backoff). */
  failuresOf(member: PoolMember<T>): number;
}

/** How often, at most, an instance reads the shared cooldowns of a pool. */
const SHARED_REFRESH_MS = 200;

/**
 * Several API keys or deployments of one provider, spread over requests; a member that
 * answers 429 or fails is skipped for its `retry-after` (or a backoff) while the others
 * serve. Cooldowns are kept here and, given a store, shared with other instances (read
 * at most every 200 ms, so a key throttled elsewhere is skipped here within that time).
 */
export function createKeyPool<T>(poolId: string, values: readonly T[], identity: (value: T) => string): KeyPool<T> {
  const members = values.map((value) => ({ id: bytesToHex(sha256(utf8ToBytes(identity(value)))).slice(0, 16), value }));
  const local = new Map<string, number>(); // member id -> cooling until (ms)
  const failures = new Map<string, number>(); // consecutive failures, for the backoff
  let turn = 0;
  let shared: { at: number; until: Map<string, number>; pending?: Promise<void> } = { at: -Infinity, until: new Map() };

  const refresh = (store: CooldownStore): Promise<void> | undefined => {
    const now = Date.now();
    if (now - shared.at < SHARED_REFRESH_MS) return undefined;
    shared.pending ??= store.coolingDown(poolId).then(
      (left) => {
        const at = Date.now();
        shared = { at, until: new Map(Object.entries(left).map(([id, ms]) => [id, at + ms])) };
      },
      // Redis away: the local cooldowns still hold; try the shared ones again later.
      () => void (shared = { ...shared, at: Date.now(), pending: undefined }),
    );
    return shared.pending;
  };

  return {
    async order(store) {
      if (store) await refresh(store);
      const now = Date.now();
      const until = (id: string) => Math.max(local.get(id) ?? 0, shared.until.get(id) ?? 0);
      const start = turn++ % members.length;
      const rotated = [...members.slice(start), ...members.slice(0, start)];
      const ready = rotated.filter((m) => until(m.id) <= now).map((m) => ({ ...m, cooling: false }));
      const cooling = rotated.filter((m) => until(m.id) > now).sort((a, b) => until(a.id) - until(b.id)).map((m) => ({ ...m, cooling: true }));
      return [...ready, ...cooling];
    },
    failed(member, ms, store) {
      failures.set(member.id, (failures.get(member.id) ?? 0) + 1);
      local.set(member.id, Date.now() + ms);
      if (store) void store.coolDown(poolId, member.id, ms).catch(() => undefined);
    },
    succeeded(member) {
      failures.delete(member.id);
    },
    failuresOf: (member) => failures.get(member.id) ?? 0,
  };
}

/**
 * How long a member cools after `error`, or undefined when the error is not the member's
 * fault (a 400 the next key would get too): its 429's `retry-after` or 1 s; a rejected
 * key 60 s; a 5xx, overload or network failure 1 s, doubling with each failure in a row up to 30 s.
 */
export function cooldownAfter(error: HTTPError, failuresInARow: number): number | undefined {
  const code = (error.data as { code?: unknown } | undefined)?.code;
  if (error.status === 429) {
    const seconds = Number(error.headers?.get("retry-after"));
    return seconds > 0 ? seconds * 1000 : 1000;
  }
  if (code === "upstream_auth_failed") return 60_000;
  if (error.status === 502 || error.status === 503 || error.status === 504) return Math.min(30_000, 1000 * 2 ** Math.max(0, failuresInARow));
  return undefined;
}

import type { Records } from "./records";
import { gcra, type Atomics, type BalanceState, type RateWindow } from "./atomics";

export interface MemoryAtomicsOptions {
  /**
   * Where balances are written through, so a restart loses no money. Without it,
   * balances live in memory only (tests, throwaway gateways).
   */
  records?: Records;
}

interface Account {
  balance: number;
  reservations: Map<string, { amount: number; expiresAt: number }>;
}

/**
 * The in-process atomics driver: exact for one process, because JavaScript runs one
 * callback at a time and every check-and-set below is synchronous once the account is
 * loaded. Several processes need `createRedisAtomics` instead.
 */
export function createMemoryAtomics(options: MemoryAtomicsOptions = {}): Atomics {
  const { records } = options;
  const tats = new Map<string, number>();
  const leases = new Map<string, { token: string; expiresAt: number }>();
  const intervals = new Map<string, number>();
  const accounts = new Map<string, Account>();
  const loading = new Map<string, Promise<Account>>();
  // Write-through is serialised per account so an older balance never overwrites a newer one.
  const writes = new Map<string, Promise<void>>();

  const loadAccount = (accountId: string): Account | Promise<Account> => {
    const cached = accounts.get(accountId);
    if (cached) return cached;
    let pending = loading.get(accountId);
    if (!pending) {
      pending = (async () => {
        const stored = records ? await records.getStoredBalance(accountId) : null;
        const account = accounts.get(accountId) ?? { balance: stored ?? 0, reservations: new Map() };
        accounts.set(accountId, account);
        loading.delete(accountId);
        return account;
      })();
      loading.set(accountId, pending);
    }
    return pending;
  };

  const persist = (accountId: string, account: Account): Promise<void> => {
    if (!records) return Promise.resolve();
    const previous = writes.get(accountId) ?? Promise.resolve();
    const next = previous.then(() => records.putStoredBalance(accountId, account.balance));
    writes.set(accountId, next.catch(() => {}));
    return next;
  };

  const state = (account: Account): BalanceState => {
    const now = Date.now();
    let reserved = 0;
    for (const [id, hold] of account.reservations) {
      if (hold.expiresAt <= now) account.reservations.delete(id);
      else reserved += hold.amount;
    }
    return { balance_micros: account.balance, reserved_micros: reserved };
  };

  return {
    async hitRate(scope, windows, now = Date.now()) {
      const results = windows.map((window) => gcra(tats.get(`${scope}:${window.name}`) ?? 0, now, window));
      const allowed = results.every((r) => r.allowed);
      if (allowed) results.forEach((r, i) => tats.set(`${scope}:${windows[i].name}`, r.newTat));
      const retryAfterMs = Math.max(0, ...results.map((r) => r.retryAfterMs));
      return { allowed, retryAfterMs, windows: results.map((r) => r.state) };
    },

    async chargeRate(scope, windows, now = Date.now()) {
      for (const window of windows) chargeWindow(tats, `${scope}:${window.name}`, window, now);
    },

    async reserve(accountId, reservationId, amountMicros, ttlMs) {
      const account = await loadAccount(accountId);
      const current = state(account);
      if (current.balance_micros - current.reserved_micros < amountMicros) return { ok: false, ...current };
      account.reservations.set(reservationId, { amount: amountMicros, expiresAt: Date.now() + ttlMs });
      return { ok: true, balance_micros: current.balance_micros, reserved_micros: current.reserved_micros + amountMicros };
    },

    async settle(accountId, reservationId, chargeMicros) {
      const account = await loadAccount(accountId);
      account.reservations.delete(reservationId);
      const charged = Math.max(0, Math.min(chargeMicros, account.balance));
      account.balance -= charged;
      const result = { ...state(account), charged_micros: charged };
      if (charged > 0) await persist(accountId, account);
      return result;
    },

    async credit(accountId, amountMicros) {
      const account = await loadAccount(accountId);
      account.balance += amountMicros;
      const result = state(account);
      await persist(accountId, account);
      return result;
    },

    async getBalance(accountId) {
      return state(await loadAccount(accountId));
    },

    async acquireLease(threadId, token, ttlMs) {
      const now = Date.now();
      const held = leases.get(threadId);
      if (held && held.expiresAt > now) return false;
      leases.set(threadId, { token, expiresAt: now + ttlMs });
      return true;
    },

    async releaseLease(threadId, token) {
      if (leases.get(threadId)?.token === token) leases.delete(threadId);
    },

    async claimInterval(name, intervalMs) {
      const now = Date.now();
      const last = intervals.get(name);
      if (last !== undefined && now - last < intervalMs) return false;
      intervals.set(name, now);
      return true;
    },

    async close() {
      await Promise.all(writes.values());
    },
  };
}

// --- internal ---

function chargeWindow(tats: Map<string, number>, key: string, window: RateWindow, now: number): void {
  const interval = window.periodMs / window.limit;
  tats.set(key, Math.max(tats.get(key) ?? 0, now) + window.cost * interval);
}

import { createId } from "../ids";
import type { LedgerEntry, LedgerStore } from "./ledger/types";
import type { Records } from "./records";
import { balanceFromLedger, balanceLimitError, checkBudgets, checkMicros, gcra, MAX_BALANCE_MICROS, normalizeWindows, rateWindowState, SETTLE_MEMORY_MS, type Atomics, type BalanceState, type RateState, type SettleResult } from "./atomics";
import { createMemoryCooldowns } from "./cooldowns";
import { createExpiringMemory } from "./key-queue";
import { budgetRoom, chargeBudgets, reserveBudgets, budgetStates, releaseBudgets, seedBudgets, type BudgetCounters } from "./budgets-memory";

export interface MemoryAtomicsOptions {
  /**
   * Where balances are written through, so a restart loses no money. Each account is
   * loaded from its copy on first use, whichever driver wrote it last (a Redis driver
   * given the same records writes its balances back there too). Without it, balances
   * live in memory only (tests, throwaway gateways).
   */
  records?: Records;
  /** The ledger whose sum stands in for a balance copy that is missing or torn. `createGateway` passes its ledger. */
  ledger?: LedgerStore;
}

interface Account {
  balance: number;
  /** Credits on their way to storage: written with the balance, not spendable until they land. */
  crediting: number;
  reservations: Map<string, { amount: number; expiresAt: number; ttlMs: number; budgets?: string[] }>;
  /** The sum of the live holds' amounts, kept as they come and go (not summed per call: 100 in flight made that 100 steps a call). */
  reserved: number;
  /** No hold expires before this (renewals only move expiries later), so `state` sweeps only from then on. */
  sweepAt: number;
  /** Budgets of this account by scope, made on first use (see budgets-memory.ts). */
  budgets?: Map<string, BudgetCounters>;
  /** Lines written ahead with the balance, until the ledger has them (see `LineDraft`). */
  lines: Map<string, LedgerEntry>;
}

/** Settles remembered at most (the oldest go first), besides their time limit. */
const MAX_SETTLED = 20_000;
/** How long an idempotent credit is remembered. */
const CREDIT_MEMORY_MS = 24 * 3_600_000;

/**
 * The in-process atomics driver: exact for one process, because JavaScript runs one
 * callback at a time and every check-and-set below is synchronous once the account is
 * loaded. Several processes need `createRedisAtomics` instead: two processes with this
 * driver each keep their own windows, holds and leases, so limits and balances would
 * only hold per process.
 */
export function createMemoryAtomics(options: MemoryAtomicsOptions = {}): Atomics {
  const { records, ledger } = options;
  const rates = new Map<string, RateState>();
  const leases = new Map<string, { token: string; expiresAt: number }>();
  const intervals = new Map<string, number>();
  const accounts = new Map<string, Account>();
  const loading = new Map<string, Promise<Account>>();
  // Insertion order is expiry order (one TTL per entry, set once), so sweeping stops at the first live one.
  // Kept small (the charge and its line's id) and to the last MAX_SETTLED, so memory stays
  // flat however busy the process is.
  const settled = createExpiringMemory<{ charged: number; lineId?: string; expiresAt: number }>(MAX_SETTLED);
  // `landed`: the credit's write to storage; a repeat answers only once it is in.
  const credits = createExpiringMemory<{ receipt: string; expiresAt: number; landed: Promise<void> }>();
  // Write-through is serialised per account so an older balance never overwrites a newer one.
  const writes = new Map<string, Promise<void>>();
  const notStarted = new Map<string, Promise<void>>();
  const budgetSeeding = new Map<string, Promise<number>>();
  // Signs this driver's copies, so a Redis driver started later over the same storage
  // knows they are newer than any balance it held before (see createRedisAtomics).
  const writer = createId("memory:", 16);

  const loadAccount = (accountId: string): Account | Promise<Account> => {
    const cached = accounts.get(accountId);
    if (cached) return cached;
    let pending = loading.get(accountId);
    if (!pending) {
      pending = (async () => {
        try {
          // No copy (never written, or removed by an operator): the ledger knows. A torn copy throws.
          const copy = records ? await records.getStoredBalanceCopy(accountId) : null;
          // Lines written ahead that a process killed before the ledger took them left in the copy.
          const ahead = copy?.lines ?? [];
          if (ledger) for (const line of ahead) await ledger.append(line);
          const stored = copy?.micros ?? (records && ledger ? await balanceFromLedger(ledger, accountId) : null);
          const account = accounts.get(accountId) ?? { balance: stored ?? 0, crediting: 0, reservations: new Map(), reserved: 0, sweepAt: Infinity, lines: new Map(ledger ? [] : ahead.map((line) => [line.id, line])) };
          accounts.set(accountId, account);
          return account;
        } finally {
          loading.delete(accountId);
        }
      })();
      loading.set(accountId, pending);
    }
    return pending;
  };

  const persist = (accountId: string, account: Account): Promise<void> => {
    if (!records) return Promise.resolve();
    // A write that is queued but not started yet will carry this balance too: share it, so
    // a busy account costs one storage write per write-time, not one per request.
    const queued = notStarted.get(accountId);
    if (queued) return queued;
    const previous = writes.get(accountId) ?? Promise.resolve();
    // Reads the balance when the write runs: the newest value always lands last.
    const next = previous.then(() => {
      notStarted.delete(accountId);
      return records.putStoredBalance(accountId, account.balance + account.crediting, writer, [...account.lines.values()]);
    });
    notStarted.set(accountId, next);
    writes.set(accountId, next.catch(() => {}));
    return next;
  };

  const state = (account: Account): BalanceState => {
    const now = Date.now();
    if (now >= account.sweepAt) {
      // Some hold may have expired: drop those, and sum and date what is left afresh.
      let reserved = 0;
      let sweepAt = Infinity;
      for (const [id, hold] of account.reservations) {
        if (hold.expiresAt <= now) {
          account.reservations.delete(id);
          releaseBudgets(account, hold);
        } else {
          reserved += hold.amount;
          sweepAt = Math.min(sweepAt, hold.expiresAt);
        }
      }
      account.reserved = reserved;
      account.sweepAt = sweepAt;
    }
    return { balance_micros: account.balance, reserved_micros: account.reserved };
  };

  return {
    ...createMemoryCooldowns(),
    async hitRate(scope, input, now = Date.now()) {
      const windows = normalizeWindows(input);
      const at = Math.floor(now);
      const steps = windows.map((window) => gcra(rates.get(`${scope}\n${window.name}`), at, window));
      const allowed = steps.every((step) => step.allowed);
      // Refused hits store the state without them, so a changed limit is settled at once.
      steps.forEach((step, i) => rates.set(`${scope}\n${windows[i].name}`, allowed ? step.after : step.before));
      return {
        allowed,
        retryAfterMs: Math.max(0, ...steps.map((step) => step.retryAfterMs)),
        // Refused: nothing was charged, so every window reports its state without this hit.
        windows: steps.map((step, i) => rateWindowState(windows[i], allowed ? step.after : step.before)),
      };
    },

    async chargeRate(scope, input, now = Date.now()) {
      for (const window of normalizeWindows(input)) {
        const key = `${scope}\n${window.name}`;
        rates.set(key, gcra(rates.get(key), Math.floor(now), window).after);
      }
    },

    async reserve(accountId, reservationId, amountMicros, ttlMs, budgets) {
      checkMicros(amountMicros, "amountMicros");
      checkBudgets(budgets);
      const account = await loadAccount(accountId);
      if (budgets?.length && ledger) await seedBudgets(account, ledger, accountId, budgets, budgetSeeding);
      const current = state(account);
      if (account.reservations.has(reservationId)) return { ok: true, ...current };
      if (current.balance_micros - current.reserved_micros < amountMicros) return { ok: false, ...current };
      // The same critical section (nothing awaited since the balance check) holds the budgets.
      const refused = budgets?.length ? reserveBudgets(account, budgets, amountMicros) : undefined;
      if (refused) return { ok: false, ...current, budget: refused };
      const expiresAt = Date.now() + ttlMs;
      account.reservations.set(reservationId, { amount: amountMicros, expiresAt, ttlMs, ...(budgets?.length && { budgets: budgets.map((b) => b.scope) }) });
      account.reserved += amountMicros;
      account.sweepAt = Math.min(account.sweepAt, expiresAt);
      return { ok: true, balance_micros: current.balance_micros, reserved_micros: current.reserved_micros + amountMicros };
    },

    async renewHold(accountId, reservationId, ttlMs) {
      const account = await loadAccount(accountId);
      state(account); // sweeps: an expired hold is gone
      const hold = account.reservations.get(reservationId);
      if (!hold) return false;
      hold.expiresAt = Date.now() + ttlMs;
      return true;
    },

    async settle(accountId, reservationId, chargeMicros, line) {
      checkMicros(chargeMicros, "chargeMicros");
      const account = await loadAccount(accountId);
      const now = Date.now();
      settled.sweep(now);
      const marker = `${accountId}\n${reservationId}`;
      const earlier = settled.get(marker);
      if (earlier) {
        // A retry: the charge is already taken; make sure it reached storage too.
        if (earlier.charged > 0) await persist(accountId, account);
        const ahead = earlier.lineId === undefined ? undefined : account.lines.get(earlier.lineId);
        return { ...state(account), charged_micros: earlier.charged, ...(ahead && { lines: [ahead] }) };
      }
      state(account); // sweeps: an expired hold is gone
      const hold = account.reservations.get(reservationId);
      account.reservations.delete(reservationId);
      if (hold) {
        account.reserved -= hold.amount;
        releaseBudgets(account, hold);
      }
      // Its own hold released, a request pays from what no other request holds, of the
      // balance and of each budget: a hold is a promise to its request, so an overrun never
      // eats into another's, nor past a budget. No hold, no charge.
      const free = state(account);
      const charged = hold ? Math.min(chargeMicros, Math.max(0, free.balance_micros - free.reserved_micros), budgetRoom(account, hold.budgets)) : 0;
      account.balance -= charged;
      // The line goes to storage with the balance it changed, in the same write.
      const ahead = charged > 0 && line ? { ...line, amount_micros: -charged } : undefined;
      if (ahead) account.lines.set(ahead.id, ahead);
      const budgetsAfter = hold?.budgets && chargeBudgets(account, hold.budgets, charged);
      const result: SettleResult = { ...state(account), charged_micros: charged, ...(ahead && { lines: [ahead] }), ...(budgetsAfter && { budgets: budgetsAfter }) };
      settled.set(marker, { charged, lineId: ahead?.id, expiresAt: now + Math.max(hold?.ttlMs ?? 0, SETTLE_MEMORY_MS) });
      if (charged > 0) await persist(accountId, account);
      return result;
    },

    async credit(accountId, amountMicros, once, line) {
      checkMicros(amountMicros, "amountMicros");
      const account = await loadAccount(accountId);
      const now = Date.now();
      credits.sweep(now);
      const marker = once && `${accountId}\n${once.id}`;
      const earlier = marker && credits.get(marker);
      if (earlier) {
        // A repeat while the first write is on its way succeeds only if that write does
        // (if it fails, nothing was applied and a later retry applies it).
        await earlier.landed;
        return { ...state(account), receipt: earlier.receipt };
      }
      if (account.balance + account.crediting + amountMicros > MAX_BALANCE_MICROS) throw balanceLimitError(account.balance + account.crediting);
      // All or nothing: a credit storage did not take is not a credit, and no request may
      // spend it before storage took it.
      account.crediting += amountMicros;
      const ahead = line ? { ...line, amount_micros: amountMicros } : undefined;
      if (ahead) account.lines.set(ahead.id, ahead);
      const landed = persist(accountId, account).then(
        () => {
          account.crediting -= amountMicros;
          account.balance += amountMicros;
        },
        (error: unknown) => {
          account.crediting -= amountMicros;
          if (ahead) account.lines.delete(ahead.id);
          if (marker && credits.get(marker)?.landed === landed) credits.delete(marker);
          throw error;
        },
      );
      if (marker) credits.set(marker, { receipt: once.receipt, expiresAt: now + CREDIT_MEMORY_MS, landed });
      await landed;
      const result = { ...state(account), ...(ahead && { lines: [ahead] }) };
      return once ? { ...result, receipt: once.receipt } : result;
    },

    async landedLines(accountId, lineIds) {
      // The next write of the balance leaves them out; until then a reload appends them again, which changes nothing.
      const account = accounts.get(accountId);
      for (const id of lineIds) account?.lines.delete(id);
    },

    async getBalance(accountId) {
      return state(await loadAccount(accountId));
    },

    async getBudgets(accountId, budgets) {
      checkBudgets(budgets);
      const account = await loadAccount(accountId);
      if (ledger) await seedBudgets(account, ledger, accountId, budgets, budgetSeeding);
      state(account); // sweeps: an expired hold holds no budget
      return budgetStates(account, budgets);
    },

    async acquireLease(threadId, token, ttlMs) {
      const now = Date.now();
      const held = leases.get(threadId);
      if (held && held.expiresAt > now) return false;
      leases.set(threadId, { token, expiresAt: now + ttlMs });
      return true;
    },

    async renewLease(threadId, token, ttlMs) {
      const now = Date.now();
      const held = leases.get(threadId);
      if (!held || held.token !== token || held.expiresAt <= now) return false;
      held.expiresAt = now + ttlMs;
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

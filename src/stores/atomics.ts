import { createAPIError } from "../errors";
import type { LedgerEntry, LedgerStore } from "./ledger/types";

/**
 * What must be atomic across requests and instances. Two drivers implement it:
 * `createMemoryAtomics` (one process) and `createRedisAtomics` (any number of
 * processes sharing one Redis). Both pass the same conformance suite.
 */
export interface Atomics {
  /**
   * Checks and consumes every window at once (GCRA): all are charged, or none is.
   * All windows of one call share `scope` (an agent id), so Redis Cluster keeps them in one slot.
   * `now` (whole milliseconds) is for tests; by default the driver's clock decides
   * (Redis: the server's `TIME`, one clock for every instance).
   */
  hitRate(scope: string, windows: readonly RateWindow[], now?: number): Promise<RateDecision>;
  /** Adds cost to windows without checking (tokens learned after the answer). */
  chargeRate(scope: string, windows: readonly RateWindow[], now?: number): Promise<void>;

  /**
   * Holds `amountMicros` of the account's balance for one request. Fails (ok: false)
   * when the balance minus what is already held cannot cover it. A reservation that is
   * neither settled nor renewed expires after `ttlMs`, so a crashed instance leaks
   * nothing for long. Reserving again under an id that is already held changes nothing.
   *
   * With `budgets`, the same atomic step also holds `amountMicros` against each of them
   * and fails (ok: false, `budget` naming the first that cannot cover it) when one would
   * pass its limit: what it spent this period plus what is held against it. Settling
   * then charges every budget the hold named; an expired hold frees them too. Optional:
   * a driver supports budgets when it implements `getBudgets` (both built-in ones do);
   * the gateway never passes `budgets` to one that does not, and refuses such requests
   * with a 503 rather than let a budget go unenforced.
   */
  reserve(accountId: string, reservationId: string, amountMicros: number, ttlMs: number, budgets?: readonly BudgetHold[]): Promise<ReserveResult>;
  /**
   * Pushes a live reservation's expiry to `ttlMs` from now (its request is still running).
   * False when it is gone: settled, expired, or lost with Redis's data.
   */
  renewHold(accountId: string, reservationId: string, ttlMs: number): Promise<boolean>;
  /**
   * Ends a reservation: charges `chargeMicros` (never more than the balance) and
   * releases the rest. An unknown or expired reservation charges nothing: its hold is
   * gone (never made, expired, or lost with Redis's data), so a settle retried late
   * cannot charge what nothing holds any more. Settling the same reservation again
   * returns the first result and charges nothing more (for `SETTLE_MEMORY_MS` at
   * least), so retrying a settle whose reply was lost is safe.
   */
  settle(accountId: string, reservationId: string, chargeMicros: number, line?: LineDraft): Promise<SettleResult>;
  /**
   * Adds money; takes effect for the very next reservation. With `once`, the credit is
   * applied at most once per `once.id` and account (remembered for a day): a repeat
   * changes nothing and returns the receipt stored by the call that applied it.
   */
  credit(accountId: string, amountMicros: number, once?: CreditOnce, line?: LineDraft): Promise<CreditResult>;
  /**
   * Forgets lines written ahead (see `LineDraft`) that are now in the ledger. Lines never
   * forgotten (the process died first) come back in a later result's `lines`, or, with
   * the in-process driver, go into the ledger when the account is next loaded.
   */
  landedLines(accountId: string, lineIds: readonly string[]): Promise<void>;
  /** The balance and what is held now (expired reservations are swept first). */
  getBalance(accountId: string): Promise<BalanceState>;
  /**
   * What each budget has spent in its current period and holds now (for the admin API).
   * Optional: drivers without budget support leave it out.
   */
  getBudgets?(accountId: string, budgets: readonly BudgetHold[]): Promise<BudgetState[]>;

  /**
   * Key-pool cooldowns (see providers/_key-pool.ts), shared by every instance this driver
   * spans. Optional: without them each pool keeps its cooldowns in its own process.
   */
  coolDown?(pool: string, member: string, ms: number): Promise<void>;
  coolingDown?(pool: string): Promise<Record<string, number>>;

  /** Takes the thread's lease if free (or expired). Only the holder's token releases it. */
  acquireLease(threadId: string, token: string, ttlMs: number): Promise<boolean>;
  /** Pushes the lease's expiry to `ttlMs` from now if `token` still holds it; false when it does not. */
  renewLease(threadId: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLease(threadId: string, token: string): Promise<void>;

  /** True at most once per `intervalMs` per name, across instances (last-used writes). */
  claimInterval(name: string, intervalMs: number): Promise<boolean>;

  close(): Promise<void>;
}

/** One rate window: at most `limit` units of cost per `periodMs`, with bursts up to `limit`. */
export interface RateWindow {
  /** Unique within the scope: `key:<id>:requests`, `agent:tokens`. */
  name: string;
  /** Units per period: a positive whole number. */
  limit: number;
  /** A positive whole number of milliseconds. */
  periodMs: number;
  /** Units this hit costs (rounded up to a whole number). */
  cost: number;
}

export interface RateWindowState {
  name: string;
  limit: number;
  /** Units still admitted right now after this hit. */
  remaining: number;
  /** Milliseconds until the window is full again. */
  resetMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** When refused: milliseconds until the same hit would be admitted. */
  retryAfterMs: number;
  windows: RateWindowState[];
}

export interface BalanceState {
  balance_micros: number;
  reserved_micros: number;
}

export interface ReserveResult extends BalanceState {
  ok: boolean;
  /** Refused by a budget (not by the balance): that budget's state. */
  budget?: BudgetState;
}

/**
 * One spending budget a reservation is held against. The caller decides the period (its
 * clock, UTC boundaries): a `periodStart` later than the one the driver counted in starts
 * the budget afresh; an earlier one (a skewed clock) counts in the newer period.
 */
export interface BudgetHold {
  /** Names the budget within its account (`agent/<id>`, `key/<id>`); no `,` `|` or `:`. */
  scope: string;
  /** A positive whole number of micro-units. */
  limitMicros: number;
  /** When the current period began (ms); 0 for a budget that never resets. */
  periodStart: number;
}

export interface BudgetState {
  scope: string;
  limit_micros: number;
  /** Charged in the current period (the one of `period_start`). */
  spent_micros: number;
  /** Held by requests still running. */
  reserved_micros: number;
  period_start: number;
  /**
   * Set by `settle` when this charge took the budget past 80 % or 100 % of its limit for
   * the first time this period: once per period and budget, across every instance.
   */
  crossed?: 80 | 100;
}

/** Makes a credit idempotent: `id` names it, `receipt` is kept with it (the ledger entry). */
export interface CreditOnce {
  id: string;
  receipt: string;
}

/**
 * The ledger line of a charge or credit, everything but its amount (the driver knows it:
 * a charge is capped at the balance). Given one, a driver writes the line ahead, in the
 * same atomic write as the money (the in-process driver in the balance copy, Redis in the
 * script), and hands it back in `lines`: a charge never exists without its line, even if
 * the process dies before the line reaches the ledger.
 */
export type LineDraft = Omit<LedgerEntry, "amount_micros">;

/** What a charge or credit hands back to write to the ledger, then to forget with `landedLines`. */
interface WrittenAhead {
  /**
   * Its own line, then any left by a request whose process died before writing them.
   * Without its own line when the driver wrote that into the ledger itself (the Redis
   * driver over a Redis ledger on the same Redis): then present, and possibly empty.
   */
  lines?: LedgerEntry[];
}

export interface CreditResult extends BalanceState, WrittenAhead {
  /** With `once`: the receipt of the call that applied the credit (this one or an earlier one). */
  receipt?: string;
}

export interface SettleResult extends BalanceState, WrittenAhead {
  /** What was really taken: the charge, capped at the balance. */
  charged_micros: number;
  /** The budgets the hold named, after this charge (absent without budgets, and on a repeat). */
  budgets?: BudgetState[];
}

/**
 * What a rate window remembers: GCRA's theoretical arrival time, kept as `at + debt / limit`
 * with `debt` a whole number (of 1/limit ms), so no float drift ever refuses the last hit
 * of a burst. Each unit of cost adds `periodMs` to the debt; the window is full at
 * `periodMs * limit`.
 */
export interface RateState {
  /** When the debt was last computed (ms). */
  at: number;
  debt: number;
  /** The limit the debt was counted in (its rate of paying off). */
  limit: number;
}

/** One window's GCRA step, before deciding: the state without this hit and with it. */
export interface GcraStep {
  allowed: boolean;
  retryAfterMs: number;
  before: RateState;
  after: RateState;
}

/**
 * GCRA for one window, shared by both drivers (the Redis Lua script mirrors it line by
 * line): a hit is admitted when it would not push the theoretical arrival time more than
 * one period past now. Whole numbers only, so both drivers agree to the unit.
 */
export function gcra(state: RateState | null | undefined, now: number, window: RateWindow): GcraStep {
  const { limit, periodMs } = window;
  let debt = 0;
  const capacity = periodMs * limit;
  if (state) {
    // Paid off at the rate it was counted in. The debt counts hits (periodMs each), not
    // time, so a raised limit leaves what was used used; a lowered one caps it at full.
    const drained = Math.max(0, state.debt + (state.at - now) * state.limit);
    debt = state.limit === limit ? drained : Math.min(drained, capacity);
  }
  const next = debt + window.cost * periodMs;
  const allowed = next <= capacity;
  return {
    allowed,
    retryAfterMs: allowed ? 0 : Math.ceil((next - capacity) / limit),
    before: { at: now, debt, limit },
    after: { at: now, debt: next, limit },
  };
}

/** What a client is told about a window in a given state (for `x-ratelimit-*`). */
export function rateWindowState(window: RateWindow, state: RateState): RateWindowState {
  const capacity = window.periodMs * window.limit;
  return {
    name: window.name,
    limit: window.limit,
    remaining: Math.max(0, Math.floor((capacity - state.debt) / window.periodMs)),
    resetMs: Math.ceil(state.debt / window.limit),
  };
}

/** Whole milliseconds and whole costs; throws on a window no driver can count. */
export function normalizeWindows(windows: readonly RateWindow[]): RateWindow[] {
  return windows.map((window) => {
    if (!(Number.isSafeInteger(window.limit) && window.limit > 0) || !(Number.isSafeInteger(window.periodMs) && window.periodMs > 0)) {
      throw new TypeError(`[agentgate] rate window \`${window.name}\` needs a positive whole limit and period`);
    }
    const cost = Math.ceil(window.cost);
    if (!(cost >= 0)) throw new TypeError(`[agentgate] rate window \`${window.name}\` has a negative cost`);
    return { name: window.name, limit: window.limit, periodMs: window.periodMs, cost };
  });
}

/**
 * How long a settle's result is remembered: a settle retried within this time returns
 * its first result. Retries of a settle must stop before it runs out.
 */
export const SETTLE_MEMORY_MS = 10 * 60_000;

/** Money is whole micro-units, never negative. */
/**
 * The largest balance an account may hold: JavaScript numbers are exact up to here, so
 * the balance always equals the ledger's sum to the micro-unit.
 */
export const MAX_BALANCE_MICROS = Number.MAX_SAFE_INTEGER;

/** Thrown by `credit` when the balance would pass `MAX_BALANCE_MICROS`; nothing is credited. */
export function balanceLimitError(balanceMicros: number) {
  return createAPIError({
    code: "invalid_request",
    param: "amount_micros",
    message: `This credit would take the balance past ${MAX_BALANCE_MICROS} micro-USD (it holds ${balanceMicros}); nothing was credited.`,
  });
}

/**
 * An account's balance as its ledger tells it (clamped to what a balance may be): the
 * truth to fall back on when the stored copy of the balance is missing or unreadable,
 * say a write torn by a killed process. An account with no ledger has no balance yet.
 */
export async function balanceFromLedger(ledger: Pick<LedgerStore, "total">, accountId: string): Promise<number | null> {
  const sum = await ledger.total(accountId);
  return sum === null ? null : Math.min(Math.max(0, sum), MAX_BALANCE_MICROS);
}

/** Throws on a budget no driver can count (the scope is a field name in Redis). */
export function checkBudgets(budgets: readonly BudgetHold[] | undefined): void {
  for (const budget of budgets ?? []) {
    if (!/^[^,|:\s]{1,200}$/.test(budget.scope)) throw new TypeError(`[agentgate] budget scope \`${budget.scope}\` must be 1 to 200 characters without , | : or spaces`);
    if (!(Number.isSafeInteger(budget.limitMicros) && budget.limitMicros > 0)) throw new TypeError(`[agentgate] budget \`${budget.scope}\` needs a positive whole limit`);
    if (!(Number.isSafeInteger(budget.periodStart) && budget.periodStart >= 0)) throw new TypeError(`[agentgate] budget \`${budget.scope}\` needs a whole, non-negative period start`);
  }
}

/** The alert level a budget reached: 100 at its limit, 80 at four fifths of it. */
export function budgetLevel(spent: number, limit: number): 0 | 80 | 100 {
  return spent >= limit ? 100 : spent * 5 >= limit * 4 ? 80 : 0;
}

export function checkMicros(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`[agentgate] \`${name}\` must be a whole number of micro-units, not ${value}`);
}

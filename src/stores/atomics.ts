/**
 * What must be atomic across requests and instances. Two drivers implement it:
 * `createMemoryAtomics` (one process) and `createRedisAtomics` (any number of
 * processes sharing one Redis). Both pass the same conformance suite.
 */
export interface Atomics {
  /**
   * Checks and consumes every window at once (GCRA): all are charged, or none is.
   * All windows of one call share `scope` (an agent id), so Redis Cluster keeps them in one slot.
   */
  hitRate(scope: string, windows: readonly RateWindow[], now?: number): Promise<RateDecision>;
  /** Adds cost to windows without checking (tokens learned after the answer). */
  chargeRate(scope: string, windows: readonly RateWindow[], now?: number): Promise<void>;

  /**
   * Holds `amountMicros` of the account's balance for one request. Fails (ok: false)
   * when the balance minus what is already held cannot cover it. A reservation that is
   * never settled expires after `ttlMs`, so a crashed instance leaks nothing for long.
   */
  reserve(accountId: string, reservationId: string, amountMicros: number, ttlMs: number): Promise<ReserveResult>;
  /**
   * Ends a reservation: charges `chargeMicros` (never more than the balance) and
   * releases the rest. Settling an unknown or expired reservation still charges.
   */
  settle(accountId: string, reservationId: string, chargeMicros: number): Promise<SettleResult>;
  /** Adds money; takes effect for the very next reservation. */
  credit(accountId: string, amountMicros: number): Promise<BalanceState>;
  getBalance(accountId: string): Promise<BalanceState>;

  /** Takes the thread's lease if free (or expired). Only the holder's token releases it. */
  acquireLease(threadId: string, token: string, ttlMs: number): Promise<boolean>;
  releaseLease(threadId: string, token: string): Promise<void>;

  /** True at most once per `intervalMs` per name, across instances (last-used writes). */
  claimInterval(name: string, intervalMs: number): Promise<boolean>;

  close(): Promise<void>;
}

/** One rate window: at most `limit` units of cost per `periodMs`, with bursts up to `limit`. */
export interface RateWindow {
  /** Unique within the scope: `key:<id>:requests`, `agent:tokens`. */
  name: string;
  limit: number;
  periodMs: number;
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
}

export interface SettleResult extends BalanceState {
  /** What was really taken: the charge, capped at the balance. */
  charged_micros: number;
}

/**
 * GCRA for one window, shared by both drivers (the Redis Lua script mirrors it):
 * the theoretical arrival time `tat` moves `cost * interval` per hit; a hit is
 * admitted when it would not push `tat` more than one period past now.
 */
export function gcra(tat: number, now: number, window: RateWindow): { allowed: boolean; newTat: number; state: RateWindowState; retryAfterMs: number } {
  const interval = window.periodMs / window.limit;
  const base = Math.max(tat, now);
  const newTat = base + window.cost * interval;
  const allowed = newTat - now <= window.periodMs;
  const effective = allowed ? newTat : base;
  const remaining = Math.max(0, Math.floor((window.periodMs - (effective - now)) / interval));
  return {
    allowed,
    newTat,
    retryAfterMs: allowed ? 0 : Math.ceil(newTat - now - window.periodMs),
    state: { name: window.name, limit: window.limit, remaining, resetMs: Math.max(0, Math.ceil(effective - now)) },
  };
}

import { budgetLevel, type BudgetHold, type BudgetState } from "./atomics";

/**
 * Budget counting for the in-process atomics driver. Every function here is synchronous
 * and is called inside the driver's critical section for the account (no await between
 * the balance check and these), so balance and budgets are one atomic step.
 *
 * Spent amounts live in memory: a restarted process starts its budgets' periods from
 * zero (balances, by contrast, are written through). Use Redis where that matters.
 */

/** One budget's counters, the same fields the Redis driver keeps in its budgets hash. */
export interface BudgetCounters {
  limit: number;
  /** The period `spent` counts in. */
  periodStart: number;
  spent: number;
  /** Held by live reservations, whatever period they were made in. */
  held: number;
  /** The highest alert level already reported this period (0, 80 or 100). */
  alerted: number;
}

interface WithBudgets {
  budgets?: Map<string, BudgetCounters>;
}

/**
 * Holds `amount` against every budget, or against none: the state of the first budget
 * that cannot cover it is returned and nothing is held.
 */
export function reserveBudgets(account: WithBudgets, budgets: readonly BudgetHold[], amount: number): BudgetState | undefined {
  const counters = budgets.map((budget) => current(account, budget));
  const refused = counters.findIndex((c) => c.spent + c.held + amount > c.limit);
  if (refused >= 0) return view(budgets[refused].scope, counters[refused]);
  for (const c of counters) c.held += amount;
  return undefined;
}

/** Frees what a hold (settled or expired) held against its budgets. */
export function releaseBudgets(account: WithBudgets, hold: { amount: number; budgets?: string[] }): void {
  for (const scope of hold.budgets ?? []) {
    const c = account.budgets?.get(scope);
    if (c) c.held = Math.max(0, c.held - hold.amount);
  }
}

/**
 * Adds a settled charge to the budgets its hold named (after `releaseBudgets`), in the
 * period each counts in now, and reports a first crossing of 80 % or 100 %.
 */
export function chargeBudgets(account: WithBudgets, scopes: readonly string[], charged: number): BudgetState[] {
  return scopes.flatMap((scope) => {
    const c = account.budgets?.get(scope);
    if (!c) return [];
    c.spent += charged;
    const level = budgetLevel(c.spent, c.limit);
    const crossed = level > c.alerted ? level : undefined;
    if (crossed) c.alerted = crossed;
    return [{ ...view(scope, c), ...(crossed && { crossed }) }];
  });
}

/** The budgets' states as of their given periods, without holding anything. */
export function budgetStates(account: WithBudgets, budgets: readonly BudgetHold[]): BudgetState[] {
  return budgets.map((budget) => view(budget.scope, current(account, budget)));
}

// --- internal ---

/** The counters of a budget, started afresh when its period has moved on. */
function current(account: WithBudgets, budget: BudgetHold): BudgetCounters {
  account.budgets ??= new Map();
  let c = account.budgets.get(budget.scope);
  if (!c) {
    c = { limit: budget.limitMicros, periodStart: budget.periodStart, spent: 0, held: 0, alerted: 0 };
    account.budgets.set(budget.scope, c);
  }
  // Holds still running keep holding: only what was spent belongs to the old period.
  if (budget.periodStart > c.periodStart) Object.assign(c, { periodStart: budget.periodStart, spent: 0, alerted: 0 });
  c.limit = budget.limitMicros;
  return c;
}

function view(scope: string, c: BudgetCounters): BudgetState {
  return { scope, limit_micros: c.limit, spent_micros: c.spent, reserved_micros: c.held, period_start: c.periodStart };
}

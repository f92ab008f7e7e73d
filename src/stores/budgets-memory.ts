import { budgetLevel, type BudgetHold, type BudgetState } from "./atomics";
import type { LedgerStore } from "./ledger/types";

/**
 * Budget counting for the in-process atomics driver. Every function here is synchronous
 * and is called inside the driver's critical section for the account (no await between
 * the balance check and these), so balance and budgets are one atomic step.
 *
 * Spent amounts live in memory. Given the ledger, a budget this process has not counted
 * yet (a restart) starts from the ledger's charges of its agent or key in the period
 * (`seedBudgets`), so a restart does not hand out a fresh budget.
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

/** The least room left in the budgets a hold named (after `releaseBudgets`): no charge takes more. */
export function budgetRoom(account: WithBudgets, scopes: readonly string[] | undefined): number {
  let room = Infinity;
  for (const scope of scopes ?? []) {
    const c = account.budgets?.get(scope);
    if (c) room = Math.min(room, Math.max(0, c.limit - c.spent - c.held));
  }
  return room;
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

/**
 * Starts each budget not counted yet from the ledger's charges of its agent (`agent/<id>`)
 * or key (`key/<id>`) since its period began, read from the daily rollups (periods start
 * on UTC days). Called before the critical section; a counter made meanwhile wins.
 */
export async function seedBudgets(account: WithBudgets, ledger: Pick<LedgerStore, "summarize">, accountId: string, budgets: readonly BudgetHold[], seeding: Map<string, Promise<number>>): Promise<void> {
  const missing = budgets.filter((b) => !account.budgets?.has(b.scope));
  if (!missing.length) return;
  await Promise.all(
    missing.map(async (budget) => {
      const marker = `${accountId}\n${budget.scope}`;
      let pending = seeding.get(marker);
      if (!pending) {
        pending = spentInLedger(ledger, accountId, budget).finally(() => seeding.delete(marker));
        seeding.set(marker, pending);
      }
      const spent = await pending;
      account.budgets ??= new Map();
      if (account.budgets.has(budget.scope)) return;
      // Levels already passed were reported before the restart (or are now past): not again.
      account.budgets.set(budget.scope, { limit: budget.limitMicros, periodStart: budget.periodStart, spent, held: 0, alerted: budgetLevel(spent, budget.limitMicros) });
    }),
  );
}

// --- internal ---

async function spentInLedger(ledger: Pick<LedgerStore, "summarize">, accountId: string, budget: BudgetHold): Promise<number> {
  const [owner, id] = budget.scope.split("/", 2);
  if ((owner !== "agent" && owner !== "key") || !id) return 0;
  const from = budget.periodStart > 0 ? new Date(budget.periodStart).toISOString().slice(0, 10) : undefined;
  const rows = await ledger.summarize(accountId, { ...(from && { from }), groupBy: [owner, "type"] });
  return rows.filter((row) => row.type === "charge" && (owner === "agent" ? row.agent_id : row.key_id) === id).reduce((sum, row) => sum - row.amount_micros, 0);
}

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

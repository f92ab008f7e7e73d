import { applied, type Budget, type BudgetPeriod } from "../chain/budgets";
import type { GatewayRuntime } from "../runtime";

/** A budget as the admin API shows it: its setting and where its current period stands. */
export interface BudgetView {
  limit_micros: number;
  period: BudgetPeriod;
  spent_micros: number;
  /** Held by requests still running. */
  reserved_micros: number;
  /** What a new request may still reserve: the limit less what is spent and held. */
  remaining_micros: number;
  /** When the period ends (ISO 8601); null for `total`. */
  resets_at: string | null;
}

/** What an agent or key carries, to show its budget. */
export interface BudgetOwner {
  owner: "agent" | "key";
  id: string;
  budget?: Budget | null;
}

/**
 * The budget views of several agents or keys of one account, read in one call to the
 * atomics driver; null for those without a budget (and no call at all when none has one).
 */
export async function budgetViews(runtime: Pick<GatewayRuntime, "atomics" | "now">, accountId: string, owners: readonly BudgetOwner[]): Promise<Array<BudgetView | null>> {
  const now = runtime.now?.() ?? Date.now();
  const budgeted = owners.flatMap((o) => (o.budget ? [applied(o.owner, o.id, o.budget, now)] : []));
  if (!budgeted.length) return owners.map(() => null);
  const states = (await runtime.atomics.getBudgets?.(accountId, budgeted.map((b) => b.hold))) ?? [];
  return owners.map((o) => {
    const b = o.budget && budgeted.find((x) => x.owner === o.owner && x.id === o.id);
    if (!b) return null;
    const state = states.find((s) => s.scope === b.hold.scope);
    const spent = state?.spent_micros ?? 0;
    const reserved = state?.reserved_micros ?? 0;
    return {
      limit_micros: b.budget.limit_micros,
      period: b.budget.period,
      spent_micros: spent,
      reserved_micros: reserved,
      remaining_micros: Math.max(0, b.budget.limit_micros - spent - reserved),
      resets_at: b.resetsAt === null ? null : new Date(b.resetsAt).toISOString(),
    };
  });
}

import type { HTTPError } from "h3";
import { createAPIError, type APIErrorBody } from "../errors";
import type { GatewayRuntime } from "../runtime";
import type { BudgetHold, BudgetState } from "../stores/atomics";
import type { AgentRecord, KeyRecord } from "../stores/records";

/** How long a budget counts before it starts again at zero: UTC days, ISO weeks (from Monday), months, or never. */
export type BudgetPeriod = "day" | "week" | "month" | "total";

/** A spending limit on an agent (all its keys together) or on one key. */
export interface Budget {
  limit_micros: number;
  period: BudgetPeriod;
}

/** What `onBudgetThreshold` is told: once per period and budget at 80 %, and once at 100 %. */
export interface BudgetThresholdEvent {
  account_id: string;
  agent_id: string;
  /** Set for a key's budget. */
  key_id: string | null;
  budget: "agent" | "key";
  period: BudgetPeriod;
  threshold: 80 | 100;
  limit_micros: number;
  spent_micros: number;
  /** When the period ends (ISO 8601); null for a `total` budget. */
  resets_at: string | null;
}

/** A budget that applies to one request, with what the atomics driver needs to hold against it. */
export interface AppliedBudget {
  owner: "agent" | "key";
  id: string;
  budget: Budget;
  hold: BudgetHold;
  /** The end of the current period (ms); null when it never resets. */
  resetsAt: number | null;
}

/** The current period of a budget at `now`: its start and its end (UTC boundaries). */
export function budgetPeriod(period: BudgetPeriod, now: number): { start: number; end: number | null } {
  if (period === "total") return { start: 0, end: null };
  const d = new Date(now);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  if (period === "month") return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
  if (period === "week") {
    const start = Date.UTC(y, m, day - ((d.getUTCDay() + 6) % 7)); // back to Monday
    return { start, end: start + 7 * 86_400_000 };
  }
  const start = Date.UTC(y, m, day);
  return { start, end: start + 86_400_000 };
}

/** The agent's and the key's budgets, if any, in their periods at `now`. No budget: an empty list, nothing else done. */
export function budgetsOf(agent: AgentRecord, key: KeyRecord, now: number): AppliedBudget[] {
  const out: AppliedBudget[] = [];
  if (agent.budget) out.push(applied("agent", agent.id, agent.budget, now));
  if (key.budget) out.push(applied("key", key.id, key.budget, now));
  return out;
}

/** One budget in its period at `now` (also what the admin API reads). */
export function applied(owner: "agent" | "key", id: string, budget: Budget, now: number): AppliedBudget {
  const { start, end } = budgetPeriod(budget.period, now);
  return { owner, id, budget, resetsAt: end, hold: { scope: `${owner}/${id}`, limitMicros: budget.limit_micros, periodStart: start } };
}

/**
 * 402 `budget_exceeded`, naming the budget; `x-budget-reset` is the ISO 8601 time its
 * period ends (absent for a `total` budget, which never resets).
 */
export function budgetExceeded(budgets: readonly AppliedBudget[], state: BudgetState, amountMicros: number): HTTPError<APIErrorBody> {
  const which = budgets.find((b) => b.hold.scope === state.scope) ?? budgets[0];
  const reset = which.resetsAt === null ? null : new Date(which.resetsAt).toISOString();
  const name = `${which.owner === "agent" ? "Agent" : "Key"} '${which.id}'`;
  const period = which.budget.period === "total" ? "total budget" : `${PERIOD_WORDS[which.budget.period]} budget`;
  const available = Math.max(0, state.limit_micros - state.spent_micros - state.reserved_micros);
  return createAPIError({
    code: "budget_exceeded",
    param: `${which.owner}_budget`,
    message:
      `Budget exceeded: ${name} has a ${period} of ${state.limit_micros} micro-USD, ${state.spent_micros} spent and ${state.reserved_micros} held by running requests; ` +
      `this request may cost up to ${amountMicros} and ${available} are left. ` +
      (reset ? `It resets at ${reset}.` : "It never resets: raise the budget to continue."),
    headers: reset ? { "x-budget-reset": reset } : undefined,
  });
}

/** Tells the host's `onBudgetThreshold` about each budget this charge first took past 80 % or 100 %. */
export function reportThresholds(runtime: GatewayRuntime, ids: { accountId: string; agentId: string; keyId: string }, budgets: readonly AppliedBudget[], states: readonly BudgetState[] | undefined): void {
  const hook = runtime.onBudgetThreshold;
  if (!hook || !states) return;
  for (const state of states) {
    const which = budgets.find((b) => b.hold.scope === state.scope);
    if (!state.crossed || !which) continue;
    const event: BudgetThresholdEvent = {
      account_id: ids.accountId,
      agent_id: ids.agentId,
      key_id: which.owner === "key" ? ids.keyId : null,
      budget: which.owner,
      period: which.budget.period,
      threshold: state.crossed,
      limit_micros: state.limit_micros,
      spent_micros: state.spent_micros,
      resets_at: which.resetsAt === null ? null : new Date(which.resetsAt).toISOString(),
    };
    // The host's alert must never fail or slow the request that crossed the line.
    void Promise.resolve()
      .then(() => hook(event))
      .catch((error: unknown) => runtime.logger.warn("agentgate: onBudgetThreshold failed", error instanceof Error ? error.message : String(error)));
  }
}

/** A driver that cannot hold budgets must not let them go unenforced. */
export function budgetsUnsupported(): HTTPError<APIErrorBody> {
  return createAPIError({ code: "service_unavailable", message: "This gateway's atomics driver does not support budgets (no `getBudgets`), and this agent or key has one." });
}

const PERIOD_WORDS = { day: "daily", week: "weekly", month: "monthly" } as const;

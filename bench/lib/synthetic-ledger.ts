import type { LedgerEntry, LedgerStore } from "../../src/index";

/** A synthetic account's ledger: `lines` lines spread evenly over `days` days from `t0`. */
export interface SyntheticLedger {
  account: string;
  lines: number;
  days?: number;
  t0?: number;
}

// Appends in flight at once, as many concurrent requests would make them.
export const IN_FLIGHT = 64;

/** Line `i`: every 500th a credit, the rest charges over 4 agents, 7 keys and 3 models, with sortable ids as the gateway's (the same each run). */
export function syntheticLine(i: number, { account, lines, days = 30, t0 = Date.UTC(2026, 10, 1) }: SyntheticLedger): LedgerEntry {
  const at = t0 + Math.floor((i * days * 86_400_000) / lines);
  const credit = i % 500 === 0;
  return {
    id: `led_${at.toString(36).padStart(9, "0")}${(i % 46656).toString(36).padStart(3, "0")}${i.toString(36).padStart(10, "0")}`,
    account_id: account,
    type: credit ? "credit" : "charge",
    amount_micros: credit ? 5_000_000 : -(100 + (i % 900)),
    created_at: new Date(at).toISOString(),
    agent_id: credit ? null : `agt_${i % 4}`,
    key_id: credit ? null : `key_${i % 7}`,
    model: credit ? null : ["openai/gpt-4.1-mini", "anthropic/claude-sonnet-4", "gemini/gemini-2.5-flash"][i % 3],
    thread_id: credit ? null : `thread_${i % 1000}`,
    prompt_tokens: credit ? undefined : 200 + (i % 50),
    completion_tokens: credit ? undefined : 40 + (i % 30),
  };
}

/** Appends the whole synthetic ledger; how long it took, in ms. */
export async function fillLedger(ledger: LedgerStore, spec: SyntheticLedger): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < spec.lines; i += IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, spec.lines - i) }, (_, j) => ledger.append(syntheticLine(i + j, spec))));
  }
  return performance.now() - started;
}

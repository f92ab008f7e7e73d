import { describe, expect, it } from "vitest";
import { createMemoryLedger } from "../../src/stores/ledger/memory";
import { describeLedgerStore, line } from "./_ledger-suite";

describeLedgerStore("memory", async () => ({ ledger: createMemoryLedger() }), { persistent: false });

describe("the memory ledger store's bound", () => {
  it("keeps the newest lines within its budget while totals and rollups stay whole", async () => {
    const ledger = createMemoryLedger({ maxLines: 1000 });
    const t0 = Date.UTC(2026, 10, 1);
    for (let i = 0; i < 5000; i++) await ledger.append(line(i % 2 ? "acct_odd" : "acct_even", t0 + i, { amount_micros: -1 }));
    const kept = [...(await ledger.page("acct_odd", { limit: 1000 })).entries, ...(await ledger.page("acct_even", { limit: 1000 })).entries];
    expect(kept.length).toBeGreaterThanOrEqual(1000);
    expect(kept.length).toBeLessThanOrEqual(1100);
    // The newest lines are the ones kept.
    expect(Math.min(...kept.map((entry) => Date.parse(entry.created_at)))).toBeGreaterThanOrEqual(t0 + 5000 - 1100);
    expect(await ledger.total("acct_odd")).toBe(-2500);
    expect(await ledger.summarize("acct_even")).toEqual([{ lines: 2500, prompt_tokens: 25_000, completion_tokens: 12_500, amount_micros: -2500 }]);
  });
});

import type { Gateway } from "../src/index";
import type { LedgerEntry, LedgerStore } from "../src/stores/ledger/types";

/** Every line of an account's ledger, oldest first, page after page. */
export async function ledgerLines(gateway: { ledger: LedgerStore }, accountId: string): Promise<LedgerEntry[]> {
  const lines: LedgerEntry[] = [];
  for (let after: string | undefined; ; ) {
    const page = await gateway.ledger.page(accountId, { after, limit: 1000 });
    lines.push(...page.entries);
    if (!page.hasMore) return lines;
    after = page.entries.at(-1)!.id;
  }
}

/** The sum of an account's ledger, which the balance must always equal. */
export async function ledgerSum(gateway: Pick<Gateway, "ledger">, accountId: string): Promise<number> {
  return (await ledgerLines(gateway, accountId)).reduce((sum, entry) => sum + entry.amount_micros, 0);
}

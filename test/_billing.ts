import type { Gateway } from "../src/index";
import { everyLine } from "../src/stores/ledger/storage";
import type { LedgerEntry, LedgerStore } from "../src/stores/ledger/types";

/** Every line of an account's ledger, oldest first, page after page. */
export async function ledgerLines(gateway: { ledger: LedgerStore }, accountId: string): Promise<LedgerEntry[]> {
  const lines: LedgerEntry[] = [];
  for await (const line of everyLine(gateway.ledger, accountId)) lines.push(line);
  return lines;
}

/** The sum of an account's ledger, which the balance must always equal. */
export async function ledgerSum(gateway: Pick<Gateway, "ledger">, accountId: string): Promise<number> {
  return (await ledgerLines(gateway, accountId)).reduce((sum, entry) => sum + entry.amount_micros, 0);
}

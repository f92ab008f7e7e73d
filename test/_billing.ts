import type { Gateway } from "../src/index";

/** The sum of an account's ledger, which the balance must always equal. */
export async function ledgerSum(gateway: Pick<Gateway, "records">, accountId: string): Promise<number> {
  const entries = await gateway.records.listLedger(accountId);
  return entries.reduce((sum, entry) => sum + entry.amount_micros, 0);
}

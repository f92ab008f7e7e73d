import type { Storage } from "unstorage";
import { seg } from "../records";
import { addToRollups, checkLedgerEntry, checkSummaryQuery, isLedgerEntry, matchesLedgerQuery, pageSize, summarizeRollups, type Rollup } from "./rollups";
import type { LedgerEntry, LedgerStore } from "./types";

/**
 * The ledger as agentgate 0.1 kept it: one storage key per line (`ledger:<account>:<id>`)
 * in any unstorage Storage. Every page, summary and total reads the account's whole
 * ledger, so it suits small deployments and reading data written by 0.1; it is the default
 * only when a gateway is given `storage` and no `ledger`. For volume, use the fs, Redis or
 * SQL ledger (`importLedger` copies these lines into one).
 */
export function createStorageLedger(storage: Storage): LedgerStore {
  const linesOf = async (accountId: string): Promise<LedgerEntry[]> => {
    const prefix = `ledger:${seg(accountId)}:`;
    const keys = (await storage.getKeys(prefix)).sort();
    if (keys.length === 0) return [];
    const items = await storage.getItems(keys);
    // A line torn by a killed process (not a whole line) is skipped, as 0.1 did.
    return items.map((item) => item.value).filter(isLedgerEntry).filter((entry) => entry.account_id === accountId).sort((a, b) => (a.id < b.id ? -1 : 1));
  };

  return {
    async append(entry) {
      checkLedgerEntry(entry);
      const key = `ledger:${seg(entry.account_id)}:${seg(entry.id)}`;
      // Same id, same key: a retried write lands once.
      if (await storage.hasItem(key)) return;
      await storage.setItem(key, entry);
    },
    async page(accountId, query = {}) {
      const limit = pageSize(query);
      const lines = (await linesOf(accountId)).filter((entry) => (query.after === undefined || entry.id > query.after) && matchesLedgerQuery(entry, query));
      return { entries: lines.slice(0, limit), hasMore: lines.length > limit };
    },
    async summarize(accountId, query = {}) {
      checkSummaryQuery(query);
      const rollups = new Map<string, Rollup>();
      for (const entry of await linesOf(accountId)) addToRollups(rollups, entry);
      return summarizeRollups(rollups.values(), query);
    },
    async total(accountId) {
      const lines = await linesOf(accountId);
      return lines.length === 0 ? null : lines.reduce((sum, entry) => sum + entry.amount_micros, 0);
    },
    async close() {},
  };
}

/** Copies every line of `accounts` from one ledger into another (lines already there are left as they are); returns how many it read. */
export async function importLedger(from: LedgerStore, to: LedgerStore, accounts: readonly string[]): Promise<number> {
  let count = 0;
  for (const accountId of accounts) {
    for (let after: string | undefined; ; ) {
      const page = await from.page(accountId, { after, limit: 1000 });
      for (const entry of page.entries) await to.append(entry);
      count += page.entries.length;
      if (!page.hasMore) break;
      after = page.entries.at(-1)!.id;
    }
  }
  return count;
}


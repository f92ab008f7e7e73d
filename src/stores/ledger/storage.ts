import type { Storage } from "unstorage";
import { seg } from "../records";
import { addToRollups, checkLedgerEntry, checkSummaryQuery, dayOf, isLedgerEntry, matchesLedgerQuery, pageSize, summarizeRollups, type Rollup } from "./rollups";
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

  const ledger: LedgerStore = {
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
      const days = new Map<string, Map<string, Rollup>>();
      for (const entry of await linesOf(accountId)) {
        const day = dayOf(entry.created_at);
        if (!days.has(day)) days.set(day, new Map());
        addToRollups(days.get(day)!, entry);
      }
      return summarizeRollups([...days.values()].flatMap((rollups) => [...rollups.values()]), query);
    },
    async total(accountId) {
      const lines = await linesOf(accountId);
      return lines.length === 0 ? null : lines.reduce((sum, entry) => sum + entry.amount_micros, 0);
    },
    async close() {},
  };
  keptIn.set(ledger, storage);
  return ledger;
}

// Which storage a storage ledger keeps its lines in, so they are never "moved" onto themselves.
const keptIn = new WeakMap<LedgerStore, Storage>();

/** Every line of an account, oldest first, a page of 1,000 at a time. */
export async function* everyLine(ledger: Pick<LedgerStore, "page">, accountId: string): AsyncGenerator<LedgerEntry> {
  for (let after: string | undefined; ; ) {
    const page = await ledger.page(accountId, { after, limit: 1000 });
    yield* page.entries;
    if (!page.hasMore) return;
    after = page.entries.at(-1)!.id;
  }
}

/** Copies every line of `accounts` from one ledger into another (lines already there are left as they are); returns how many it read. */
export async function importLedger(from: LedgerStore, to: LedgerStore, accounts: readonly string[]): Promise<number> {
  let count = 0;
  for (const accountId of accounts) {
    for await (const entry of everyLine(from, accountId)) {
      await to.append(entry);
      count += 1;
    }
  }
  return count;
}

/**
 * Moves the lines agentgate 0.1 kept in storage (`ledger:<account>:<id>`) into a ledger
 * store, deleting each once the store has it (it takes each id once, so an interrupted
 * move is simply run again); lines torn by a killed process are dropped. Returns how many
 * lines were moved.
 */
export async function moveLegacyLedger(storage: Storage, to: LedgerStore): Promise<number> {
  if (keptIn.get(to) === storage) return 0; // already where they are
  const keys = await storage.getKeys("ledger:");
  let moved = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const batch = keys.slice(i, i + 500);
    const items = await storage.getItems(batch);
    for (const item of items) {
      if (isLedgerEntry(item.value)) {
        await to.append(item.value);
        moved += 1;
      }
      await storage.removeItem(item.key);
    }
  }
  return moved;
}

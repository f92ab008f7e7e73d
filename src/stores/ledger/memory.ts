import { addToRollups, checkLedgerEntry, checkSummaryQuery, dayOf, matchesLedgerQuery, pageSize, summarizeRollups, type Rollup } from "./rollups";
import type { LedgerEntry, LedgerStore } from "./types";

export interface MemoryLedgerOptions {
  /**
   * Lines kept for paging, across all accounts; past it (by a tenth at most) the oldest go. Rollups and totals
   * are kept whole, so summaries and balances stay exact.
   * @default 10000
   */
  maxLines?: number;
}

interface Account {
  /** Sorted by id (ids sort by time). */
  lines: LedgerEntry[];
  ids: Set<string>;
  /** Day -> rollups of that day. */
  days: Map<string, Map<string, Rollup>>;
  total: number;
}

/**
 * The ledger in this process's memory, for development and tests: bounded to the newest
 * `maxLines` lines, with every rollup and total kept, so memory grows with days × agents ×
 * keys × models, not with requests. Lost on restart: use fs, Redis or SQL for real money.
 */
export function createMemoryLedger(options: MemoryLedgerOptions = {}): LedgerStore {
  const maxLines = options.maxLines ?? 10_000;
  if (!(Number.isSafeInteger(maxLines) && maxLines > 0)) throw new TypeError("[agentgate] `maxLines` must be a positive whole number");
  const accounts = new Map<string, Account>();
  // Accounts in the order their lines were appended, to drop the oldest line first.
  let order: string[] = [];
  let head = 0;
  let kept = 0;

  // Drops the oldest lines in batches (a tenth of the budget), so an append costs O(1) on average.
  const evict = () => {
    if (kept <= maxLines + Math.ceil(maxLines / 10)) return;
    const drop = new Map<string, number>();
    for (; kept > maxLines; kept--) {
      const accountId = order[head++];
      drop.set(accountId, (drop.get(accountId) ?? 0) + 1);
    }
    for (const [accountId, count] of drop) {
      const account = accounts.get(accountId)!;
      for (const line of account.lines.splice(0, count)) account.ids.delete(line.id);
    }
    order = order.slice(head);
    head = 0;
  };

  return {
    async append(entry) {
      checkLedgerEntry(entry);
      let account = accounts.get(entry.account_id);
      if (!account) {
        account = { lines: [], ids: new Set(), days: new Map(), total: 0 };
        accounts.set(entry.account_id, account);
      }
      if (account.ids.has(entry.id)) return;
      // Lines are flat (text and numbers): a shallow copy keeps the caller's object from changing ours.
      const line = { ...entry };
      account.lines.splice(insertionIndex(account.lines, line.id), 0, line);
      account.ids.add(line.id);
      const day = dayOf(line.created_at);
      let rollups = account.days.get(day);
      if (!rollups) account.days.set(day, (rollups = new Map()));
      addToRollups(rollups, line);
      account.total += line.amount_micros;
      order.push(line.account_id);
      kept += 1;
      evict();
    },

    async page(accountId, query = {}) {
      const limit = pageSize(query);
      const lines = accounts.get(accountId)?.lines ?? [];
      const entries: LedgerEntry[] = [];
      for (let i = query.after === undefined ? 0 : insertionIndex(lines, query.after, true); i < lines.length; i++) {
        if (!matchesLedgerQuery(lines[i], query)) continue;
        if (entries.length === limit) return { entries, hasMore: true };
        entries.push(structuredClone(lines[i]));
      }
      return { entries, hasMore: false };
    },

    async summarize(accountId, query = {}) {
      checkSummaryQuery(query);
      const days = accounts.get(accountId)?.days ?? new Map<string, Map<string, Rollup>>();
      return summarizeRollups([...days.values()].flatMap((rollups) => [...rollups.values()]), query);
    },

    async total(accountId) {
      const account = accounts.get(accountId);
      return account ? account.total : null;
    },

    async close() {},
  };
}

// --- internal ---

/** Where `id` goes in lines sorted by id; with `after`, the first index past it. */
function insertionIndex(lines: LedgerEntry[], id: string, after = false): number {
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (lines[mid].id < id || (after && lines[mid].id === id)) low = mid + 1;
    else high = mid;
  }
  return low;
}

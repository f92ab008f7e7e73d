import type { Logger } from "../../runtime";
import { accountDir, enqueue, loadAccount, type AccountState } from "./fs-account";
import { foldDay, segmentEnds, type DayState } from "./fs-day";
import { readRawLines, encodeLine, parseLine, segmentPath, type RawLine } from "./fs-segments";
import { writeDayFile } from "./fs-rollup-file";
import { checkLedgerEntry, checkSummaryQuery, dayOf, inDays, matchesLedgerQuery, pageSize, summarizeRollups, type Rollup } from "./rollups";
import type { LedgerEntry, LedgerPage, LedgerStore } from "./types";

export interface FsLedgerOptions {
  /**
   * The data folder: `<dir>/<account>/<YYYY-MM-DD>/<000001>.jsonl` and `rollup.json` per day.
   * One store in one process per folder: each keeps segment sizes, id ranges and recent ids
   * in memory, so a second writer (or a reader in another process) would not see its writes.
   */
  dir: string;
  /**
   * Lines per segment file. A page reads the segment its cursor is in (whole: lines of a
   * segment need not be in id order), so smaller segments make faster pages, at the cost
   * of more files: 2,000 lines are about 560 KB, and 10 requests a second make 432 files a day.
   * @default 2000
   */
  segmentLines?: number;
  /** A day's rollup file is rewritten once this many lines are past it... @default 1000 */
  rollupEvery?: number;
  /** ...or this long after its first line past it. @default 1000 */
  flushMs?: number;
  /** Ids remembered per account for retried appends without a disk read (older ones are looked up on disk). @default 10000 */
  recentIds?: number;
  /** Accounts kept loaded (their segment sizes and id ranges); idle ones beyond it are let go. @default 1000 */
  maxAccounts?: number;
  /** Where failed rollup writes are reported (the lines are safe: the next write covers them). @default console */
  logger?: Logger;
}

/**
 * The ledger in files, for one gateway process per data folder (as with fs storage: the
 * process is the only writer, and keeps each account's segment sizes and id ranges in memory).
 * Each account has a folder per UTC day (of `created_at`) with append-only segment files of
 * `segmentLines` JSON lines and one small rollup file, rewritten (temp + rename) at most every
 * `rollupEvery` lines or `flushMs`, covering each segment up to a byte offset. A summary reads
 * the rollup files of its days plus the lines past them; a page reads the segments whose id
 * range follows the cursor, usually one. A line torn by a killed process is never read,
 * and lines past a stale rollup file are counted again at the next start, so totals stay exact.
 * A repeated append is found among the recent ids, or else in the segment whose id range holds it.
 *
 * @example
 * createFsLedger({ dir: "./data/ledger" })
 */
export function createFsLedger(options: FsLedgerOptions): LedgerStore {
  const segmentLines = positive(options.segmentLines ?? 2_000, "segmentLines");
  const rollupEvery = positive(options.rollupEvery ?? 1_000, "rollupEvery");
  const flushMs = positive(options.flushMs ?? 1_000, "flushMs");
  const recentIds = positive(options.recentIds ?? 10_000, "recentIds");
  const maxAccounts = positive(options.maxAccounts ?? 1_000, "maxAccounts");
  const logger = options.logger ?? console;
  const accounts = new Map<string, { loading: Promise<AccountState>; state?: AccountState }>();
  // Per account: the rollup writes in order (one at a time), and the pending timer.
  const flushes = new Map<AccountState, Promise<void>>();
  const timers = new Map<AccountState, ReturnType<typeof setTimeout>>();
  let closed = false;

  const flushDay = async (day: DayState) => {
    const unflushed = day.unflushed;
    if (unflushed === 0) return;
    const folded = await foldDay(day.dir, segmentEnds(day));
    await writeDayFile(day.dir, { segments: folded.segments, rollups: folded.rollups });
    day.unflushed -= unflushed;
  };
  // Days with a rollup write queued and not started: one such write covers every line before it starts.
  const queued = new Set<DayState>();
  const flush = (account: AccountState, days: Iterable<DayState>): Promise<void> => {
    const list = [...days].filter((day) => !queued.has(day));
    for (const day of list) queued.add(day);
    const next = (flushes.get(account) ?? Promise.resolve()).then(async () => {
      for (const day of list) {
        queued.delete(day);
        try {
          await flushDay(day);
        } catch (error) {
          logger.warn("[agentgate] could not write a ledger rollup file (its lines are read instead until the next write)", error);
        }
      }
    });
    flushes.set(account, next);
    void next.then(() => flushes.get(account) === next && flushes.delete(account));
    return next;
  };
  const flushAll = (account: AccountState) => flush(account, [...account.days.values()].filter((day) => day.unflushed > 0));

  const writer = {
    segmentLines,
    recentIds,
    wrote(account: AccountState, days: Set<DayState>) {
      const full = [...days].filter((day) => day.unflushed >= rollupEvery);
      if (full.length > 0) void flush(account, full);
      if (!timers.has(account)) {
        const timer = setTimeout(() => {
          timers.delete(account);
          void flushAll(account);
        }, flushMs);
        timer.unref?.();
        timers.set(account, timer);
      }
    },
  };

  const idle = (account: AccountState) => !account.draining && account.queue.length === 0 && !timers.has(account) && !flushes.has(account) && [...account.days.values()].every((day) => day.unflushed === 0);
  // Lets go of the least recently used idle accounts beyond the bound (busy ones stay until idle).
  const evict = () => {
    for (const [accountId, slot] of accounts) {
      if (accounts.size <= maxAccounts) return;
      if (slot.state && idle(slot.state)) accounts.delete(accountId);
    }
  };
  const account = async (accountId: string): Promise<AccountState> => {
    if (closed) throw new Error("[agentgate] the fs ledger is closed");
    let slot = accounts.get(accountId);
    if (slot?.state?.broken && !slot.state.draining) slot = undefined;
    if (slot) {
      // Most recently used last.
      accounts.delete(accountId);
      accounts.set(accountId, slot);
      return slot.loading;
    }
    const loading = loadAccount(accountDir(options.dir, accountId));
    const fresh: { loading: Promise<AccountState>; state?: AccountState } = { loading };
    accounts.set(accountId, fresh);
    try {
      fresh.state = await loading;
    } catch (error) {
      if (accounts.get(accountId) === fresh) accounts.delete(accountId);
      throw error;
    }
    // Lines found past a rollup file (a killed writer's) are rolled up soon.
    if ([...fresh.state.days.values()].some((day) => day.unflushed > 0)) writer.wrote(fresh.state, new Set());
    evict();
    return fresh.state;
  };

  return {
    async append(entry) {
      checkLedgerEntry(entry);
      const state = await account(entry.account_id);
      await enqueue(state, entry, encodeLine(entry), writer);
    },

    async page(accountId, query = {}) {
      const limit = pageSize(query);
      const state = await account(accountId);
      return readPage(state, query, limit);
    },

    async summarize(accountId, query = {}) {
      checkSummaryQuery(query);
      const state = await account(accountId);
      const rollups: Rollup[] = [];
      for (const day of [...state.days.values()].sort((a, b) => (a.day < b.day ? -1 : 1))) {
        if (!inDays(day.day, query) || !day.segments.some((meta) => meta.lines > 0)) continue;
        rollups.push(...(await foldDay(day.dir, segmentEnds(day))).rollups);
      }
      return summarizeRollups(rollups, query);
    },

    async total(accountId) {
      const state = await account(accountId);
      return state.lines > 0 ? state.total : null;
    },

    async close() {
      if (closed) return;
      closed = true;
      const states = [...accounts.values()].map((slot) => slot.loading.catch(() => null));
      for (const state of await Promise.all(states)) {
        if (!state) continue;
        while (state.draining) await state.draining;
        clearTimeout(timers.get(state));
        timers.delete(state);
        await flushAll(state);
      }
      accounts.clear();
    },
  };
}

// --- internal ---

/**
 * A page in id order: the segments whose id range reaches past the cursor, taken by their
 * lowest id; lines of loaded segments are handed out while they sort before the next
 * segment's lowest id, so out-of-order segments merge and in-order ones are read one by one.
 */
async function readPage(state: AccountState, query: Parameters<LedgerStore["page"]>[1] & object, limit: number): Promise<LedgerPage> {
  const after = query.after;
  const [firstDay, lastDay] = dayBounds(query.since, query.until);
  const segments: { path: string; bytes: number; minId: string }[] = [];
  for (const day of state.days.values()) {
    if ((firstDay !== undefined && day.day < firstDay) || (lastDay !== undefined && day.day > lastDay)) continue;
    for (const meta of day.segments) {
      if (meta.lines === 0 || meta.minId === null || meta.maxId === null || (after !== undefined && meta.maxId <= after)) continue;
      segments.push({ path: segmentPath(day.dir, meta.name), bytes: meta.bytes, minId: meta.minId });
    }
  }
  segments.sort((a, b) => (a.minId < b.minId ? -1 : a.minId > b.minId ? 1 : 0));
  const entries: LedgerEntry[] = [];
  let pool: RawLine[] = [];
  for (let next = 0; ; ) {
    const bound = next < segments.length ? segments[next].minId : null;
    let taken = 0;
    for (; taken < pool.length && (bound === null || pool[taken].id < bound); taken++) {
      const entry = parseLine(pool[taken]);
      if (!entry || !matchesLedgerQuery(entry, query)) continue;
      if (entries.length === limit) return { entries, hasMore: true };
      entries.push(entry);
    }
    if (bound === null) return { entries, hasMore: false };
    pool = pool.slice(taken);
    const segment = segments[next++];
    const { lines } = await readRawLines(segment.path, 0, segment.bytes);
    for (const line of lines) if (after === undefined || line.id > after) pool.push(line);
    pool.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

/** The day folders a time range can touch (lines sit in the folder of their `created_at` day). */
function dayBounds(since: number | undefined, until: number | undefined): [string | undefined, string | undefined] {
  const day = (ms: number | undefined) => {
    if (ms === undefined || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
    return dayOf(new Date(ms).toISOString());
  };
  return [day(since), day(until === undefined ? undefined : until - 1)];
}

function positive(value: number, name: string): number {
  if (!(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`[agentgate] \`${name}\` must be a positive whole number`);
  return value;
}

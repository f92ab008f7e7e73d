import type { Dirent } from "node:fs";
import { createHash } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { seg } from "../records";
import { loadDay, type DayState } from "./fs-day";
import { appendText, readEntries, segmentName, segmentNumber, segmentPath, type SegmentMeta } from "./fs-segments";
import { dayOf } from "./rollups";
import type { LedgerEntry } from "./types";

/**
 * One account of the fs ledger as its (only) writer process knows it: the segments of
 * each day with their sizes and id ranges, the total, the ids appended lately, and the
 * appends waiting for the account's writer. Loaded from disk once; rollups stay on disk.
 */
export interface AccountState {
  dir: string;
  days: Map<string, DayState>;
  total: number;
  lines: number;
  /** Ids appended lately, oldest first. */
  recent: Set<string>;
  /** Every id on disk above this one is in `recent` (null: below every id), so a new id needs no disk read. */
  floor: string | null;
  /** The last segment read to look for an id, kept while its size is unchanged. */
  idCache: { path: string; bytes: number; ids: Set<string> } | null;
  queue: Pending[];
  draining: Promise<void> | null;
  /** A write failed: the state may not match the disk any more, so it is loaded again. */
  broken: boolean;
}

export interface Pending {
  entry: LedgerEntry;
  text: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  segmentLines: number;
  recentIds: number;
  /** Called after a batch with the days it wrote to. */
  wrote: (account: AccountState, days: Set<DayState>) => void;
}

/** At most this many appends of one account are written by one write per segment. */
const MAX_BATCH = 2_000;
/** Longer escaped account ids are named by their hash (a file name holds 255 bytes). */
const MAX_NAME = 200;

/** The folder of an account: its id escaped as records.ts's `seg` does (`..`, `/`, `:` cannot escape it). */
export function accountDir(root: string, accountId: string): string {
  const name = seg(accountId);
  // `%%` never comes out of seg (a `%` is always followed by two hex digits), so hashed names cannot collide with escaped ones.
  return join(root, name.length <= MAX_NAME ? name : `%%${createHash("sha256").update(accountId).digest("hex")}`);
}

/** Reads an account's days from disk (none when its folder is absent). */
export async function loadAccount(dir: string): Promise<AccountState> {
  const account: AccountState = { dir, days: new Map(), total: 0, lines: 0, recent: new Set(), floor: null, idCache: null, queue: [], draining: null, broken: false };
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return account;
    throw error;
  }
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const { state, amount, lines } = await loadDay(join(dir, entry.name), entry.name);
    account.days.set(entry.name, state);
    account.total += amount;
    account.lines += lines;
    for (const meta of state.segments) if (meta.maxId !== null && (account.floor === null || meta.maxId > account.floor)) account.floor = meta.maxId;
  }
  return account;
}

/** Queues an append on the account's writer; resolves once the line is on disk (or was already). */
export function enqueue(account: AccountState, entry: LedgerEntry, text: string, options: WriterOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    account.queue.push({ entry, text, resolve, reject });
    account.draining ??= drain(account, options);
  });
}

// --- internal ---

/** The account's writer: takes what is queued, writes each segment's share with one write, repeats. */
async function drain(account: AccountState, options: WriterOptions): Promise<void> {
  // Let `enqueue` store this promise before the loop can end and clear it.
  await null;
  try {
    while (account.queue.length > 0) {
      const batch = account.queue.splice(0, MAX_BATCH);
      try {
        await writeBatch(account, batch, options);
      } catch (error) {
        // Not a write error (those reject their own lines): nothing is known of the disk any more.
        // Settling twice does nothing, so the lines already settled keep their outcome.
        account.broken = true;
        for (const item of batch) item.reject(error);
      }
    }
  } finally {
    account.draining = null;
  }
}

/** Writes one batch: each segment's share with one write. */
async function writeBatch(account: AccountState, batch: Pending[], options: WriterOptions): Promise<void> {
  if (account.broken) {
    for (const item of batch) item.reject(brokenError());
    return;
  }
  const groups = new Map<SegmentMeta, { day: DayState; items: Pending[] }>();
  const taken = new Set<string>();
  for (const item of batch) {
    if (taken.has(item.entry.id) || (await known(account, item.entry.id))) {
      item.resolve();
      continue;
    }
    taken.add(item.entry.id);
    const day = dayState(account, dayOf(item.entry.created_at));
    const meta = target(day, groups, options.segmentLines);
    const group = groups.get(meta) ?? { day, items: [] };
    group.items.push(item);
    groups.set(meta, group);
  }
  const touched = new Set<DayState>();
  for (const [meta, { day, items }] of groups) {
    if (account.broken) {
      for (const item of items) item.reject(brokenError());
      continue;
    }
    try {
      await write(account, day, meta, items);
      touched.add(day);
    } catch (error) {
      account.broken = true;
      for (const item of items) item.reject(error);
    }
  }
  trimRecent(account, options.recentIds);
  if (touched.size > 0) options.wrote(account, touched);
}

function brokenError(): Error {
  return new Error("[agentgate] a ledger write failed before this one; the account is read from disk again on the next call");
}

/** Writes a segment's share of a batch with one write, then counts it. */
async function write(account: AccountState, day: DayState, meta: SegmentMeta, items: Pending[]): Promise<void> {
  const tornSize = day.torn.get(meta.name);
  const text = (tornSize === undefined ? "" : "\n") + items.map((item) => item.text).join("");
  if (meta.bytes === 0 && meta.lines === 0) await mkdir(day.dir, { recursive: true });
  await appendText(segmentPath(day.dir, meta.name), text);
  // After a torn line, the whole lines end where the file now ends.
  meta.bytes = (tornSize ?? meta.bytes) + Buffer.byteLength(text);
  day.torn.delete(meta.name);
  for (const { entry, resolve } of items) {
    meta.lines += 1;
    if (meta.minId === null || entry.id < meta.minId) meta.minId = entry.id;
    if (meta.maxId === null || entry.id > meta.maxId) meta.maxId = entry.id;
    account.total += entry.amount_micros;
    account.lines += 1;
    account.recent.add(entry.id);
    day.unflushed += 1;
    resolve();
  }
}

/** True when the account has a line with this id: the recent ids, else the segments whose id range holds it. */
async function known(account: AccountState, id: string): Promise<boolean> {
  if (account.recent.has(id)) return true;
  if (account.floor === null || id > account.floor) return false;
  for (const day of account.days.values()) {
    for (const meta of day.segments) {
      if (meta.minId === null || meta.maxId === null || id < meta.minId || id > meta.maxId) continue;
      const path = segmentPath(day.dir, meta.name);
      let cache = account.idCache;
      if (!cache || cache.path !== path || cache.bytes !== meta.bytes) {
        // Parsed in full: a torn line with this id was never written, so it must not count.
        const { entries } = await readEntries(path, 0, meta.bytes);
        account.idCache = cache = { path, bytes: meta.bytes, ids: new Set(entries.map((entry) => entry.id)) };
      }
      if (cache.ids.has(id)) return true;
    }
  }
  return false;
}

/** Keeps `recent` to its bound; the floor rises past each id let go, so none is ever unknown. */
function trimRecent(account: AccountState, max: number): void {
  for (const id of account.recent) {
    if (account.recent.size <= max) return;
    account.recent.delete(id);
    if (account.floor === null || id > account.floor) account.floor = id;
  }
}

function dayState(account: AccountState, day: string): DayState {
  let state = account.days.get(day);
  if (!state) account.days.set(day, (state = { day, dir: join(account.dir, day), segments: [], unflushed: 0, torn: new Map() }));
  return state;
}

/** The segment a day's next line goes to: its last, or a new one once that is full (counting this batch). */
function target(day: DayState, groups: ReadonlyMap<SegmentMeta, { items: Pending[] }>, segmentLines: number): SegmentMeta {
  const last = day.segments.at(-1);
  if (last && last.lines + (groups.get(last)?.items.length ?? 0) < segmentLines) return last;
  const meta: SegmentMeta = { name: segmentName((last ? segmentNumber(last.name)! : 0) + 1), bytes: 0, lines: 0, minId: null, maxId: null };
  day.segments.push(meta);
  return meta;
}

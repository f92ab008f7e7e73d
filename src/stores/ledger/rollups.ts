import type { LedgerEntry, LedgerQuery, SummaryDimension, SummaryQuery, SummaryRow } from "./types";

/** A day's totals for one agent × key × model × type, what the summaries read. */
export interface Rollup {
  day: string;
  agent_id: string | null;
  key_id: string | null;
  model: string | null;
  type: LedgerEntry["type"];
  lines: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Left out while zero (and absent from rollups written before cache billing). */
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  amount_micros: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_PAGE = 1000;

/** The UTC day of a line: `2026-12-03`. */
export function dayOf(createdAt: string): string {
  // The gateway's own times are UTC ISO (`2026-12-03T18:41:40.273Z`): their first ten characters.
  if (UTC_ISO.test(createdAt)) return createdAt.slice(0, 10);
  return new Date(createdAt).toISOString().slice(0, 10);
}

const UTC_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Where a line's rollup is kept within its day (the four dimensions besides the day). */
export function rollupField(entry: Pick<LedgerEntry, "agent_id" | "key_id" | "model" | "type">): string {
  return JSON.stringify([entry.agent_id ?? null, entry.key_id ?? null, entry.model ?? null, entry.type]);
}

/** Adds a line to a day's rollups (keyed by `rollupField`). */
export function addToRollups(rollups: Map<string, Rollup>, entry: LedgerEntry): void {
  const field = rollupField(entry);
  let rollup = rollups.get(field);
  if (!rollup) {
    rollup = { day: dayOf(entry.created_at), agent_id: entry.agent_id ?? null, key_id: entry.key_id ?? null, model: entry.model ?? null, type: entry.type, lines: 0, prompt_tokens: 0, completion_tokens: 0, amount_micros: 0 };
    rollups.set(field, rollup);
  }
  rollup.lines += 1;
  rollup.prompt_tokens += entry.prompt_tokens ?? 0;
  rollup.completion_tokens += entry.completion_tokens ?? 0;
  addCacheTokens(rollup, entry);
  rollup.amount_micros += entry.amount_micros;
}

/** Adds `from`'s cache reads and writes to `to`'s, setting a count only once it is above zero. */
export function addCacheTokens(to: Pick<Rollup, "cache_read_tokens" | "cache_write_tokens">, from: Pick<Rollup, "cache_read_tokens" | "cache_write_tokens">): void {
  if (from.cache_read_tokens) to.cache_read_tokens = (to.cache_read_tokens ?? 0) + from.cache_read_tokens;
  if (from.cache_write_tokens) to.cache_write_tokens = (to.cache_write_tokens ?? 0) + from.cache_write_tokens;
}

/** Groups rollups by the query's dimensions, rows sorted by them. */
export function summarizeRollups(rollups: Iterable<Rollup>, query: SummaryQuery = {}): SummaryRow[] {
  const groupBy = [...new Set(query.groupBy ?? [])];
  const rows = new Map<string, SummaryRow>();
  for (const rollup of rollups) {
    if (!inDays(rollup.day, query)) continue;
    const row: SummaryRow = { lines: 0, prompt_tokens: 0, completion_tokens: 0, amount_micros: 0 };
    for (const dimension of groupBy) Object.assign(row, { [COLUMN[dimension]]: rollup[COLUMN[dimension]] });
    const key = JSON.stringify(groupBy.map((dimension) => rollup[COLUMN[dimension]]));
    const total = rows.get(key) ?? row;
    total.lines += rollup.lines;
    total.prompt_tokens += rollup.prompt_tokens;
    total.completion_tokens += rollup.completion_tokens;
    addCacheTokens(total, rollup);
    total.amount_micros += rollup.amount_micros;
    rows.set(key, total);
  }
  return [...rows.values()].sort((a, b) => compareRows(a, b, groupBy));
}

/** True when `day` is within the query's `from`/`to` (inclusive). */
export function inDays(day: string, query: Pick<SummaryQuery, "from" | "to">): boolean {
  return (query.from === undefined || day >= query.from) && (query.to === undefined || day <= query.to);
}

/** Throws on a summary query no driver can answer; drivers call it first. */
export function checkSummaryQuery(query: SummaryQuery = {}): void {
  for (const bound of [query.from, query.to]) {
    if (bound !== undefined && !(DAY.test(bound) && new Date(Date.parse(`${bound}T00:00:00Z`) || 0).toISOString().slice(0, 10) === bound)) throw new TypeError(`[agentgate] a summary's days are YYYY-MM-DD, not ${bound}`);
  }
  for (const dimension of query.groupBy ?? []) {
    if (!(dimension in COLUMN)) throw new TypeError(`[agentgate] a summary groups by day, agent, key, model or type, not ${dimension}`);
  }
}

/** The page size a query asks for, 1 to 1000 (100 by default). */
export function pageSize(query: LedgerQuery): number {
  const limit = query.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new TypeError(`[agentgate] a ledger page holds 1 to ${MAX_PAGE} lines, not ${limit}`);
  return limit;
}

/** True when a line passes the query's filters (not its cursor or limit). */
export function matchesLedgerQuery(entry: LedgerEntry, query: LedgerQuery): boolean {
  if (query.agentId !== undefined && entry.agent_id !== query.agentId) return false;
  if (query.keyId !== undefined && entry.key_id !== query.keyId) return false;
  if (query.model !== undefined && entry.model !== query.model) return false;
  if (query.threadId !== undefined && entry.thread_id !== query.threadId) return false;
  if (query.type !== undefined && entry.type !== query.type) return false;
  if (query.since !== undefined || query.until !== undefined) {
    const at = Date.parse(entry.created_at);
    if (query.since !== undefined && at < query.since) return false;
    if (query.until !== undefined && at >= query.until) return false;
  }
  return true;
}

/** Throws unless `entry` is a line every driver can store and sum exactly. */
export function checkLedgerEntry(entry: LedgerEntry): void {
  const ok =
    typeof entry?.id === "string" &&
    entry.id !== "" &&
    typeof entry.account_id === "string" &&
    entry.account_id !== "" &&
    (entry.type === "charge" || entry.type === "credit") &&
    Number.isSafeInteger(entry.amount_micros) &&
    typeof entry.created_at === "string" &&
    Number.isFinite(Date.parse(entry.created_at)) &&
    isCount(entry.prompt_tokens) &&
    isCount(entry.completion_tokens) &&
    isCount(entry.cache_read_tokens) &&
    isCount(entry.cache_write_tokens) &&
    // No NUL in any text: PostgreSQL cannot store one, SQLite cuts the text there.
    isStorableText(entry.id) &&
    isStorableText(entry.account_id) &&
    isStorableText(entry.created_at) &&
    isStorableText(entry.agent_id) &&
    isStorableText(entry.key_id) &&
    isStorableText(entry.model) &&
    isStorableText(entry.thread_id) &&
    isStorableText(entry.session_id);
  if (!ok) throw new TypeError(`[agentgate] not a ledger line: ${JSON.stringify(entry)?.slice(0, 200)}`);
}

/**
 * True when a value read back from a driver is a whole line (a line torn by a killed
 * process, or anything else, is not), so readers can skip what is not one.
 */
export function isLedgerEntry(value: unknown): value is LedgerEntry {
  const entry = value as Partial<LedgerEntry> | null;
  return typeof entry === "object" && entry !== null && typeof entry.id === "string" && typeof entry.account_id === "string" && Number.isSafeInteger(entry.amount_micros) && typeof entry.created_at === "string";
}

// --- internal ---

/** A token count: absent, or a whole number from zero (checked on every append: no arrays, no closures). */
function isCount(n: number | undefined): boolean {
  return n === undefined || (Number.isSafeInteger(n) && n >= 0);
}

/** Absent, or text without NUL. */
function isStorableText(text: string | null | undefined): boolean {
  return text == null || (typeof text === "string" && !text.includes("\0"));
}

const COLUMN = { day: "day", agent: "agent_id", key: "key_id", model: "model", type: "type" } as const satisfies Record<SummaryDimension, keyof Rollup>;

function compareRows(a: SummaryRow, b: SummaryRow, groupBy: SummaryDimension[]): number {
  for (const dimension of groupBy) {
    const x = String(a[COLUMN[dimension]] ?? "");
    const y = String(b[COLUMN[dimension]] ?? "");
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

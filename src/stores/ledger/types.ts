/** One line of the ledger: a charge (negative) or a credit (positive). */
export interface LedgerEntry {
  id: string;
  account_id: string;
  type: "charge" | "credit";
  /** Signed: credits add, charges subtract. The balance is the sum of these. */
  amount_micros: number;
  /** ISO 8601 (UTC); its date is the line's day in the rollups. */
  created_at: string;
  agent_id?: string | null;
  key_id?: string | null;
  model?: string | null;
  thread_id?: string | null;
  /** Every input token, those read from and written to the vendor's prompt cache included. */
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Of `prompt_tokens`, those read from the vendor's prompt cache (priced at the model's cache-read price). */
  cache_read_tokens?: number;
  /** Of `prompt_tokens`, those written to the vendor's prompt cache (Anthropic's cache writes, at the cache-write price). */
  cache_write_tokens?: number;
  /** The client's session the request belonged to (Claude Code's `X-Claude-Code-Session-Id`), when it sent one. */
  session_id?: string | null;
}

/** Filters and paging for an account's lines. */
export interface LedgerQuery {
  agentId?: string;
  keyId?: string;
  model?: string;
  threadId?: string;
  type?: LedgerEntry["type"];
  /** Lines created at or after this time (ms since the epoch). */
  since?: number;
  /** Lines created before this time (ms since the epoch). */
  until?: number;
  /** The cursor: lines strictly after this line id (ids sort by time), the last id of the previous page. */
  after?: string;
  /** 1 to 1000. @default 100 */
  limit?: number;
}

/** One page of lines, oldest first; the next page starts `after` the last one. */
export interface LedgerPage {
  entries: LedgerEntry[];
  hasMore: boolean;
}

/** What a summary groups by; without any, one row of totals. */
export type SummaryDimension = "day" | "agent" | "key" | "model" | "type";

/** Whole UTC days, inclusive: `{ from: "2026-11-01", to: "2026-11-30" }`. */
export interface SummaryQuery {
  from?: string;
  to?: string;
  groupBy?: readonly SummaryDimension[];
}

/** Totals of one group, read from the daily rollups. Only the grouped-by dimensions are set. */
export interface SummaryRow {
  day?: string;
  agent_id?: string | null;
  key_id?: string | null;
  model?: string | null;
  type?: LedgerEntry["type"];
  /** Lines in the group (for charges: paid requests). */
  lines: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Cache reads and writes within `prompt_tokens`; left out when zero, so a ledger without cache use sums as before. */
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  /** Signed sum, as the lines are. */
  amount_micros: number;
}

/**
 * Where the ledger lives, apart from the documents: lines appended once and never changed,
 * read a page at a time by cursor, and rolled up per day × agent × key × model × type as
 * they are appended, so a month's summary reads a few hundred rollups, never the lines.
 * Every driver (memory, fs, Redis, SQL) passes one conformance suite.
 */
export interface LedgerStore {
  /**
   * Appends one line and adds it to its day's rollup and the account's total. A line whose
   * id is already there changes nothing, so a retried write lands once.
   */
  append(entry: LedgerEntry): Promise<void>;
  /** One page of an account's lines in id order (oldest first), filtered. */
  page(accountId: string, query?: LedgerQuery): Promise<LedgerPage>;
  /** Totals per group over whole days, from the rollups; rows sorted by their dimensions. */
  summarize(accountId: string, query?: SummaryQuery): Promise<SummaryRow[]>;
  /** The signed sum of every line of the account (the balance the ledger tells), or null when it has none. */
  total(accountId: string): Promise<number | null>;
  close(): Promise<void>;
}

import type { LedgerEntry } from "./types";

/**
 * A whole number read back from SQL, exactly: pg returns BIGINT, SUM and COUNT as strings,
 * libsql returns numbers (or bigints or strings in its other `intMode`s). Anything past
 * 2^53 - 1 throws rather than coming back rounded.
 */
export function exactInteger(value: unknown, column: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  const exact = typeof value === "bigint" ? value : typeof value === "string" && /^-?\d+$/.test(value) ? BigInt(value) : undefined;
  if (exact !== undefined && exact <= MAX && exact >= -MAX) return Number(exact);
  throw new RangeError(`[agentgate] the ledger's ${column} is not a whole number within 2^53 - 1: ${String(value)}`);
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The columns of a line as the SQL ledger stores them. */
export interface LineRow {
  id: unknown;
  account_id: unknown;
  type: unknown;
  amount_micros: unknown;
  created_at: unknown;
  agent_id: unknown;
  key_id: unknown;
  model: unknown;
  thread_id: unknown;
  prompt_tokens: unknown;
  completion_tokens: unknown;
  cache_read_tokens?: unknown;
  cache_write_tokens?: unknown;
  session_id?: unknown;
}

/** A stored line back as the entry it was: nullable ids as null, missing token counts left out. */
export function entryFromRow(row: LineRow): LedgerEntry {
  const entry: LedgerEntry = {
    id: String(row.id),
    account_id: String(row.account_id),
    type: row.type as LedgerEntry["type"],
    amount_micros: exactInteger(row.amount_micros, "amount_micros"),
    created_at: String(row.created_at),
    agent_id: nullableText(row.agent_id),
    key_id: nullableText(row.key_id),
    model: nullableText(row.model),
    thread_id: nullableText(row.thread_id),
  };
  if (row.prompt_tokens !== null && row.prompt_tokens !== undefined) entry.prompt_tokens = exactInteger(row.prompt_tokens, "prompt_tokens");
  if (row.completion_tokens !== null && row.completion_tokens !== undefined) entry.completion_tokens = exactInteger(row.completion_tokens, "completion_tokens");
  // Columns added later: left out of the entry when the line has none, as it was appended.
  if (row.cache_read_tokens !== null && row.cache_read_tokens !== undefined) entry.cache_read_tokens = exactInteger(row.cache_read_tokens, "cache_read_tokens");
  if (row.cache_write_tokens !== null && row.cache_write_tokens !== undefined) entry.cache_write_tokens = exactInteger(row.cache_write_tokens, "cache_write_tokens");
  if (row.session_id !== null && row.session_id !== undefined) entry.session_id = String(row.session_id);
  return entry;
}

/** A nullable text column as a string or null. */
export function nullableText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

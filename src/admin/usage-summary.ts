import { createAPIError } from "../errors";
import type { LedgerStore, SummaryDimension, SummaryRow } from "../stores/ledger/types";
import { parseTimeParam } from "./time-param";

/** What `GET /admin/usage/summary` groups by (any of them, comma-separated). */
export type UsageGroup = "agent" | "model" | "key" | "day";

/** `GET /admin/usage/summary?group_by=&since=&until=`, as its query string names them. */
export interface UsageSummaryQuery {
  /** `agent`, `model`, `key`, `day`, or several joined by commas; none: one row of totals. */
  group_by?: string | readonly UsageGroup[];
  /** The first day counted (UTC, inclusive): `YYYY-MM-DD`, or an ISO 8601 time or Unix seconds (its day). */
  since?: string;
  /** The last day counted (UTC, inclusive), written as `since` is. */
  until?: string;
}

/** The totals of one group of paid requests; only the grouped-by fields are set. */
export interface UsageSummaryRow {
  object: "usage_summary";
  day?: string;
  agent_id?: string | null;
  key_id?: string | null;
  model?: string | null;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_micros: number;
}

export interface UsageSummary {
  object: "list";
  data: UsageSummaryRow[];
  group_by: UsageGroup[];
  since: string | null;
  until: string | null;
}

/**
 * Totals of the account's charges (requests, tokens, cost), read from the ledger's daily
 * rollups, never its lines: a month costs a few hundred rollups whatever the traffic.
 * Credits are not requests, so they are left out (the balance is `GET /admin/billing`).
 */
export async function summarizeUsage(ledger: LedgerStore, accountId: string, query: UsageSummaryQuery = {}): Promise<UsageSummary> {
  const groupBy = parseGroups(query.group_by);
  const since = toDay(query.since, "since");
  const until = toDay(query.until, "until");
  if (since && until && since > until) throw createAPIError({ code: "invalid_request", param: "since", message: "`since` must not be after `until`." });
  // Grouping by type too keeps credits apart, whatever else is grouped.
  const rows = await ledger.summarize(accountId, { from: since, to: until, groupBy: [...groupBy.map((g) => DIMENSION[g]), "type"] });
  return { object: "list", data: rows.filter((row) => row.type === "charge").map((row) => toView(row, groupBy)), group_by: groupBy, since: since ?? null, until: until ?? null };
}

// --- internal ---

const DIMENSION = { agent: "agent", model: "model", key: "key", day: "day" } as const satisfies Record<UsageGroup, SummaryDimension>;
const FIELD = { agent: "agent_id", model: "model", key: "key_id", day: "day" } as const satisfies Record<UsageGroup, keyof SummaryRow>;

function parseGroups(value: UsageSummaryQuery["group_by"]): UsageGroup[] {
  const names = (typeof value === "string" ? value.split(",") : (value ?? [])).map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(name in DIMENSION)) throw createAPIError({ code: "invalid_request", param: "group_by", message: "`group_by` is `agent`, `model`, `key` or `day`, or several of them joined by commas." });
  }
  return [...new Set(names as UsageGroup[])];
}

/** A day as the rollups name it; a time stands for its UTC day. */
function toDay(value: string | undefined, param: string): string | undefined {
  const ms = parseTimeParam(value, param);
  return ms === undefined ? undefined : new Date(ms).toISOString().slice(0, 10);
}

function toView(row: SummaryRow, groupBy: UsageGroup[]): UsageSummaryRow {
  const view: UsageSummaryRow = { object: "usage_summary", requests: row.lines, prompt_tokens: row.prompt_tokens, completion_tokens: row.completion_tokens, cost_micros: -row.amount_micros };
  for (const group of groupBy) Object.assign(view, { [FIELD[group]]: row[FIELD[group]] ?? null });
  return view;
}

import type { ChatMessage } from "../schema";
import type { BudgetView } from "./budget-views";
import type { LedgerEntry } from "../stores/ledger/types";
import type { AgentRecord, KeyRecord, ThreadRecord } from "../stores/records";

// What the API shows of each record: snake_case, an `object` type, never a key digest.

export interface AgentView {
  id: string;
  object: "agent";
  name: string;
  instructions: string | null;
  models: string[] | null;
  limits: AgentRecord["limits"];
  /** Model aliases of this agent (name or `*` pattern -> catalog model), before the gateway's. */
  aliases: Record<string, string> | null;
  /** Its budget and this period's spending (see budget-views.ts); absent without one. */
  budget?: BudgetView;
  /** Its fallback models by model name; absent without any. */
  fallbacks?: Record<string, string[]>;
  /** Shown when set. */
  truncation?: "auto" | "disabled";
  /** Shown when set. */
  drop_unsupported_tools?: boolean;
  created_at: string;
  updated_at: string;
}

export interface KeyView {
  id: string;
  object: "api_key";
  agent_id: string;
  name: string;
  start: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  /** Its budget and this period's spending; absent without one. */
  budget?: BudgetView;
}

/** The create (and rotate) response: the only place the plaintext `key` ever appears. */
export interface CreatedKeyView extends KeyView {
  key: string;
}

export interface ThreadView {
  id: string;
  object: "thread";
  agent_id: string;
  created_at: string;
  updated_at: string;
  messages: ChatMessage[];
}

export interface LedgerView {
  id: string;
  object: "ledger_entry";
  type: LedgerEntry["type"];
  amount_micros: number;
  cost_micros: number;
  created_at: string;
  agent_id: string | null;
  key_id: string | null;
  model: string | null;
  thread_id: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  /** Of `prompt_tokens`, read from and written to the vendor's prompt cache; only on lines that have them. */
  cache_read_tokens?: number;
  cache_write_tokens?: number;
  /** The client's session (Claude Code's `X-Claude-Code-Session-Id`); only on lines that have one. */
  session_id?: string;
}

export function agentView(agent: AgentRecord): AgentView {
  const { id, name, instructions, models, limits, truncation, drop_unsupported_tools, created_at, updated_at } = agent;
  return { id, object: "agent", name, instructions, models, limits, aliases: agent.aliases ?? null, ...(truncation && { truncation }), ...(drop_unsupported_tools != null && { drop_unsupported_tools }), created_at, updated_at };
}

export function keyView(key: KeyRecord, lastUsedAt: string | null): KeyView {
  const { id, agent_id, name, start, created_at, expires_at } = key;
  return { id, object: "api_key", agent_id, name, start, created_at, expires_at, last_used_at: lastUsedAt };
}

export function threadView(thread: ThreadRecord): ThreadView {
  const { id, agent_id, created_at, updated_at, messages } = thread;
  return { id, object: "thread", agent_id, created_at, updated_at, messages };
}

export function ledgerView(entry: LedgerEntry): LedgerView {
  return {
    id: entry.id,
    object: "ledger_entry",
    type: entry.type,
    amount_micros: entry.amount_micros,
    cost_micros: entry.type === "charge" ? -entry.amount_micros : 0,
    created_at: entry.created_at,
    agent_id: entry.agent_id ?? null,
    key_id: entry.key_id ?? null,
    model: entry.model ?? null,
    thread_id: entry.thread_id ?? null,
    prompt_tokens: entry.prompt_tokens ?? 0,
    completion_tokens: entry.completion_tokens ?? 0,
    ...(entry.cache_read_tokens && { cache_read_tokens: entry.cache_read_tokens }),
    ...(entry.cache_write_tokens && { cache_write_tokens: entry.cache_write_tokens }),
    ...(entry.session_id && { session_id: entry.session_id }),
  };
}

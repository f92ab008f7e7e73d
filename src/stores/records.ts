import type { Budget } from "../chain/budgets";
import type { Storage } from "unstorage";
import { createId } from "../ids";
import { createResponseRecords, type ResponseRecords } from "./response-records";
import { createThreadRecords, type ThreadRecords } from "./thread-records";
import type { ChatMessage } from "../schema";
import { checkKeys, isAgentRecord, isKeyRecord, isString, storedBalance, UnreadableValueError, type Shape } from "./record-shapes";

import type { LedgerEntry } from "./ledger/types";

export type { LedgerEntry, LedgerQuery } from "./ledger/types";

/** An AI employee: a name, instructions and the models it may use. */
export interface AgentRecord {
  id: string;
  account_id: string;
  name: string;
  instructions: string | null;
  /** Model names (or `prefix/*` patterns) it may use; null: every configured model. */
  models: string[] | null;
  limits: { requests_per_minute?: number | null; tokens_per_minute?: number | null } | null;
  /** Model aliases of this agent, looked at before the gateway's (records saved before them have none). */
  aliases?: Record<string, string> | null;
  /** What all its keys together may spend per period; absent or null: no budget. */
  budget?: Budget | null;
  /** Fallback models by model name (they replace the gateway's for that model); absent or null: the gateway's. */
  fallbacks?: Record<string, string[]> | null;
  /** Its chat threads past the model's context window: overrides the gateway's `threads.truncation`. */
  truncation?: "auto" | "disabled" | null;
  /** Drop built-in tools from its Responses requests instead of refusing them (the gateway's `responses.dropUnsupportedTools` when unset). */
  drop_unsupported_tools?: boolean | null;
  created_at: string;
  updated_at: string;
}

/** An API key as stored: its SHA-256 digest is the storage key; no plaintext anywhere. */
export interface KeyRecord {
  id: string;
  agent_id: string;
  account_id: string;
  name: string;
  /** `a2a_` and the first characters, for display. */
  start: string;
  digest: string;
  created_at: string;
  expires_at: string | null;
  /** What this key may spend per period, within its agent's budget; absent or null: no budget. */
  budget?: Budget | null;
}

/** A conversation kept on the server, owned by one agent. */
export interface ThreadRecord {
  id: string;
  agent_id: string;
  account_id: string;
  created_at: string;
  updated_at: string;
  messages: ChatMessage[];
}

/**
 * The documents agentgate keeps, over any unstorage `Storage` (memory, fs, Redis...); the
 * ledger is a store of its own (`LedgerStore`).
 * Indexes are one key per member (`agent-keys:<agent>:<key>`), so adding or removing a
 * member never rewrites a shared list and concurrent instances cannot lose an update.
 */
export interface Records {
  readonly storage: Storage;
  /**
   * An agent by id. With `maxAgeMs`, a copy this instance read or wrote at most that long
   * ago may be returned instead of a storage read (the request path uses it; key records,
   * which decide revocation, are never cached).
   */
  getAgent(id: string, options?: { maxAgeMs?: number }): Promise<AgentRecord | null>;
  putAgent(agent: AgentRecord): Promise<void>;
  deleteAgent(agent: AgentRecord): Promise<void>;
  listAgents(accountId: string): Promise<AgentRecord[]>;

  getKeyByDigest(digest: string): Promise<KeyRecord | null>;
  putKey(key: KeyRecord): Promise<void>;
  deleteKey(key: KeyRecord): Promise<void>;
  listKeys(agentId: string): Promise<KeyRecord[]>;
  getKeyLastUsed(keyId: string): Promise<string | null>;
  setKeyLastUsed(keyId: string, at: string): Promise<void>;

  getThread: ThreadRecords["getThread"];
  putThread: ThreadRecords["putThread"];
  deleteThread: ThreadRecords["deleteThread"];
  listThreads: ThreadRecords["listThreads"];
  pageThreads: ThreadRecords["pageThreads"];
  sweepThreads: ThreadRecords["sweepThreads"];

  getResponse: ResponseRecords["getResponse"];
  putResponse: ResponseRecords["putResponse"];
  deleteResponse: ResponseRecords["deleteResponse"];
  deleteThreadResponses: ResponseRecords["deleteThreadResponses"];
  sweepResponses: ResponseRecords["sweepResponses"];

  /** The write-through copy of a balance (either atomics driver keeps it), in micro-units. */
  getStoredBalance(accountId: string): Promise<number | null>;
  /** The same copy with the name of the driver instance that wrote it last. */
  getStoredBalanceCopy(accountId: string): Promise<StoredBalance | null>;
  /**
   * Writes the copy. `writer` names who holds the live balance (`memory:<id>` for one
   * in-process driver, `redis:<epoch>` for a Redis that seeded the account); without it
   * the copy is signed by a name never used before, which any Redis driver later takes as
   * newer than what it holds.
   */
  putStoredBalance(accountId: string, micros: number, writer?: string, lines?: readonly LedgerEntry[]): Promise<void>;
}

/** A stored balance copy: its value, and who wrote it (`legacy` for a bare number written before writers were named). */
export interface StoredBalance {
  micros: number;
  writer: string;
  /** Lines of charges and credits in `micros` that may not be in the ledger yet (written ahead, in the same write). */
  lines?: LedgerEntry[];
}

const MAX_RECENT_AGENTS = 10_000;

/**
 * One segment of a storage key for an id that may come from outside (a URL, a body, a
 * token's `sub`): every character but [A-Za-z0-9_-] is escaped as %XX, so `:` cannot
 * reach into another account's prefix, `..`, `/` and `?` mean nothing to a driver, and
 * an id that was never issued simply finds nothing. Our own ids pass through unchanged.
 */
export function seg(id: string): string {
  return SAFE_SEGMENT.test(id) ? id : Array.from(new TextEncoder().encode(id), (byte) => (SAFE_BYTE.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}
const SAFE_SEGMENT = /^[A-Za-z0-9_-]+$/;
const SAFE_BYTE = /^[A-Za-z0-9_-]$/;

export interface RecordsOptions {
  /** Threads idle this long are expired: drivers that expire keys (Redis) are told so. */
  threadTtlSeconds?: number;
}

/** Builds the records over a storage. Nothing is cached: every instance sees every write. */
export function createRecords(storage: Storage, options: RecordsOptions = {}): Records {
  // Every value read is checked for its shape: null is "not found", anything else that is
  // not what was stored is a storage failure (see record-shapes.ts), never data.
  const get = async <T>(key: string, shape: Shape<T>, what: string): Promise<T | null> => {
    const value: unknown = await storage.getItem(key);
    if (value == null) return null;
    if (!shape(value)) throw new UnreadableValueError(key, what, value);
    return value;
  };
  // The last segment of each key under `prefix`, as stored (already a `seg`).
  const members = async (prefix: string): Promise<string[]> =>
    checkKeys(prefix, await storage.getKeys(prefix)).map((key) => key.slice(key.lastIndexOf(":") + 1)).sort();
  // Without a shape, only an Error object is refused (the caller checks the rest).
  const many = async <T>(keys: string[], shape?: Shape<T>, what = "a stored value"): Promise<T[]> => {
    if (keys.length === 0) return [];
    const items: unknown = await storage.getItems(keys);
    if (!Array.isArray(items)) throw new UnreadableValueError(keys[0], "a list of items", items);
    const out: T[] = [];
    for (const { key, value } of items as Array<{ key: string; value: unknown }>) {
      // Deleted between listing and reading: simply gone.
      if (value == null) continue;
      if (shape ? !shape(value) : value instanceof Error) throw new UnreadableValueError(key, what, value);
      out.push(value as T);
    }
    return out;
  };

  // Agents this instance read or wrote lately, for the request path's `maxAgeMs` reads.
  const recentAgents = new Map<string, { agent: AgentRecord | null; at: number }>();
  const remember = (id: string, agent: AgentRecord | null) => {
    if (recentAgents.size >= MAX_RECENT_AGENTS) recentAgents.clear();
    recentAgents.set(id, { agent, at: Date.now() });
  };

  return {
    storage,
    async getAgent(id, options) {
      const recent = options?.maxAgeMs ? recentAgents.get(id) : undefined;
      if (recent && Date.now() - recent.at <= options!.maxAgeMs! && recent.agent) return recent.agent;
      const agent = await get(`agents:${seg(id)}`, isAgentRecord, "an agent");
      remember(id, agent);
      return agent;
    },
    async putAgent(agent) {
      recentAgents.delete(agent.id);
      // The document and its index entry are independent: written side by side, one round-trip time.
      await Promise.all([storage.setItem(`agents:${seg(agent.id)}`, agent), storage.setItem(`account-agents:${seg(agent.account_id)}:${seg(agent.id)}`, 1)]);
    },
    async deleteAgent(agent) {
      recentAgents.delete(agent.id);
      await storage.removeItem(`account-agents:${seg(agent.account_id)}:${seg(agent.id)}`);
      await storage.removeItem(`agents:${seg(agent.id)}`);
    },
    async listAgents(accountId) {
      const ids = await members(`account-agents:${seg(accountId)}:`);
      return sortByCreated(await many(ids.map((id) => `agents:${id}`), isAgentRecord, "an agent"));
    },

    getKeyByDigest: (digest) => get(`keys:${seg(digest)}`, isKeyRecord, "a key record"),
    async putKey(key) {
      await Promise.all([storage.setItem(`keys:${seg(key.digest)}`, key), storage.setItem(`agent-keys:${seg(key.agent_id)}:${seg(key.id)}`, key.digest)]);
    },
    async deleteKey(key) {
      // The lookup document goes first: from here on the key authenticates nothing.
      await storage.removeItem(`keys:${seg(key.digest)}`);
      await storage.removeItem(`agent-keys:${seg(key.agent_id)}:${seg(key.id)}`);
      await storage.removeItem(`key-used:${seg(key.id)}`);
    },
    async listKeys(agentId) {
      const ids = await members(`agent-keys:${seg(agentId)}:`);
      const digests = await many(ids.map((id) => `agent-keys:${seg(agentId)}:${id}`), isString, "an index entry (a key's digest)");
      return sortByCreated(await many(digests.map((digest) => `keys:${seg(digest)}`), isKeyRecord, "a key record"));
    },
    getKeyLastUsed: (keyId) => get(`key-used:${seg(keyId)}`, isString, "a last-used time"),
    setKeyLastUsed: (keyId, at) => storage.setItem(`key-used:${seg(keyId)}`, at),

    ...threadsAndResponses(storage, options.threadTtlSeconds),

    getStoredBalance: async (accountId) => storedBalance(`balances:${seg(accountId)}`, await storage.getItem(`balances:${seg(accountId)}`))?.micros ?? null,
    getStoredBalanceCopy: async (accountId) => storedBalance(`balances:${seg(accountId)}`, await storage.getItem(`balances:${seg(accountId)}`)),
    putStoredBalance: (accountId, micros, writer, lines) =>
      storage.setItem(`balances:${seg(accountId)}`, { micros, writer: writer ?? createId("unnamed:", 16), ...(lines?.length && { lines: [...lines] }) } satisfies StoredBalance),
  };
}

// --- internal ---

/** Threads and stored responses; deleting a thread deletes its responses (they hold its messages). */
function threadsAndResponses(storage: Storage, ttlSeconds: number | undefined): ThreadRecords & ResponseRecords {
  const threads = createThreadRecords(storage, seg, ttlSeconds);
  const responses = createResponseRecords(storage, seg, ttlSeconds);
  return {
    ...threads,
    ...responses,
    async deleteThread(thread) {
      await threads.deleteThread(thread);
      await responses.deleteThreadResponses(thread.id);
    },
  };
}

function sortByCreated<T extends { created_at: string; id: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.created_at === b.created_at ? (a.id < b.id ? -1 : 1) : a.created_at < b.created_at ? -1 : 1));
}

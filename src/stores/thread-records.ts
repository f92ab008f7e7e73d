import type { Storage } from "unstorage";
import { checkKeys, isThreadRecord, UnreadableValueError } from "./record-shapes";
import type { ThreadRecord } from "./records";

/** How the records keep threads: sharded documents, an index per agent, expiry. */
export interface ThreadRecords {
  getThread(id: string): Promise<ThreadRecord | null>;
  /**
   * Saves a thread. `previous` (the record as `getThread` returned it, null for a new
   * thread) spares the index write on most saves: the index is written for a new thread
   * and once a day after.
   */
  putThread(thread: ThreadRecord, previous?: ThreadRecord | null): Promise<void>;
  deleteThread(thread: Pick<ThreadRecord, "id" | "agent_id">): Promise<void>;
  /** Every thread of the agent, oldest first (deleting an agent). */
  listThreads(agentId: string): Promise<ThreadRecord[]>;
  /** One page of the agent's threads, oldest first; only the page's documents are read. */
  pageThreads(agentId: string, page: { after?: string; limit: number }): Promise<{ threads: ThreadRecord[]; hasMore: boolean }>;
  /**
   * Deletes threads idle for `ttlSeconds` or more, from the index; returns how many. With
   * `take`, each is deleted only under its lease (see `ThreadSweepLease`), so a request
   * answering on it meanwhile is never undone.
   */
  sweepThreads(ttlSeconds: number, now?: number, take?: ThreadSweepLease): Promise<number>;
}

/**
 * Takes a thread's lease for the sweeper and answers how to give it back, or undefined
 * when a request holds it (the thread is in use: it is left for a later sweep).
 */
export type ThreadSweepLease = (agentId: string, threadId: string) => Promise<(() => Promise<void>) | undefined>;

/**
 * The name of a thread's lease, which a chat request holds while it answers and an admin
 * delete (or the sweeper) takes. Per agent, so another agent's key can neither take nor probe it.
 */
export function threadLeaseName(agentId: string, threadId: string): string {
  return `${agentId}:${threadId}`;
}

/** What an index entry says of its thread: when it was created and (to the day) last saved. */
interface ThreadIndexEntry {
  created_at: string;
  updated_at: string;
}

const SWEEP_BATCH = 500;

/**
 * Threads over any unstorage Storage. Documents live under `threads:<shard>:<id>`, 256
 * shards by a hash of the id, so an fs folder holds thousands of files, not millions.
 * The index `agent-threads:<agent>:<id>` holds each thread's created/updated times, so a
 * listing reads the index and one page of documents, and the sweeper finds expired
 * threads without opening them. Given `ttlSeconds`, drivers that expire keys (Redis) are
 * told to, so such storage sweeps itself. Threads saved by agentgate 0.1 (`threads:<id>`)
 * are read, and moved to their shard when next saved.
 */
export function createThreadRecords(storage: Storage, seg: (id: string) => string, ttlSeconds?: number): ThreadRecords {
  const ttl = ttlSeconds ? { ttl: ttlSeconds } : undefined;
  // The index is rewritten once a day, so it outlives its document by that day.
  const indexTtl = ttlSeconds ? { ttl: ttlSeconds + 86_400 } : undefined;
  const docKey = (id: string) => `threads:${shardOf(id)}:${seg(id)}`;
  const legacyKey = (id: string) => `threads:${seg(id)}`;
  const indexPrefix = (agentId: string) => `agent-threads:${seg(agentId)}:`;
  const indexKey = (thread: Pick<ThreadRecord, "id" | "agent_id">) => `${indexPrefix(thread.agent_id)}${seg(thread.id)}`;
  // A value that is not a thread (an Error a driver resolved, a torn file) is a storage failure, never "no thread".
  const read = async (key: string): Promise<ThreadRecord | null> => {
    const value: unknown = await storage.getItem(key);
    if (value == null) return null;
    if (!isThreadRecord(value)) throw new UnreadableValueError(key, "a thread", value);
    return value;
  };
  const keysUnder = async (prefix: string) => checkKeys(prefix, await storage.getKeys(prefix));

  // Threads read from 0.1's unsharded key, so their next save removes that copy (and only theirs pays for it).
  const readFromLegacy = new WeakSet<ThreadRecord>();
  const getThread = async (id: string): Promise<ThreadRecord | null> => {
    const thread = await read(docKey(id));
    if (thread) return thread;
    const legacy = await read(legacyKey(id));
    if (legacy) readFromLegacy.add(legacy);
    return legacy;
  };

  /** The agent's index: thread id (as stored) -> its entry; entries 0.1 wrote (`1`) have no times. */
  const indexOf = async (agentId: string): Promise<{ id: string; entry: ThreadIndexEntry | null }[]> => {
    const keys = await keysUnder(indexPrefix(agentId));
    const items = keys.length ? await storage.getItems(keys) : [];
    return items.map((item) => ({ id: item.key.slice(item.key.lastIndexOf(":") + 1), entry: indexEntry(item.key, item.value) }));
  };
  const documents = async (ids: string[]): Promise<ThreadRecord[]> => {
    const found = await Promise.all(ids.map((id) => getThread(decodeSeg(id))));
    return found.filter((thread): thread is ThreadRecord => thread !== null);
  };
  const sortedByCreated = async (agentId: string) => {
    const index = await indexOf(agentId);
    // 0.1's entries carry no times: their documents tell (read once, then re-indexed when saved).
    const untimed = await documents(index.filter((item) => !item.entry).map((item) => item.id));
    const times = new Map(untimed.map((thread) => [seg(thread.id), thread.created_at]));
    return index
      .map((item) => ({ id: item.id, created: item.entry?.created_at ?? times.get(item.id) }))
      .filter((item): item is { id: string; created: string } => item.created !== undefined)
      .sort((a, b) => (a.created === b.created ? (a.id < b.id ? -1 : 1) : a.created < b.created ? -1 : 1));
  };

  return {
    getThread,
    async putThread(thread, previous) {
      const writes: Promise<unknown>[] = [storage.setItem(docKey(thread.id), thread, ttl)];
      if (!previous || previous.updated_at.slice(0, 10) !== thread.updated_at.slice(0, 10)) {
        writes.push(storage.setItem(indexKey(thread), { created_at: thread.created_at, updated_at: thread.updated_at } satisfies ThreadIndexEntry, indexTtl));
      }
      await Promise.all(writes);
      // Read from 0.1's unsharded key: that copy is now stale.
      if (previous && readFromLegacy.has(previous)) await storage.removeItem(legacyKey(thread.id));
    },
    async deleteThread(thread) {
      await storage.removeItem(indexKey(thread));
      await Promise.all([storage.removeItem(docKey(thread.id)), storage.removeItem(legacyKey(thread.id))]);
    },
    async listThreads(agentId) {
      return documents((await sortedByCreated(agentId)).map((item) => item.id));
    },
    async pageThreads(agentId, { after, limit }) {
      const sorted = await sortedByCreated(agentId);
      // An `after` that names no thread of this agent ends the list.
      const start = after === undefined ? 0 : sorted.findIndex((item) => item.id === seg(after)) + 1 || sorted.length;
      const page = sorted.slice(start, start + limit + 1);
      return { threads: await documents(page.slice(0, limit).map((item) => item.id)), hasMore: page.length > limit };
    },
    async sweepThreads(ttlSecondsNow, now = Date.now(), take) {
      const keys = await keysUnder("agent-threads:");
      const cutoff = now - ttlSecondsNow * 1000;
      let swept = 0;
      for (let i = 0; i < keys.length; i += SWEEP_BATCH) {
        const items = await storage.getItems(keys.slice(i, i + SWEEP_BATCH));
        for (const item of items) {
          // The index may be behind its thread (it is rewritten once a day), never ahead: a thread
          // live by its index is live; a candidate's document decides.
          const entry = indexEntry(item.key, item.value);
          if (entry && Date.parse(entry.updated_at) > cutoff) continue;
          const parts = item.key.split(":");
          const threadId = decodeSeg(parts.at(-1)!);
          const release = take && (await take(decodeSeg(parts.at(-2)!), threadId));
          if (take && !release) continue; // answering now: not expired for long
          try {
            // Read under the lease: a turn saved just before it was taken counts.
            const thread = await getThread(threadId);
            if (thread && Date.parse(thread.updated_at) > cutoff) continue;
            await storage.removeItem(item.key);
            await Promise.all([storage.removeItem(docKey(threadId)), storage.removeItem(legacyKey(threadId))]);
            if (thread) swept += 1;
          } finally {
            await release?.();
          }
        }
      }
      return swept;
    },
  };
}

/** One of 256 shards, from a 32-bit FNV-1a hash of the id. */
export function shardOf(id: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash & 0xff).toString(16).padStart(2, "0");
}

// --- internal ---

/** An index entry's times; null for 0.1's entries (`1`), which carry none; anything else is a storage failure. */
function indexEntry(key: string, value: unknown): ThreadIndexEntry | null {
  const entry = value as Partial<ThreadIndexEntry> | null;
  if (typeof entry === "object" && entry !== null && typeof entry.created_at === "string" && typeof entry.updated_at === "string") return entry as ThreadIndexEntry;
  if (value === 1 || value === "1") return null;
  throw new UnreadableValueError(key, "a thread index entry", value);
}

/** The id a `seg()` stands for (ids we issue pass through unchanged). */
function decodeSeg(segment: string): string {
  return segment.includes("%") ? new TextDecoder().decode(Uint8Array.from(segment.matchAll(/%([0-9A-F]{2})|[^%]/g), (m) => (m[1] ? parseInt(m[1], 16) : m[0].charCodeAt(0)))) : segment;
}

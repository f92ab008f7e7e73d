import type { Storage } from "unstorage";
import { checkKeys, isResponseRecord, UnreadableValueError } from "./record-shapes";
import { shardOf } from "./thread-records";

/**
 * A stored Responses answer: whose it is, the thread it continued, the request's input
 * items and the response object as it was sent. The thread holds the conversation; this
 * record only makes the response retrievable and continuable by its id, so deleting it
 * leaves the thread whole.
 */
export interface ResponseRecord {
  id: string;
  agent_id: string;
  account_id: string;
  thread_id: string;
  created_at: string;
  /** The request's own input items, as `input_items` lists them (oldest first). */
  input_items: Array<{ id: string; type: string } & Record<string, unknown>>;
  /** The response object (`output` holds its output items). */
  response: { id: string; output: Array<{ id: string; type: string } & Record<string, unknown>> } & Record<string, unknown>;
}

export interface ResponseRecords {
  getResponse(id: string): Promise<ResponseRecord | null>;
  putResponse(record: ResponseRecord): Promise<void>;
  deleteResponse(record: Pick<ResponseRecord, "id" | "thread_id">): Promise<void>;
  /** Deletes every stored response of a thread (the thread is being deleted: its answers go with it). */
  deleteThreadResponses(threadId: string): Promise<void>;
  /** Deletes responses created `ttlSeconds` or more ago (for storage that does not expire keys); returns how many. */
  sweepResponses(ttlSeconds: number, now?: number): Promise<number>;
}

const SWEEP_BATCH = 500;

/** Where a thread's responses are indexed: `thread-responses:<thread>:` then each response id. */
export function threadResponsesPrefix(threadId: string, seg: (id: string) => string): string {
  return `thread-responses:${seg(threadId)}:`;
}

/**
 * Responses over any unstorage Storage, sharded like threads (`responses:<shard>:<id>`)
 * and, given `ttlSeconds`, expiring with them on drivers that expire keys. The index
 * `thread-responses:<thread>:<id>` lets a thread's deletion take its responses along.
 */
export function createResponseRecords(storage: Storage, seg: (id: string) => string, ttlSeconds?: number): ResponseRecords {
  const ttl = ttlSeconds ? { ttl: ttlSeconds } : undefined;
  const key = (id: string) => `responses:${shardOf(id)}:${seg(id)}`;
  const indexKey = (record: Pick<ResponseRecord, "id" | "thread_id">) => `${threadResponsesPrefix(record.thread_id, seg)}${seg(record.id)}`;
  return {
    async getResponse(id) {
      const value: unknown = await storage.getItem(key(id));
      if (value == null) return null;
      // A value that is not a response is a storage failure (503), never "not found".
      if (!isResponseRecord(value)) throw new UnreadableValueError(key(id), "a response", value);
      return value;
    },
    async putResponse(record) {
      // Independent keys: written side by side, one round-trip time.
      await Promise.all([storage.setItem(key(record.id), record, ttl), storage.setItem(indexKey(record), 1, ttl)]);
    },
    async deleteResponse(record) {
      await Promise.all([storage.removeItem(key(record.id)), storage.removeItem(indexKey(record))]);
    },
    async deleteThreadResponses(threadId) {
      const prefix = threadResponsesPrefix(threadId, seg);
      for (const entry of checkKeys(prefix, await storage.getKeys(prefix))) {
        const id = entry.slice(prefix.length);
        await Promise.all([storage.removeItem(`responses:${shardOf(id)}:${id}`), storage.removeItem(entry)]);
      }
    },
    async sweepResponses(ttlSecondsNow, now = Date.now()) {
      const keys = checkKeys("responses:", await storage.getKeys("responses:"));
      const cutoff = now - ttlSecondsNow * 1000;
      let swept = 0;
      for (let i = 0; i < keys.length; i += SWEEP_BATCH) {
        for (const item of await storage.getItems(keys.slice(i, i + SWEEP_BATCH))) {
          // Garbage is left for an operator to see (a read of it is a 503), never swept as if expired.
          if (!isResponseRecord(item.value) || Date.parse(item.value.created_at) > cutoff) continue;
          await Promise.all([storage.removeItem(item.key), storage.removeItem(indexKey(item.value))]);
          swept += 1;
        }
      }
      return swept;
    },
  };
}

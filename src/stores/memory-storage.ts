import { createStorage, defineDriver, type Storage } from "unstorage";
import { createKeyQueue } from "./key-queue";

export interface MemoryStorageOptions {
  /** Threads and stored responses kept at most; past it the least recently used go. @default 10000 */
  maxThreads?: number;
  /** Characters of thread documents kept at most (about bytes). @default 67108864 (64 MiB) */
  maxThreadBytes?: number;
}

/**
 * unstorage in this process's memory, bounded: threads (the documents that grow with
 * traffic) are evicted least recently used past a count and a size, their index entry
 * with them, so a long run's memory stays flat. Everything else (agents, keys, balance
 * copies) grows only with what an admin creates. For development and tests: it is all
 * gone when the process ends.
 */
export function createMemoryStorage(options: MemoryStorageOptions = {}): Storage {
  return createStorage({ driver: boundedMemoryDriver(options) });
}

const boundedMemoryDriver = defineDriver((options: MemoryStorageOptions) => {
  const maxThreads = options.maxThreads ?? 10_000;
  const maxBytes = options.maxThreadBytes ?? 64 * 1024 * 1024;
  for (const [name, value] of Object.entries({ maxThreads, maxThreadBytes: maxBytes })) {
    if (!(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`[agentgate] \`${name}\` must be a positive whole number`);
  }
  const data = new Map<string, unknown>();
  // Thread documents' sizes, and the documents in least-recently-used order.
  const threads = new Map<string, number>();
  const recency = createKeyQueue();
  let threadBytes = 0;

  // A document's id -> the key of its index entry (`agent-threads:…:<id>`, `thread-responses:…:<id>`),
  // learnt when the entry is written, so evicting a document never parses it to find its entry.
  const indexEntries = new Map<string, string>();

  const forget = (key: string) => {
    const size = threads.get(key);
    if (size === undefined) return;
    threads.delete(key);
    recency.delete(key);
    threadBytes -= size;
  };
  const evict = () => {
    while (threads.size > maxThreads || threadBytes > maxBytes) {
      const key = recency.oldest();
      if (key === undefined) return;
      data.delete(key);
      forget(key);
      const id = lastSegment(key);
      const entry = indexEntries.get(id);
      if (entry !== undefined) {
        data.delete(entry);
        indexEntries.delete(id);
      }
    }
  };

  return {
    name: "agentgate-memory",
    options,
    hasItem: (key) => data.has(key),
    getItem(key) {
      const value = data.get(key) ?? null;
      if (threads.has(key)) recency.push(key);
      return value;
    },
    setItem(key, value) {
      data.set(key, value);
      if (isIndexEntry(key)) indexEntries.set(lastSegment(key), key);
      if (!isThreadKey(key)) return;
      forget(key);
      const size = typeof value === "string" ? value.length : JSON.stringify(value).length;
      threads.set(key, size);
      recency.push(key);
      threadBytes += size;
      evict();
    },
    removeItem(key) {
      data.delete(key);
      forget(key);
      if (isIndexEntry(key) && indexEntries.get(lastSegment(key)) === key) indexEntries.delete(lastSegment(key));
    },
    getKeys: () => [...data.keys()],
    clear() {
      data.clear();
      threads.clear();
      recency.clear();
      indexEntries.clear();
      threadBytes = 0;
    },
    dispose() {
      data.clear();
      threads.clear();
      recency.clear();
      indexEntries.clear();
      threadBytes = 0;
    },
  };
});

// --- internal ---

/** A document that grows with traffic: a thread (`threads:<shard>:<id>`, not an index entry) or a stored response. */
function isThreadKey(key: string): boolean {
  return key.startsWith("threads:") || key.startsWith("responses:");
}

/** A thread's entry in its agent's index, or a stored response's in its thread's. */
function isIndexEntry(key: string): boolean {
  return key.startsWith("agent-threads:") || key.startsWith("thread-responses:");
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf(":") + 1);
}

import { randomBase62 } from "./keys";

/** A random id with a readable prefix: `agt_…`, `key_…`, `thread_…`, `chatcmpl-…`. */
export function createId(prefix: string, length = 20): string {
  return `${prefix}${randomBase62(length)}`;
}

let lastTime = 0;
let sequence = 0;

/**
 * An id that sorts by creation time (ledger entries, for paging): milliseconds in
 * base36, a per-process sequence for ties, then randomness so instances never collide.
 */
export function createSortableId(prefix: string): string {
  const now = Date.now();
  sequence = now === lastTime ? sequence + 1 : 0;
  lastTime = now;
  return `${prefix}${now.toString(36).padStart(9, "0")}${sequence.toString(36).padStart(3, "0")}${randomBase62(10)}`;
}

let isoMillis = Number.NaN;
let isoText = "";

/** Current time as ISO 8601, the format of every `*_at` field (formatted once per millisecond: several records of one request share it). */
export function nowISO(): string {
  const now = Date.now();
  if (now !== isoMillis) {
    isoMillis = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

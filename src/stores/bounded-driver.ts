import type { Driver } from "unstorage";
import { createLimit } from "./limit";

export interface BoundedDriverOptions {
  /** Reads (`getItem`, `getItemRaw`) in flight at once; the others wait their turn. @default 64 */
  maxReads?: number;
  /** Writes (`setItem`, `setItemRaw`) in flight at once, counted apart so a long listing never delays a request's write. @default 64 */
  maxWrites?: number;
}

/**
 * Wraps a file-system driver (unstorage's `fs-lite` or `fs`) for a server:
 *
 * - At most `maxReads` reads and `maxWrites` writes at once. unstorage reads a listing's
 *   documents all at once, and each read holds a file descriptor while it waits for
 *   libuv's few threads, so listing a few thousand threads or ledger lines would run the
 *   process out of descriptors (EMFILE) and fail every other request meanwhile.
 * - A failure the driver resolves as a value (both fs drivers resolve `getItem` and
 *   `removeItem` with the Error on anything but ENOENT, EMFILE included) is thrown, so a
 *   failed delete (a key being revoked) is never taken for a done one.
 *
 * @example
 * createStorage({ driver: boundedDriver(fsLiteDriver({ base: ".data/storage" })) })
 */
export function boundedDriver(driver: Driver, options: BoundedDriverOptions = {}): Driver {
  const read = createLimit(options.maxReads ?? 64);
  const write = createLimit(options.maxWrites ?? 64);
  return {
    ...driver,
    name: driver.name,
    hasItem: async (key, opts) => rejectErrors(await driver.hasItem(key, opts)),
    getItem: (key, opts) => read(async () => rejectErrors(await driver.getItem(key, opts))),
    ...(driver.getItemRaw && { getItemRaw: (key, opts) => read(async () => rejectErrors(await driver.getItemRaw!(key, opts))) }),
    ...(driver.setItem && { setItem: (key, value, opts) => write(async () => driver.setItem!(key, value, opts)) }),
    ...(driver.setItemRaw && { setItemRaw: (key, value, opts) => write(async () => driver.setItemRaw!(key, value, opts)) }),
    ...(driver.removeItem && { removeItem: async (key, opts) => void rejectErrors(await driver.removeItem!(key, opts)) }),
    getKeys: async (base, opts) => rejectErrors(await driver.getKeys(base, opts)),
  };
}

// --- internal ---

function rejectErrors<T>(value: T): T {
  if (value instanceof Error) throw value;
  return value;
}

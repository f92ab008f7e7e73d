import { createStorage, defineDriver, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";

/**
 * A memory storage whose writes fail on demand, as a disk or Redis that goes away would:
 * a real unstorage driver, not a mock of our code.
 */
export function flakyStorage(): { storage: Storage; fail(on: boolean): void; loseAnswers(on: boolean): void } {
  const inner = createStorage();
  let failing = false;
  let losing = false;
  const flaky = defineDriver(() => ({
    name: "flaky",
    hasItem: (key) => inner.hasItem(key),
    getItem: (key) => inner.getItem(key),
    getKeys: (base) => inner.getKeys(base),
    async setItem(key, value) {
      if (failing) throw new Error("disk unavailable");
      await inner.setItem(key, value);
      // The write landed, but its answer is lost on the way back (a connection reset).
      if (losing) throw new Error("connection reset after the write");
    },
  }));
  return { storage: createStorage({ driver: flaky({}) }), fail: (on) => void (failing = on), loseAnswers: (on) => void (losing = on) };
}

/**
 * A memory storage whose reads can resolve with an Error instead of a value, as unstorage
 * 1.17's fs and fs-lite drivers do when the process runs out of file descriptors (they
 * resolve `getItem` with the EMFILE Error rather than rejecting): a real driver wrapping
 * unstorage's memory driver. `starve(match)` picks the keys whose reads fail that way.
 */
export function descriptorStarvedStorage(): { storage: Storage; starve(match: ((key: string) => boolean) | false): void } {
  const inner = memoryDriver();
  let starved: ((key: string) => boolean) | false = false;
  const driver = defineDriver(() => ({
    name: "descriptor-starved",
    hasItem: (key, opts) => inner.hasItem(key, opts),
    getItem: (key, opts) => (starved && starved(key) ? new Error(`EMFILE: too many open files, open '/data/${key.replace(/:/g, "/")}'`) : inner.getItem(key, opts)),
    getKeys: (base, opts) => inner.getKeys(base, opts),
    setItem: (key, value, opts) => inner.setItem!(key, value, opts),
    removeItem: (key, opts) => inner.removeItem!(key, opts),
  }));
  return { storage: createStorage({ driver: driver({}) }), starve: (match) => void (starved = match) };
}

import { createStorage, defineDriver, type Storage } from "unstorage";

/**
 * A memory storage whose writes fail on demand, as a disk or Redis that goes away would:
 * a real unstorage driver, not a mock of our code.
 */
export function flakyStorage(): { storage: Storage; fail(on: boolean): void } {
  const inner = createStorage();
  let failing = false;
  const flaky = defineDriver(() => ({
    name: "flaky",
    hasItem: (key) => inner.hasItem(key),
    getItem: (key) => inner.getItem(key),
    getKeys: (base) => inner.getKeys(base),
    async setItem(key, value) {
      if (failing) throw new Error("disk unavailable");
      await inner.setItem(key, value);
    },
  }));
  return { storage: createStorage({ driver: flaky({}) }), fail: (on) => void (failing = on) };
}

import type { Driver } from "unstorage";
import type { Redis } from "ioredis";

/**
 * A Redis client made on first use by `load` (which imports ioredis). Until it is made,
 * a command waits for it; after, it goes straight to the client (its methods bound once,
 * so the request path costs no extra promise).
 */
export function lazyRedis(load: () => Promise<Redis>): Redis {
  let client: Redis | undefined;
  let loading: Promise<Redis> | undefined;
  const ready = () => (loading ??= load().then((made) => (client = made)));
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy({} as Redis, {
    get(_target, name) {
      if (name === "then") return undefined; // never taken for a promise
      if (client) {
        const value = (client as unknown as Record<PropertyKey, unknown>)[name];
        if (typeof value !== "function") return value;
        let method = bound.get(name);
        if (!method) bound.set(name, (method = value.bind(client)));
        return method;
      }
      // Before the first command nothing reads plain fields; every method waits for the client.
      return (...args: unknown[]) => ready().then((made) => (made as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[name as string](...args));
    },
  });
}

/** An unstorage driver whose real driver is made on first use (it imports its client library). */
export function lazyDriver(name: string, load: () => Promise<Driver>): Driver {
  let loading: Promise<Driver> | undefined;
  const real = () => (loading ??= load());
  return {
    name,
    hasItem: async (key, opts) => (await real()).hasItem(key, opts),
    getItem: async (key, opts) => (await real()).getItem(key, opts),
    getItems: async (items, opts) => (await real()).getItems!(items, opts),
    setItem: async (key, value, opts) => (await real()).setItem!(key, value, opts),
    removeItem: async (key, opts) => (await real()).removeItem!(key, opts),
    getKeys: async (base, opts) => (await real()).getKeys(base, opts),
    clear: async (base, opts) => (await real()).clear!(base, opts),
    // Nothing to close when it was never used.
    dispose: async () => void (loading && (await (await loading).dispose?.())),
  };
}

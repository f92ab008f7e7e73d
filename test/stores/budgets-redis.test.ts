import { createStorage } from "unstorage";
import { inject } from "vitest";
import { createRecords, type Records } from "../../src/stores/records";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { testBudgets } from "./_budgets-suite";

// Two handles on one namespace are two clients on one prefix: the race is real.
const prefix = (namespace: string) => `budgets-test:${namespace}:`;
testBudgets("redis", (namespace) => createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(namespace) }));
const storages = new Map<string, Records>();
testBudgets("redis, balances written through to storage", (namespace) => {
  let records = storages.get(namespace);
  if (!records) storages.set(namespace, (records = createRecords(createStorage())));
  return createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(`wt-${namespace}`), records });
});

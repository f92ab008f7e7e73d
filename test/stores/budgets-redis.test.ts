import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import { afterAll, describe, expect, inject, it } from "vitest";
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

describe("the redis atomics driver's budgets and cooldowns", () => {
  const client = new Redis(inject("redisUrl"));
  afterAll(() => client.quit());

  it("keeps budgets under the account's hash tag and cooldowns under the pool's, so Redis Cluster can run each script", async () => {
    const p = prefix(`layout${process.pid}`);
    const atomics = createRedisAtomics({ redis: client, prefix: p });
    await atomics.credit("acct_{odd}", 100);
    await atomics.reserve("acct_{odd}", "res_1", 10, 60_000, [{ scope: "agent/agt_1", limitMicros: 50, periodStart: 0 }]);
    await atomics.settle("acct_{odd}", "res_1", 10);
    await atomics.coolDown!("openai", "member1", 60_000);
    const keys = (await client.keys(`${p}*`)).sort();
    expect(keys.filter((k) => k.endsWith(":budgets") || k.endsWith(":cooldowns"))).toEqual([`${p}{acct_%7Bodd%7D}:budgets`, `${p}{pool:openai}:cooldowns`]);
    expect(Object.keys(await atomics.coolingDown!("openai"))).toEqual(["member1"]);
    await atomics.close();
  });
});

import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createRecords, type Records } from "../../src/stores/records";
import { createRedisLedger } from "../../src/stores/ledger/redis";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { testAtomics } from "./_atomics-suite";

// Every namespace is its own key prefix on the shared test server; two handles on one
// namespace are two clients (two connections), so the concurrency tests race for real.
const prefix = (namespace: string) => `atomics-test:${namespace}:`;
testAtomics("redis", (namespace) => createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(namespace) }));
// The same with its ledger on the same Redis: each charge's line is written in the settle's own script.
testAtomics("redis, with a Redis ledger beside it", (namespace) => createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(`led-${namespace}`), ledger: createRedisLedger({ redis: inject("redisUrl"), prefix: prefix(`led-${namespace}`) }) }));
// The same with balances seeded from and written back to storage (one storage per namespace, shared by its handles).
const storages = new Map<string, Records>();
testAtomics("redis, balances written through to storage", (namespace) => {
  let records = storages.get(namespace);
  if (!records) storages.set(namespace, (records = createRecords(createStorage())));
  return createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(`wt-${namespace}`), records });
});

describe("the redis atomics driver", () => {
  const client = new Redis(inject("redisUrl"));
  afterAll(() => client.quit());

  it("keeps every key of one call under one hash tag, so Redis Cluster can run the script", async () => {
    const p = prefix(`layout${process.pid}`);
    const atomics = createRedisAtomics({ redis: client, prefix: p });
    await atomics.hitRate("agt_1", [{ name: "agent:requests", limit: 5, periodMs: 60_000, cost: 1 }, { name: "key:k1:tokens", limit: 100, periodMs: 60_000, cost: 10 }]);
    await atomics.credit("acct_{odd}", 100);
    await atomics.reserve("acct_{odd}", "res_1", 10, 60_000);
    await atomics.acquireLease("agt_1:thread_1", "tok", 60_000);
    const keys = (await client.keys(`${p}*`)).sort();
    expect(keys).toEqual(
      [
        `${p}{acct_%7Bodd%7D}:balance`,
        `${p}{acct_%7Bodd%7D}:hold-expiry`,
        `${p}{acct_%7Bodd%7D}:holds`,
        `${p}{acct_%7Bodd%7D}:reserved`,
        `${p}{agt_1:thread_1}:lease`,
        `${p}{agt_1}:rate:agent:requests`,
        `${p}{agt_1}:rate:key:k1:tokens`,
      ].sort(),
    );
    // Rate keys expire once their debt is paid, so idle agents leave nothing behind.
    expect(await client.pttl(`${p}{agt_1}:rate:agent:requests`)).toBeGreaterThan(0);
    await atomics.close();
    expect(client.status).toBe("ready"); // a client passed in stays open
  });

  it("answers after Redis forgot its scripts (SCRIPT FLUSH, a restart)", async () => {
    const atomics = createRedisAtomics({ redis: client, prefix: prefix(`flush${process.pid}`) });
    await atomics.credit("acct", 10);
    await client.script("FLUSH");
    expect(await atomics.credit("acct", 5)).toEqual({ balance_micros: 15, reserved_micros: 0 });
  });

  it("asks Redis about an interval claim it took only once per interval, and one it found taken once per tenth of it", async () => {
    const p = prefix(`claims${process.pid}`);
    const counted = new Redis(inject("redisUrl"));
    // Connected first: a command queued before the connection passes sendCommand twice.
    await counted.ping();
    const sent: string[] = [];
    const send = counted.sendCommand.bind(counted);
    // The claims this test makes, as sent to Redis.
    counted.sendCommand = (command, stream) => (String(command.args[0]).endsWith(":claim") && sent.push(command.name), send(command, stream));
    try {
      const taker = createRedisAtomics({ redis: counted, prefix: p });
      const other = createRedisAtomics({ redis: client, prefix: p });
      expect(await taker.claimInterval("last-used:k", 1_000)).toBe(true);
      for (let i = 0; i < 50; i++) expect(await taker.claimInterval("last-used:k", 1_000)).toBe(false);
      expect(sent).toEqual(["set"]);
      // Another instance finds it taken; the claim is still Redis's alone to give.
      expect(await other.claimInterval("last-used:k", 1_000)).toBe(false);
      sent.length = 0;
      expect(await taker.claimInterval("last-used:j", 200)).toBe(true);
      const seer = createRedisAtomics({ redis: counted, prefix: p });
      sent.length = 0;
      expect(await seer.claimInterval("last-used:j", 200)).toBe(false);
      expect(await seer.claimInterval("last-used:j", 200)).toBe(false);
      expect(sent).toEqual(["set"]);
      await new Promise((resolve) => setTimeout(resolve, 250));
      // Past the interval, the claim is free again, for whichever instance asks first.
      expect(await seer.claimInterval("last-used:j", 200)).toBe(true);
    } finally {
      await counted.quit();
    }
  });

  it("refuses a prefix with braces", () => {
    expect(() => createRedisAtomics({ redis: client, prefix: "a{b}:" })).toThrow(/must not contain/);
  });
});

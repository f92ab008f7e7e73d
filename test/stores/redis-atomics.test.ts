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

  describe("a token charge (chargeRate)", () => {
    const tokens = (cost: number) => ({ name: "agent:tokens", limit: 100, periodMs: 60_000, cost });
    // A client of its own whose calls on this test's keys are counted as sent to Redis.
    const countedClient = async (p: string) => {
      const counted = new Redis(inject("redisUrl"));
      await counted.ping();
      const sent: string[] = [];
      const send = counted.sendCommand.bind(counted);
      counted.sendCommand = (command, stream) => (command.args.some((arg) => String(arg).startsWith(p)) && sent.push(command.name), send(command, stream));
      return { counted, sent };
    };

    it("rides with the agent's next hit from this process, in the hit's own call", async () => {
      const p = prefix(`carry${process.pid}`);
      const { counted, sent } = await countedClient(p);
      const atomics = createRedisAtomics({ redis: counted, prefix: p });
      try {
        await atomics.hitRate("agt", [tokens(10)]);
        sent.length = 0;
        await atomics.chargeRate("agt", [tokens(30)]);
        await atomics.chargeRate("agt", [tokens(20), { name: "key:k1:tokens", limit: 100, periodMs: 60_000, cost: 5 }]);
        expect(sent).toEqual([]);
        const hit = await atomics.hitRate("agt", [tokens(1)]);
        expect(sent).toHaveLength(1);
        // 10 + 30 + 20 + 1 used of 100 (a few hundredths paid off meanwhile).
        expect(hit.windows[0].remaining).toBeOneOf([38, 39]);
        expect(hit.windows).toHaveLength(1);
        // The key's window, not hit this time, was carried along too.
        const [debt] = await client.hmget(`${p}{agt}:rate:key:k1:tokens`, "debt");
        expect(Number(debt)).toBeGreaterThan(4 * 60_000);
        // Nothing is left waiting: no call of its own follows.
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(sent).toHaveLength(1);
      } finally {
        await atomics.close();
        await counted.quit();
      }
    });

    it("refuses the hit it rides with when it fills the window, and still counts", async () => {
      const atomics = createRedisAtomics({ redis: client, prefix: prefix(`carry-full${process.pid}`) });
      await atomics.chargeRate("agt", [tokens(99)]);
      const refused = await atomics.hitRate("agt", [tokens(5)]);
      expect(refused.allowed).toBe(false);
      expect(refused.windows[0].remaining).toBeOneOf([0, 1]);
      await atomics.close();
    });

    it("goes alone within 100 ms when no hit takes it, so every process sees it; and is written on close", async () => {
      const p = prefix(`carry-alone${process.pid}`);
      const { counted, sent } = await countedClient(p);
      const atomics = createRedisAtomics({ redis: counted, prefix: p });
      const other = createRedisAtomics({ redis: client, prefix: p });
      try {
        await atomics.chargeRate("agt", [tokens(40)]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(sent).toEqual(["evalsha"]);
        expect((await other.hitRate("agt", [tokens(1)])).windows[0].remaining).toBeOneOf([58, 59]);
        await atomics.chargeRate("agt2", [tokens(70)]);
        await atomics.close();
        expect((await other.hitRate("agt2", [tokens(1)])).windows[0].remaining).toBeOneOf([28, 29]);
      } finally {
        await counted.quit();
      }
    });
  });

  it("refuses a prefix with braces", () => {
    expect(() => createRedisAtomics({ redis: client, prefix: "a{b}:" })).toThrow(/must not contain/);
  });
});

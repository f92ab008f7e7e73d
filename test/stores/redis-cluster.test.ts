import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisLedger } from "../../src/stores/ledger/redis";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { startRedisCluster, type RedisCluster } from "../_redis-cluster";
import { testAtomics } from "./_atomics-suite";
import { describeLedgerStore } from "./_ledger-suite";

// A real three-master Redis Cluster: every script's keys share one hash tag, so each runs
// on the master of its slot; the node URLs are what `createGateway({ redis })` takes.
let cluster: RedisCluster;
beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(() => cluster?.stop());

testAtomics("redis cluster (node URLs)", (namespace) => createRedisAtomics({ redis: cluster.urls, prefix: `atomics-test:${namespace}:` }));

let run = 0;
describeLedgerStore(
  "redis cluster",
  async () => {
    const prefix = `ledger-test-${process.pid}-${run++}:`;
    return { ledger: createRedisLedger({ redis: cluster.urls, prefix }), reopen: async () => createRedisLedger({ redis: cluster.urls, prefix }) };
  },
  { persistent: true },
);

describe("agentgate on a Redis Cluster", () => {
  it("spreads accounts over the three masters, and takes an ioredis Cluster client as well as node URLs", async () => {
    const client = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
    try {
      const atomics = createRedisAtomics({ redis: client, prefix: "spread:" });
      for (let i = 0; i < 30; i++) await atomics.credit(`acct_${i}`, 1000);
      const perNode = await Promise.all(client.nodes("master").map(async (node) => (await node.keys("spread:*")).length));
      expect(perNode.every((count) => count > 0), `keys per master: ${perNode}`).toBe(true);
      expect((await atomics.reserve("acct_7", "res_1", 400, 60_000)).ok).toBe(true);
      await atomics.close();
    } finally {
      await client.quit();
    }
  });
});

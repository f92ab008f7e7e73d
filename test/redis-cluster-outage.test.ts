import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, createRedisLedger, echo, type Gateway } from "../src/index";
import { startRedisCluster, type RedisCluster } from "./_redis-cluster";
import { seedAgent } from "./_setup";

const quiet = { warn() {}, error() {}, info() {} };

describe("a gateway on a Redis Cluster whose master is stopped under load", () => {
  let cluster: RedisCluster;
  let gateway: Gateway;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    // Atomics and the ledger on the Cluster (node URLs); documents in memory (see the README on documents and Cluster).
    gateway = createGateway({ redis: cluster.urls, storage: createStorage(), ledger: createRedisLedger({ redis: cluster.urls }), providers: [echo()], logger: quiet as never });
  }, 60_000);
  afterAll(async () => {
    await gateway?.close();
    await cluster?.stop();
  });

  it("answers 503 while the master is down, serves again once it is back, and charges each answered request once", async () => {
    const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => seedAgent(gateway, { accountId: `acct_outage_${i}`, creditMicros: 10_000_000 })));
    const statuses = new Map<string, number[]>(accounts.map((account) => [account.accountId, []]));
    const call = async (account: (typeof accounts)[number]) => {
      const response = await gateway.fetch(
        new Request("http://gateway.test/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${account.key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "load" }] }),
        }),
      );
      await response.arrayBuffer();
      statuses.get(account.accountId)!.push(response.status);
      return response.status;
    };
    const round = () => Promise.all(accounts.map(call));

    expect(new Set(await round())).toEqual(new Set([200]));
    await cluster.stopNode(0);
    const during: number[] = [];
    for (let i = 0; i < 5; i++) during.push(...(await round()));
    expect(during).toContain(503);
    expect(during.every((status) => status === 200 || status === 503), `statuses while down: ${during}`).toBe(true);

    await cluster.startNode(0);
    await cluster.healthy();
    await expect.poll(async () => [...new Set(await round())], { timeout: 30_000, interval: 500 }).toEqual([200]);

    // Nothing charged twice (nor lost): each account's balance went down by exactly what its
    // answered requests cost, as its ledger lines say, one line per 200.
    for (const account of accounts) {
      const answered = statuses.get(account.accountId)!.filter((status) => status === 200).length;
      const lines = (await gateway.admin.listUsage(account.accountId, { type: "charge", limit: 100 })).data;
      expect(lines.length, account.accountId).toBe(answered);
      const change = lines.reduce((sum, line) => sum + line.amount_micros, 0); // charges are negative
      expect(change).toBeLessThan(0);
      const { balance_micros, reserved_micros } = await gateway.admin.getBilling(account.accountId);
      expect(balance_micros, account.accountId).toBe(10_000_000 + change);
      expect(reserved_micros).toBe(0);
    }
  }, 120_000);
});

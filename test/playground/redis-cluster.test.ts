import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlaygroundGateway } from "../../playground/app";
import { readConfig } from "../../playground/config";
import { DEMO_ACCOUNT, DEMO_CREDIT_MICROS, seedPlayground } from "../../playground/seed";
import { startRedisCluster, type RedisCluster } from "../_redis-cluster";

describe("the playground with REDIS_URL naming a Redis Cluster's nodes", () => {
  let cluster: RedisCluster;
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-playground-cluster-"));
  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps the balances on the Cluster and the documents on disk", async () => {
    const config = readConfig({ REDIS_URL: cluster.urls.join(","), DATA_DIR: dataDir, ADMIN_SECRET: "playground-cluster-test-secret-long-enough" });
    expect(config).toMatchObject({ storage: "fs", redisUrl: cluster.urls });
    const gateway = await createPlaygroundGateway(config);
    const client = new Cluster(cluster.ports.map((port) => ({ host: "127.0.0.1", port })));
    try {
      const seeded = await seedPlayground(gateway);
      const response = await gateway.fetch(
        new Request("http://playground/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${seeded.key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "Hello, Cluster" }] }),
        }),
      );
      expect(response.status).toBe(200);
      const { balance_micros } = await gateway.admin.getBilling(DEMO_ACCOUNT);
      expect(balance_micros).toBeLessThan(DEMO_CREDIT_MICROS);
      expect(await client.get(`agentgate:{${DEMO_ACCOUNT}}:balance`)).toBe(String(balance_micros));
    } finally {
      await gateway.close();
      await client.quit();
    }
  });

  it("refuses STORAGE=redis on a Cluster, saying what to use instead", () => {
    expect(() => readConfig({ REDIS_URL: cluster.urls.join(","), STORAGE: "redis", DATA_DIR: dataDir })).toThrow(/STORAGE=fs or memory/);
  });
});

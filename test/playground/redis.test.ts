import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPlaygroundGateway } from "../../playground/app";
import { readConfig } from "../../playground/config";
import { DEMO_ACCOUNT, DEMO_CREDIT_MICROS, seedPlayground } from "../../playground/seed";
import { startRedis, type RedisServer } from "../_redis";

describe("the playground with REDIS_URL", () => {
  // Its own server: the playground uses the default key prefix.
  let redis: RedisServer;
  let client: Redis;
  const dataDir = mkdtempSync(join(tmpdir(), "agentgate-playground-redis-"));
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await client.quit();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ask = (gateway: Awaited<ReturnType<typeof createPlaygroundGateway>>, key: string) =>
    gateway.fetch(
      new Request("http://playground/api/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "Hello, Redis" }] }),
      }),
    );

  it("keeps documents and atomics in Redis, shared by a second instance", async () => {
    const config = readConfig({ REDIS_URL: redis.url, DATA_DIR: dataDir, ADMIN_SECRET: "playground-redis-test-secret-long-enough" });
    expect(config.storage).toBe("redis");
    const first = await createPlaygroundGateway(config);
    const second = await createPlaygroundGateway(config);
    try {
      const seeded = await seedPlayground(first);
      expect((await seedPlayground(second)).key).toBeUndefined(); // the second instance finds the seed
      const res = await ask(second, seeded.key!);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit-requests")).toBe("60");
      const billing = await first.admin.getBilling(DEMO_ACCOUNT);
      expect(billing.balance_micros).toBeLessThan(DEMO_CREDIT_MICROS);
      expect(await client.get(`agentgate:{${DEMO_ACCOUNT}}:balance`)).toBe(String(billing.balance_micros));
      expect(await client.exists("agentgate:data:playground:state")).toBe(1);
      expect(readdirSync(dataDir)).not.toContain("storage");
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("keeps documents on disk with STORAGE=fs, and atomics in Redis", async () => {
    await client.flushdb();
    const config = readConfig({ REDIS_URL: redis.url, STORAGE: "fs", DATA_DIR: dataDir, ADMIN_SECRET: "playground-redis-test-secret-long-enough" });
    const gateway = await createPlaygroundGateway(config);
    try {
      const seeded = await seedPlayground(gateway);
      expect((await ask(gateway, seeded.key!)).status).toBe(200);
      expect(readdirSync(dataDir)).toContain("storage");
      expect(await client.exists(`agentgate:{${DEMO_ACCOUNT}}:balance`)).toBe(1);
      expect(await client.keys("agentgate:data:*")).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway } from "../../src/gateway";
import type { Logger } from "../../src/runtime";
import { startRedis, type RedisServer } from "../_redis";

const NO_PERSISTENCE = /no persistence.*restart.*loses every agent, key, thread and ledger line/s;

/** A gateway with its documents on `url`, used once; returns what it logged meanwhile. */
async function documentsOn(url: string, options: { restart?: RedisServer } = {}): Promise<string[]> {
  const logged: string[] = [];
  const logger: Logger = { warn: (m) => logged.push(m), error: (m) => logged.push(m) };
  const gateway = createGateway({ redis: url, redisPrefix: `persistence-${Math.random().toString(36).slice(2, 8)}:`, logger });
  try {
    await gateway.admin.createAgent("acct", { name: "uses the documents" });
    await gateway.admin.listAgents("acct");
    if (options.restart) {
      // Connected again after a restart: the check is not repeated.
      await options.restart.stop();
      await options.restart.restart();
      await expect.poll(async () => (await gateway.admin.listAgents("acct").then(() => true, () => false))).toBe(true);
    }
    // The check runs beside the first commands; give its reply time to land.
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    await gateway.close();
  }
  return logged;
}

describe("the Redis that keeps the documents", () => {
  let volatile: RedisServer;
  let persistent: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    [volatile, persistent] = await Promise.all([startRedis(), startRedis({ persistent: true })]);
    admin = new Redis(volatile.url);
  });
  afterAll(async () => {
    await admin.quit();
    await Promise.all([volatile.stop(), persistent.stop()]);
  });

  it("is reported once, clearly, when it has neither AOF nor RDB persistence", async () => {
    const logged = await documentsOn(volatile.url, { restart: volatile });
    const warnings = logged.filter((line) => NO_PERSISTENCE.test(line));
    expect(warnings, logged.join("\n")).toHaveLength(1);
    expect(warnings[0]).toMatch(/appendonly yes/);
    expect(warnings[0]).toMatch(/balances, holds, rate windows and leases/);
  });

  it("is not reported with AOF, or with RDB snapshots", async () => {
    expect((await documentsOn(persistent.url)).filter((line) => NO_PERSISTENCE.test(line))).toEqual([]);
    await admin.config("SET", "save", "3600 1");
    try {
      expect((await documentsOn(volatile.url)).filter((line) => NO_PERSISTENCE.test(line))).toEqual([]);
    } finally {
      await admin.config("SET", "save", "");
    }
  });

  it("says nothing when Redis refuses CONFIG, as managed ones do", async () => {
    await admin.acl("SETUSER", "no-config", "on", ">no-config-password", "~*", "&*", "+@all", "-config");
    const logged = await documentsOn(volatile.url.replace("redis://", "redis://no-config:no-config-password@"));
    expect(logged).toEqual([]);
  });
});

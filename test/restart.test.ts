import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { Gateway, GatewayOptions } from "../src/index";
import { ledgerSum, ledgerLines } from "./_billing";
import { openaiClient, seedAgent, startGateway } from "./_setup";

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Runs a gateway, spends some of the balance, closes it, and opens a new one over the same stores. */
async function spendThenRestart(options: () => GatewayOptions) {
  const first = await startGateway(options());
  const seeded = await seedAgent(first.gateway, { creditMicros: 1_000_000 });
  const client = openaiClient(first.baseURL, seeded.key);
  for (const content of ["first question", "second, longer question"]) {
    await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content }] });
  }
  const billing = await first.gateway.admin.getBilling(seeded.accountId);
  const ledger = await ledgerLines(first.gateway, seeded.accountId);
  await first.close();

  const second = await startGateway(options());
  try {
    expect(billing.balance_micros).toBeLessThan(1_000_000);
    expect(await second.gateway.admin.getBilling(seeded.accountId)).toEqual(billing);
    expect(await ledgerLines(second.gateway, seeded.accountId)).toEqual(ledger);
    expect(ledger).toHaveLength(3);
    // The restarted gateway keeps charging from where the last one stopped.
    await openaiClient(second.baseURL, seeded.key).chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "after the restart" }] });
    const after = await second.gateway.admin.getBilling(seeded.accountId);
    expect(after.balance_micros).toBeLessThan(billing.balance_micros);
    expect(await ledgerSum(second.gateway, seeded.accountId)).toBe(after.balance_micros);
  } finally {
    await second.close();
  }
}

describe("a gateway restart", () => {
  it("keeps the balance and the ledger with in-process atomics over fs storage", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-restart-"));
    dirs.push(dir);
    await spendThenRestart(() => ({ storage: createStorage({ driver: fsLiteDriver({ base: dir }) }) }));
  });

  it("keeps the balance and the ledger with Redis atomics and Redis storage", async () => {
    const redisPrefix = `restart-${process.pid}-${Date.now().toString(36)}:`;
    await spendThenRestart(() => ({ redis: inject("redisUrl"), redisPrefix }));
  });

  it("does the same on an ioredis client the caller owns, and leaves it open", async () => {
    const client = new Redis(inject("redisUrl"));
    try {
      const redisPrefix = `restart-client-${process.pid}-${Date.now().toString(36)}:`;
      await spendThenRestart(() => ({ redis: client, redisPrefix }));
      expect(client.status).toBe("ready");
      // The ledger in the Redis ledger store, beside the balance (one hash tag per account), none of it a document.
      expect(await client.keys(`${redisPrefix}data:ledger:*`)).toEqual([]);
      const [lines] = await client.keys(`${redisPrefix}{*}:ledger:lines`);
      expect(await client.hlen(lines)).toBe(4);
      expect((await client.keys(`${redisPrefix}{*}:balance`)).length).toBe(1);
    } finally {
      await client.quit();
    }
  });
});

describe("a restart that switches between in-process and Redis atomics over the same storage", () => {
  const fsStorage = () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-switch-"));
    dirs.push(dir);
    return () => createStorage({ driver: fsLiteDriver({ base: dir }) });
  };
  const ask = (baseURL: string, key: string, content: string) => openaiClient(baseURL, key).chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content }] });
  /** The balance reported, which must equal the sum of the ledger. */
  async function expectBalanceEqualsLedger(gateway: Gateway, accountId: string) {
    const billing = await gateway.admin.getBilling(accountId);
    expect(billing.balance_micros).toBe(await ledgerSum(gateway, accountId));
    return billing.balance_micros;
  }

  it("keeps the balance equal to the ledger from fs storage with in-process atomics to Redis atomics on an empty Redis, and back, and again", async () => {
    const storage = fsStorage();
    const redisPrefix = `switch-${process.pid}-${Date.now().toString(36)}:`;
    const inProcess = () => ({ storage: storage() });
    const withRedis = () => ({ storage: storage(), redis: inject("redisUrl"), redisPrefix });

    // In-process atomics: credit and spend.
    const first = await startGateway(inProcess());
    const seeded = await seedAgent(first.gateway, { creditMicros: 10_000_000 });
    await ask(first.baseURL, seeded.key, "spent with in-process atomics");
    const spentInProcess = await expectBalanceEqualsLedger(first.gateway, seeded.accountId);
    expect(spentInProcess).toBeLessThan(10_000_000);
    await first.close();

    // Redis atomics over the same documents: the balance is there, and requests are admitted.
    const second = await startGateway(withRedis());
    expect(await expectBalanceEqualsLedger(second.gateway, seeded.accountId)).toBe(spentInProcess);
    await ask(second.baseURL, seeded.key, "spent with Redis atomics");
    await second.gateway.admin.credit(seeded.accountId, 1_000);
    const spentInRedis = await expectBalanceEqualsLedger(second.gateway, seeded.accountId);
    expect(spentInRedis).toBeLessThan(spentInProcess + 1_000);
    await second.close();

    // Back to in-process atomics: it starts from what Redis wrote back, not from its own old copy.
    const third = await startGateway(inProcess());
    expect(await expectBalanceEqualsLedger(third.gateway, seeded.accountId)).toBe(spentInRedis);
    await ask(third.baseURL, seeded.key, "spent with in-process atomics again");
    await third.gateway.admin.credit(seeded.accountId, 7);
    const spentAgain = await expectBalanceEqualsLedger(third.gateway, seeded.accountId);
    await third.close();

    // And to Redis again, which still holds its older balance: the newer copy wins.
    const fourth = await startGateway(withRedis());
    try {
      expect(await expectBalanceEqualsLedger(fourth.gateway, seeded.accountId)).toBe(spentAgain);
      await ask(fourth.baseURL, seeded.key, "spent with Redis atomics again");
      expect(await expectBalanceEqualsLedger(fourth.gateway, seeded.accountId)).toBeLessThan(spentAgain);
    } finally {
      await fourth.close();
    }
  });

  it("seeds the balance once when two Redis-atomics gateways start at once over the same storage", async () => {
    const storage = fsStorage();
    const redisPrefix = `switch-twice-${process.pid}-${Date.now().toString(36)}:`;
    const first = await startGateway({ storage: storage() });
    const seeded = await seedAgent(first.gateway, { creditMicros: 5_000_000 });
    await ask(first.baseURL, seeded.key, "before the switch");
    await first.close();

    const [a, b] = await Promise.all([startGateway({ storage: storage(), redis: inject("redisUrl"), redisPrefix }), startGateway({ storage: storage(), redis: inject("redisUrl"), redisPrefix })]);
    try {
      // Both take their first requests at once: credits, requests and billing reads race the seeding.
      await Promise.all([
        a.gateway.admin.credit(seeded.accountId, 1_000),
        b.gateway.admin.credit(seeded.accountId, 2_000),
        ask(a.baseURL, seeded.key, "first on a"),
        ask(b.baseURL, seeded.key, "first on b"),
        a.gateway.admin.getBilling(seeded.accountId),
        b.gateway.admin.getBilling(seeded.accountId),
      ]);
      const onA = await expectBalanceEqualsLedger(a.gateway, seeded.accountId);
      expect((await b.gateway.admin.getBilling(seeded.accountId)).balance_micros).toBe(onA);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { afterAll, describe, expect, inject, it } from "vitest";
import type { GatewayOptions } from "../src/index";
import { ledgerSum } from "./_billing";
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
  const ledger = await first.gateway.records.listLedger(seeded.accountId);
  await first.close();

  const second = await startGateway(options());
  try {
    expect(billing.balance_micros).toBeLessThan(1_000_000);
    expect(await second.gateway.admin.getBilling(seeded.accountId)).toEqual(billing);
    expect(await second.gateway.records.listLedger(seeded.accountId)).toEqual(ledger);
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
      expect((await client.keys(`${redisPrefix}data:ledger:*`)).length).toBe(4);
      expect((await client.keys(`${redisPrefix}{*}:balance`)).length).toBe(1);
    } finally {
      await client.quit();
    }
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import { afterEach, describe, expect, it } from "vitest";
import { createFsLedger, createFsStorage } from "../../src/fs";
import { createGateway, createMemoryLedger, createStorageLedger, echo, moveLegacyLedger } from "../../src/index";
import { ledgerLines } from "../_billing";
import { ADMIN_SECRET } from "../_setup";
import { line } from "./_ledger-suite";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the ledger lines agentgate 0.1 kept in storage", () => {
  it("move into a gateway's ledger store when it starts over that storage, and are gone from storage", async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-legacy-"));
    dirs.push(dir);
    const storage = createFsStorage({ dir: join(dir, "storage") });
    const t0 = Date.UTC(2026, 10, 1);
    const old = [line("acct_1", t0, { type: "credit", amount_micros: 5000 }), line("acct_1", t0 + 1, { amount_micros: -700 }), line("acct_2", t0 + 2, { amount_micros: -1 })];
    for (const entry of old) await storage.setItem(`ledger:${entry.account_id}:${entry.id}`, entry);
    await storage.setItem("ledger:acct_1:led_torn", '{"id":"led_t');
    const gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], storage, ledger: createFsLedger({ dir: join(dir, "ledger") }), logger: { warn() {}, error() {} } });
    try {
      await expect.poll(async () => (await storage.getKeys("ledger:")).length).toBe(0);
      expect(await ledgerLines(gateway, "acct_1")).toEqual(old.slice(0, 2));
      expect(await gateway.ledger.total("acct_2")).toBe(-1);
      const usage = await gateway.admin.listUsage("acct_1");
      expect(usage.data.map((entry) => entry.amount_micros)).toEqual([5000, -700]);
    } finally {
      await gateway.close();
    }
  });

  it("are never moved onto themselves, and a move run twice lands each line once", async () => {
    const storage = createStorage();
    const entry = line("acct_1", Date.UTC(2026, 10, 1), { amount_micros: -3 });
    await storage.setItem(`ledger:acct_1:${entry.id}`, entry);
    expect(await moveLegacyLedger(storage, createStorageLedger(storage))).toBe(0);
    expect(await storage.getKeys("ledger:")).toHaveLength(1);
    const to = createMemoryLedger();
    await to.append(entry);
    expect(await moveLegacyLedger(storage, to)).toBe(1);
    expect(await moveLegacyLedger(storage, to)).toBe(0);
    expect(await to.total("acct_1")).toBe(-3);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStorage } from "unstorage";
import fsLiteDriver from "unstorage/drivers/fs-lite";
import { describe, expect, it } from "vitest";
import { createMemoryLedger } from "../../src/stores/ledger/memory";
import { createStorageLedger, importLedger } from "../../src/stores/ledger/storage";
import { describeLedgerStore, line } from "./_ledger-suite";

describeLedgerStore("storage (0.1's layout, memory driver)", async () => ({ ledger: createStorageLedger(createStorage()) }), { persistent: false });

describeLedgerStore(
  "storage (0.1's layout, fs-lite driver)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "agentgate-storage-ledger-"));
    return {
      ledger: createStorageLedger(createStorage({ driver: fsLiteDriver({ base: dir }) })),
      reopen: async () => createStorageLedger(createStorage({ driver: fsLiteDriver({ base: dir }) })),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { persistent: true },
);

describe("a ledger kept in storage by agentgate 0.1", () => {
  it("reads the lines 0.1 wrote, skipping a line torn by a killed process", async () => {
    const storage = createStorage();
    const t0 = Date.UTC(2026, 10, 1);
    const lines = [line("acct_1", t0, { type: "credit", amount_micros: 1000 }), line("acct_1", t0 + 1, { amount_micros: -300 })];
    for (const entry of lines) await storage.setItem(`ledger:acct_1:${entry.id}`, entry);
    await storage.setItem("ledger:acct_1:led_torn", "{\"id\":\"led_torn\",");
    const ledger = createStorageLedger(storage);
    expect((await ledger.page("acct_1")).entries).toEqual(lines);
    expect(await ledger.total("acct_1")).toBe(700);
  });

  it("is copied line for line into another ledger store, once however often the copy runs", async () => {
    const from = createStorageLedger(createStorage());
    const t0 = Date.UTC(2026, 10, 1);
    for (let i = 0; i < 2500; i++) await from.append(line(i % 2 ? "acct_a" : "acct_b", t0 + i, { amount_micros: -(i + 1) }));
    const to = createMemoryLedger();
    expect(await importLedger(from, to, ["acct_a", "acct_b"])).toBe(2500);
    expect(await importLedger(from, to, ["acct_a", "acct_b"])).toBe(2500);
    for (const accountId of ["acct_a", "acct_b"]) {
      expect(await to.total(accountId)).toBe(await from.total(accountId));
      expect(await to.summarize(accountId, { groupBy: ["day"] })).toEqual(await from.summarize(accountId, { groupBy: ["day"] }));
    }
  });
});

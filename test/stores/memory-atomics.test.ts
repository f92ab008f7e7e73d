import { createStorage, defineDriver } from "unstorage";
import { describe, expect, it } from "vitest";
import { createGateway } from "../../src/gateway";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { createRecords } from "../../src/stores/records";
import type { Atomics } from "../../src/stores/atomics";
import { ledgerLines, ledgerSum } from "../_billing";
import { flakyStorage } from "../_flaky-storage";
import { testAtomics } from "./_atomics-suite";

// One process, one state: handles on the same namespace are the same driver.
const instances = new Map<string, Atomics>();
testAtomics("memory", (namespace) => {
  let atomics = instances.get(namespace);
  if (!atomics) instances.set(namespace, (atomics = createMemoryAtomics()));
  return atomics;
});
testAtomics("memory, balances written through to storage", (namespace) => {
  let atomics = instances.get(`wt-${namespace}`);
  if (!atomics) instances.set(`wt-${namespace}`, (atomics = createMemoryAtomics({ records: createRecords(createStorage()) })));
  return atomics;
});

describe("the memory atomics driver", () => {
  it("writes balances through to storage, so a new driver over it starts where the last stopped", async () => {
    const records = createRecords(createStorage());
    const first = createMemoryAtomics({ records });
    await first.credit("acct", 1000);
    await first.reserve("acct", "r1", 400, 60_000);
    await first.settle("acct", "r1", 250);
    await first.close();
    const second = createMemoryAtomics({ records });
    expect(await second.getBalance("acct")).toEqual({ balance_micros: 750, reserved_micros: 0 });
  });

  it("lets no request spend a credit before storage took it, and none at all if storage refuses it", async () => {
    const inner = createStorage();
    let release: (ok: boolean) => void = () => {};
    // A storage whose next balance write waits for the test, then lands or fails: a real driver object.
    const gated = defineDriver(() => ({
      name: "gated",
      hasItem: (key) => inner.hasItem(key),
      getItem: (key) => inner.getItem(key),
      getKeys: (base) => inner.getKeys(base),
      async setItem(key, value) {
        if (key.startsWith("balances")) {
          const ok = await new Promise<boolean>((resolve) => (release = resolve));
          if (!ok) throw new Error("disk unavailable");
        }
        await inner.setItem(key, value);
      },
    }));
    const atomics = createMemoryAtomics({ records: createRecords(createStorage({ driver: gated({}) })) });
    const refused = atomics.credit("acct", 1000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await atomics.reserve("acct", "r1", 500, 60_000)).ok).toBe(false);
    release(false);
    await expect(refused).rejects.toThrow(/disk unavailable/);
    expect(await atomics.getBalance("acct")).toEqual({ balance_micros: 0, reserved_micros: 0 });

    const taken = atomics.credit("acct", 1000);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await atomics.reserve("acct", "r2", 500, 60_000)).ok).toBe(false);
    release(true);
    expect(await taken).toEqual({ balance_micros: 1000, reserved_micros: 0 });
    expect((await atomics.reserve("acct", "r3", 500, 60_000)).ok).toBe(true);
  });

  it("does not apply a credit storage refused, and writes a failed charge through on its retry, once", async () => {
    const flaky = flakyStorage();
    const records = createRecords(flaky.storage);
    const atomics = createMemoryAtomics({ records });
    await atomics.credit("acct", 1000);
    await atomics.reserve("acct", "r1", 300, 60_000);
    flaky.fail(true);
    await expect(atomics.credit("acct", 500)).rejects.toThrow(/disk unavailable/);
    expect((await atomics.getBalance("acct")).balance_micros).toBe(1000);
    await expect(atomics.settle("acct", "r1", 200)).rejects.toThrow(/disk unavailable/);
    flaky.fail(false);
    // The retry finds the charge already taken: it writes it through and charges nothing more.
    expect(await atomics.settle("acct", "r1", 200)).toEqual({ charged_micros: 200, balance_micros: 800, reserved_micros: 0 });
    expect(await records.getStoredBalance("acct")).toBe(800);
  });

  it("signs its copies with one name of its own, and starts from a copy whoever wrote it", async () => {
    const records = createRecords(createStorage());
    await records.putStoredBalance("acct", 300, "redis:someepoch");
    const first = createMemoryAtomics({ records });
    expect((await first.getBalance("acct")).balance_micros).toBe(300);
    await first.credit("acct", 1);
    await first.credit("other", 1);
    await first.close();
    const [a, b] = await Promise.all([records.getStoredBalanceCopy("acct"), records.getStoredBalanceCopy("other")]);
    expect(a).toEqual({ micros: 301, writer: expect.stringMatching(/^memory:/) });
    expect(b?.writer).toBe(a?.writer);
    const second = createMemoryAtomics({ records });
    await second.credit("acct", 1);
    await second.close();
    expect((await records.getStoredBalanceCopy("acct"))?.writer).not.toBe(a?.writer);
  });

  it("answers a repeated idempotent credit only once the first one's write landed, and fails it when that write fails", async () => {
    const { storage, release } = gatedBalanceWrites();
    const atomics = createMemoryAtomics({ records: createRecords(storage) });
    const first = atomics.credit("acct", 1000, { id: "idem-1", receipt: "first" });
    await tick();
    const repeat = atomics.credit("acct", 1000, { id: "idem-1", receipt: "repeat" });
    let repeatSettled = false;
    void repeat.then(() => (repeatSettled = true), () => (repeatSettled = true));
    await tick();
    expect(repeatSettled).toBe(false);
    release(false);
    await expect(first).rejects.toThrow(/disk unavailable/);
    await expect(repeat).rejects.toThrow(/disk unavailable/);
    expect(await atomics.getBalance("acct")).toEqual({ balance_micros: 0, reserved_micros: 0 });

    // Nothing was applied, so a later retry applies it; repeats after that change nothing.
    const retry = atomics.credit("acct", 1000, { id: "idem-1", receipt: "retry" });
    await tick();
    const retryRepeat = atomics.credit("acct", 1000, { id: "idem-1", receipt: "retry-repeat" });
    await tick();
    release(true);
    expect(await retry).toEqual({ balance_micros: 1000, reserved_micros: 0, receipt: "retry" });
    expect(await retryRepeat).toEqual({ balance_micros: 1000, reserved_micros: 0, receipt: "retry" });
    expect(await atomics.credit("acct", 1000, { id: "idem-1", receipt: "later" })).toEqual({ balance_micros: 1000, reserved_micros: 0, receipt: "retry" });
  });

  it("credits once and writes one ledger line when the admin credit is repeated with its Idempotency-Key while the first write fails", async () => {
    const { storage, release } = gatedBalanceWrites();
    const gateway = createGateway({ storage, logger: { warn() {}, error() {} } });
    try {
      const first = gateway.admin.credit("acct", 1000, { idempotencyKey: "top-up-1" });
      await tick();
      const repeat = gateway.admin.credit("acct", 1000, { idempotencyKey: "top-up-1" });
      await tick();
      release(false);
      await expect(first).rejects.toMatchObject({ status: 503 });
      await expect(repeat).rejects.toMatchObject({ status: 503 });
      expect(await ledgerSum(gateway, "acct")).toBe(0);
      expect((await gateway.admin.getBilling("acct")).balance_micros).toBe(0);

      const retry = gateway.admin.credit("acct", 1000, { idempotencyKey: "top-up-1" });
      await tick();
      release(true);
      expect(await retry).toEqual({ balance_micros: 1000, reserved_micros: 0 });
      expect(await gateway.admin.credit("acct", 1000, { idempotencyKey: "top-up-1" })).toEqual({ balance_micros: 1000, reserved_micros: 0 });
      expect(await ledgerSum(gateway, "acct")).toBe(1000);
      expect(await ledgerLines(gateway, "acct")).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });
});

// --- internal ---

const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

/** A storage whose balance writes each wait for the test's `release`, then land or fail: a real driver object. */
function gatedBalanceWrites() {
  const inner = createStorage();
  const waiting: Array<(ok: boolean) => void> = [];
  const gated = defineDriver(() => ({
    name: "gated",
    hasItem: (key) => inner.hasItem(key),
    getItem: (key) => inner.getItem(key),
    getKeys: (base) => inner.getKeys(base),
    removeItem: (key) => inner.removeItem(key),
    async setItem(key, value) {
      if (key.startsWith("balances")) {
        const ok = await new Promise<boolean>((resolve) => waiting.push(resolve));
        if (!ok) throw new Error("disk unavailable");
      }
      await inner.setItem(key, value);
    },
  }));
  return { storage: createStorage({ driver: gated({}) }), release: (ok: boolean) => waiting.shift()!(ok) };
}

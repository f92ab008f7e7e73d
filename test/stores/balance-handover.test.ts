import { Redis } from "ioredis";
import { createStorage, defineDriver, type Storage } from "unstorage";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createSortableId } from "../../src/ids";
import type { Logger } from "../../src/runtime";
import type { Atomics } from "../../src/stores/atomics";
import { createMemoryLedger } from "../../src/stores/ledger/memory";
import type { LedgerStore } from "../../src/stores/ledger/types";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { createRecords, type Records } from "../../src/stores/records";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { flakyStorage } from "../_flaky-storage";

// The in-process and the Redis atomics drivers taking turns over one storage, as a
// gateway does when it is restarted with or without REDIS_URL: a real redis-server (the
// shared test server, one key prefix per test) and real unstorage storage.

const MINUTE = 60_000;
const client = new Redis(inject("redisUrl"));
afterAll(() => client.quit());

let counter = 0;
const freshPrefix = () => `handover-${process.pid}-${counter++}-${Math.random().toString(36).slice(2, 6)}:`;

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (message) => warnings.push(message), error: (message) => errors.push(message) };
}

/** The ledger that goes with these records, one per storage, as a gateway has. */
const ledgers = new WeakMap<Records, LedgerStore>();
function ledgerOf(records: Records): LedgerStore {
  let ledger = ledgers.get(records);
  if (!ledger) ledgers.set(records, (ledger = createMemoryLedger()));
  return ledger;
}

/** One Redis-atomics "instance": its own connection, as a separate gateway process has. */
function redisInstance(prefix: string, records: Records, logger: Logger = recordingLogger()): Atomics {
  return createRedisAtomics({ redis: inject("redisUrl"), prefix, records, ledger: ledgerOf(records), logger });
}

/** A request's charge: its hold, then its settle (a settle without a hold charges nothing). */
async function charge(atomics: Atomics, accountId: string, reservationId: string, micros: number) {
  await atomics.reserve(accountId, reservationId, micros, MINUTE);
  return atomics.settle(accountId, reservationId, micros);
}

async function deleteRedisKeys(prefix: string) {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length) await client.del(...keys);
}

describe("switching between the in-process and the Redis atomics over one storage", () => {
  it("seeds Redis from the copy the in-process driver wrote, and writes what Redis changes back to it", async () => {
    const records = createRecords(createStorage());
    const memory = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    await memory.credit("acct", 1000);
    await memory.reserve("acct", "r1", 400, MINUTE);
    await memory.settle("acct", "r1", 250);
    await memory.close();

    const redis = redisInstance(freshPrefix(), records);
    expect(await redis.getBalance("acct")).toEqual({ balance_micros: 750, reserved_micros: 0 });
    expect(await redis.reserve("acct", "r2", 700, MINUTE)).toEqual({ ok: true, balance_micros: 750, reserved_micros: 700 });
    expect(await redis.settle("acct", "r2", 700)).toMatchObject({ charged_micros: 700, balance_micros: 50 });
    await redis.close();
    expect(await records.getStoredBalanceCopy("acct")).toEqual({ micros: 50, writer: expect.stringMatching(/^redis:/) });
  });

  it("hands the balance back and forth: each driver starts from what the other left, Redis included when it still holds an older balance", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const memory1 = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    await memory1.credit("acct", 1000);
    await memory1.close();

    const redis1 = redisInstance(prefix, records);
    await redis1.reserve("acct", "r1", 300, MINUTE);
    await redis1.settle("acct", "r1", 300);
    await redis1.credit("acct", 50);
    await redis1.close();

    const memory2 = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    expect((await memory2.getBalance("acct")).balance_micros).toBe(750);
    await charge(memory2, "acct", "r2", 100);
    await memory2.close();

    // Redis still holds 750 from before: the copy the in-process driver wrote since is newer.
    const redis2 = redisInstance(prefix, records);
    expect((await redis2.getBalance("acct")).balance_micros).toBe(650);
    await redis2.close();

    // An in-process driver that only read changes nothing, so Redis keeps its balance.
    const memory3 = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    expect((await memory3.getBalance("acct")).balance_micros).toBe(650);
    await memory3.close();
    const redis3 = redisInstance(prefix, records);
    await redis3.credit("acct", 5);
    expect((await redis3.getBalance("acct")).balance_micros).toBe(655);
    await redis3.close();
    expect(await records.getStoredBalance("acct")).toBe(655);
  });

  it("seeds exactly once when several Redis instances start at once over the same copy, so no credit or charge is lost or doubled", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const accounts = ["acct-a", "acct-b", "acct-c"];
    const memory = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    for (const account of accounts) await memory.credit(account, 1000);
    await memory.close();

    const instances = Array.from({ length: 6 }, () => redisInstance(prefix, records));
    try {
      // Every instance's very first calls race: each reads the copy and asks Redis to seed.
      await Promise.all(
        instances.flatMap((atomics, i) =>
          accounts.flatMap((account) => [atomics.credit(account, 10), charge(atomics, account, `s${i}`, 3), atomics.credit(account, 10, { id: "pay_1", receipt: `r${i}` })]),
        ),
      );
      for (const account of accounts) {
        // 1000, six credits of 10, six charges of 3, and the idempotent credit once.
        for (const atomics of instances) expect((await atomics.getBalance(account)).balance_micros).toBe(1000 + 60 - 18 + 10);
      }
    } finally {
      await Promise.all(instances.map((atomics) => atomics.close()));
    }
    for (const account of accounts) expect(await records.getStoredBalance(account)).toBe(1052);
  });

  it("keeps the Redis balance when another instance started later finds the copy not yet written back", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const memory = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    await memory.credit("acct", 1000);
    await memory.close();

    const first = redisInstance(prefix, records);
    const second = redisInstance(prefix, records);
    try {
      await first.credit("acct", 1);
      // The copy may or may not carry the credit yet; either way the second instance keeps Redis's.
      expect((await second.getBalance("acct")).balance_micros).toBe(1001);
      await charge(second, "acct", "r1", 2);
      expect((await first.getBalance("acct")).balance_micros).toBe(999);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
    expect(await records.getStoredBalance("acct")).toBe(999);
  });

  it("leaves the copy at the newest balance when several instances write back at once", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const a = redisInstance(prefix, records);
    const b = redisInstance(prefix, records);
    await a.credit("acct", 10_000);
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const atomics = i % 2 ? a : b;
        return i % 3 ? charge(atomics, "acct", `s${i}`, 7) : atomics.credit("acct", 11);
      }),
    );
    const final = (await a.getBalance("acct")).balance_micros;
    expect(final).toBe(10_000 + 20 * 11 - 40 * 7);
    await Promise.all([a.close(), b.close()]);
    expect(await records.getStoredBalance("acct")).toBe(final);
    // The in-process driver then starts exactly there.
    const memory = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    expect((await memory.getBalance("acct")).balance_micros).toBe(final);
    await memory.close();
  });

  it("leaves the copy at the newest balance when a slow write from one instance lands after a newer one from another", async () => {
    const inner = createStorage();
    // The same storage seen through a slow disk: every write lands 150 ms late.
    const slow = defineDriver(() => ({
      name: "slow",
      hasItem: (key) => inner.hasItem(key),
      getItem: (key) => inner.getItem(key),
      getKeys: (base) => inner.getKeys(base),
      async setItem(key, value) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await inner.setItem(key, value);
      },
    }));
    const prefix = freshPrefix();
    const slowInstance = redisInstance(prefix, createRecords(createStorage({ driver: slow({}) })));
    const fastInstance = redisInstance(prefix, createRecords(inner));
    await slowInstance.credit("acct", 1000); // its write of 1000 is now on its way
    await new Promise((resolve) => setTimeout(resolve, 30));
    await charge(fastInstance, "acct", "r1", 400); // 600, written at once
    await expect.poll(() => createRecords(inner).getStoredBalance("acct")).toBe(600);
    await Promise.all([slowInstance.close(), fastInstance.close()]);
    expect(await createRecords(inner).getStoredBalance("acct")).toBe(600);
  });

  it("keeps serving when storage refuses the write-back, says so, and writes the balance once storage is back", async () => {
    const flaky = flakyStorage();
    const records = createRecords(flaky.storage);
    const logger = recordingLogger();
    const atomics = redisInstance(freshPrefix(), records, logger);
    try {
      await atomics.credit("acct", 1000);
      await expect.poll(() => records.getStoredBalance("acct")).toBe(1000);
      flaky.fail(true);
      expect(await atomics.credit("acct", 500)).toEqual({ balance_micros: 1500, reserved_micros: 0 });
      expect(await charge(atomics, "acct", "r1", 100)).toMatchObject({ charged_micros: 100, balance_micros: 1400 });
      await expect.poll(() => logger.errors.some((error) => error.includes("could not write the balance of account acct"))).toBe(true);
      expect(await records.getStoredBalance("acct")).toBe(1000);
      flaky.fail(false);
      await expect.poll(() => records.getStoredBalance("acct")).toBe(1400);
    } finally {
      await atomics.close();
    }
  });

  it("seeds again from the copy when Redis lost its data under a running instance, and says so", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const logger = recordingLogger();
    const first = redisInstance(prefix, records, logger);
    await first.credit("acct", 1000);
    await first.reserve("acct", "r1", 300, MINUTE);
    await first.settle("acct", "r1", 200);
    await expect.poll(() => records.getStoredBalance("acct")).toBe(800);

    const running = redisInstance(prefix, records, logger);
    try {
      expect((await running.getBalance("acct")).balance_micros).toBe(800);
      await running.reserve("acct", "in-flight", 300, MINUTE);
      await deleteRedisKeys(prefix); // a Redis restarted without persistence
      // The running instance checked this account already, yet does not count from zero.
      expect(await running.reserve("acct", "r2", 800, MINUTE)).toEqual({ ok: true, balance_micros: 800, reserved_micros: 800 });
      expect(logger.warnings.some((warning) => /Redis lost its data\?/.test(warning) && warning.includes("acct"))).toBe(true);
      // A settle (a background retry, say) whose hold went with the data charges nothing;
      // a hold taken since charges as usual.
      expect(await running.settle("acct", "in-flight", 300)).toEqual({ charged_micros: 0, balance_micros: 800, reserved_micros: 800 });
      expect(await running.settle("acct", "r2", 100)).toMatchObject({ charged_micros: 100, balance_micros: 700 });
    } finally {
      await Promise.all([first.close(), running.close()]);
    }
    expect(await records.getStoredBalance("acct")).toBe(700);
  });

  it("keeps a Redis balance from before write-through when no copy disagrees, and sets the ledger's sum when one does", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    const prefix = freshPrefix();
    // The Redis driver as it was before it wrote balances through: no records.
    const before = createRedisAtomics({ redis: inject("redisUrl"), prefix });
    await before.credit("only-redis", 500);
    // The reported bug: the in-process driver's copy stayed behind, Redis started from zero.
    await storage.setItem("balances:split", 9_000);
    await before.credit("split", 500);
    await before.close();
    const entries: [number, string][] = [
      [10_000, "credit"],
      [-1_000, "charge"],
      [500, "credit"],
      [-20, "charge"],
    ];
    for (const [amount, type] of entries) {
      await ledgerOf(records).append({ id: createSortableId("led_"), account_id: "split", type: type as "credit" | "charge", amount_micros: amount, created_at: new Date().toISOString() });
    }

    const logger = recordingLogger();
    const after = redisInstance(prefix, records, logger);
    try {
      expect((await after.getBalance("only-redis")).balance_micros).toBe(500);
      expect((await after.getBalance("split")).balance_micros).toBe(9_480);
      expect(logger.warnings.filter((warning) => warning.includes("sum of its ledger"))).toHaveLength(1);
    } finally {
      await after.close();
    }
  });

  it("reads storage once per account per process: after that a request costs Redis one call to reserve and one to settle", async () => {
    const inner = createStorage();
    const balanceReads: string[] = [];
    const balanceWrites: number[] = [];
    // A storage that counts what reaches it (a real driver object over memory storage).
    const counting = defineDriver(() => ({
      name: "counting",
      hasItem: (key) => inner.hasItem(key),
      getItem(key) {
        if (key.startsWith("balances:")) balanceReads.push(key);
        return inner.getItem(key);
      },
      async setItem(key, value) {
        if (key.startsWith("balances:")) balanceWrites.push(Date.now());
        await inner.setItem(key, value);
      },
      getKeys: (base) => inner.getKeys(base),
      removeItem: (key) => inner.removeItem(key),
    }));
    const storage: Storage = createStorage({ driver: counting({}) });
    const records = createRecords(storage);
    await records.putStoredBalance("acct", 1_000_000, "memory:earlier");

    const prefix = freshPrefix();
    const monitor = await client.monitor();
    const calls: string[][] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      // Commands a script runs are shown too (source "lua"): only round trips count here.
      if (source !== "lua" && args.some((arg) => arg.startsWith(`${prefix}{acct}`))) calls.push(args);
    });
    const kinds = () => {
      // EVALSHA only: another test file may SCRIPT FLUSH the shared server, adding an EVAL fallback.
      const scripts = calls.filter((args) => /^evalsha$/i.test(args[0]));
      const keyCount = (args: string[]) => Number(args[2]);
      return {
        money: scripts.filter((args) => args.slice(3, 3 + keyCount(args)).some((key) => key.endsWith(":holds"))).length,
        seed: scripts.filter((args) => keyCount(args) === 2 && args.length > 5).length,
        other: calls.filter((args) => !/^evalsha$|^eval$/i.test(args[0])).length,
      };
    };
    const atomics = redisInstance(prefix, records);
    try {
      await atomics.reserve("acct", "first", 10, MINUTE);
      await atomics.settle("acct", "first", 10);
      expect(balanceReads).toHaveLength(1);
      for (let i = 0; i < 20; i++) {
        expect((await atomics.reserve("acct", `r${i}`, 100, MINUTE)).ok).toBe(true);
        await atomics.settle("acct", `r${i}`, 50);
      }
      await expect.poll(() => kinds().money).toBe(42);
      expect(kinds()).toMatchObject({ money: 42, seed: 1, other: 0 });
      expect(balanceReads).toHaveLength(1);
    } finally {
      await atomics.close();
      monitor.disconnect();
    }
    // Written back, coalesced: fewer writes than changes, and the last one is the balance.
    expect(balanceWrites.length).toBeGreaterThan(0);
    expect(balanceWrites.length).toBeLessThan(21);
    expect(await records.getStoredBalance("acct")).toBe(1_000_000 - 10 - 20 * 50);
  });
});

describe("a copy torn or left stale by a killed process", () => {
  // What a ledger holds after a credit of 1000 and a charge of 300, written as the gateway writes them.
  const seedLedger = async (records: Records) => {
    await ledgerOf(records).append({ id: createSortableId("led_"), account_id: "acct", type: "credit", amount_micros: 1000, created_at: new Date().toISOString() });
    await ledgerOf(records).append({ id: createSortableId("led_"), account_id: "acct", type: "charge", amount_micros: -300, created_at: new Date().toISOString() });
  };

  it("refuses a torn copy rather than guess, and starts the in-process driver from the ledger once it is removed", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    await seedLedger(records);
    await storage.setItem("balances:acct", "");
    const memory = createMemoryAtomics({ records, ledger: ledgerOf(records) });
    // The ledger may lag behind the copy (charges not written yet): only an operator decides to drop it.
    await expect(memory.getBalance("acct")).rejects.toThrow(/balances:acct.*remove balances:acct/);
    await storage.removeItem("balances:acct");
    expect(await memory.getBalance("acct")).toEqual({ balance_micros: 700, reserved_micros: 0 });
    await memory.close();
  });

  it("refuses to seed Redis from a torn copy", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    const prefix = freshPrefix();
    await seedLedger(records);
    await storage.setItem("balances:acct", '{"micros":70');
    const later = redisInstance(prefix, records);
    await expect(later.getBalance("acct")).rejects.toThrow(/balances:acct/);
    expect(await client.exists(`${prefix}{acct}:balance`)).toBe(0);
    await later.close();
  });

  it("never lets the ledger stand in for a missing copy over a balance Redis holds: it may miss charges not yet written", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    const prefix = freshPrefix();
    const first = redisInstance(prefix, records);
    await first.credit("acct", 1000);
    await ledgerOf(records).append({ id: createSortableId("led_"), account_id: "acct", type: "credit", amount_micros: 1000, created_at: new Date().toISOString() });
    // A charge whose ledger line is not written yet (the settle's retry is still pending).
    await first.reserve("acct", "r1", 300, MINUTE);
    await first.settle("acct", "r1", 300);
    await first.close();
    await storage.removeItem("balances:acct");

    const second = redisInstance(prefix, records);
    expect((await second.getBalance("acct")).balance_micros).toBe(700);
    // The missing copy is written again, from Redis.
    await expect.poll(() => records.getStoredBalance("acct")).toBe(700);
    await second.close();
  });

  it("keeps a Redis balance from before write-through over the ledger when there is no copy", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const before = createRedisAtomics({ redis: inject("redisUrl"), prefix });
    await before.credit("acct", 900);
    await before.close();
    await seedLedger(records);
    const logger = recordingLogger();
    const after = redisInstance(prefix, records, logger);
    expect((await after.getBalance("acct")).balance_micros).toBe(900);
    expect(logger.warnings).toEqual([]);
    await after.close();
  });

  it("seeds from the ledger when the copy is missing and Redis holds nothing for the account", async () => {
    const records = createRecords(createStorage());
    await seedLedger(records);
    const atomics = redisInstance(freshPrefix(), records);
    expect((await atomics.getBalance("acct")).balance_micros).toBe(700);
    await atomics.close();
  });

  it("refreshes a copy that lags behind the balance Redis keeps, so an in-process driver does not start from it", async () => {
    const records = createRecords(createStorage());
    const prefix = freshPrefix();
    const first = redisInstance(prefix, records);
    await first.credit("acct", 1000);
    await first.close();
    // The copy falls behind, as when a Redis gateway is killed before writing back.
    await client.incrby(`${prefix}{acct}:balance`, 500);
    const second = redisInstance(prefix, records);
    expect((await second.getBalance("acct")).balance_micros).toBe(1500);
    await expect.poll(() => records.getStoredBalance("acct")).toBe(1500);
    await second.close();
  });
});

import { Redis } from "ioredis";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { createRedisLedger } from "../../src/stores/ledger/redis";
import { describeLedgerStore, line } from "./_ledger-suite";

const client = new Redis(inject("redisUrl"));
afterAll(() => client.quit());

/** Deletes every key under a prefix (the test server is one node). */
async function clear(prefix: string): Promise<void> {
  for (let cursor = "0"; ; ) {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    if (keys.length > 0) await client.del(...keys);
    if ((cursor = next) === "0") return;
  }
}

let run = 0;
// Each test gets its own key prefix on the shared test server; reopening is a new store (and client) on it.
describeLedgerStore(
  "redis",
  async () => {
    const prefix = `ledger-test-${process.pid}-${run++}:`;
    return {
      ledger: createRedisLedger({ redis: inject("redisUrl"), prefix }),
      reopen: async () => createRedisLedger({ redis: inject("redisUrl"), prefix }),
      cleanup: () => clear(prefix),
    };
  },
  { persistent: true },
);

const T0 = Date.UTC(2026, 10, 1, 12);

/** Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag (or the whole key), mod 16384. */
function keySlot(key: string): number {
  const open = key.indexOf("{");
  const close = open < 0 ? -1 : key.indexOf("}", open + 1);
  const tagged = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(tagged)) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe("the redis ledger store's keys", () => {
  it("keeps every key of an account under the hash tag the atomics driver gives that account, so both are in one Cluster slot", async () => {
    const prefix = `ledger-layout-${process.pid}:`;
    const ledger = createRedisLedger({ redis: client, prefix });
    const atomics = createRedisAtomics({ redis: client, prefix });
    try {
      await ledger.append(line("acct_{odd}%", T0));
      await ledger.append(line("acct_{odd}%", T0 + 86_400_000, { type: "credit", amount_micros: 500 }));
      await ledger.append(line("acct_plain", T0));
      await atomics.credit("acct_{odd}%", 100);
      const keys = (await client.keys(`${prefix}*`)).sort();
      expect(keys.filter((k) => k.includes(":ledger:"))).toEqual([
        `${prefix}{acct_%7Bodd%7D%25}:ledger:day:2026-11-01`,
        `${prefix}{acct_%7Bodd%7D%25}:ledger:day:2026-11-02`,
        `${prefix}{acct_%7Bodd%7D%25}:ledger:days`,
        `${prefix}{acct_%7Bodd%7D%25}:ledger:ids`,
        `${prefix}{acct_%7Bodd%7D%25}:ledger:lines`,
        `${prefix}{acct_%7Bodd%7D%25}:ledger:total`,
        `${prefix}{acct_plain}:ledger:day:2026-11-01`,
        `${prefix}{acct_plain}:ledger:days`,
        `${prefix}{acct_plain}:ledger:ids`,
        `${prefix}{acct_plain}:ledger:lines`,
        `${prefix}{acct_plain}:ledger:total`,
      ]);
      const odd = keys.filter((k) => k.includes("{acct_%7Bodd%7D%25}"));
      // The atomics driver's balance key is among them, in the same slot.
      expect(odd).toContain(`${prefix}{acct_%7Bodd%7D%25}:balance`);
      expect(new Set(odd.map(keySlot)).size).toBe(1);
      expect(keySlot(`${prefix}{acct_plain}:ledger:lines`)).not.toBe(keySlot(odd[0]));
    } finally {
      await atomics.close?.();
      await clear(prefix);
    }
  });

  it("sums in Redis integers, exact where a running sum passes 2^53 (a Lua or JS number would round it)", async () => {
    const prefix = `ledger-exact-${process.pid}:`;
    const ledger = createRedisLedger({ redis: client, prefix });
    try {
      await ledger.append(line("acct_1", T0, { type: "credit", amount_micros: Number.MAX_SAFE_INTEGER }));
      await ledger.append(line("acct_1", T0 + 1, { type: "credit", amount_micros: 2 }));
      // The day's credit counter holds 2^53 + 1, which no double can.
      expect(await client.hget(`${prefix}{acct_1}:ledger:day:2026-11-01`, 'a|["agt_a","key_a","echo/echo","credit"]')).toBe("9007199254740993");
      await ledger.append(line("acct_1", T0 + 2, { type: "charge", amount_micros: -Number.MAX_SAFE_INTEGER }));
      expect(await ledger.total("acct_1")).toBe(2);
    } finally {
      await clear(prefix);
    }
  });

  it("changes no key on a repeated append, and none when a counter would pass 2^63", async () => {
    const prefix = `ledger-repeat-${process.pid}:`;
    const ledger = createRedisLedger({ redis: client, prefix });
    const snapshot = async () => {
      const keys = (await client.keys(`${prefix}*`)).sort();
      return Promise.all(keys.map(async (k) => [k, await client.dump(k)]));
    };
    try {
      const entry = line("acct_1", T0, { amount_micros: -5 });
      await ledger.append(entry);
      const before = await snapshot();
      await ledger.append(entry);
      await ledger.append({ ...entry, amount_micros: -6 });
      expect(await snapshot()).toEqual(before);
      await client.set(`${prefix}{acct_1}:ledger:total`, "-9200000000000000000");
      const changed = await snapshot();
      await expect(ledger.append(line("acct_1", T0 + 1, { amount_micros: -Number.MAX_SAFE_INTEGER }))).rejects.toThrow(/2\^63/);
      expect(await snapshot()).toEqual(changed);
    } finally {
      await clear(prefix);
    }
  });
});

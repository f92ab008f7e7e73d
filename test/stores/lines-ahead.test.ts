import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import { describe, expect, inject, it } from "vitest";
import { createSortableId } from "../../src/ids";
import { createGateway, echo } from "../../src/index";
import type { LineDraft } from "../../src/stores/atomics";
import { createMemoryLedger } from "../../src/stores/ledger/memory";
import { createRedisLedger } from "../../src/stores/ledger/redis";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { createRecords } from "../../src/stores/records";
import { createRedisAtomics } from "../../src/stores/redis-atomics";
import { ledgerLines } from "../_billing";
import { ADMIN_SECRET, seedAgent } from "../_setup";

// A charge and its ledger line: the driver writes the line ahead in the same atomic write
// as the money, so a process that dies between the charge and the ledger append leaves a
// line that the next one writes. "Dies" here: the line is never appended nor forgotten.

const draft = (accountId: string, type: "charge" | "credit" = "charge"): LineDraft => ({
  id: createSortableId("led_"),
  account_id: accountId,
  type,
  created_at: new Date().toISOString(),
  agent_id: "agt_1",
  key_id: "key_1",
  model: "echo/echo",
  thread_id: "thread_1",
  prompt_tokens: 3,
  completion_tokens: 4,
  // Carried whole with the money, as every other field.
  ...(type === "charge" && { cache_read_tokens: 2, cache_write_tokens: 1, session_id: "sess_1" }),
});

let n = 0;
const prefix = () => `ahead-${process.pid}-${n++}-${Math.random().toString(36).slice(2, 6)}:`;

describe("lines written ahead with the money", () => {
  it("hands a charge's and a credit's line back with their amounts, and nothing once forgotten (in-process and Redis)", async () => {
    for (const atomics of [createMemoryAtomics(), createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix() })]) {
      const credit = draft("acct", "credit");
      const credited = await atomics.credit("acct", 1000, undefined, credit);
      expect(credited.lines).toEqual([{ ...credit, amount_micros: 1000 }]);
      await atomics.reserve("acct", "r1", 500, 60_000);
      const charge = draft("acct");
      const settled = await atomics.settle("acct", "r1", 1200, charge);
      // Capped at the balance: the line says what was really taken.
      expect(settled.charged_micros).toBe(1000);
      expect(settled.lines).toEqual([{ ...charge, amount_micros: -1000 }]);
      // A retried settle hands its line back while it is still waiting for the ledger...
      expect((await atomics.settle("acct", "r1", 1200, charge)).lines).toEqual([{ ...charge, amount_micros: -1000 }]);
      // ...and not once it is forgotten; nothing charged writes no line.
      await atomics.landedLines("acct", [credit.id, charge.id]);
      expect((await atomics.settle("acct", "r1", 1200, charge)).lines).toBeUndefined();
      expect((await atomics.settle("acct", "no-hold", 50, draft("acct"))).lines).toBeUndefined();
      await atomics.close();
    }
  });

  it("puts the line of a charge whose process died before the ledger had it into the ledger when the account is next loaded (in-process)", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    const ledger = createMemoryLedger();
    const dying = createMemoryAtomics({ records, ledger });
    const credit = { ...draft("acct", "credit") };
    await dying.credit("acct", 1000, undefined, credit);
    await ledger.append({ ...credit, amount_micros: 1000 });
    await dying.reserve("acct", "r1", 300, 60_000);
    const charge = draft("acct");
    await dying.settle("acct", "r1", 300, charge);
    // The process dies here: the charge is in the stored balance, its line is not in the ledger.
    expect(await ledger.total("acct")).toBe(1000);
    const next = createMemoryAtomics({ records, ledger });
    expect((await next.getBalance("acct")).balance_micros).toBe(700);
    expect(await ledger.total("acct")).toBe(700);
    expect((await ledger.page("acct")).entries.map((line) => line.id)).toEqual([credit.id, charge.id]);
    // Loaded again (the line was never forgotten): still once.
    const third = createMemoryAtomics({ records, ledger });
    expect((await third.getBalance("acct")).balance_micros).toBe(700);
    expect(await ledger.total("acct")).toBe(700);
  });

  it("puts the lines an in-process driver left in the balance copy into the ledger when Redis takes the account over", async () => {
    const storage = createStorage();
    const records = createRecords(storage);
    const ledger = createMemoryLedger();
    const dying = createMemoryAtomics({ records, ledger });
    await dying.credit("acct", 1000);
    await dying.reserve("acct", "r1", 300, 60_000);
    const charge = draft("acct");
    await dying.settle("acct", "r1", 300, charge); // dies before the ledger has the line
    const redis = createRedisAtomics({ redis: inject("redisUrl"), prefix: prefix(), records, ledger });
    expect((await redis.getBalance("acct")).balance_micros).toBe(700);
    expect((await ledger.page("acct")).entries).toEqual([{ ...charge, amount_micros: -300 }]);
    await redis.close();
  });

  it("hands the line a dead process left on Redis to the next request's settle once the grace has passed, and to no one before", async () => {
    const shared = prefix();
    const dying = createRedisAtomics({ redis: inject("redisUrl"), prefix: shared, linesAheadGraceMs: 300 });
    await dying.credit("acct", 1000);
    await dying.reserve("acct", "r1", 300, 60_000);
    const lost = draft("acct");
    await dying.settle("acct", "r1", 250, lost);
    await dying.close(); // dies before writing the line to the ledger or forgetting it

    const survivor = createRedisAtomics({ redis: inject("redisUrl"), prefix: shared, linesAheadGraceMs: 300 });
    await survivor.reserve("acct", "r2", 100, 60_000);
    const early = await survivor.settle("acct", "r2", 10, draft("acct"));
    // Its own line only: the other may still be on its way from a live process.
    expect(early.lines?.map((line) => line.amount_micros)).toEqual([-10]);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await survivor.reserve("acct", "r3", 100, 60_000);
    const own = draft("acct");
    const later = await survivor.settle("acct", "r3", 20, own);
    expect(later.lines?.[0]).toEqual({ ...own, amount_micros: -20 });
    // The dead process's line, and the earlier settle's, never forgotten either.
    expect(later.lines?.slice(1).map((line) => line.amount_micros).sort()).toEqual([-10, -250]);
    expect(later.lines).toContainEqual({ ...lost, amount_micros: -250 });
    await survivor.landedLines("acct", later.lines!.map((line) => line.id));
    await survivor.reserve("acct", "r4", 100, 60_000);
    expect((await survivor.settle("acct", "r4", 5, draft("acct"))).lines?.map((line) => line.amount_micros)).toEqual([-5]);
    await survivor.close();
  });
});

describe("a charge's line with a Redis ledger on the same Redis", () => {
  it("goes into the ledger in the settle's own script, whole and once, and nothing is written ahead", async () => {
    const shared = prefix();
    const ledger = createRedisLedger({ redis: inject("redisUrl"), prefix: shared });
    const atomics = createRedisAtomics({ redis: inject("redisUrl"), prefix: shared, ledger });
    const client = new Redis(inject("redisUrl"));
    try {
      await atomics.credit("acct", 1000);
      await atomics.reserve("acct", "r1", 500, 60_000);
      const charge = draft("acct");
      const settled = await atomics.settle("acct", "r1", 1200, charge);
      expect(settled.charged_micros).toBe(1000);
      // Present and empty: the ledger has the line already, nothing is left for the caller to write.
      expect(settled.lines).toEqual([]);
      expect((await ledger.page("acct")).entries).toEqual([{ ...charge, amount_micros: -1000 }]);
      expect(await ledger.total("acct")).toBe(-1000);
      const [rollup] = await ledger.summarize("acct");
      expect(rollup).toMatchObject({ lines: 1, prompt_tokens: 3, completion_tokens: 4, cache_read_tokens: 2, cache_write_tokens: 1, amount_micros: -1000 });
      expect(await client.exists(`${shared}{acct}:lines-ahead`, `${shared}{acct}:lines-ahead-at`)).toBe(0);
      // A retried settle writes nothing again.
      expect(await atomics.settle("acct", "r1", 1200, charge)).toMatchObject({ charged_micros: 1000, lines: [] });
      expect((await ledger.page("acct")).entries).toHaveLength(1);
      expect(await ledger.total("acct")).toBe(-1000);
    } finally {
      await atomics.close();
      await ledger.close();
      client.disconnect();
    }
  });

  it("refuses a charge whose line would take a ledger counter past 2^63 before changing anything", async () => {
    const shared = prefix();
    const client = new Redis(inject("redisUrl"));
    const ledger = createRedisLedger({ redis: client, prefix: shared });
    const atomics = createRedisAtomics({ redis: client, prefix: shared, ledger });
    try {
      await atomics.credit("acct", 1000);
      await atomics.reserve("acct", "r1", 500, 60_000);
      await client.set(`${shared}{acct}:ledger:total`, "-9199999999999999900");
      await expect(atomics.settle("acct", "r1", 400, draft("acct"))).rejects.toThrow(/2\^63/);
      // The hold is still there and the balance whole: the settle can be retried once the ledger is mended.
      expect(await atomics.getBalance("acct")).toEqual({ balance_micros: 1000, reserved_micros: 500 });
      expect(await client.hlen(`${shared}{acct}:ledger:lines`)).toBe(0);
    } finally {
      await atomics.close();
      client.disconnect();
    }
  });

  it("is written ahead as before when the ledger is another prefix's, or another store", async () => {
    const client = new Redis(inject("redisUrl"));
    try {
      for (const ledger of [createRedisLedger({ redis: client, prefix: prefix() }), createMemoryLedger()]) {
        const atomics = createRedisAtomics({ redis: client, prefix: prefix(), ledger });
        await atomics.credit("acct", 1000);
        await atomics.reserve("acct", "r1", 500, 60_000);
        const charge = draft("acct");
        expect((await atomics.settle("acct", "r1", 100, charge)).lines).toEqual([{ ...charge, amount_micros: -100 }]);
        expect(await ledger.total("acct")).toBeNull();
        await atomics.close();
      }
    } finally {
      client.disconnect();
    }
  });
});

describe("a gateway's charges and credits", () => {
  it("write their lines to the ledger and leave nothing written ahead behind, on Redis", async () => {
    const redisPrefix = prefix();
    const gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], redis: inject("redisUrl"), redisPrefix, models: { "echo/echo": { inputPerMTok: 1, outputPerMTok: 1 } } });
    const client = new Redis(inject("redisUrl"));
    try {
      const { accountId, key } = await seedAgent(gateway, { creditMicros: 1_000_000 });
      const response = await gateway.fetch(
        new Request("http://gateway.test/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "count me" }] }),
        }),
      );
      expect(response.status).toBe(200);
      const lines = await ledgerLines(gateway, accountId);
      expect(lines.map((line) => line.type)).toEqual(["credit", "charge"]);
      expect(lines.reduce((sum, line) => sum + line.amount_micros, 0)).toBe((await gateway.admin.getBilling(accountId)).balance_micros);
      await expect.poll(() => client.hlen(`${redisPrefix}{${accountId}}:lines-ahead`)).toBe(0);
      expect(await client.zcard(`${redisPrefix}{${accountId}}:lines-ahead-at`)).toBe(0);
    } finally {
      await gateway.close();
      client.disconnect();
    }
  });
});

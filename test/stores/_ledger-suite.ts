import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LedgerEntry, LedgerStore } from "../../src/stores/ledger/types";

/** A fresh, empty store; `reopen` (drivers that keep data) opens the same data again after `close`. */
export interface LedgerHarness {
  ledger: LedgerStore;
  reopen?: () => Promise<LedgerStore>;
  cleanup?: () => Promise<void>;
}

let seq = 0;
/** A line with a sortable id at `at` (ms), as the gateway writes them. */
export function line(accountId: string, at: number, fields: Partial<LedgerEntry> = {}): LedgerEntry {
  seq += 1;
  const id = `led_${at.toString(36).padStart(9, "0")}${(seq % 46656).toString(36).padStart(3, "0")}${String(seq).padStart(10, "0")}`;
  return {
    id,
    account_id: accountId,
    type: "charge",
    amount_micros: -100,
    created_at: new Date(at).toISOString(),
    agent_id: "agt_a",
    key_id: "key_a",
    model: "echo/echo",
    thread_id: "thread_a",
    prompt_tokens: 10,
    completion_tokens: 5,
    ...fields,
  };
}

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12); // 2026-11-01 12:00 UTC

/** The ledger store's contract, the same for every driver. */
export function describeLedgerStore(name: string, open: () => Promise<LedgerHarness>, options: { persistent: boolean }): void {
  describe(`the ${name} ledger store`, () => {
    let harness: LedgerHarness;
    let ledger: LedgerStore;
    beforeEach(async () => {
      harness = await open();
      ledger = harness.ledger;
    });
    afterEach(async () => {
      await ledger.close();
      await harness.cleanup?.();
    });

    const appendAll = async (lines: LedgerEntry[]) => {
      for (const entry of lines) await ledger.append(entry);
    };
    const allPages = async (accountId: string, query: Parameters<LedgerStore["page"]>[1] = {}) => {
      const seen: LedgerEntry[] = [];
      let after = query.after;
      for (;;) {
        const page = await ledger.page(accountId, { ...query, after });
        seen.push(...page.entries);
        if (!page.hasMore) return seen;
        expect(page.entries.length).toBe(query.limit ?? 100);
        after = page.entries.at(-1)!.id;
      }
    };

    it("pages an account's lines oldest first, by cursor, with has-more exact", async () => {
      const lines = Array.from({ length: 7 }, (_, i) => line("acct_1", T0 + i * 1000, { amount_micros: -(i + 1) }));
      await appendAll(lines);
      const first = await ledger.page("acct_1", { limit: 3 });
      expect(first.entries.map((e) => e.id)).toEqual(lines.slice(0, 3).map((e) => e.id));
      expect(first.hasMore).toBe(true);
      const last = await ledger.page("acct_1", { limit: 4, after: lines[2].id });
      expect(last.entries.map((e) => e.id)).toEqual(lines.slice(3).map((e) => e.id));
      expect(last.hasMore).toBe(false);
      expect(last.entries[0]).toEqual(lines[3]);
      expect(await allPages("acct_1", { limit: 2 })).toEqual(lines);
      expect(await ledger.page("acct_1", { after: lines[6].id })).toEqual({ entries: [], hasMore: false });
    });

    it("keeps the default page at 100 lines and refuses a page outside 1 to 1000", async () => {
      await appendAll(Array.from({ length: 120 }, (_, i) => line("acct_1", T0 + i)));
      const page = await ledger.page("acct_1");
      expect(page.entries).toHaveLength(100);
      expect(page.hasMore).toBe(true);
      await expect(ledger.page("acct_1", { limit: 0 })).rejects.toThrow(TypeError);
      await expect(ledger.page("acct_1", { limit: 1001 })).rejects.toThrow(TypeError);
    });

    it("filters by agent, key, model, thread, type and time, with the cursor", async () => {
      const lines = [
        line("acct_1", T0, { agent_id: "agt_a", model: "m/one" }),
        line("acct_1", T0 + 1000, { agent_id: "agt_b", key_id: "key_b", thread_id: "thread_b" }),
        line("acct_1", T0 + 2000, { agent_id: "agt_a", model: "m/two" }),
        line("acct_1", T0 + 3000, { type: "credit", amount_micros: 5000, agent_id: null, key_id: null, model: null, thread_id: null }),
        line("acct_1", T0 + 4000, { agent_id: "agt_a", model: "m/one" }),
      ];
      await appendAll(lines);
      const ids = async (query: Parameters<LedgerStore["page"]>[1]) => (await allPages("acct_1", query)).map((e) => e.id);
      expect(await ids({ agentId: "agt_a" })).toEqual([lines[0].id, lines[2].id, lines[4].id]);
      expect(await ids({ agentId: "agt_a", limit: 1 })).toEqual([lines[0].id, lines[2].id, lines[4].id]);
      expect(await ids({ keyId: "key_b" })).toEqual([lines[1].id]);
      expect(await ids({ model: "m/one" })).toEqual([lines[0].id, lines[4].id]);
      expect(await ids({ threadId: "thread_b" })).toEqual([lines[1].id]);
      expect(await ids({ type: "credit" })).toEqual([lines[3].id]);
      expect(await ids({ since: T0 + 1000, until: T0 + 3000 })).toEqual([lines[1].id, lines[2].id]);
      expect(await ids({ agentId: "agt_a", after: lines[0].id })).toEqual([lines[2].id, lines[4].id]);
      expect(await ids({ agentId: "nobody" })).toEqual([]);
    });

    it("writes a line whose id is already there once: a retried append changes nothing", async () => {
      const entry = line("acct_1", T0, { amount_micros: -250 });
      await ledger.append(entry);
      await ledger.append(entry);
      await ledger.append({ ...entry });
      expect((await ledger.page("acct_1")).entries).toEqual([entry]);
      expect(await ledger.total("acct_1")).toBe(-250);
      expect(await ledger.summarize("acct_1")).toEqual([{ lines: 1, prompt_tokens: 10, completion_tokens: 5, amount_micros: -250 }]);
    });

    it("totals each account's lines exactly, signed, and knows an account without lines", async () => {
      await appendAll([
        line("acct_1", T0, { type: "credit", amount_micros: 9_007_199_254_000_000 }),
        line("acct_1", T0 + 1, { amount_micros: -1 }),
        line("acct_2", T0 + 2, { amount_micros: -40 }),
      ]);
      expect(await ledger.total("acct_1")).toBe(9_007_199_253_999_999);
      expect(await ledger.total("acct_2")).toBe(-40);
      expect(await ledger.total("acct_3")).toBeNull();
      expect((await ledger.page("acct_3")).entries).toEqual([]);
      expect(await ledger.summarize("acct_3")).toEqual([]);
    });

    it("keeps accounts apart, whatever characters their ids hold", async () => {
      const odd = ["acct:1", "acct/1", "..", "acct 1", "{acct}", "acct%3A1"];
      for (const [i, accountId] of odd.entries()) await ledger.append(line(accountId, T0 + i, { amount_micros: -(i + 1) }));
      for (const [i, accountId] of odd.entries()) {
        const { entries } = await ledger.page(accountId);
        expect(entries.map((e) => e.amount_micros)).toEqual([-(i + 1)]);
        expect(await ledger.total(accountId)).toBe(-(i + 1));
      }
      expect(await ledger.total("acct")).toBeNull();
    });

    it("keeps a line's cache reads, cache writes and session, and sums the cache counts in the rollups", async () => {
      const cached = line("acct_1", T0, { prompt_tokens: 1200, cache_read_tokens: 1000, cache_write_tokens: 150, session_id: "sess-claude-1", amount_micros: -420 });
      const plain = line("acct_1", T0 + 1000, { model: "m/other", amount_micros: -9 });
      const later = line("acct_1", T0 + DAY_MS, { prompt_tokens: 600, cache_read_tokens: 500, amount_micros: -60 });
      await appendAll([cached, plain, later]);
      expect(await allPages("acct_1")).toEqual([cached, plain, later]);
      expect(await ledger.summarize("acct_1")).toEqual([{ lines: 3, prompt_tokens: 1810, completion_tokens: 15, cache_read_tokens: 1500, cache_write_tokens: 150, amount_micros: -489 }]);
      expect(await ledger.summarize("acct_1", { groupBy: ["day", "model"] })).toEqual([
        { day: "2026-11-01", model: "echo/echo", lines: 1, prompt_tokens: 1200, completion_tokens: 5, cache_read_tokens: 1000, cache_write_tokens: 150, amount_micros: -420 },
        { day: "2026-11-01", model: "m/other", lines: 1, prompt_tokens: 10, completion_tokens: 5, amount_micros: -9 },
        { day: "2026-11-02", model: "echo/echo", lines: 1, prompt_tokens: 600, completion_tokens: 5, cache_read_tokens: 500, amount_micros: -60 },
      ]);
      await expect(ledger.append(line("acct_1", T0, { cache_write_tokens: -1 }))).rejects.toThrow(TypeError);
      await expect(ledger.append(line("acct_1", T0, { session_id: "a\0b" }))).rejects.toThrow(TypeError);
    });

    it("sums a month from the daily rollups, grouped by day, agent, key, model and type", async () => {
      await appendAll([
        line("acct_1", T0, { agent_id: "agt_a", key_id: "key_a", model: "m/one", amount_micros: -10, prompt_tokens: 1, completion_tokens: 2 }),
        line("acct_1", T0 + 1000, { agent_id: "agt_a", key_id: "key_b", model: "m/one", amount_micros: -20, prompt_tokens: 3, completion_tokens: 4 }),
        line("acct_1", T0 + DAY_MS, { agent_id: "agt_b", key_id: "key_c", model: "m/two", amount_micros: -30, prompt_tokens: 5, completion_tokens: 6 }),
        line("acct_1", T0 + 2 * DAY_MS, { type: "credit", amount_micros: 1000, agent_id: null, key_id: null, model: null, thread_id: null, prompt_tokens: undefined, completion_tokens: undefined }),
        line("acct_2", T0, { amount_micros: -999 }),
      ]);
      expect(await ledger.summarize("acct_1")).toEqual([{ lines: 4, prompt_tokens: 9, completion_tokens: 12, amount_micros: 940 }]);
      expect(await ledger.summarize("acct_1", { groupBy: ["day"] })).toEqual([
        { day: "2026-11-01", lines: 2, prompt_tokens: 4, completion_tokens: 6, amount_micros: -30 },
        { day: "2026-11-02", lines: 1, prompt_tokens: 5, completion_tokens: 6, amount_micros: -30 },
        { day: "2026-11-03", lines: 1, prompt_tokens: 0, completion_tokens: 0, amount_micros: 1000 },
      ]);
      expect(await ledger.summarize("acct_1", { groupBy: ["agent", "type"] })).toEqual([
        { agent_id: null, type: "credit", lines: 1, prompt_tokens: 0, completion_tokens: 0, amount_micros: 1000 },
        { agent_id: "agt_a", type: "charge", lines: 2, prompt_tokens: 4, completion_tokens: 6, amount_micros: -30 },
        { agent_id: "agt_b", type: "charge", lines: 1, prompt_tokens: 5, completion_tokens: 6, amount_micros: -30 },
      ]);
      expect(await ledger.summarize("acct_1", { groupBy: ["key"], from: "2026-11-01", to: "2026-11-01" })).toEqual([
        { key_id: "key_a", lines: 1, prompt_tokens: 1, completion_tokens: 2, amount_micros: -10 },
        { key_id: "key_b", lines: 1, prompt_tokens: 3, completion_tokens: 4, amount_micros: -20 },
      ]);
      expect(await ledger.summarize("acct_1", { groupBy: ["model"], from: "2026-11-02" })).toEqual([
        { model: null, lines: 1, prompt_tokens: 0, completion_tokens: 0, amount_micros: 1000 },
        { model: "m/two", lines: 1, prompt_tokens: 5, completion_tokens: 6, amount_micros: -30 },
      ]);
      expect(await ledger.summarize("acct_1", { to: "2026-10-31" })).toEqual([]);
      await expect(ledger.summarize("acct_1", { from: "2026-13-01" })).rejects.toThrow(TypeError);
      await expect(ledger.summarize("acct_1", { groupBy: ["colour" as never] })).rejects.toThrow(TypeError);
    });

    it("pages lines appended out of order in id order", async () => {
      const lines = Array.from({ length: 6 }, (_, i) => line("acct_1", T0 + i * 10));
      await appendAll([lines[3], lines[0], lines[5], lines[1], lines[4], lines[2]]);
      expect((await allPages("acct_1", { limit: 4 })).map((e) => e.id)).toEqual(lines.map((e) => e.id));
    });

    it("refuses a line it cannot store or sum exactly, and changes nothing", async () => {
      const good = line("acct_1", T0);
      for (const bad of [
        { ...good, amount_micros: 0.5 },
        { ...good, amount_micros: Number.MAX_SAFE_INTEGER + 2 },
        { ...good, id: "" },
        { ...good, type: "refund" as never },
        { ...good, created_at: "yesterday" },
        { ...good, prompt_tokens: -1 },
        { ...good, thread_id: "thread_\u0000" },
        { ...good, id: "led_\u0000" },
      ]) {
        await expect(ledger.append(bad)).rejects.toThrow(TypeError);
      }
      expect(await ledger.total("acct_1")).toBeNull();
      expect((await ledger.page("acct_1")).entries).toEqual([]);
    });

    it("lands every one of many appends made at once, and totals them exactly", async () => {
      const lines = Array.from({ length: 300 }, (_, i) => line("acct_1", T0 + i, { amount_micros: -(i + 1), agent_id: `agt_${i % 3}` }));
      await Promise.all(lines.map((entry) => ledger.append(entry)));
      expect(await ledger.total("acct_1")).toBe(-(300 * 301) / 2);
      expect((await allPages("acct_1", { limit: 1000 })).map((e) => e.id)).toEqual(lines.map((e) => e.id));
      const byAgent = await ledger.summarize("acct_1", { groupBy: ["agent"] });
      expect(byAgent.map((row) => row.lines)).toEqual([100, 100, 100]);
    });

    it("finds the few lines a filter matches among many, page by page", async () => {
      const lines = Array.from({ length: 2500 }, (_, i) => line("acct_1", T0 + i, { agent_id: i % 1000 === 7 ? "agt_rare" : "agt_common" }));
      await Promise.all(lines.map((entry) => ledger.append(entry)));
      const rare = lines.filter((entry) => entry.agent_id === "agt_rare");
      expect(await allPages("acct_1", { agentId: "agt_rare", limit: 2 })).toEqual(rare);
      expect(await allPages("acct_1", { agentId: "agt_rare", limit: 1, after: rare[0].id })).toEqual(rare.slice(1));
    });

    it("pages after a cursor that is no line's id, from where it would sort", async () => {
      const lines = Array.from({ length: 4 }, (_, i) => line("acct_1", T0 + i * 1000));
      await appendAll(lines);
      expect((await ledger.page("acct_1", { after: `${lines[1].id}0` })).entries.map((e) => e.id)).toEqual([lines[2].id, lines[3].id]);
      expect((await ledger.page("acct_1", { after: "led_" })).entries.map((e) => e.id)).toEqual(lines.map((e) => e.id));
      expect((await ledger.page("acct_1", { after: "led_~" })).entries).toEqual([]);
    });

    it("orders pages by id and rolls up by the day of created_at, even when the two disagree", async () => {
      // Ids of day 1 written with a created_at two days later, and the other way round.
      const early = { ...line("acct_1", T0), created_at: new Date(T0 + 2 * DAY_MS).toISOString(), amount_micros: -1 };
      const late = { ...line("acct_1", T0 + 2 * DAY_MS), created_at: new Date(T0).toISOString(), amount_micros: -2 };
      const middle = line("acct_1", T0 + DAY_MS, { amount_micros: -4 });
      await appendAll([late, middle, early]);
      expect((await allPages("acct_1", { limit: 1 })).map((e) => e.id)).toEqual([early.id, middle.id, late.id]);
      expect((await allPages("acct_1", { limit: 1, after: early.id })).map((e) => e.id)).toEqual([middle.id, late.id]);
      expect((await ledger.summarize("acct_1", { groupBy: ["day"] })).map((row) => [row.day, row.amount_micros])).toEqual([
        ["2026-11-01", -2],
        ["2026-11-02", -4],
        ["2026-11-03", -1],
      ]);
      await ledger.append(early);
      expect(await ledger.total("acct_1")).toBe(-7);
    });

    it("keeps ids and fields with quotes, backslashes, newlines and any unicode but NUL as they were", async () => {
      const odd = [
        line("acct_1", T0, { id: 'led_"quoted"', model: 'm/"x"\\y' }),
        line("acct_1", T0 + 1, { id: "led_back\\slash\nline", thread_id: "thread\u2028\u0001é😀" }),
        line("acct_1", T0 + 2, { id: "led_é😀", agent_id: "agt_\n" }),
      ];
      await appendAll(odd);
      await ledger.append(odd[0]);
      const sorted = [...odd].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(await allPages("acct_1", { limit: 1 })).toEqual(sorted);
      expect((await ledger.page("acct_1", { after: sorted[0].id })).entries).toEqual(sorted.slice(1));
      expect(await ledger.total("acct_1")).toBe(-300);
      expect((await ledger.summarize("acct_1", { groupBy: ["agent"] })).map((row) => row.agent_id)).toEqual(["agt_\n", "agt_a"]);
    });

    it("reads whole lines in order while appends are under way", async () => {
      const lines = Array.from({ length: 600 }, (_, i) => line("acct_1", T0 + i, { amount_micros: -1 }));
      const writing = Promise.all(lines.map((entry) => ledger.append(entry)));
      const known = new Map(lines.map((entry) => [entry.id, entry]));
      for (let round = 0; round < 5; round++) {
        const seen = await allPages("acct_1", { limit: 1000 });
        expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort());
        for (const entry of seen) expect(entry).toEqual(known.get(entry.id));
        const [sum] = await ledger.summarize("acct_1");
        expect(sum === undefined || (sum.lines >= 0 && sum.amount_micros === -sum.lines)).toBe(true);
      }
      await writing;
      expect(await allPages("acct_1", { limit: 1000 })).toEqual(lines);
      expect(await ledger.total("acct_1")).toBe(-600);
    });

    // Registered only for drivers that keep data (no skipped test for the others).
    if (options.persistent) it("keeps lines, totals and rollups when it is closed and opened again", async () => {
      const lines = [line("acct_1", T0, { amount_micros: -7, cache_read_tokens: 4, session_id: "sess_1" }), line("acct_1", T0 + DAY_MS, { type: "credit", amount_micros: 70 })];
      await appendAll(lines);
      await ledger.close();
      ledger = await harness.reopen!();
      expect((await ledger.page("acct_1")).entries).toEqual(lines);
      expect(await ledger.total("acct_1")).toBe(63);
      expect(await ledger.summarize("acct_1", { groupBy: ["day"] })).toHaveLength(2);
      expect((await ledger.summarize("acct_1"))[0].cache_read_tokens).toBe(4);
      await ledger.append(lines[0]);
      expect(await ledger.total("acct_1")).toBe(63);
    });
  });
}

import type { Storage } from "unstorage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSortableId } from "../../src/ids";
import { UnreadableValueError } from "../../src/stores/record-shapes";
import { createRecords, type AgentRecord, type KeyRecord, type LedgerEntry, type Records, type ThreadRecord } from "../../src/stores/records";

/**
 * The storage conformance suite: every unstorage driver agentgate supports must pass it.
 * `makeStorage` returns a fresh, empty storage; `dispose` tears it down.
 */
export function testRecords(name: string, makeStorage: () => Promise<Storage> | Storage, dispose?: (storage: Storage) => Promise<void> | void) {
  describe(`records over ${name} storage`, () => {
    let storage: Storage;
    let records: Records;

    beforeEach(async () => {
      storage = await makeStorage();
      records = createRecords(storage);
    });
    afterEach(async () => {
      await dispose?.(storage);
    });

    it("stores, lists and deletes agents per account, never across accounts", async () => {
      const a1 = agent("agt_1", "acct_a", "2026-01-01T00:00:00.000Z");
      const a2 = agent("agt_2", "acct_a", "2026-01-02T00:00:00.000Z");
      const b1 = agent("agt_3", "acct_b", "2026-01-01T00:00:00.000Z");
      await Promise.all([records.putAgent(a2), records.putAgent(a1), records.putAgent(b1)]);
      expect((await records.listAgents("acct_a")).map((a) => a.id)).toEqual(["agt_1", "agt_2"]);
      expect((await records.listAgents("acct_b")).map((a) => a.id)).toEqual(["agt_3"]);
      expect(await records.getAgent("agt_2")).toEqual(a2);
      await records.deleteAgent(a1);
      expect(await records.getAgent("agt_1")).toBeNull();
      expect((await records.listAgents("acct_a")).map((a) => a.id)).toEqual(["agt_2"]);
    });

    it("keeps account ids with separators apart and finds nothing for ids a driver would refuse", async () => {
      const own = agent("agt_1", "org", "2026-01-01T00:00:00.000Z");
      const nested = agent("agt_2", "org:team", "2026-01-01T00:00:00.000Z");
      const email = agent("agt_3", "ops@example.com/../x?y", "2026-01-01T00:00:00.000Z");
      await Promise.all([records.putAgent(own), records.putAgent(nested), records.putAgent(email)]);
      expect((await records.listAgents("org")).map((a) => a.id)).toEqual(["agt_1"]);
      expect((await records.listAgents("org:team")).map((a) => a.id)).toEqual(["agt_2"]);
      expect((await records.listAgents("ops@example.com/../x?y")).map((a) => a.id)).toEqual(["agt_3"]);
      expect(await records.listAgents("ops@example.com")).toEqual([]);
      for (const id of ["../../admin-secret", "..", "a/b", "a:b", "x?y", "%41", "é"]) {
        expect(await records.getThread(id)).toBeNull();
        expect(await records.getAgent(id)).toBeNull();
      }
    });

    it("finds keys by digest only, lists them per agent and forgets them on delete", async () => {
      const k1 = key("key_1", "agt_1", "a".repeat(64));
      const k2 = key("key_2", "agt_1", "b".repeat(64));
      await records.putKey(k1);
      await records.putKey(k2);
      expect(await records.getKeyByDigest("a".repeat(64))).toEqual(k1);
      expect((await records.listKeys("agt_1")).map((k) => k.id).sort()).toEqual(["key_1", "key_2"]);
      expect(await records.listKeys("agt_other")).toEqual([]);
      await records.setKeyLastUsed("key_1", "2026-02-01T00:00:00.000Z");
      expect(await records.getKeyLastUsed("key_1")).toBe("2026-02-01T00:00:00.000Z");
      await records.deleteKey(k1);
      expect(await records.getKeyByDigest("a".repeat(64))).toBeNull();
      expect(await records.getKeyLastUsed("key_1")).toBeNull();
      expect((await records.listKeys("agt_1")).map((k) => k.id)).toEqual(["key_2"]);
    });

    it("keeps every index entry when many instances add keys to one agent at once", async () => {
      const instances = [createRecords(storage), createRecords(storage), records];
      const keys = Array.from({ length: 30 }, (_, i) => key(`key_${String(i).padStart(2, "0")}`, "agt_busy", i.toString(16).padStart(64, "0")));
      await Promise.all(keys.map((k, i) => instances[i % instances.length].putKey(k)));
      expect((await records.listKeys("agt_busy")).length).toBe(30);
    });

    it("stores threads with their messages and lists them per agent", async () => {
      const t1 = thread("thread_1", "agt_1", [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }]);
      const t2 = thread("thread_2", "agt_2", [{ role: "user", content: "yo" }]);
      await records.putThread(t1);
      await records.putThread(t2);
      expect(await records.getThread("thread_1")).toEqual(t1);
      expect((await records.listThreads("agt_1")).map((t) => t.id)).toEqual(["thread_1"]);
      await records.deleteThread(t1);
      expect(await records.getThread("thread_1")).toBeNull();
      expect(await records.listThreads("agt_1")).toEqual([]);
    });

    it("returns the ledger in time order, pages after an id and filters by agent", async () => {
      const entries: LedgerEntry[] = [];
      for (let i = 0; i < 5; i++) {
        entries.push({ id: createSortableId("led_"), account_id: "acct_a", type: "charge", amount_micros: -(i + 1), created_at: new Date().toISOString(), agent_id: i % 2 ? "agt_odd" : "agt_even" });
      }
      for (const entry of [...entries].reverse()) await records.appendLedger(entry);
      await records.appendLedger({ id: createSortableId("led_"), account_id: "acct_b", type: "credit", amount_micros: 9, created_at: new Date().toISOString() });
      expect((await records.listLedger("acct_a")).map((e) => e.amount_micros)).toEqual([-1, -2, -3, -4, -5]);
      expect((await records.listLedger("acct_a", { after: entries[1].id, limit: 2 })).map((e) => e.amount_micros)).toEqual([-3, -4]);
      expect((await records.listLedger("acct_a", { agentId: "agt_odd" })).map((e) => e.amount_micros)).toEqual([-2, -4]);
      expect((await records.listLedger("acct_b")).length).toBe(1);
    });

    it("keeps a written-through balance with the name of its writer", async () => {
      expect(await records.getStoredBalance("acct_a")).toBeNull();
      expect(await records.getStoredBalanceCopy("acct_a")).toBeNull();
      await records.putStoredBalance("acct_a", 1234, "memory:one");
      expect(await records.getStoredBalance("acct_a")).toBe(1234);
      expect(await records.getStoredBalanceCopy("acct_a")).toEqual({ micros: 1234, writer: "memory:one" });
    });

    it("signs a balance written without a writer with a name never used before", async () => {
      await records.putStoredBalance("acct_a", 5);
      const first = await records.getStoredBalanceCopy("acct_a");
      await records.putStoredBalance("acct_a", 5);
      const second = await records.getStoredBalanceCopy("acct_a");
      expect(first?.micros).toBe(5);
      expect(first?.writer).toMatch(/^unnamed:/);
      expect(second?.writer).not.toBe(first?.writer);
    });

    it("takes a torn or half-written value for a storage failure, never for a record or for nothing", async () => {
      await records.putAgent(agent("agt_1", "acct_a", "2026-01-01T00:00:00.000Z"));
      await records.putKey(key("key_1", "agt_1", "c".repeat(64)));
      await records.putThread(thread("thread_1", "agt_1", [{ role: "user", content: "hi" }]));
      // As a process killed mid-write leaves them: an empty file, a cut-off JSON text, fields missing.
      await storage.setItem("agents:agt_1", '{"id":"agt_1","acc');
      await storage.setItem(`keys:${"c".repeat(64)}`, { id: "key_1" });
      await storage.setItem("threads:thread_1", "");
      await storage.setItem("key-used:key_1", { at: 1 });
      await storage.setItem("balances:acct_a", '{"micros":12');
      await expect(records.getAgent("agt_1")).rejects.toThrow(/agents:agt_1, not an agent/);
      await expect(records.listAgents("acct_a")).rejects.toThrow(UnreadableValueError);
      await expect(records.getKeyByDigest("c".repeat(64))).rejects.toThrow(/a key record/);
      await expect(records.listKeys("agt_1")).rejects.toThrow(UnreadableValueError);
      await expect(records.getThread("thread_1")).rejects.toThrow(/threads:thread_1, not a thread/);
      await expect(records.listThreads("agt_1")).rejects.toThrow(UnreadableValueError);
      await expect(records.getKeyLastUsed("key_1")).rejects.toThrow(/a last-used time/);
      await expect(records.getStoredBalanceCopy("acct_a")).rejects.toThrow(/balances:acct_a, not a balance/);
      await expect(records.getStoredBalance("acct_a")).rejects.toThrow(UnreadableValueError);
      // Missing is still missing.
      expect(await records.getAgent("agt_2")).toBeNull();
      expect(await records.getStoredBalanceCopy("acct_b")).toBeNull();
    });

    it("reads a bare-number balance written before writers were named as a legacy copy", async () => {
      await records.storage.setItem("balances:acct_a", 777);
      expect(await records.getStoredBalanceCopy("acct_a")).toEqual({ micros: 777, writer: "legacy" });
      expect(await records.getStoredBalance("acct_a")).toBe(777);
    });
  });
}

// --- internal ---

function agent(id: string, account: string, created: string): AgentRecord {
  return { id, account_id: account, name: id, instructions: null, models: null, limits: null, created_at: created, updated_at: created };
}

function key(id: string, agentId: string, digest: string): KeyRecord {
  return { id, agent_id: agentId, account_id: "acct_a", name: id, start: "a2a_abcd", digest, created_at: new Date().toISOString(), expires_at: null };
}

function thread(id: string, agentId: string, messages: ThreadRecord["messages"]): ThreadRecord {
  const now = new Date().toISOString();
  return { id, agent_id: agentId, account_id: "acct_a", created_at: now, updated_at: now, messages };
}

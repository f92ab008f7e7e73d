import type { Storage } from "unstorage";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnreadableValueError } from "../../src/stores/record-shapes";
import { shardOf } from "../../src/stores/thread-records";
import { createRecords, type AgentRecord, type KeyRecord, type Records, type ThreadRecord } from "../../src/stores/records";

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

    it("keeps threads in 256 shards by id, and pages an agent's threads oldest first from its index", async () => {
      const threads = Array.from({ length: 7 }, (_, i) => ({ ...thread(`thread_${i}`, "agt_1", [{ role: "user", content: `m${i}` }]), created_at: `2026-01-0${i + 1}T00:00:00.000Z` }));
      for (const t of [...threads].reverse()) await records.putThread(t, null);
      await records.putThread(thread("thread_other", "agt_2", []), null);
      const keys = (await storage.getKeys("threads:")).sort();
      expect(keys).toHaveLength(8);
      for (const k of keys) expect(k).toMatch(/^threads:[0-9a-f]{2}:thread_\w+$/);
      const first = await records.pageThreads("agt_1", { limit: 3 });
      expect(first.threads.map((t) => t.id)).toEqual(["thread_0", "thread_1", "thread_2"]);
      expect(first.hasMore).toBe(true);
      const rest = await records.pageThreads("agt_1", { after: "thread_2", limit: 10 });
      expect(rest.threads.map((t) => t.id)).toEqual(["thread_3", "thread_4", "thread_5", "thread_6"]);
      expect(rest.hasMore).toBe(false);
      expect(rest.threads[0]).toEqual(threads[3]);
      expect((await records.pageThreads("agt_1", { after: "thread_unknown", limit: 10 })).threads).toEqual([]);
    });

    it("writes a continued thread's index entry only when the day of its last save changes", async () => {
      const t = { ...thread("thread_1", "agt_1", []), created_at: "2026-01-01T08:00:00.000Z", updated_at: "2026-01-01T08:00:00.000Z" };
      await records.putThread(t, null);
      const indexKey = (await storage.getKeys("agent-threads:agt_1:"))[0];
      const sameDay = { ...t, updated_at: "2026-01-01T20:00:00.000Z", messages: [{ role: "user" as const, content: "again" }] };
      await records.putThread(sameDay, t);
      expect(await storage.getItem(indexKey)).toEqual({ created_at: t.created_at, updated_at: t.updated_at });
      expect(await records.getThread("thread_1")).toEqual(sameDay);
      const nextDay = { ...sameDay, updated_at: "2026-01-02T01:00:00.000Z" };
      await records.putThread(nextDay, sameDay);
      expect(await storage.getItem(indexKey)).toEqual({ created_at: t.created_at, updated_at: nextDay.updated_at });
    });

    it("reads a thread agentgate 0.1 saved unsharded, lists it, and moves it to its shard when it is saved again", async () => {
      const old = thread("thread_old", "agt_1", [{ role: "user", content: "from 0.1" }]);
      await storage.setItem("threads:thread_old", old);
      await storage.setItem("agent-threads:agt_1:thread_old", 1);
      const read = await records.getThread("thread_old");
      expect(read).toEqual(old);
      expect((await records.pageThreads("agt_1", { limit: 10 })).threads).toEqual([old]);
      const next = { ...old, updated_at: new Date(Date.now() + 1000).toISOString() };
      await records.putThread(next, read);
      expect(await storage.hasItem("threads:thread_old")).toBe(false);
      expect(await records.getThread("thread_old")).toEqual(next);
      await records.deleteThread(next);
      expect(await records.getThread("thread_old")).toBeNull();
      expect(await storage.getKeys("agent-threads:agt_1:")).toEqual([]);
    });

    it("sweeps threads idle past the time to live, from the index, and keeps the rest", async () => {
      const now = Date.parse("2026-03-01T00:00:00.000Z");
      const at = (daysAgo: number) => new Date(now - daysAgo * 86_400_000).toISOString();
      const idle = { ...thread("thread_idle", "agt_1", []), created_at: at(40), updated_at: at(31) };
      const recent = { ...thread("thread_recent", "agt_1", []), created_at: at(40), updated_at: at(29) };
      const other = { ...thread("thread_other", "agt_2", []), created_at: at(90), updated_at: at(60) };
      for (const t of [idle, recent, other]) await records.putThread(t, null);
      // Saved again today, though its index entry is from its first day.
      const touched = { ...thread("thread_touched", "agt_1", []), created_at: at(45), updated_at: at(45) };
      await records.putThread(touched, null);
      await storage.setItem((await storage.getKeys("threads:")).find((k) => k.endsWith(":thread_touched"))!, { ...touched, updated_at: at(0) });
      expect(await records.sweepThreads(30 * 86_400, now)).toBe(2);
      expect(await records.getThread("thread_idle")).toBeNull();
      expect(await records.getThread("thread_other")).toBeNull();
      expect(await records.getThread("thread_recent")).not.toBeNull();
      expect(await records.getThread("thread_touched")).not.toBeNull();
      expect((await records.pageThreads("agt_1", { limit: 10 })).threads.map((t) => t.id).sort()).toEqual(["thread_recent", "thread_touched"]);
      expect(await records.pageThreads("agt_2", { limit: 10 })).toEqual({ threads: [], hasMore: false });
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
      await storage.setItem(`threads:${shardOf("thread_1")}:thread_1`, "");
      await storage.setItem("key-used:key_1", { at: 1 });
      await storage.setItem("balances:acct_a", '{"micros":12');
      await expect(records.getAgent("agt_1")).rejects.toThrow(/agents:agt_1, not an agent/);
      await expect(records.listAgents("acct_a")).rejects.toThrow(UnreadableValueError);
      await expect(records.getKeyByDigest("c".repeat(64))).rejects.toThrow(/a key record/);
      await expect(records.listKeys("agt_1")).rejects.toThrow(UnreadableValueError);
      await expect(records.getThread("thread_1")).rejects.toThrow(/threads:\w\w:thread_1, not a thread/);
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

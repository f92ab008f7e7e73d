import { describe, expect, it } from "vitest";
import { createGateway, echo } from "../../src/index";
import { createMemoryStorage } from "../../src/stores/memory-storage";
import { ledgerSum } from "../_billing";
import { ADMIN_SECRET, seedAgent } from "../_setup";

const chat = (gateway: ReturnType<typeof createGateway>, key: string, body: Record<string, unknown>) =>
  gateway.fetch(
    new Request("http://gateway.test/api/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hello there" }], ...body }),
    }),
  );

describe("the bounded memory storage", () => {
  it("evicts the least recently used threads past its count, with their index entries", async () => {
    const storage = createMemoryStorage({ maxThreads: 3 });
    const put = (id: string) => storage.setItem(`threads:00:${id}`, { id, agent_id: "agt_1" }).then(() => storage.setItem(`agent-threads:agt_1:${id}`, { created_at: "x", updated_at: "x" }));
    await put("t1");
    await put("t2");
    await put("t3");
    await storage.getItem("threads:00:t1"); // t1 used again: t2 is now the oldest
    await put("t4");
    expect((await storage.getKeys("threads:")).sort()).toEqual(["threads:00:t1", "threads:00:t3", "threads:00:t4"]);
    expect((await storage.getKeys("agent-threads:agt_1:")).sort()).toEqual(["agent-threads:agt_1:t1", "agent-threads:agt_1:t3", "agent-threads:agt_1:t4"]);
  });

  it("evicts a stored response with its entry in its thread's index, and leaves an entry whose document is gone alone once removed", async () => {
    const storage = createMemoryStorage({ maxThreads: 2 });
    const put = async (id: string) => {
      await storage.setItem(`responses:00:${id}`, { id, thread_id: "thread_1" });
      await storage.setItem(`thread-responses:thread_1:${id}`, { created_at: "x" });
    };
    await put("resp_1");
    await put("resp_2");
    await storage.removeItem("thread-responses:thread_1:resp_2");
    await put("resp_3");
    await put("resp_4");
    expect((await storage.getKeys("responses:")).sort()).toEqual(["responses:00:resp_3", "responses:00:resp_4"]);
    expect((await storage.getKeys("thread-responses:")).sort()).toEqual(["thread-responses:thread_1:resp_3", "thread-responses:thread_1:resp_4"]);
  });

  it("evicts past its size too, and keeps every document that is not a thread", async () => {
    const storage = createMemoryStorage({ maxThreadBytes: 1000 });
    await storage.setItem("agents:agt_1", { id: "agt_1", name: "x".repeat(5000) });
    for (let i = 0; i < 10; i++) await storage.setItem(`threads:00:t${i}`, { id: `t${i}`, agent_id: "agt_1", text: "y".repeat(300) });
    expect((await storage.getKeys("threads:")).length).toBeLessThanOrEqual(3);
    expect(await storage.getItem("threads:00:t9")).not.toBeNull();
    expect(await storage.hasItem("agents:agt_1")).toBe(true);
  });

  it("keeps a gateway's memory to its budget over many requests, with balances and totals exact and the newest threads alive", async () => {
    const warnings: string[] = [];
    const gateway = createGateway({
      admin: { secret: ADMIN_SECRET },
      providers: [echo()],
      memory: { maxThreads: 20, maxLedgerLines: 50 },
      logger: { warn: (message) => warnings.push(message), error: () => {} },
    });
    try {
      const { accountId, key } = await seedAgent(gateway, { creditMicros: 10_000_000 });
      const threadIds: string[] = [];
      for (let i = 0; i < 300; i++) {
        const response = await chat(gateway, key, {});
        expect(response.status).toBe(200);
        threadIds.push(response.headers.get("x-thread-id")!);
      }
      const storage = gateway.records.storage;
      expect((await storage.getKeys("threads:")).length).toBe(20);
      expect((await storage.getKeys("agent-threads:")).length).toBe(20);
      const kept = (await gateway.ledger.page(accountId, { limit: 1000 })).entries.length;
      expect(kept).toBeLessThanOrEqual(55);
      // The whole ledger's total still equals the balance, though most lines are gone.
      const { balance_micros } = await gateway.admin.getBilling(accountId);
      expect(await gateway.ledger.total(accountId)).toBe(balance_micros);
      expect(balance_micros).toBeLessThan(10_000_000);
      expect(await ledgerSum(gateway, accountId)).not.toBe(balance_micros);
      // The newest thread continues; the oldest was evicted.
      expect((await chat(gateway, key, { thread_id: threadIds.at(-1) })).status).toBe(200);
      expect((await chat(gateway, key, { thread_id: threadIds[0] })).status).toBe(404);
      expect(warnings.filter((warning) => warning.includes("memory") && warning.includes("for development only"))).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });
});

import { createStorage, defineDriver } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { ledgerSum, ledgerLines } from "../_billing";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";

/** A real unstorage driver over memory whose backend can be taken away, whole or for some keys. */
function outageStorage() {
  const inner = createStorage();
  const state = { down: false, failWrites: (_key: string) => false };
  const check = (key: string, write = false) => {
    if (state.down || (write && state.failWrites(key))) throw new Error(`ECONNREFUSED storage backend (${key})`);
  };
  const driver = defineDriver(() => ({
    name: "outage",
    hasItem: (key) => (check(key), inner.hasItem(key)),
    getItem: (key) => (check(key), inner.getItem(key)),
    getKeys: (base) => (check(base), inner.getKeys(base)),
    setItem: (key, value) => (check(key, true), inner.setItem(key, value)),
    removeItem: (key) => (check(key, true), inner.removeItem(key)),
  }));
  return { storage: createStorage({ driver: driver({}) }), state };
}

describe("failing closed when storage is unreachable", () => {
  const { storage, state } = outageStorage();
  let t: TestGateway;
  const logged: string[] = [];

  beforeAll(async () => {
    t = await startGateway({ storage, logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) } });
  });
  afterAll(() => t.close());

  const chat = (key: string, body: Record<string, unknown> = {}) =>
    fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hello" }], ...body }),
    });

  it("answers 503 service_unavailable with a clear message, then serves again by itself", async () => {
    const seeded = await seedAgent(t.gateway);
    const token = await signAdminToken(ADMIN_SECRET, seeded.accountId, { expiresIn: "1h" });
    state.down = true;
    try {
      const res = await chat(seeded.key);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      const { error } = await res.json();
      expect(error).toMatchObject({ type: "server_error", code: "service_unavailable" });
      expect(error.message).toMatch(/cannot reach its storage/);
      expect(error.message).not.toMatch(/ECONNREFUSED|\n\s+at /);
      const admin = await fetch(`${t.origin}/api/admin/agents`, { headers: { authorization: `Bearer ${token}` } });
      expect(admin.status).toBe(503);
      expect((await admin.json()).error.code).toBe("service_unavailable");
    } finally {
      state.down = false;
    }
    expect((await chat(seeded.key)).status).toBe(200);
    expect(logged.some((line) => line.includes("storage is unavailable"))).toBe(true);
  });

  it("finishes a settle whose writes failed once storage is back: one charge, one ledger line, the turn saved", async () => {
    const seeded = await seedAgent(t.gateway, { creditMicros: 1_000_000 });
    state.failWrites = (key) => key.startsWith("ledger:") || key.startsWith("threads:");
    let threadId: string;
    try {
      const res = await chat(seeded.key, { messages: [{ role: "user", content: "remember me" }] });
      // The answer exists and the client gets it; the bookkeeping catches up.
      expect(res.status).toBe(200);
      threadId = res.headers.get("x-thread-id")!;
      const billing = await t.gateway.admin.getBilling(seeded.accountId);
      expect(billing.balance_micros).toBeLessThan(1_000_000);
      expect(await ledgerSum(t.gateway, seeded.accountId)).toBe(1_000_000);
      // The lease is kept until the turn is saved: a follow-up waits rather than losing it.
      expect((await chat(seeded.key, { thread_id: threadId })).status).toBe(409);
    } finally {
      state.failWrites = () => false;
    }
    await expect.poll(() => ledgerSum(t.gateway, seeded.accountId), { timeout: 5000 }).toBe((await t.gateway.admin.getBilling(seeded.accountId)).balance_micros);
    await expect.poll(async () => (await chat(seeded.key, { thread_id: threadId, messages: [{ role: "user", content: "again" }] })).status, { timeout: 5000 }).toBe(200);
    const thread = await t.gateway.records.getThread(threadId);
    expect(thread!.messages.map((m) => m.content)).toEqual(["remember me", "remember me", "again", "again"]);
    const charges = (await ledgerLines(t.gateway, seeded.accountId)).filter((e) => e.type === "charge");
    expect(charges).toHaveLength(2);
    expect(await t.gateway.admin.getBilling(seeded.accountId)).toMatchObject({ reserved_micros: 0 });
  });
});

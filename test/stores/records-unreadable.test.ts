import { shardOf } from "../../src/stores/thread-records";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { digestKey } from "../../src/keys";
import { descriptorStarvedStorage } from "../_flaky-storage";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

// What a storage read hands back is data only when it has the shape of what was stored:
// an Error object (unstorage's fs drivers resolve EMFILE instead of rejecting), a torn
// file or a record missing its fields is a storage failure, answered 503 and logged,
// never a missing key (401), an empty balance (402) or a record made of garbage.

describe("a storage read that returns something other than a stored value", () => {
  const { storage, starve } = descriptorStarvedStorage();
  let seeded: Awaited<ReturnType<typeof seedAgent>>;
  let threadId: string;
  let adminToken: string;
  let t: TestGateway;
  const logged: string[] = [];

  beforeAll(async () => {
    // One gateway seeds a key with $500 of credit and a thread, then goes away; each case
    // starts a new one over the same storage, as a restart or another instance would, so
    // nothing is served from what a process already read.
    const first = await startGateway({ storage });
    seeded = await seedAgent(first.gateway, { creditMicros: 500_000_000 });
    const res = await chat(first, { messages: [{ role: "user", content: "hello" }] });
    expect(res.status).toBe(200);
    threadId = res.headers.get("x-thread-id")!;
    await first.close();
    adminToken = await signAdminToken(ADMIN_SECRET, seeded.accountId, { expiresIn: "1h" });
  });
  beforeEach(async () => {
    logged.length = 0;
    t = await startGateway({ storage, logger: { warn: (m, d) => logged.push(`${m} ${String(d ?? "")}`), error: (m, d) => logged.push(`${m} ${String(d ?? "")}`) } });
  });
  afterEach(async () => {
    starve(false);
    await t.close();
  });
  afterAll(() => starve(false));

  function chat(target: TestGateway, body: Record<string, unknown> = {}) {
    return fetch(`${target.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${seeded.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "again" }], ...body }),
    });
  }
  const admin = (path: string) => fetch(`${t.origin}/api/admin${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
  const keyDoc = () => `keys:${digestKey(seeded.key)}`;

  /** The new instance authenticates the key once, so its last-used time is not what a failed request changes. */
  async function useKeyOnce() {
    const at = Date.now() - 1;
    expect((await fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${seeded.key}` } })).status).toBe(200);
    await expect.poll(async () => Date.parse((await storage.getItem<string>(`key-used:${seeded.keyId}`)) ?? "")).toBeGreaterThanOrEqual(at);
  }

  async function expectUnavailable(res: Response, what: RegExp) {
    expect(res.status).toBe(503);
    const { error } = await res.json();
    expect(error).toMatchObject({ type: "server_error", code: "service_unavailable" });
    expect(error.message).not.toMatch(/EMFILE|\n\s+at /);
    expect(logged.some((line) => what.test(line)), logged.join("\n")).toBe(true);
    expect(logged.join("\n")).not.toContain(seeded.key);
  }

  /** Runs a request while reads of matching keys resolve an EMFILE Error; storage must not change. */
  async function whileStarved(match: (key: string) => boolean, request: () => Promise<Response>) {
    const before = await snapshotStorage(storage);
    starve(match);
    let res: Response;
    try {
      res = await request();
    } finally {
      starve(false);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await snapshotStorage(storage)).toEqual(before);
    return res;
  }

  /** Runs a request with one stored value replaced by `torn`, then puts the original back. */
  async function whileTorn(key: string, torn: unknown, request: () => Promise<Response>) {
    const original = await storage.getItem(key);
    await storage.setItem(key, torn as never);
    try {
      const before = await snapshotStorage(storage);
      const res = await request();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await snapshotStorage(storage)).toEqual(before);
      return res;
    } finally {
      await storage.setItem(key, original as never);
    }
  }

  it("answers 503, not 401, when the key record read resolves an EMFILE error", async () => {
    await expectUnavailable(await whileStarved((key) => key.startsWith("keys:"), () => chat(t)), /EMFILE/);
    expect((await chat(t)).status).toBe(200);
  });

  it("answers 503, not 401, when the agent read resolves an EMFILE error", async () => {
    await expectUnavailable(await whileStarved((key) => key.startsWith("agents:"), () => chat(t)), /EMFILE/);
  });

  it("answers 503, not 404, when the thread read resolves an EMFILE error", async () => {
    await useKeyOnce();
    await expectUnavailable(await whileStarved((key) => key.startsWith("threads:"), () => chat(t, { thread_id: threadId })), /EMFILE/);
    // The lease taken for the request was given back.
    expect((await chat(t, { thread_id: threadId })).status).toBe(200);
  });

  it("answers 503, not 402, when the stored balance read resolves an EMFILE error", async () => {
    await useKeyOnce();
    await expectUnavailable(await whileStarved((key) => key.startsWith("balances:"), () => chat(t)), /EMFILE/);
    expect((await chat(t)).status).toBe(200);
  });

  it("answers 503 for a key record torn by a killed process, or missing its fields", async () => {
    await expectUnavailable(await whileTorn(keyDoc(), '{"id":"key_', () => chat(t)), /key record/);
    const { digest: _digest, ...withoutDigest } = (await storage.getItem<Record<string, unknown>>(keyDoc()))!;
    await expectUnavailable(await whileTorn(keyDoc(), { ...withoutDigest, agent_id: 42 }, () => chat(t)), /key record/);
  });

  it("answers 503 for an agent torn by a killed process, or missing its fields", async () => {
    await expectUnavailable(await whileTorn(`agents:${seeded.agent.id}`, '{"id":', () => chat(t)), /agent/);
    await expectUnavailable(await whileTorn(`agents:${seeded.agent.id}`, { id: seeded.agent.id }, () => chat(t)), /agent/);
  });

  it("answers 503 for a thread torn by a killed process, or missing its messages", async () => {
    await useKeyOnce();
    await expectUnavailable(await whileTorn(`threads:${shardOf(threadId)}:${threadId}`, '{"id":"thread_', () => chat(t, { thread_id: threadId })), /thread/);
    const stored = (await storage.getItem<Record<string, unknown>>(`threads:${shardOf(threadId)}:${threadId}`))!;
    await expectUnavailable(await whileTorn(`threads:${shardOf(threadId)}:${threadId}`, { ...stored, messages: "none" }, () => chat(t, { thread_id: threadId })), /thread/);
  });

  it("answers 503 for a stored balance torn by a killed process, naming what to remove", async () => {
    await useKeyOnce();
    await expectUnavailable(await whileTorn(`balances:${seeded.accountId}`, '{"micros":49', () => chat(t)), /balances:.*ledger/);
  });

  it("answers the admin API's reads with 503 too", async () => {
    const agentPath = `/agents/${seeded.agent.id}`;
    const reads: Array<[string, (key: string) => boolean]> = [
      ["/agents", (key) => key.startsWith("agents:")],
      [agentPath, (key) => key.startsWith("agents:")],
      [`${agentPath}/keys`, (key) => key.startsWith("agent-keys:")],
      [`${agentPath}/keys`, (key) => key.startsWith("keys:")],
      [`${agentPath}/keys`, (key) => key.startsWith("key-used:")],
      [`${agentPath}/threads`, (key) => key.startsWith("threads:")],
      [`/threads/${threadId}`, (key) => key.startsWith("threads:")],
      ["/billing", (key) => key.startsWith("balances:")],
    ];
    for (const [path, match] of reads) {
      const res = await whileStarved(match, () => admin(path));
      expect(res.status, path).toBe(503);
      expect((await res.json()).error.code, path).toBe("service_unavailable");
    }
    expect(logged.some((line) => line.includes("EMFILE"))).toBe(true);
    expect((await admin(`${agentPath}/keys`)).status).toBe(200);
  });

  it("answers the admin API with 503 for a torn key-used time or index entry", async () => {
    const agentPath = `/agents/${seeded.agent.id}`;
    for (const [key, torn] of [
      [`key-used:${seeded.keyId}`, { at: 1 }],
      [`agent-keys:${seeded.agent.id}:${seeded.keyId}`, 12],
    ] as const) {
      const res = await whileTorn(key, torn, () => admin(`${agentPath}/keys`));
      expect(res.status, key).toBe(503);
    }
  });
});

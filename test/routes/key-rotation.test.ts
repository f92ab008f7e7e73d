import { createStorage, defineDriver } from "unstorage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { ADMIN_SECRET, seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

describe("key rotation", () => {
  let t: TestGateway;
  let token: string;
  let seeded: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    t = await startGateway();
    seeded = await seedAgent(t.gateway, { accountId: "acct_rotation" });
    token = await signAdminToken(ADMIN_SECRET, seeded.accountId, { expiresIn: "1h" });
  });
  afterAll(() => t.close());

  const rotate = async (keyId: string, body?: string) => {
    const res = await fetch(`${t.origin}/api/admin/agents/${seeded.agent.id}/keys/${keyId}/rotate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
      body,
    });
    return { status: res.status, json: await res.json() };
  };
  const models = (key: string) => fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${key}` } }).then((res) => res.status);
  const listed = async (keyId: string) => (await t.gateway.admin.listKeys(seeded.accountId, seeded.agent.id)).data.find((key) => key.id === keyId);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("keeps the old key's own expiry when the grace period would outlast it", async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "short", expires_at: expiresAt });
    const rotated = await rotate(old.id, JSON.stringify({ grace_seconds: 86_400 }));
    expect(rotated.status).toBe(201);
    // The new key inherits the expiry too: rotation replaces a key, it does not extend it.
    expect(rotated.json.expires_at).toBe(expiresAt);
    expect((await listed(old.id))?.expires_at).toBe(expiresAt);
    expect(await models(old.key)).toBe(200);
    await sleep(Date.parse(expiresAt) - Date.now() + 50);
    expect(await models(old.key)).toBe(401);
  });

  it("ends the old key after the grace period when that comes first", async () => {
    const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "long" });
    const before = Date.now();
    const rotated = await rotate(old.id, JSON.stringify({ grace_seconds: 1 }));
    expect(rotated.status).toBe(201);
    expect(rotated.json.expires_at).toBeNull();
    const graceEnd = Date.parse((await listed(old.id))!.expires_at!);
    expect(graceEnd).toBeGreaterThanOrEqual(before + 1000);
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await models(old.key)).toBe(200);
    await sleep(graceEnd - Date.now() + 50);
    expect(await models(old.key)).toBe(401);
    expect(await models(rotated.json.key)).toBe(200);
  });

  it("refuses to rotate an expired key with 400, so it cannot be revived, and writes nothing", async () => {
    const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "stale", expires_at: new Date(Date.now() + 50).toISOString() });
    await sleep(100);
    const before = await snapshotStorage(t.gateway.records.storage);
    for (const body of [JSON.stringify({ grace_seconds: 86_400 }), undefined]) {
      const res = await rotate(old.id, body);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: "invalid_request", type: "invalid_request_error" });
      expect(res.json.error.message).toContain("expired");
    }
    await expect(t.gateway.admin.rotateKey(seeded.accountId, seeded.agent.id, old.id, { grace_seconds: 60 })).rejects.toMatchObject({ status: 400 });
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    expect(await models(old.key)).toBe(401);
  });

  it("refuses a grace_seconds that is not a whole number from 0 to 30 days with 400, before writing anything", async () => {
    const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "kept" });
    const before = await snapshotStorage(t.gateway.records.storage);
    for (const grace of ["1e300", "-1", "1.5", '"60"', "true", "2592001", "[60]"]) {
      const res = await rotate(old.id, `{"grace_seconds": ${grace}}`);
      expect(res.status, grace).toBe(400);
      expect(res.json.error, grace).toMatchObject({ code: "invalid_request", param: "grace_seconds" });
    }
    for (const grace of [1e300, Number.NaN, Infinity, -5, 0.5]) {
      await expect(t.gateway.admin.rotateKey(seeded.accountId, seeded.agent.id, old.id, { grace_seconds: grace })).rejects.toMatchObject({ status: 400 });
    }
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    expect(await models(old.key)).toBe(200);
  });

  it("refuses a rotate body that is not JSON or has unknown fields with 400, and writes nothing", async () => {
    const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "typo" });
    const before = await snapshotStorage(t.gateway.records.storage);
    const garbled = await rotate(old.id, "{grace_seconds: 60");
    expect(garbled.status).toBe(400);
    expect(garbled.json.error.code).toBe("invalid_json");
    const misspelled = await rotate(old.id, JSON.stringify({ grace_second: 60 }));
    expect(misspelled.status).toBe(400);
    expect(misspelled.json.error.code).toBe("invalid_request");
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    expect(await models(old.key)).toBe(200);
  });

  it("rotates with no body, an empty body or 30 days of grace", async () => {
    for (const body of [undefined, "", "  ", "{}", JSON.stringify({ grace_seconds: 30 * 86_400 }), JSON.stringify({ grace_seconds: null })]) {
      const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "any" });
      const res = await rotate(old.id, body);
      expect(res.status, String(body)).toBe(201);
      expect(await models(res.json.key)).toBe(200);
      expect(await models(old.key)).toBe(body?.includes("2592000") ? 200 : 401);
    }
  });
});

describe("a rotation that storage refuses half-way", () => {
  it("takes the new key back, so the old key is unchanged and no unseen key is left", async () => {
    // A real memory driver that refuses writes to one chosen key, as a full disk might.
    const inner = createStorage();
    let refused = "";
    const driver = defineDriver(() => ({
      name: "refuses-one-key",
      hasItem: (key) => inner.hasItem(key),
      getItem: (key) => inner.getItem(key),
      getKeys: (base) => inner.getKeys(base),
      removeItem: (key) => inner.removeItem(key),
      async setItem(key, value) {
        if (key === refused) throw new Error("disk unavailable");
        await inner.setItem(key, value);
      },
    }));
    const t = await startGateway({ storage: createStorage({ driver: driver({}) }), logger: { warn() {}, error() {} } });
    try {
      const seeded = await seedAgent(t.gateway);
      const old = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "prod" });
      // The old key's lookup document is the write that fails.
      for (const key of await t.gateway.records.storage.getKeys("keys")) {
        if (((await t.gateway.records.storage.getItem(key)) as { id?: string } | null)?.id === old.id) refused = key;
      }
      const before = await snapshotStorage(t.gateway.records.storage);
      await expect(t.gateway.admin.rotateKey(seeded.accountId, seeded.agent.id, old.id, { grace_seconds: 60 })).rejects.toMatchObject({ status: 503 });
      expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
      expect((await t.gateway.admin.listKeys(seeded.accountId, seeded.agent.id)).data.map((key) => key.id).sort()).toEqual([old.id, seeded.keyId].sort());
      const status = (await fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${old.key}` } })).status;
      expect(status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

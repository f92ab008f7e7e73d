import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys";
import { seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

const body = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hello" }] });

describe("the auth step", () => {
  let t: TestGateway;
  let seeded: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    t = await startGateway();
    seeded = await seedAgent(t.gateway);
  });
  afterAll(() => t.close());

  const chat = (headers: Record<string, string>) => fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

  it("accepts the key as Authorization: Bearer", async () => {
    expect((await chat({ authorization: `Bearer ${seeded.key}` })).status).toBe(200);
  });

  it("accepts the key as X-API-Key", async () => {
    const res = await chat({ "x-api-key": seeded.key });
    expect(res.status).toBe(200);
    expect((await res.json()).choices[0].message.content).toBe("hello");
  });

  it("takes the a2a_ key from X-API-Key when Authorization carries something else, such as a proxy's token", async () => {
    expect((await chat({ authorization: "Bearer proxy-token", "x-api-key": seeded.key })).status).toBe(200);
    expect((await chat({ authorization: `Bearer ${seeded.key}`, "x-api-key": "something-else" })).status).toBe(200);
    expect((await chat({ authorization: "Bearer proxy-token", "x-api-key": "something-else" })).status).toBe(401);
  });

  it("gives every kind of bad key the same 401 invalid_api_key and changes nothing", async () => {
    const { key: neverStored } = generateKey();
    const wrongChecksum = seeded.key.slice(0, -1) + (seeded.key.endsWith("a") ? "b" : "a");
    const expired = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "old", expires_at: new Date(Date.now() + 50).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const deleted = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "gone" });
    await t.gateway.admin.deleteKey(seeded.accountId, seeded.agent.id, deleted.id);
    const before = await snapshotStorage(t.gateway.records.storage);

    const attempts: Array<[string, Record<string, string>]> = [
      ["missing", {}],
      ["empty bearer", { authorization: "Bearer " }],
      ["not a bearer", { authorization: `Basic ${seeded.key}` }],
      ["malformed", { authorization: "Bearer sk-123" }],
      ["wrong checksum", { authorization: `Bearer ${wrongChecksum}` }],
      ["unknown", { authorization: `Bearer ${neverStored}` }],
      ["expired", { authorization: `Bearer ${expired.key}` }],
      ["deleted", { "x-api-key": deleted.key }],
    ];
    const messages = new Set<string>();
    for (const [name, headers] of attempts) {
      const res = await chat(headers);
      expect(res.status, name).toBe(401);
      const json = await res.json();
      expect(json.error.code, name).toBe("invalid_api_key");
      expect(json.error.type, name).toBe("invalid_request_error");
      messages.add(json.error.message);
      for (const secret of [seeded.key, expired.key, deleted.key, neverStored]) expect(JSON.stringify(json)).not.toContain(secret.slice(4));
    }
    expect(messages.size).toBe(1);
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
  });

  it("stops a deleted key on the very next request", async () => {
    const k = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "short-lived" });
    expect((await chat({ authorization: `Bearer ${k.key}` })).status).toBe(200);
    await t.gateway.admin.deleteKey(seeded.accountId, seeded.agent.id, k.id);
    expect((await chat({ authorization: `Bearer ${k.key}` })).status).toBe(401);
  });

  it("stops every key of a deleted agent", async () => {
    const other = await seedAgent(t.gateway);
    expect((await chat({ authorization: `Bearer ${other.key}` })).status).toBe(200);
    await t.gateway.admin.deleteAgent(other.accountId, other.agent.id);
    expect((await chat({ authorization: `Bearer ${other.key}` })).status).toBe(401);
  });

  it("answers 404 model_not_found for a model the agent may not use, and lists only its models", async () => {
    const limited = await startGateway({ models: { "echo/other": { inputPerMTok: 0.1, outputPerMTok: 0.1 } }, providers: [(await import("../../src/providers/echo")).echo({ models: { "echo/echo": { inputPerMTok: 0.1, outputPerMTok: 0.4 }, "echo/other": { inputPerMTok: 0.1 } } })] });
    try {
      const s = await seedAgent(limited.gateway, { agent: { name: "narrow", models: ["echo/other"] } });
      const res = await fetch(`${limited.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${s.key}` }, body });
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("model_not_found");
      const models = await (await fetch(`${limited.baseURL}/models`, { headers: { authorization: `Bearer ${s.key}` } })).json();
      expect(models.data.map((m: { id: string }) => m.id)).toEqual(["echo/other"]);
    } finally {
      await limited.close();
    }
  });

  it("applies an agent's changed models and instructions on the very next request", async () => {
    const s = await seedAgent(t.gateway);
    const send = () => chat({ authorization: `Bearer ${s.key}` });
    expect((await send()).status).toBe(200);
    await t.gateway.admin.updateAgent(s.accountId, s.agent.id, { models: ["echo/other"] });
    expect((await send()).status).toBe(404);
    await t.gateway.admin.updateAgent(s.accountId, s.agent.id, { models: null, instructions: "twelve chars" });
    const res = await send();
    expect(res.status).toBe(200);
    // "twelve chars" + "hello" = 17 characters → 5 tokens: the new instructions were used.
    expect((await res.json()).usage.prompt_tokens).toBe(5);
  });

  it("records last use on first use and then at most once a minute", async () => {
    const k = await t.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "tracked" });
    const lastUsed = async () => (await t.gateway.admin.listKeys(seeded.accountId, seeded.agent.id)).data.find((x) => x.id === k.id)!.last_used_at;
    expect(await lastUsed()).toBeNull();
    await chat({ authorization: `Bearer ${k.key}` });
    await expect.poll(lastUsed).not.toBeNull();
    const first = await lastUsed();
    const writes: string[] = [];
    const storage = t.gateway.records.storage;
    const unwatch = await storage.watch((event, key) => event === "update" && key.startsWith("key-used:") && writes.push(key));
    for (let i = 0; i < 5; i++) await chat({ authorization: `Bearer ${k.key}` });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await unwatch();
    expect(writes).toEqual([]);
    expect(await lastUsed()).toBe(first);
  });
});

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { ADMIN_SECRET, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

describe("the admin API", () => {
  let t: TestGateway;
  let token: string;
  let otherToken: string;

  beforeAll(async () => {
    t = await startGateway();
    token = await signAdminToken(ADMIN_SECRET, "acct_admin_a", { expiresIn: "1h" });
    otherToken = await signAdminToken(ADMIN_SECRET, "acct_admin_b", { expiresIn: "1h" });
  });
  afterAll(() => t.close());

  const call = async (method: string, path: string, body?: unknown, bearer: string | null = token) => {
    const res = await fetch(`${t.origin}/api/admin${path}`, {
      method,
      headers: { ...(bearer && { authorization: `Bearer ${bearer}` }), ...(body !== undefined && { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };

  it("creates, lists, reads, changes and deletes agents", async () => {
    const created = await call("POST", "/agents", { name: "Support bot", instructions: "Be brief.", models: ["echo/echo"], limits: { requests_per_minute: 10 } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ object: "agent", name: "Support bot", instructions: "Be brief.", models: ["echo/echo"], limits: { requests_per_minute: 10 } });
    expect(created.json.id).toMatch(/^agt_/);
    expect(Date.parse(created.json.created_at)).not.toBeNaN();
    const id = created.json.id;

    const list = await call("GET", "/agents");
    expect(list.json.object).toBe("list");
    expect(list.json.data.map((a: { id: string }) => a.id)).toContain(id);

    const patched = await call("PATCH", `/agents/${id}`, { name: "Support", instructions: null });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ name: "Support", instructions: null, models: ["echo/echo"] });
    expect((await call("GET", `/agents/${id}`)).json.name).toBe("Support");

    expect((await call("DELETE", `/agents/${id}`)).status).toBe(204);
    expect((await call("GET", `/agents/${id}`)).status).toBe(404);
  });

  it("shows a new key once, then only its start, and never a digest", async () => {
    const agent = (await call("POST", "/agents", { name: "Keyed" })).json;
    const created = await call("POST", `/agents/${agent.id}/keys`, { name: "ci" });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(["agent_id", "created_at", "expires_at", "id", "key", "last_used_at", "name", "object", "start"]);
    expect(created.json.key).toMatch(/^a2a_[A-Za-z0-9]{36,}$/);
    expect(created.json.key.startsWith(created.json.start)).toBe(true);
    expect(created.json.last_used_at).toBeNull();

    const listed = await call("GET", `/agents/${agent.id}/keys`);
    expect(listed.json.data).toHaveLength(1);
    const text = JSON.stringify(listed.json);
    expect(text).not.toContain(created.json.key);
    expect(listed.json.data[0]).not.toHaveProperty("key");
    expect(listed.json.data[0]).not.toHaveProperty("digest");
    expect(listed.json.data[0]).toMatchObject({ id: created.json.id, start: created.json.start, name: "ci" });

    expect((await call("DELETE", `/agents/${agent.id}/keys/${created.json.id}`)).status).toBe(204);
    expect((await call("GET", `/agents/${agent.id}/keys`)).json.data).toEqual([]);
  });

  it("rotates a key: a new key with the same name, the old one revoked", async () => {
    const agent = (await call("POST", "/agents", { name: "Rotating" })).json;
    const old = (await call("POST", `/agents/${agent.id}/keys`, { name: "prod" })).json;
    const rotated = await call("POST", `/agents/${agent.id}/keys/${old.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.json).toMatchObject({ name: "prod" });
    expect(rotated.json.key).not.toBe(old.key);
    const chat = (key: string) => fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${key}` } });
    expect((await chat(old.key)).status).toBe(401);
    expect((await chat(rotated.json.key)).status).toBe(200);
  });

  it("validates bodies with an OpenAI-style 400 and creates nothing", async () => {
    const before = await snapshotStorage(t.gateway.records.storage);
    for (const body of [{}, { name: "" }, { name: 5 }, { name: "x", models: "all" }, { name: "x", limits: { requests_per_minute: -1 } }, { name: "x", surprise: true }]) {
      const res = await call("POST", "/agents", body);
      expect(res.status).toBe(400);
      expect(res.json.error.type).toBe("invalid_request_error");
    }
    const agentId = (await t.gateway.admin.createAgent("acct_admin_a", { name: "for keys" })).id;
    const afterAgent = await snapshotStorage(t.gateway.records.storage);
    expect((await call("POST", `/agents/${agentId}/keys`, { name: "k", expires_at: "tomorrow" })).status).toBe(400);
    const past = await call("POST", `/agents/${agentId}/keys`, { name: "k", expires_at: "2020-01-01T00:00:00Z" });
    expect(past.status).toBe(400);
    expect(past.json.error.param).toBe("expires_at");
    expect((await call("POST", `/agents/${agentId}/keys`, {})).status).toBe(400);
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(afterAgent);
    expect(Object.keys(afterAgent).length).toBeGreaterThan(Object.keys(before).length);
  });

  it("refuses a missing, badly signed, expired or never-expiring token with 401 and changes nothing", async () => {
    const before = await snapshotStorage(t.gateway.records.storage);
    const forged = await signAdminToken("some-other-secret-of-enough-length", "acct_admin_a", { expiresIn: "1h" });
    const expired = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("acct_admin_a").setIssuedAt(1_000_000).setExpirationTime(1_000_060).sign(new TextEncoder().encode(ADMIN_SECRET));
    const noSub = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(new TextEncoder().encode(ADMIN_SECRET));
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("acct_admin_a").sign(new TextEncoder().encode(ADMIN_SECRET));
    for (const bearer of [null, "garbage", forged, expired, noSub, noExp]) {
      const res = await call("POST", "/agents", { name: "nope" }, bearer);
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("invalid_admin_token");
    }
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
  });

  it("answers 404 for another account's agents, keys and threads, and changes nothing", async () => {
    const agent = (await call("POST", "/agents", { name: "Mine" })).json;
    const key = (await call("POST", `/agents/${agent.id}/keys`, { name: "mine" })).json;
    await t.gateway.admin.credit("acct_admin_a", 1_000_000);
    const chat = await (await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key.key}` }, body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }) })).json();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = await snapshotStorage(t.gateway.records.storage);
    const attempts: Array<[string, string, unknown?]> = [
      ["GET", `/agents/${agent.id}`],
      ["PATCH", `/agents/${agent.id}`, { name: "stolen" }],
      ["DELETE", `/agents/${agent.id}`],
      ["GET", `/agents/${agent.id}/keys`],
      ["POST", `/agents/${agent.id}/keys`, { name: "backdoor" }],
      ["DELETE", `/agents/${agent.id}/keys/${key.id}`],
      ["POST", `/agents/${agent.id}/keys/${key.id}/rotate`],
      ["GET", `/agents/${agent.id}/threads`],
      ["GET", `/threads/${chat.thread_id}`],
      ["DELETE", `/threads/${chat.thread_id}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, body, otherToken);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
    expect((await call("GET", "/agents", undefined, otherToken)).json.data).toEqual([]);
    expect((await call("GET", "/usage", undefined, otherToken)).json.data).toEqual([]);
    expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    // The owner still sees everything.
    expect((await call("GET", `/threads/${chat.thread_id}`)).json.messages).toHaveLength(2);
    expect((await call("GET", `/agents/${agent.id}/threads`)).json.data.map((x: { id: string }) => x.id)).toEqual([chat.thread_id]);
  });

  it("needs the billing:credit scope to credit, and shows balance and usage", async () => {
    expect((await call("POST", "/billing/credit", { amount_micros: 500 })).status).toBe(403);
    const payment = await signAdminToken(ADMIN_SECRET, "acct_admin_c", { scopes: ["billing:credit"], expiresIn: "5m" });
    expect((await call("POST", "/billing/credit", { amount_micros: -5 }, payment)).status).toBe(400);
    const credited = await call("POST", "/billing/credit", { amount_micros: 2500 }, payment);
    expect(credited.status).toBe(200);
    expect(credited.json).toEqual({ balance_micros: 2500, reserved_micros: 0 });
    expect((await call("GET", "/billing", undefined, payment)).json).toEqual({ balance_micros: 2500, reserved_micros: 0 });
    const usage = await call("GET", "/usage", undefined, payment);
    expect(usage.json.data).toMatchObject([{ type: "credit", amount_micros: 2500 }]);
  });

  it("lists an agent's threads oldest first, a page at a time", async () => {
    const agent = (await call("POST", "/agents", { name: "Chatty" })).json;
    const key = (await call("POST", `/agents/${agent.id}/keys`, { name: "k" })).json;
    await t.gateway.admin.credit("acct_admin_a", 1_000_000);
    const threadIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key.key}` }, body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: `hi ${i}` }] }) });
      threadIds.push((await res.json()).thread_id);
    }
    const pages: string[] = [];
    let after = "";
    for (let page = 0; page < 5; page++) {
      const res = (await call("GET", `/agents/${agent.id}/threads?limit=2${after ? `&after=${after}` : ""}`)).json;
      expect(res.object).toBe("list");
      expect(res.data.length).toBeLessThanOrEqual(2);
      pages.push(...res.data.map((thread: { id: string }) => thread.id));
      if (!res.has_more) break;
      after = res.data.at(-1).id;
    }
    const whole = (await call("GET", `/agents/${agent.id}/threads`)).json;
    expect(whole.has_more).toBe(false);
    // Oldest first (threads made in the same millisecond fall back to id order).
    expect(whole.data.map((thread: { created_at: string }) => thread.created_at)).toEqual(whole.data.map((thread: { created_at: string }) => thread.created_at).sort());
    expect(pages).toEqual(whole.data.map((thread: { id: string }) => thread.id));
    expect([...pages].sort()).toEqual([...threadIds].sort());
    expect((await call("GET", `/agents/${agent.id}/threads?limit=0`)).status).toBe(400);
  });

  it("deletes a thread", async () => {
    const agent = (await call("POST", "/agents", { name: "Forgetful" })).json;
    const key = (await call("POST", `/agents/${agent.id}/keys`, { name: "k" })).json;
    await t.gateway.admin.credit("acct_admin_a", 1_000_000);
    const chat = await (await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key.key}` }, body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }) })).json();
    expect((await call("DELETE", `/threads/${chat.thread_id}`)).status).toBe(204);
    expect((await fetch(`${t.baseURL}/threads/${chat.thread_id}`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(404);
  });
});

describe("admin tokens from a JWKS URL or the host's own verify()", () => {
  it("accepts RS256 tokens signed by a key in the JWKS and refuses others", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwks = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    const t = await startGateway({ admin: { jwks: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` } });
    try {
      const good = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("acct_jwks").setExpirationTime("5m").sign(privateKey);
      const other = await generateKeyPair("RS256");
      const bad = await new SignJWT({}).setProtectedHeader({ alg: "RS256", kid: "k1" }).setSubject("acct_jwks").setExpirationTime("5m").sign(other.privateKey);
      const list = (bearer: string) => fetch(`${t.origin}/api/admin/agents`, { headers: { authorization: `Bearer ${bearer}` } });
      expect((await list(good)).status).toBe(200);
      expect((await list(bad)).status).toBe(401);
    } finally {
      await t.close();
      jwks.close();
    }
  });

  it("uses the host's verify() to map a token to an account", async () => {
    const t = await startGateway({ admin: { verify: (token) => (token === "let-me-in" ? { accountId: "acct_host", scopes: [] } : null) } });
    try {
      const create = (bearer: string) => fetch(`${t.origin}/api/admin/agents`, { method: "POST", headers: { authorization: `Bearer ${bearer}` }, body: JSON.stringify({ name: "hosted" }) });
      expect((await create("let-me-in")).status).toBe(201);
      expect((await create("nope")).status).toBe(401);
      expect((await t.gateway.admin.listAgents("acct_host")).data.map((a) => a.name)).toEqual(["hosted"]);
    } finally {
      await t.close();
    }
  });
});

import OpenAI, { APIError, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { signAdminToken } from "../src/admin/token";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsStorage } from "../src/fs";
import { createGateway, createRedisLedger, echo, type Gateway, type GatewayOptions } from "../src/index";
import { startRedisCluster, type RedisCluster } from "./_redis-cluster";
import { ledgerSum, ledgerLines } from "./_billing";
import { startGatewayProcess, type GatewayProcess } from "./_processes";
import { ADMIN_SECRET } from "./_setup";

// No input price and max_tokens equal to echo's answer: a request's worst case is exactly
// its real cost (2 output tokens at 1 micro-USD), so the balance covers exactly N requests.
const MODELS = { "echo/echo": { inputPerMTok: 0, outputPerMTok: 1, maxOutputTokens: 50 } };
const REQUEST = { model: "echo/echo", max_tokens: 2, messages: [{ role: "user" as const, content: "abcdefgh" }] };

/** Where the processes keep what they share: env for the fixture, and the same stores for the local instance. */
interface Shared {
  env: Record<string, string>;
  local: Partial<GatewayOptions>;
  stop?(): Promise<void>;
}

const targets: Array<[string, (prefix: string) => Promise<Shared>]> = [
  ["on one Redis", async (prefix) => ({ env: { REDIS_URL: inject("redisUrl") }, local: { redis: inject("redisUrl"), redisPrefix: prefix } })],
  [
    // The Cluster keeps the money (atomics, ledger); the documents are files all three share.
    "on a three-master Redis Cluster",
    async (prefix) => {
      const cluster: RedisCluster = await startRedisCluster();
      const dir = mkdtempSync(join(tmpdir(), "agentgate-procs-cluster-"));
      return {
        env: { REDIS_URL: cluster.urls.join(","), STORAGE_DIR: dir },
        local: { redis: cluster.urls, redisPrefix: prefix, storage: createFsStorage({ dir }), ledger: createRedisLedger({ redis: cluster.urls, prefix }), logger: { warn() {}, error() {}, info() {} } as never },
        async stop() {
          await cluster.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  ],
];

describe.each(targets)("two gateway processes %s", (_name, share) => {
  const prefix = `procs-${process.pid}-${Date.now().toString(36)}:`;
  let one: GatewayProcess;
  let two: GatewayProcess;
  // A third instance in this process, to seed and to look: it shares everything through Redis.
  let local: Gateway;
  let shared: Shared;

  beforeAll(async () => {
    shared = await share(prefix);
    const env = { ...shared.env, REDIS_PREFIX: prefix, ADMIN_SECRET, GATEWAY_OPTIONS: JSON.stringify({ models: MODELS }) };
    [one, two] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    local = createGateway({ ...shared.local, providers: [echo()], models: MODELS });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await local?.close();
    await shared?.stop?.();
  });

  /** Fires `count` requests at once, alternating processes, with the openai SDK; returns statuses. */
  const fire = async (key: string, count: number) => {
    const clients = [one, two].map((p) => new OpenAI({ apiKey: key, baseURL: p.baseURL, maxRetries: 0 }));
    const errors: unknown[] = [];
    const statuses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        clients[i % 2].chat.completions.create(REQUEST).then(
          () => 200,
          (error: unknown) => (errors.push(error), error instanceof APIError ? (error.status ?? -1) : -1),
        ),
      ),
    );
    return { statuses, errors, count: (status: number) => statuses.filter((s) => s === status).length };
  };

  it("credited for exactly N requests, admits N of 3N fired at once; the balance never goes below zero and equals the ledger", async () => {
    const N = 100;
    const accountId = `acct_money_${Date.now()}`;
    const agent = await local.admin.createAgent(accountId, { name: "Spender" });
    const { key } = await local.admin.createKey(accountId, agent.id, { name: "k" });
    await local.admin.credit(accountId, N * 2);

    const samples: Array<{ balance_micros: number; reserved_micros: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) samples.push(await local.admin.getBilling(accountId));
    })();
    const result = await fire(key, 3 * N);
    sampling = false;
    await sampler;

    expect(result.count(200)).toBe(N);
    expect(result.count(402)).toBe(2 * N);
    expect(result.errors.every((e) => e instanceof APIError && e.code === "insufficient_balance")).toBe(true);
    expect(samples.length).toBeGreaterThan(0);
    for (const sample of samples) {
      expect(sample.balance_micros).toBeGreaterThanOrEqual(0);
      expect(sample.balance_micros - sample.reserved_micros).toBeGreaterThanOrEqual(0);
    }
    expect(await local.admin.getBilling(accountId)).toEqual({ balance_micros: 0, reserved_micros: 0 });
    expect(await ledgerSum(local, accountId)).toBe(0);
    const charges = (await ledgerLines(local, accountId)).filter((e) => e.type === "charge");
    expect(charges).toHaveLength(N);
  });

  it("with a limit of R per minute, admits exactly R across both processes", async () => {
    const R = 20;
    const accountId = `acct_rate_${Date.now()}`;
    const agent = await local.admin.createAgent(accountId, { name: "Limited", limits: { requests_per_minute: R } });
    const { key } = await local.admin.createKey(accountId, agent.id, { name: "k" });
    await local.admin.credit(accountId, 1_000_000);

    const result = await fire(key, 200);
    expect(result.count(200)).toBe(R);
    expect(result.count(429)).toBe(200 - R);
    const limited = result.errors.filter((e): e is RateLimitError => e instanceof RateLimitError);
    expect(limited).toHaveLength(200 - R);
    expect(Number(limited[0].headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited[0].headers.get("x-ratelimit-limit-requests")).toBe(String(R));
  });

  it("stops a key deleted through one process on the other's very next request, and a credit through one works on the other", async () => {
    const accountId = `acct_keys_${Date.now()}`;
    const token = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h" });
    const payments = await signAdminToken(ADMIN_SECRET, accountId, { expiresIn: "1h", scopes: ["billing:credit"] });
    const admin = (p: GatewayProcess, method: string, path: string, body?: unknown, bearer = token) =>
      fetch(`${p.origin}/api/admin${path}`, { method, headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const chat = (p: GatewayProcess, key: string) =>
      fetch(`${p.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(REQUEST) });

    const agent = await (await admin(one, "POST", "/agents", { name: "Revocable" })).json();
    const created = await (await admin(one, "POST", `/agents/${agent.id}/keys`, { name: "k" })).json();
    expect((await chat(two, created.key)).status).toBe(402);
    expect((await admin(one, "POST", "/billing/credit", { amount_micros: 1000 }, payments)).status).toBe(200);
    expect((await chat(two, created.key)).status).toBe(200);

    expect((await admin(one, "DELETE", `/agents/${agent.id}/keys/${created.id}`)).status).toBe(204);
    const after = await chat(two, created.key);
    expect(after.status).toBe(401);
    expect((await after.json()).error.code).toBe("invalid_api_key");

    const expiring = await (await admin(two, "POST", `/agents/${agent.id}/keys`, { name: "short", expires_at: new Date(Date.now() + 1500).toISOString() })).json();
    expect((await chat(one, expiring.key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expiring.expires_at) - Date.now() + 50));
    expect((await chat(one, expiring.key)).status).toBe(401);
    expect((await chat(two, expiring.key)).status).toBe(401);
  });

  it("kept both processes alive and quiet", () => {
    expect(one.child.exitCode).toBeNull();
    expect(two.child.exitCode).toBeNull();
    expect(one.stderr() + two.stderr()).toBe("");
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, echo, type Gateway } from "../src/index";
import { ledgerSum, ledgerLines } from "./_billing";
import { startGatewayProcess, type GatewayProcess } from "./_processes";
import { startRedis, type RedisServer } from "./_redis";
import { ADMIN_SECRET } from "./_setup";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("Redis stopped under load, then started again", () => {
  let redis: RedisServer;
  let gateway: GatewayProcess;
  let local: Gateway;
  const prefix = "outage:";

  beforeAll(async () => {
    // Its own server, persistent like a production Redis, so this test may kill it.
    redis = await startRedis({ persistent: true });
    gateway = await startGatewayProcess({
      REDIS_URL: redis.url,
      REDIS_PREFIX: prefix,
      ADMIN_SECRET,
      ECHO_DELAY_MS: "10",
      GATEWAY_OPTIONS: JSON.stringify({ limits: { requestsPerMinute: 100_000, tokensPerMinute: 10_000_000 } }),
    });
    local = createGateway({ redis: redis.url, redisPrefix: prefix, providers: [echo()], logger: { warn() {}, error() {} } });
  });
  afterAll(async () => {
    await gateway?.stop();
    await local?.close();
    await redis?.stop();
  });

  it("answers 503 while it is down, never crashes or leaks a reservation, and serves again by itself", async () => {
    const accountId = "acct_outage";
    const agent = await local.admin.createAgent(accountId, { name: "Busy" });
    const { key } = await local.admin.createKey(accountId, agent.id, { name: "k" });
    await local.admin.credit(accountId, 10_000_000);

    let running = true;
    const results: Array<{ started: number; ended: number; status: number; body: string }> = [];
    const worker = async () => {
      while (running) {
        const started = performance.now();
        const outcome = await fetch(`${gateway.baseURL}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: "one two three four five six seven eight" }] }),
        }).then(
          async (res) => ({ status: res.status, body: await res.text() }),
          (error: unknown) => ({ status: -1, body: String(error) }),
        );
        results.push({ started, ended: performance.now(), ...outcome });
        if (outcome.status !== 200) await sleep(20);
      }
    };
    const workers = Array.from({ length: 16 }, worker);

    // Under way first (a busy machine may take a while to answer the first requests).
    await expect.poll(() => results.filter((r) => r.status === 200).length, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(16);
    const stoppedAt = performance.now();
    await redis.stop();
    await sleep(1500);
    const restartedAt = performance.now();
    await redis.restart();
    const servedAgain = () => results.filter((r) => r.started > restartedAt && r.status === 200).length;
    await expect.poll(servedAgain, { timeout: 15_000, interval: 100 }).toBeGreaterThanOrEqual(20);
    running = false;
    await Promise.all(workers);

    const before = results.filter((r) => r.ended < stoppedAt);
    const during = results.filter((r) => r.started > stoppedAt && r.ended < restartedAt);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((r) => r.status === 200)).toBe(true);
    // Fail closed: while Redis is gone nothing is admitted, and the refusal is quick.
    expect(during.length).toBeGreaterThan(16);
    expect(during.every((r) => r.status === 503)).toBe(true);
    // Quick means well under the 2 s command timeout a hanging client would wait (with room for a busy CI machine).
    expect(Math.max(...during.map((r) => r.ended - r.started))).toBeLessThan(1500);
    // Requests in flight at either edge get 200 or 503, never a 500 or a dropped connection.
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([200, 503]));
    for (const r of results) {
      if (r.status === 200) expect(r.body.trimEnd().endsWith("data: [DONE]")).toBe(true);
      else expect(JSON.parse(r.body).error).toMatchObject({ code: "service_unavailable", type: "server_error" });
    }
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.stderr()).not.toMatch(/Unhandled|TypeError|ReferenceError|\n\s+at /);

    // Settles that could not reach Redis finish once it is back: nothing held, every charge in the ledger.
    // The charge and its ledger line are two writes (Redis atomics, then storage), each
    // retried on its own reconnect, so the ledger may trail the balance for a moment.
    const served = results.filter((r) => r.status === 200).length;
    const books = async () => {
      const billing = await local.admin.getBilling(accountId);
      const charges = (await ledgerLines(local, accountId)).filter((e) => e.type === "charge");
      return { reserved: billing.reserved_micros, ledgerMatchesBalance: (await ledgerSum(local, accountId)) === billing.balance_micros, charges: charges.length };
    };
    await expect.poll(books, { timeout: 15_000, interval: 200 }).toEqual({ reserved: 0, ledgerMatchesBalance: true, charges: served });
  });
});

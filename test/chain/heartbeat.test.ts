import { Redis } from "ioredis";
import { createStorage } from "unstorage";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createGateway, echo, type GatewayOptions } from "../../src/index";
import { createAPIError } from "../../src/errors";
import { defineProvider } from "../../src/providers/_define";
import { createHeartbeats, keepWhileRetried } from "../../src/chain/heartbeat";
import type { Logger } from "../../src/runtime";
import type { Atomics } from "../../src/stores/atomics";
import { createMemoryAtomics } from "../../src/stores/memory-atomics";
import { ledgerLines, ledgerSum } from "../_billing";
import { startRedis, type RedisServer } from "../_redis";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

// Leases and holds live one TTL (1.5 s here, beats every 0.5 s) unless renewed; echo
// streams a word every 100 ms, so a stream of N words runs N × 100 ms.
const TTL = 1500;
const WORD_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const words = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" ");

const broken = defineProvider({
  id: "broken",
  models: { "broken/model": { inputPerMTok: 1, outputPerMTok: 1 } },
  chat() {
    throw createAPIError({ code: "upstream_error", message: "The broken provider failed." });
  },
});

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), error: () => {} };
}

/** Chat through the gateway's HTTP server; `signal` lets a test leave mid-stream. */
function chat(t: TestGateway, key: string, body: object, signal?: AbortSignal) {
  return fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", ...body }), signal });
}

/** A streamed request whose first bytes have arrived; `done` is the whole body. */
async function startStream(t: TestGateway, key: string, body: object, signal?: AbortSignal) {
  const res = await chat(t, key, { stream: true, ...body }, signal);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value);
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { done };
}

/** A thread with one quick turn saved, to continue. */
async function openThread(t: TestGateway, key: string): Promise<string> {
  const res = await chat(t, key, { messages: [{ role: "user", content: "hello" }] });
  expect(res.status).toBe(200);
  return (await res.json()).thread_id;
}

const drivers: Array<[string, () => Partial<GatewayOptions>]> = [
  ["in-process", () => ({})],
  ["Redis", () => ({ redis: inject("redisUrl"), redisPrefix: `heartbeat-${process.pid}-${Math.random().toString(36).slice(2, 8)}:` })],
];

describe.each(drivers)("a stream that runs for several lease TTLs (%s atomics)", (_name, driver) => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startGateway({ providers: [echo({ delayMs: 100 })], holdTtlMs: TTL, ...driver() });
  });
  afterAll(() => t.close());

  it("keeps its lease and its hold: every other request on its thread gets 409 throughout, and it is charged once at the end", async () => {
    const { accountId, key } = await seedAgent(t.gateway);
    const threadId = await openThread(t, key);
    const before = await t.gateway.admin.getBilling(accountId);

    const started = performance.now();
    const count = (3 * TTL) / WORD_MS;
    const stream = await startStream(t, key, { thread_id: threadId, messages: [{ role: "user", content: words(count) }] });
    const probes: Array<{ at: number; status: number; reserved: number }> = [];
    // The stream cannot end before three TTLs: probe until two and a half.
    while (performance.now() - started < 2.5 * TTL) {
      const busy = await chat(t, key, { thread_id: threadId, messages: [{ role: "user", content: "me too" }] });
      probes.push({ at: performance.now() - started, status: busy.status, reserved: (await t.gateway.admin.getBilling(accountId)).reserved_micros });
      await sleep(150);
    }
    const body = await stream.done;
    expect(performance.now() - started).toBeGreaterThanOrEqual(3 * TTL);

    expect(probes.length).toBeGreaterThanOrEqual(5);
    expect(probes.at(-1)!.at).toBeGreaterThan(2 * TTL);
    expect(probes.every((probe) => probe.status === 409)).toBe(true);
    expect(probes[0].reserved).toBeGreaterThan(0);
    expect(probes.every((probe) => probe.reserved === probes[0].reserved)).toBe(true);
    expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(body).not.toContain('"error"');

    const after = await t.gateway.admin.getBilling(accountId);
    expect(after.reserved_micros).toBe(0);
    expect(after.balance_micros).toBeLessThan(before.balance_micros);
    expect(await ledgerSum(t.gateway, accountId)).toBe(after.balance_micros);
    expect((await chat(t, key, { thread_id: threadId, messages: [{ role: "user", content: "next" }] })).status).toBe(200);
    const thread = await t.gateway.admin.getThread(accountId, threadId);
    expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["hello", words(count), "next"]);
  });
});

describe("the heartbeat", () => {
  it("costs a request that settles before the first beat nothing, and never beats after a settle, a failure or a client who left", async () => {
    const inner = createMemoryAtomics();
    let renewals = 0;
    // The real in-process driver, its renewals counted.
    const atomics: Atomics = {
      ...inner,
      renewLease: (...args) => (renewals++, inner.renewLease(...args)),
      renewHold: (...args) => (renewals++, inner.renewHold(...args)),
    };
    const t = await startGateway({ providers: [echo({ delayMs: 100 }), broken], atomics, holdTtlMs: TTL, upstream: { retries: 0 } });
    try {
      const { key } = await seedAgent(t.gateway);
      expect((await chat(t, key, { messages: [{ role: "user", content: "quick" }] })).status).toBe(200);
      expect((await chat(t, key, { model: "broken/model", messages: [{ role: "user", content: "fails" }] })).status).toBe(502);
      await sleep(TTL);
      expect(renewals).toBe(0);

      await (await startStream(t, key, { messages: [{ role: "user", content: words((1.5 * TTL) / WORD_MS) }] })).done;
      // A TTL and a half of stream: four beats, each renewing a lease and a hold.
      expect(renewals).toBeGreaterThanOrEqual(4);
      const afterStream = renewals;
      await sleep(TTL);
      expect(renewals).toBe(afterStream);

      const leaving = new AbortController();
      const stream = await startStream(t, key, { messages: [{ role: "user", content: words(30) }] }, leaving.signal);
      leaving.abort();
      await stream.done.catch(() => {});
      await sleep(100);
      const afterLeave = renewals;
      await sleep(TTL);
      expect(renewals).toBe(afterLeave);
    } finally {
      await t.close();
    }
  });

  it("stops beating for a stream nobody reads once its upstream deadline passes, so its lease and hold expire", async () => {
    const t = await startGateway({ providers: [echo({ delayMs: 100 })], holdTtlMs: TTL, upstream: { timeoutMs: 1000 } });
    try {
      const { accountId, key } = await seedAgent(t.gateway);
      const threadId = await openThread(t, key);
      // Through fetch, not a socket: the body is never read, so the stream is not pulled past its first frame.
      const unread = await t.gateway.fetch(
        new Request(`${t.baseURL}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "echo/echo", stream: true, thread_id: threadId, messages: [{ role: "user", content: words(30) }] }),
        }),
      );
      expect(unread.status).toBe(200);
      expect((await t.gateway.admin.getBilling(accountId)).reserved_micros).toBeGreaterThan(0);
      // Free again after the deadline (1 s of silence) and one TTL, not held for ever.
      await expect.poll(() => t.gateway.admin.getBilling(accountId), { timeout: 1000 + TTL + 2000, interval: 100 }).toMatchObject({ reserved_micros: 0 });
      expect((await chat(t, key, { thread_id: threadId, messages: [{ role: "user", content: "free again" }] })).status).toBe(200);
      await unread.body!.cancel();
    } finally {
      await t.close();
    }
  });

  it("refuses a holdTtlMs that is not a whole number of milliseconds, at least 1000", () => {
    for (const holdTtlMs of [0, 999, 1500.5, Number.NaN, -1]) expect(() => createGateway({ holdTtlMs })).toThrow(/holdTtlMs/);
    expect(() => createGateway({ holdTtlMs: 1000 })).not.toThrow();
  });
});

describe("a stream whose lease and hold Redis lost mid-way (restarted without its data)", () => {
  const prefix = `heartbeat-lost-${process.pid}:`;
  const client = new Redis(inject("redisUrl"));
  const logger = recordingLogger();
  let t: TestGateway;
  beforeAll(async () => {
    // Documents in memory, atomics in Redis: only what Redis holds is lost.
    t = await startGateway({ providers: [echo({ delayMs: 100 })], holdTtlMs: TTL, redis: inject("redisUrl"), redisPrefix: prefix, storage: createStorage(), logger });
  });
  afterAll(async () => {
    await t.close();
    await client.quit();
  });

  it("warns once for each, still finishes the stream, and charges nothing for it: no ledger line, the balance equals the ledger", async () => {
    const { accountId, key } = await seedAgent(t.gateway);
    const threadId = await openThread(t, key);
    const before = await t.gateway.admin.getBilling(accountId);
    await expect.poll(() => t.gateway.records.getStoredBalance(accountId)).toBe(before.balance_micros);

    const stream = await startStream(t, key, { thread_id: threadId, messages: [{ role: "user", content: words(20) }] });
    expect((await t.gateway.admin.getBilling(accountId)).reserved_micros).toBeGreaterThan(0);
    const keys = await client.keys(`${prefix}{*`);
    await client.del(...keys);
    const body = await stream.done;

    expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    const gone = logger.warnings.filter((warning) => warning.includes("expired before its request ended"));
    expect(gone).toHaveLength(2);
    expect(gone.some((warning) => warning.includes(`lease of thread ${threadId}`))).toBe(true);
    expect(gone.some((warning) => warning.includes(`of account ${accountId}`))).toBe(true);
    // Seeded again from the stored copy; the stream's settle found no hold and charged nothing.
    expect(await t.gateway.admin.getBilling(accountId)).toEqual(before);
    expect((await ledgerLines(t.gateway, accountId)).filter((entry) => entry.type === "charge")).toHaveLength(1);
    expect(await ledgerSum(t.gateway, accountId)).toBe(before.balance_micros);
  });
});

describe("a heartbeat that cannot reach Redis", () => {
  let redis: RedisServer;
  let t: TestGateway;
  const logger = recordingLogger();
  // Beats every 3 s: the one at 3 s meets Redis down (from 2 s to 4 s), the hold lives to 9 s.
  const LONG_TTL = 9000;
  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
    t = await startGateway({ providers: [echo({ delayMs: 100 })], holdTtlMs: LONG_TTL, redis: redis.url, logger });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it("fails nothing: the stream finishes and is charged once Redis is back, and the failure is logged once", async () => {
    const { accountId, key } = await seedAgent(t.gateway);
    const started = performance.now();
    const stream = await startStream(t, key, { messages: [{ role: "user", content: words(60) }] });
    await sleep(2000 - (performance.now() - started));
    await redis.stop();
    await sleep(2000);
    await redis.restart();
    const body = await stream.done;

    expect(body.trimEnd().endsWith("data: [DONE]")).toBe(true);
    expect(body).not.toContain('"error"');
    expect(logger.warnings.filter((warning) => warning.includes("could not renew"))).toHaveLength(1);
    const billing = await t.gateway.admin.getBilling(accountId);
    expect(billing.reserved_micros).toBe(0);
    expect(billing.balance_micros).toBeLessThan(10_000_000);
    expect(await ledgerSum(t.gateway, accountId)).toBe(billing.balance_micros);
    expect((await ledgerLines(t.gateway, accountId)).filter((entry) => entry.type === "charge")).toHaveLength(1);
  });
});

describe("createHeartbeats", () => {
  it("beats no more once closed, also for what is kept after (a late settle while the gateway closes)", async () => {
    const heartbeats = createHeartbeats({ ttlMs: 60, logger: { warn() {}, error() {} } });
    let before = 0;
    let after = 0;
    heartbeats.start().keep("before", async () => (before++, true));
    await sleep(50);
    heartbeats.close();
    const beatsAtClose = before;
    keepWhileRetried(heartbeats, "after", async () => (after++, true), () => false, Date.now() + 60_000);
    await sleep(100);
    expect(beatsAtClose).toBeGreaterThan(0);
    expect(before).toBe(beatsAtClose);
    expect(after).toBe(0);
  });
});

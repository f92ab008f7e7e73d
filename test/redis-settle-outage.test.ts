import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, defineProvider, type ChatCompletion, type Gateway } from "../src/index";
import { textCompletion } from "./_setup";
import { ledgerLines, ledgerSum } from "./_billing";
import { startRedis, type RedisServer } from "./_redis";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// The retry queue tries a failed settle 0.2, 0.6, 1.4, 3, 6.2 and 11.2 s after it failed. Redis
// is down for the first five tries and back 6.4 s in, and the hold (made just before the outage,
// never renewed since) expires about 9.5 s in: before the sixth try, but long after Redis is back.
const HOLD_TTL_MS = 10_000;

/** A provider that answers when the test says so (and not before), so Redis can be stopped mid-request. */
function gatedProvider() {
  let open!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const started = new Promise<void>((resolve) => (entered = resolve));
  const provider = defineProvider({
    id: "gated",
    models: { "gated/answer": { inputPerMTok: 1, outputPerMTok: 2, maxOutputTokens: 100 } },
    async chat(): Promise<ChatCompletion> {
      entered();
      await gate;
      return textCompletion("done", { prompt_tokens: 10, completion_tokens: 5 });
    },
  });
  return { provider, open: () => open(), started };
}

// A Redis outage that starts while a request runs and ends before its hold's TTL, however long
// the retry queue's backoff makes the settle wait: the answer is charged, and its new thread
// is leased once Redis is back, not read as missing.
describe("a settle that waits out a short Redis outage", { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let gateway: Gateway;
  const gated = gatedProvider();

  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
    gateway = createGateway({ redis: redis.url, redisPrefix: "settle-outage:", providers: [gated.provider], holdTtlMs: HOLD_TTL_MS, logger: { warn() {}, error() {} } });
  });
  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  });

  it("keeps the hold until the charge lands, and the new thread leased until its turn is saved", async () => {
    const accountId = "acct_settle_outage";
    const agent = await gateway.admin.createAgent(accountId, { name: "Patient" });
    const { key } = await gateway.admin.createKey(accountId, agent.id, { name: "k" });
    await gateway.admin.credit(accountId, 10_000_000);

    const answer = gateway.fetch(
      new Request("http://gateway.test/api/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gated/answer", messages: [{ role: "user", content: "hello" }] }),
      }),
    );
    await gated.started;
    // Redis goes away with the hold made; the answer comes while it is gone, so its settle and thread save fail.
    await redis.stop();
    gated.open();
    const response = await answer;
    const failedAt = performance.now();
    const at = (ms: number) => sleep(Math.max(0, failedAt + ms - performance.now()));
    expect(response.status).toBe(200);
    const threadId = ((await response.json()) as { thread_id: string }).thread_id;
    await at(6_400);
    await redis.restart();

    const follow = () =>
      gateway.fetch(
        new Request("http://gateway.test/api/v1/chat/completions", {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "gated/answer", thread_id: threadId, messages: [{ role: "user", content: "again" }] }),
        }),
      );
    // Redis is back and the turn not saved yet (its next try is at 11.2 s): the thread is leased, never missing.
    await at(10_000);
    expect((await follow()).status).toBe(409);
    await expect.poll(async () => (await follow()).status, { timeout: 15_000, interval: 200 }).toBe(200);

    const books = async () => {
      const billing = await gateway.admin.getBilling(accountId);
      const charges = (await ledgerLines(gateway, accountId)).filter((line) => line.type === "charge");
      return { reserved: billing.reserved_micros, charges: charges.length, ledgerMatchesBalance: (await ledgerSum(gateway, accountId)) === billing.balance_micros };
    };
    // Both answers charged (the first one after the outage), nothing left held.
    await expect.poll(books, { timeout: 15_000, interval: 200 }).toEqual({ reserved: 0, charges: 2, ledgerMatchesBalance: true });
    expect((await gateway.admin.getThread(accountId, threadId)).messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
  });
});

import { RateLimitError } from "openai";
import { afterEach, describe, expect, it } from "vitest";
import type { GatewayOptions } from "../../src/index";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

const RATE_HEADERS = ["limit-requests", "remaining-requests", "reset-requests", "limit-tokens", "remaining-tokens", "reset-tokens"];

describe("the rate-limit step", () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const start = async (options: GatewayOptions) => (t = await startGateway(options));
  const chat = (key: string, body: Record<string, unknown> = {}) =>
    fetch(`${t!.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }], ...body }),
    });
  // Token windows refill continuously (limit / 60 per second): allow one token of refill.
  const tokensNear = (value: string | null, expected: number) => expect(Number(value) - expected).toBeOneOf([0, 1]);
  const rateHeaders = (res: Response) => Object.fromEntries(RATE_HEADERS.map((name) => [name, res.headers.get(`x-ratelimit-${name}`)]));

  it("admits a burst of the limit with x-ratelimit-* headers, then answers 429 with retry-after", async () => {
    await start({ limits: { requestsPerMinute: 3, tokensPerMinute: 60 } });
    const { key } = await seedAgent(t!.gateway);
    const seen: Array<Record<string, string | null>> = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(key);
      expect(res.status).toBe(200);
      seen.push(rateHeaders(res));
    }
    expect(seen.map((h) => h["remaining-requests"])).toEqual(["2", "1", "0"]);
    expect(seen[0]).toMatchObject({ "limit-requests": "3", "reset-requests": "20s", "limit-tokens": "60" });
    // "hi" is one token plus four of per-message overhead, charged at the estimate.
    [55, 50, 45].forEach((expected, i) => tokensNear(seen[i]["remaining-tokens"], expected));
    // Full after three: a minute to refill, less the milliseconds the requests took.
    expect(seen[2]["reset-requests"]).toMatch(/^(1m0s|59\.\d+s)$/);

    const refused = await chat(key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("20");
    expect(Number(refused.headers.get("retry-after-ms"))).toBeGreaterThan(19_000);
    expect(rateHeaders(refused)).toMatchObject({ "limit-requests": "3", "remaining-requests": "0", "limit-tokens": "60" });
    // Refused: the token window was not charged for this hit.
    tokensNear(refused.headers.get("x-ratelimit-remaining-tokens"), 45);
    const body = await refused.json();
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded", message: "Rate limit reached for this agent. Try again in 20s." });
  });

  it("gives a throttled agent the rest of a raised limit on its very next request", async () => {
    await start({});
    const { key, accountId, agent } = await seedAgent(t!.gateway, { agent: { name: "Throttled", limits: { requests_per_minute: 3 } } });
    for (let i = 0; i < 3; i++) expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(429);
    await t!.gateway.admin.updateAgent(accountId, agent.id, { limits: { requests_per_minute: 100 } });
    const raised = await chat(key);
    expect(raised.status).toBe(200);
    expect(raised.headers.get("x-ratelimit-limit-requests")).toBe("100");
    expect(raised.headers.get("x-ratelimit-remaining-requests")).toBe("96");
  });

  it("keeps the x-ratelimit-* headers on a later error, such as 402", async () => {
    await start({ limits: { requestsPerMinute: 5 } });
    const { key } = await seedAgent(t!.gateway, { creditMicros: 0 });
    const poor = await chat(key);
    expect(poor.status).toBe(402);
    expect(poor.headers.get("x-ratelimit-limit-requests")).toBe("5");
    expect(poor.headers.get("x-ratelimit-remaining-requests")).toBe("4");
  });

  it("raises the openai SDK's RateLimitError with the headers, and changes nothing", async () => {
    await start({ limits: { requestsPerMinute: 1 } });
    const { key } = await seedAgent(t!.gateway);
    const client = openaiClient(t!.baseURL, key);
    await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "one" }] });
    const before = await snapshotStorage(t!.gateway.records.storage);
    const error = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "two" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rate = error as RateLimitError;
    expect(rate.status).toBe(429);
    expect(rate.code).toBe("rate_limit_exceeded");
    expect(rate.headers.get("retry-after")).toBe("60");
    expect(rate.headers.get("x-ratelimit-limit-requests")).toBe("1");
    expect(rate.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(await snapshotStorage(t!.gateway.records.storage)).toEqual(before);
  });

  it("lets an agent's own limits override the gateway's, for all its keys together", async () => {
    await start({ limits: { requestsPerMinute: 100 } });
    const tight = await seedAgent(t!.gateway, { agent: { name: "Tight", limits: { requests_per_minute: 2 } } });
    const second = await t!.gateway.admin.createKey(tight.accountId, tight.agent.id, { name: "second" });
    const loose = await seedAgent(t!.gateway);

    expect((await chat(tight.key)).status).toBe(200);
    const viaSecond = await chat(second.key);
    expect(viaSecond.status).toBe(200);
    expect(viaSecond.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect((await chat(tight.key)).status).toBe(429);
    expect((await chat(second.key)).status).toBe(429);
    const other = await chat(loose.key);
    expect(other.status).toBe(200);
    expect(other.headers.get("x-ratelimit-limit-requests")).toBe("100");
  });

  it("limits each key on its own with keyLimits, and reports the tightest window", async () => {
    await start({ limits: { requestsPerMinute: 10 }, keyLimits: { requestsPerMinute: 2 } });
    const seeded = await seedAgent(t!.gateway);
    const other = await t!.gateway.admin.createKey(seeded.accountId, seeded.agent.id, { name: "other" });
    expect((await chat(seeded.key)).headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect((await chat(seeded.key)).status).toBe(200);
    const refused = await chat(seeded.key);
    expect(refused.status).toBe(429);
    // The key's own limit refused it, not the agent's: the message says which.
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/^Rate limit reached for this key\./);
    const fresh = await chat(other.key);
    expect(fresh.status).toBe(200);
    // The key has 1 left, the agent 7: the client hears about the key.
    expect(rateHeaders(fresh)).toMatchObject({ "limit-requests": "2", "remaining-requests": "1" });
  });

  it("counts tokens per minute: the prompt at admission, the real total once answered", async () => {
    await start({ limits: { tokensPerMinute: 120 } });
    const { key } = await seedAgent(t!.gateway);
    const long = "x".repeat(160); // 40 tokens of prompt + 4 of overhead, and echo answers 40 more
    const first = await chat(key, { messages: [{ role: "user", content: long }] });
    expect(first.status).toBe(200);
    tokensNear(first.headers.get("x-ratelimit-remaining-tokens"), 76);
    // The real total (80) replaced the estimate (44) at settle time: 40 left, 44 needed.
    const second = await chat(key, { messages: [{ role: "user", content: long }] });
    expect(second.status).toBe(429);
    tokensNear(second.headers.get("x-ratelimit-remaining-tokens"), 40);
    expect((await chat(key, { messages: [{ role: "user", content: "x".repeat(120) }] })).status).toBe(200);
  });

  it("says a prompt larger than a minute's tokens is too large, instead of asking to retry", async () => {
    await start({ keyLimits: { tokensPerMinute: 50 } });
    const { key } = await seedAgent(t!.gateway);
    const res = await chat(key, { messages: [{ role: "user", content: "x".repeat(400) }] });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBeNull();
    const { error } = await res.json();
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.message).toMatch(/too large: about 104 tokens, and the limit is 50 tokens per minute/);
    expect((await chat(key)).status).toBe(200);
  });

  it("sends the headers on streamed answers too", async () => {
    await start({ limits: { requestsPerMinute: 5, tokensPerMinute: 500 } });
    const { key } = await seedAgent(t!.gateway);
    const res = await chat(key, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(rateHeaders(res)).toMatchObject({ "limit-requests": "5", "remaining-requests": "4", "limit-tokens": "500" });
    expect(await res.text()).toContain("data: [DONE]");
  });

  it("sends no rate headers when no limit is configured", async () => {
    await start({});
    const { key } = await seedAgent(t!.gateway);
    const res = await chat(key);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit-requests")).toBeNull();
  });
});

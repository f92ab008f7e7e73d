import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createGateway, openai, type Gateway } from "../../src/index";
import { startGatewayProcess } from "../_processes";
import { ADMIN_SECRET, seedAgent } from "../_setup";

const MODELS = { "openai/pool-model": { inputPerMTok: 0, outputPerMTok: 1, maxOutputTokens: 50 } };
const GOOD = ["sk-good-one-0123456789", "sk-good-two-0123456789"];
const THROTTLED = "sk-throttled-0123456789";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An OpenAI-wire upstream with three keys: two answer, one always answers 429 with `retry-after: 2`. */
async function startPoolFake() {
  const hits: Array<{ key: string; at: number }> = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
      hits.push({ key, at: Date.now() });
      if (key === THROTTLED) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "2" });
        return res.end(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" } }));
      }
      if (!GOOD.includes(key)) {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { message: "Incorrect API key", type: "invalid_request_error", param: null, code: "invalid_api_key" } }));
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id: "chatcmpl-pool",
          object: "chat.completion",
          created: 1,
          model: "pool-model",
          choices: [{ index: 0, message: { role: "assistant", content: "ok", refusal: null }, logprobs: null, finish_reason: "stop" }],
          usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return {
    baseURL,
    hits,
    throttledHits: (since = 0) => hits.filter((h) => h.key === THROTTLED && h.at >= since).length,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

describe("a pool of API keys", () => {
  let fake: Awaited<ReturnType<typeof startPoolFake>>;
  beforeAll(async () => {
    fake = await startPoolFake();
  });
  afterAll(() => fake.close());

  const gatewayOn = (options: Parameters<typeof createGateway>[0] = {}) =>
    createGateway({ providers: [openai({ baseURL: fake.baseURL, apiKeys: [GOOD[0], THROTTLED, GOOD[1]] })], models: MODELS, upstream: { retries: 0 }, ...options });
  const ask = async (gateway: Gateway, key: string) => {
    const response = await gateway.fetch(
      new Request("http://gw/api/v1/chat/completions", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/pool-model", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      }),
    );
    return { status: response.status, body: await response.json() };
  };

  it("spreads requests over the keys, and the others take a throttled key's traffic for its retry-after, clients seeing no 429", async () => {
    const gateway = gatewayOn();
    try {
      const { key } = await seedAgent(gateway);
      fake.hits.length = 0;
      const start = Date.now();
      // One round of turns meets each key once; the throttled one answers 429 and the next key answers instead.
      for (let i = 0; i < 3; i++) expect((await ask(gateway, key)).status).toBe(200);
      expect(fake.throttledHits(start)).toBe(1);
      const burst = await Promise.all(Array.from({ length: 12 }, () => ask(gateway, key)));
      expect(burst.map((r) => r.status)).toEqual(Array(12).fill(200));
      // Cooled for two seconds: both good keys carry the rest.
      expect(fake.throttledHits(start)).toBe(1);
      expect(fake.hits.filter((h) => h.key === GOOD[0]).length).toBeGreaterThan(3);
      expect(fake.hits.filter((h) => h.key === GOOD[1]).length).toBeGreaterThan(3);
      for (let i = 0; i < 10; i++) expect((await ask(gateway, key)).status).toBe(200);
      expect(fake.throttledHits(start)).toBe(1);

      // Two seconds from the 429 itself (the first call may be slow on a loaded machine).
      const throttledAt = fake.hits.find((h) => h.key === THROTTLED)!.at;
      await sleep(Math.max(0, throttledAt + 2100 - Date.now()));
      const later = Date.now();
      for (let i = 0; i < 6; i++) expect((await ask(gateway, key)).status).toBe(200);
      // Its cooldown over, it gets its turn again (and cools again).
      expect(fake.throttledHits(later)).toBe(1);
    } finally {
      await gateway.close();
    }
  });

  it("passes the 429 on when every key is cooling", async () => {
    const gateway = createGateway({ providers: [openai({ baseURL: fake.baseURL, apiKeys: [THROTTLED, THROTTLED.replace("0", "9")] })], models: MODELS, upstream: { retries: 0 } });
    try {
      const { key } = await seedAgent(gateway);
      const answer = await ask(gateway, key);
      // The second key is a wrong one: cooled as well, and never named.
      expect(answer).toMatchObject({ status: 502, body: { error: { code: "upstream_auth_failed" } } });
      expect(JSON.stringify(answer.body)).not.toContain("sk-");
      expect((await ask(gateway, key)).status).toBe(429);
    } finally {
      await gateway.close();
    }
  });

  it("shares cooldowns between two gateway processes on one Redis", async () => {
    const prefix = `pool-procs-${process.pid}-${Date.now().toString(36)}:`;
    const env = { REDIS_URL: inject("redisUrl"), REDIS_PREFIX: prefix, ADMIN_SECRET, POOL_BASE_URL: fake.baseURL, POOL_KEYS: [GOOD[0], THROTTLED, GOOD[1]].join(","), GATEWAY_OPTIONS: JSON.stringify({ models: MODELS, upstream: { retries: 0 } }) };
    const [one, two] = await Promise.all([startGatewayProcess(env), startGatewayProcess(env)]);
    const local = createGateway({ redis: inject("redisUrl"), redisPrefix: prefix, providers: [], models: MODELS });
    const askAt = async (origin: string, key: string) => {
      const response = await fetch(`${origin}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/pool-model", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
      });
      await response.body?.cancel();
      return response.status;
    };
    try {
      const { key } = await seedAgent(local);
      fake.hits.length = 0;
      const start = Date.now();
      for (let i = 0; i < 3; i++) expect(await askAt(one.origin, key)).toBe(200);
      expect(fake.throttledHits(start)).toBe(1);
      const cooledAt = fake.hits.find((h) => h.key === THROTTLED)!.at;
      await sleep(300);
      const during = Date.now();
      for (let i = 0; i < 12; i++) expect(await askAt(two.origin, key)).toBe(200);
      expect(fake.throttledHits(during)).toBe(0);
      await sleep(Math.max(0, cooledAt + 2100 - Date.now()));
      const after = Date.now();
      for (let i = 0; i < 6; i++) expect(await askAt(i % 2 ? one.origin : two.origin, key)).toBe(200);
      expect(fake.throttledHits(after)).toBeGreaterThanOrEqual(1);
      expect(one.stderr() + two.stderr()).toBe("");
    } finally {
      await Promise.all([one.stop(), two.stop(), local.close()]);
    }
  });

  it("shares cooldowns between two instances on one Redis", async () => {
    const prefix = `pool-${process.pid}-${Date.now().toString(36)}:`;
    const one = gatewayOn({ redis: inject("redisUrl"), redisPrefix: prefix });
    const two = gatewayOn({ redis: inject("redisUrl"), redisPrefix: prefix });
    try {
      const { key } = await seedAgent(one);
      // Instance one meets the throttled key (its turns come round within three requests).
      fake.hits.length = 0;
      const start = Date.now();
      for (let i = 0; i < 3; i++) expect((await ask(one, key)).status).toBe(200);
      expect(fake.throttledHits(start)).toBe(1);
      const cooledAt = fake.hits.find((h) => h.key === THROTTLED)!.at;
      await sleep(300); // past the 200 ms an instance may take to read shared cooldowns

      // Instance two never sends it a request while it cools.
      const during = Date.now();
      for (let i = 0; i < 12; i++) expect((await ask(two, key)).status).toBe(200);
      expect(fake.throttledHits(during)).toBe(0);

      await sleep(Math.max(0, cooledAt + 2100 - Date.now()));
      const after = Date.now();
      for (let i = 0; i < 6; i++) expect((await ask(two, key)).status).toBe(200);
      expect(fake.throttledHits(after)).toBe(1);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});

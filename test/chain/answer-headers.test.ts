import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, echo, type Gateway } from "../../src/index";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

const RATE = ["limit-requests", "remaining-requests", "reset-requests", "limit-tokens", "remaining-tokens", "reset-tokens"];

/** What every answer of the chain must carry, whichever way it was built. */
function expectChainHeaders(response: Response, contentType: string, thread: boolean) {
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe(contentType);
  for (const name of RATE) expect(response.headers.get(`x-ratelimit-${name}`), name).toMatch(/\S/);
  if (thread) expect(response.headers.get("x-thread-id")).toMatch(/^thread_/);
  else expect(response.headers.get("x-thread-id")).toBeNull();
}

const limits = { requestsPerMinute: 100, tokensPerMinute: 100_000 };
const chat = (stream: boolean) => JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi there" }], stream });
const messages = (stream: boolean) => JSON.stringify({ model: "echo/echo", max_tokens: 64, messages: [{ role: "user", content: "hi there" }], stream });

describe.each([
  ["over node:http (srvx writes the light response)", "node"],
  ["through gateway.fetch (a web Response)", "fetch"],
] as const)("the chain's answer headers %s", (_name, mode) => {
  let served: TestGateway | undefined;
  let gateway: Gateway;
  let key: string;
  let post: (path: string, body: string, headers: Record<string, string>) => Promise<Response>;
  beforeAll(async () => {
    if (mode === "node") {
      served = await startGateway({ limits });
      gateway = served.gateway;
      post = (path, body, headers) => fetch(`${served!.origin}/api${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    } else {
      gateway = createGateway({ providers: [echo()], limits, logger: { warn() {}, error() {} } });
      post = (path, body, headers) => gateway.fetch(new Request(`http://gateway/api${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }));
    }
    key = (await seedAgent(gateway)).key;
  });
  afterAll(async () => {
    await (served ? served.close() : gateway.close());
  });

  it("are on a chat completion, plain and streamed, with its thread", async () => {
    const plain = await post("/v1/chat/completions", chat(false), { authorization: `Bearer ${key}` });
    expectChainHeaders(plain, "application/json; charset=utf-8", true);
    const answer = await plain.json();
    expect(answer.thread_id).toBe(plain.headers.get("x-thread-id"));
    expect(answer.choices[0].message.content).toBe("hi there");
    // Each request counts: the remaining requests go down by one.
    const streamed = await post("/v1/chat/completions", chat(true), { authorization: `Bearer ${key}` });
    expectChainHeaders(streamed, "text/event-stream; charset=utf-8", true);
    expect(streamed.headers.get("cache-control")).toBe("no-cache");
    expect(Number(streamed.headers.get("x-ratelimit-remaining-requests"))).toBe(Number(plain.headers.get("x-ratelimit-remaining-requests")) - 1);
    expect((await streamed.text()).trimEnd().endsWith("data: [DONE]")).toBe(true);
  });

  it("are on a Messages answer and a token count, with a request-id and no thread (stateless)", async () => {
    const headers = { "x-api-key": key, "anthropic-version": "2023-06-01" };
    const plain = await post("/v1/messages", messages(false), headers);
    expectChainHeaders(plain, "application/json; charset=utf-8", false);
    expect(plain.headers.get("request-id")).toMatch(/^req_/);
    expect((await plain.json()).content[0].text).toBe("hi there");
    const streamed = await post("/v1/messages", messages(true), headers);
    expectChainHeaders(streamed, "text/event-stream; charset=utf-8", false);
    expect(streamed.headers.get("request-id")).toMatch(/^req_/);
    expect(await streamed.text()).toContain("event: message_stop");
    const counted = await post("/v1/messages/count_tokens", JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi there" }] }), headers);
    expectChainHeaders(counted, "application/json; charset=utf-8", false);
    expect((await counted.json()).input_tokens).toBeGreaterThan(0);
  });

  it("stay on an error after the rate step, and the error's own win (a 402 with the rate state)", async () => {
    const { key: poorKey } = await seedAgent(gateway, { creditMicros: 0 });
    const poor = await post("/v1/chat/completions", chat(false), { authorization: `Bearer ${poorKey}` });
    expect(poor.status).toBe(402);
    expect(poor.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(poor.headers.get("x-ratelimit-remaining-requests")).toBe("99");
    // A new thread whose first request failed was never created: not named.
    expect(poor.headers.get("x-thread-id")).toBeNull();
    const messagesError = await post("/v1/messages", messages(false), { "x-api-key": poorKey, "anthropic-version": "2023-06-01" });
    expect(messagesError.status).toBe(402);
    expect(messagesError.headers.get("request-id")).toMatch(/^req_/);
    expect((await messagesError.json()).request_id).toBe(messagesError.headers.get("request-id"));
  });
});

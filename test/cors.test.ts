import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAgent, startGateway, type TestGateway } from "./_setup";

describe("CORS for browser clients", () => {
  let t: TestGateway;
  let key: string;
  const origin = "https://app.example";

  beforeAll(async () => {
    t = await startGateway({ cors: true });
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(() => t.close());

  it("answers a preflight for chat completions with the methods and headers a browser needs", async () => {
    const res = await fetch(`${t.baseURL}/chat/completions`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-stainless-os" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toBeTruthy();
  });

  it("marks answers, streams and errors so the browser can read them and the thread id", async () => {
    const post = (authorization: string, stream = false) =>
      fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { origin, authorization, "content-type": "application/json" }, body: JSON.stringify({ model: "echo/echo", stream, messages: [{ role: "user", content: "hi" }] }) });
    for (const res of [await post(`Bearer ${key}`), await post(`Bearer ${key}`, true), await post("Bearer nope")]) {
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-expose-headers")).toContain("x-thread-id");
      await res.text();
    }
  });

  it("is off unless asked for, and never on the admin API", async () => {
    const plain = await startGateway();
    try {
      const res = await fetch(`${plain.baseURL}/models`, { headers: { origin, authorization: `Bearer ${key}` } });
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await plain.close();
    }
    const admin = await fetch(`${t.origin}/api/admin/agents`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "GET" } });
    expect(admin.headers.get("access-control-allow-origin")).toBeNull();
  });
});

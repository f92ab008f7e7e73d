import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

describe("requests no route takes", () => {
  let t: TestGateway;
  let key: string;

  beforeAll(async () => {
    t = await startGateway();
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(() => t.close());

  const send = (method: string, path: string) => fetch(`${t.origin}${path}`, { method, headers: { authorization: `Bearer ${key}` } });

  it("answers a wrong method on a known path with 405 and the allow header, in OpenAI's envelope", async () => {
    for (const [method, path, allow] of [
      ["GET", "/api/v1/chat/completions", "POST"],
      ["PUT", "/api/v1/chat/completions", "POST"],
      ["DELETE", "/api/v1/models", "GET, HEAD"],
      ["POST", "/api/v1/threads/thread_x", "GET, HEAD"],
      ["POST", "/api/admin/agents/agt_x", "GET, PATCH, DELETE, HEAD"],
    ]) {
      const res = await send(method, path);
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect((await res.json()).error).toMatchObject({ code: "method_not_allowed", type: "invalid_request_error", param: null });
    }
  });

  it("answers HEAD like GET without a body, and an unknown path with 404", async () => {
    const head = await send("HEAD", "/api/v1/models");
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await send("HEAD", "/api/v1/nothing-here")).status).toBe(404);
    const missing = await send("GET", "/api/v1/nothing-here");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
  });

  it("never echoes a huge path or model name back in full", async () => {
    const res = await send("GET", `/api/v1/${"x".repeat(5_000)}`);
    expect(res.status).toBe(404);
    expect((await res.text()).length).toBeLessThan(1000);
    const model = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: `echo/${"y".repeat(100_000)}`, messages: [{ role: "user", content: "hi" }] }) });
    expect(model.status).toBe(404);
    expect((await model.text()).length).toBeLessThan(1000);
  });

  it("answers an unexpected error in a route mounted on the app with a generic 500, and logs it once through the gateway's logger", async () => {
    const logged: unknown[][] = [];
    const own = await startGateway({ logger: { warn: () => {}, error: (...args) => logged.push(args) } });
    own.gateway.app.get("/api/boom", () => {
      throw new TypeError("boom");
    });
    try {
      const res = await fetch(`${own.origin}/api/boom`);
      expect(res.status).toBe(500);
      expect((await res.json()).error).toEqual({ message: "The server had an error while processing your request.", type: "server_error", param: null, code: "server_error" });
      expect(logged).toHaveLength(1);
      expect(logged[0][0]).toBe("agentgate: GET /api/boom answered 500 after an unexpected error");
      expect(logged[0][1]).toBeInstanceOf(TypeError);
    } finally {
      await own.close();
    }
  });
});

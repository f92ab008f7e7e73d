import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAgent, startGateway, type TestGateway } from "../_setup";
import { snapshotStorage } from "../_storage";

describe("the parse step", () => {
  let t: TestGateway;
  let key: string;

  beforeAll(async () => {
    t = await startGateway({ maxBodyBytes: 4096 });
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(() => t.close());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body });

  const cases: Array<[string, string, number, string, string | null]> = [
    ["malformed JSON", "{not json", 400, "invalid_json", null],
    ["an empty body", "", 400, "invalid_json", null],
    ["a JSON array instead of an object", "[]", 400, "invalid_request", null],
    ["a missing messages field", JSON.stringify({ model: "echo/echo" }), 400, "invalid_request", "messages"],
    ["an empty messages array", JSON.stringify({ model: "echo/echo", messages: [] }), 400, "invalid_request", "messages"],
    ["a wrong type for messages", JSON.stringify({ model: "echo/echo", messages: "hi" }), 400, "invalid_request", "messages"],
    ["a message with an unknown role", JSON.stringify({ model: "echo/echo", messages: [{ role: "wizard", content: "x" }] }), 400, "invalid_request", "messages[0].role"],
    ["a user message without content", JSON.stringify({ model: "echo/echo", messages: [{ role: "user" }] }), 400, "invalid_request", "messages[0].content"],
    ["a wrong type for temperature", JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "x" }], temperature: "hot" }), 400, "invalid_request", "temperature"],
    ["a missing model", JSON.stringify({ messages: [{ role: "user", content: "x" }] }), 400, "invalid_request", "model"],
    ["an unknown model", JSON.stringify({ model: "echo/unknown", messages: [{ role: "user", content: "x" }] }), 404, "model_not_found", "model"],
    ["a model of a provider that is not configured", JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "x" }] }), 503, "provider_not_configured", null],
    ["a body nested 1,000 levels deep", `{"model":"echo/echo","messages":[{"role":"user","content":"hi","x":${"[".repeat(1000)}${"]".repeat(1000)}}]}`, 400, "invalid_json", null],
    ["a body over the configured limit", JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "x".repeat(5000) }] }), 413, "request_too_large", null],
  ];

  for (const [name, body, status, code, param] of cases) {
    it(`answers ${name} with ${status} ${code} in OpenAI's envelope and changes nothing`, async () => {
      const before = await snapshotStorage(t.gateway.records.storage);
      const res = await post(body);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/json");
      const json = await res.json();
      expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
      expect(json.error.code).toBe(code);
      expect(json.error.param).toBe(param);
      expect(typeof json.error.message).toBe("string");
      expect(json.error.message.length).toBeGreaterThan(10);
      expect(await snapshotStorage(t.gateway.records.storage)).toEqual(before);
    });
  }

  it("counts only real nesting: brackets inside strings and a 30-level tool schema pass", async () => {
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 30; i++) schema = { type: "object", properties: { inner: schema } };
    const res = await post(
      JSON.stringify({
        model: "echo/echo",
        tools: [{ type: "function", function: { name: "deep", parameters: schema } }],
        messages: [{ role: "user", content: `${"[{".repeat(200)} \\" ${"}]".repeat(200)}` }],
      }),
    );
    expect(res.status).toBe(200);
  });

  it("treats a null optional field as not given, as OpenAI does (the Python SDK sends None as null)", async () => {
    const res = await post(
      JSON.stringify({
        model: "echo/echo",
        thread_id: null,
        tools: null,
        tool_choice: null,
        response_format: null,
        user: null,
        seed: null,
        messages: [
          { role: "system", content: "Be brief.", name: null },
          { role: "user", content: "earlier", name: null },
          { role: "assistant", content: "ok", tool_calls: null, name: null },
          { role: "user", content: "hello" },
        ],
      }),
    );
    expect(res.status).toBe(200);
    const json = await res.json();
    expect(json.choices[0].message.content).toBe("hello");
    expect(json.thread_id).toMatch(/^thread_/);
    const thread = await t.gateway.records.getThread(json.thread_id);
    expect(JSON.stringify(thread!.messages)).not.toContain("null");
  });

  it("refuses a chunked body that grows past the limit without a content-length", async () => {
    const big = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "y".repeat(10_000) }] });
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < big.length; i += 1000) controller.enqueue(new TextEncoder().encode(big.slice(i, i + 1000)));
        controller.close();
      },
    });
    const res = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe("request_too_large");
  });

  it("tolerates unknown fields as OpenAI does", async () => {
    const res = await post(JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi", extra: 1 }], seed: 7, metadata: { a: "b" }, some_future_field: true }));
    expect(res.status).toBe(200);
  });

  it("accepts the 1 MiB default limit and refuses just above it", async () => {
    const big = await startGateway();
    try {
      const s = await seedAgent(big.gateway);
      const filler = (n: number) => JSON.stringify({ model: "echo/echo", max_tokens: 1, messages: [{ role: "user", content: "z".repeat(n) }] });
      const overhead = filler(0).length;
      const send = (body: string) => fetch(`${big.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${s.key}` }, body });
      expect((await send(filler(1024 * 1024 - overhead))).status).toBe(200);
      expect((await send(filler(1024 * 1024 - overhead + 1))).status).toBe(413);
    } finally {
      await big.close();
    }
  });
});

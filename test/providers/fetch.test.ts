import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeepAliveFetch } from "../../src/providers/_fetch";

describe("the pooled keep-alive fetch handed to the vendor SDKs", () => {
  let server: Server;
  let origin: string;
  const sockets = new Set<unknown>();
  const seen: Array<{ method: string; headers: Record<string, unknown>; body: string }> = [];
  let aborted = false;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      sockets.add(req.socket);
      let body = "";
      for await (const part of req) body += part;
      seen.push({ method: req.method!, headers: req.headers, body });
      if (req.url === "/json") return res.writeHead(201, { "content-type": "application/json", "x-request-id": "req_1" }).end(JSON.stringify({ ok: true, echo: body }));
      if (req.url === "/sse") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        let i = 0;
        const timer = setInterval(() => {
          res.write(`data: ${i++}\n\n`);
          if (i === 5) {
            clearInterval(timer);
            res.end("data: [DONE]\n\n");
          }
        }, 30);
        res.on("close", () => {
          if (!res.writableFinished) aborted = true;
          clearInterval(timer);
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it("sends method, headers and body, and returns status, headers and JSON", async () => {
    const fetch = createKeepAliveFetch();
    const res = await fetch(`${origin}/json`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: "Bearer k", "Accept-Encoding": "gzip" }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-request-id")).toBe("req_1");
    expect(await res.json()).toEqual({ ok: true, echo: '{"a":1}' });
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ method: "POST", body: '{"a":1}' });
    expect(last.headers).toMatchObject({ "content-type": "application/json", authorization: "Bearer k", "content-length": "7" });
    // No compression is asked for: the bytes are handed to the SDK as they come.
    expect(last.headers["accept-encoding"]).toBeUndefined();
  });

  it("reuses one socket for sequential requests", async () => {
    const fetch = createKeepAliveFetch();
    sockets.clear();
    for (let i = 0; i < 5; i++) await (await fetch(`${origin}/json`, { method: "POST", body: new TextEncoder().encode("x") })).text();
    expect(sockets.size).toBe(1);
  });

  it("streams an event stream chunk by chunk", async () => {
    const fetch = createKeepAliveFetch();
    const res = await fetch(`${origin}/sse`, { method: "POST", headers: { headers: "x" } });
    const reader = res.body!.getReader();
    const started = Date.now();
    const first = new TextDecoder().decode((await reader.read()).value);
    const firstAt = Date.now() - started;
    let rest = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    expect(first).toBe("data: 0\n\n");
    expect(rest.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(Date.now() - started).toBeGreaterThan(firstAt + 60);
  });

  it("aborts the upstream request when the signal fires mid-stream", async () => {
    const fetch = createKeepAliveFetch();
    const controller = new AbortController();
    aborted = false;
    const res = await fetch(`${origin}/sse`, { method: "POST", signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort(new Error("client left"));
    await expect(reader.read()).rejects.toBeTruthy();
    await expect.poll(() => aborted).toBe(true);
  });

  it("rejects like fetch when the upstream cannot be reached", async () => {
    const fetch = createKeepAliveFetch();
    await expect(fetch("http://127.0.0.1:1/x", { method: "POST", body: "{}" })).rejects.toThrow(/fetch failed/);
  });
});

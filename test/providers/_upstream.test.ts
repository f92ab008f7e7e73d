import { getEventListeners, setMaxListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createUpstreamClient, readBody } from "../../src/providers/_upstream";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve())));

/** A local server that answers `{"path": ...}` (or hangs on /hang), counting the connections it accepts. */
async function startCountingServer(): Promise<{ origin: string; connections: () => number; aborted: () => number }> {
  let connections = 0;
  let aborted = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.url === "/api/hang") {
        res.on("close", () => aborted++);
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "retry-after": "3" });
      res.end(JSON.stringify({ path: req.url, length: req.headers["content-length"] }));
    });
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, aborted: () => aborted };
}

describe("the upstream client", () => {
  it("keeps its connections alive across requests, within its bound, under the base URL's path", async () => {
    const local = await startCountingServer();
    const client = createUpstreamClient(`${local.origin}/api/`, { connections: 2 });
    const signal = new AbortController().signal;
    // Ten calls in flight share this signal below (a request has its own).
    setMaxListeners(20, signal);
    for (let i = 0; i < 20; i++) {
      const res = await client.post("/one", "{}", { "content-type": "application/json" }, signal);
      expect(await readBody(res.body)).toEqual({ path: "/api/one", length: "2" });
      expect(res.headers.get("retry-after")).toBe("3");
    }
    // undici may open a second connection while the first settles; never one per request.
    expect(local.connections()).toBeLessThanOrEqual(2);
    await Promise.all(Array.from({ length: 10 }, () => client.post("/many", "{}", {}, signal).then((res) => readBody(res.body))));
    expect(local.connections()).toBeLessThanOrEqual(2);
    // A call whose body was read leaves no listener on its signal (undici lets go once the body closes).
    await expect.poll(() => getEventListeners(signal, "abort").length).toBe(0);
    await client.close();
  });

  it("aborts a call by its signal, closing the connection, with the signal's reason", async () => {
    const local = await startCountingServer();
    const client = createUpstreamClient(local.origin);
    const controller = new AbortController();
    const call = client.post("/api/hang", "{}", {}, controller.signal);
    setTimeout(() => controller.abort(new Error("gone")), 50);
    await expect(call).rejects.toThrow("gone");
    await expect.poll(local.aborted).toBe(1);
    await client.close();
  });
});

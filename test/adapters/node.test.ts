import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { toNodeListener } from "../../adapters/node";
import { createGateway, echo, signAdminToken, type Gateway } from "../../src/index";
import { ADMIN_SECRET, seedAgent } from "../_setup";
import { snapshotStorage } from "../_storage";
import { testOpenAIClient, type AdapterTarget } from "./_openai";

describe("toNodeListener as a whole node:http server", () => {
  let gateway: Gateway;
  let server: Server;
  let target: AdapterTarget;
  beforeAll(async () => {
    gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo({ delayMs: 20 })] });
    server = createServer(toNodeListener(gateway));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    target = { baseURL: `${origin(server)}/api/v1`, key: (await seedAgent(gateway)).key };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  });

  testOpenAIClient(() => target);
});

describe("mountGateway beside other routes (the README example, as written)", () => {
  let example: { gateway: Gateway; server: Server };
  let target: AdapterTarget;
  beforeAll(async () => {
    process.env.PORT = "0";
    process.env.ADMIN_SECRET = ADMIN_SECRET; // the example refuses to start without it
    example = await import("../../examples/mount-node");
    if (!example.server.listening) await new Promise((resolve) => example.server.once("listening", resolve));
    target = { baseURL: `${origin(example.server)}/api/v1`, key: (await seedAgent(example.gateway)).key };
  });
  afterAll(async () => {
    example.server.closeAllConnections();
    await new Promise((resolve) => example.server.close(resolve));
    await example.gateway.close();
  });

  testOpenAIClient(() => target);

  it("leaves every other path to the host, even under the gateway's basePath", async () => {
    for (const path of ["/", "/hello?x=1", "/api", "/api/health", "/api/v10", "/api/administrator"]) {
      const response = await fetch(`${origin(example.server)}${path}`);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toBe(`Your app answers ${path}\n`);
    }
  });

  it("serves the admin API under the same prefix", async () => {
    const response = await fetch(`${origin(example.server)}/api/admin/agents`);
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_admin_token");
  });
});

function origin(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("an upload the client abandons, through toNodeListener", () => {
  const logged: string[] = [];
  let gateway: Gateway;
  let server: Server;
  let key: string;
  let token: string;
  beforeAll(async () => {
    gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], logger: { warn: (m, d) => logged.push(d === undefined ? m : `${m} ${String(d)}`), error: (m, d) => logged.push(`${m} ${String(d)}`) } });
    server = createServer(toNodeListener(gateway));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const seeded = await seedAgent(gateway);
    key = seeded.key;
    token = await signAdminToken(ADMIN_SECRET, seeded.accountId, { expiresIn: "1h" });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  });

  /** Sends the headers and part of the body a Content-Length promises, then closes the socket. */
  async function abandonUpload(path: string, authorization: string) {
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${authorization}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":"echo/echo","messages":[`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
  }

  it("logs one line, no stack and no 500, and changes nothing", async () => {
    const consoleErrors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const before = await snapshotStorage(gateway.records.storage);
      logged.length = 0; // the start-up warning about memory storage is not this test's
      await abandonUpload("/api/v1/chat/completions", `Bearer ${key}`);
      await abandonUpload("/api/admin/agents", `Bearer ${token}`);
      await expect.poll(() => logged.length).toBe(2);
      for (const line of logged) {
        expect(line).toMatch(/closed the connection before sending the whole request body/);
        expect(line).not.toMatch(/\n|500|at abortIncoming/);
        expect(line).not.toContain(key);
      }
      expect(logged[0]).toContain("POST /api/v1/chat/completions");
      expect(consoleErrors).not.toHaveBeenCalled();
      expect(await snapshotStorage(gateway.records.storage)).toEqual(before);
    } finally {
      consoleErrors.mockRestore();
    }
    // The next request is served as usual.
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
  });
});

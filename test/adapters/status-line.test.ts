import { createServer, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import express4 from "express4";
import express5 from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentgate } from "../../adapters/express";
import { toNodeListener } from "../../adapters/node";
import { createGateway, echo, signAdminToken, type Gateway } from "../../src/index";
import { ADMIN_SECRET, seedAgent } from "../_setup";

/** The first line the server writes for a raw HTTP/1.1 request, read off the socket. */
function statusLine(server: Server, request: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let received = "";
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n");
      if (end >= 0) {
        socket.destroy();
        resolve(received.slice(0, end));
      }
    });
    socket.on("error", reject);
  });
}

function raw(method: string, path: string, headers: Record<string, string> = {}, body = ""): string {
  const lines = Object.entries({ host: "localhost", connection: "close", ...headers, ...(body && { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }) }).map(([name, value]) => `${name}: ${value}`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n${body}`;
}

const hosts = [
  ["the Node adapter", (gateway: Gateway) => createServer(toNodeListener(gateway))],
  ["Express 4", (gateway: Gateway) => createServer(express4().use(agentgate(gateway)))],
  ["Express 5", (gateway: Gateway) => createServer(express5().use(agentgate(gateway)))],
] as const;

describe.each(hosts)("status lines through %s", (_name, serve) => {
  let gateway: Gateway;
  let server: Server;
  let key: string;
  let admin: string;
  beforeAll(async () => {
    gateway = createGateway({ admin: { secret: ADMIN_SECRET }, providers: [echo()], cors: true, logger: { warn() {}, error() {}, info() {} } as never });
    server = serve(gateway);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    key = (await seedAgent(gateway)).key;
    admin = `Bearer ${await signAdminToken(ADMIN_SECRET, "acct_test")}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  });

  it("carry the reason phrase on a JSON answer, a stream, a created key and errors", async () => {
    const chat = (stream: boolean) => JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }], stream });
    const cases: Array<[string, string]> = [
      [raw("GET", "/api/v1/models", { authorization: `Bearer ${key}` }), "HTTP/1.1 200 OK"],
      [raw("POST", "/api/v1/chat/completions", { authorization: `Bearer ${key}` }, chat(false)), "HTTP/1.1 200 OK"],
      [raw("POST", "/api/v1/chat/completions", { authorization: `Bearer ${key}` }, chat(true)), "HTTP/1.1 200 OK"],
      [raw("POST", "/api/admin/agents", { authorization: admin }, JSON.stringify({ name: "status line" })), "HTTP/1.1 201 Created"],
      [raw("GET", "/api/v1/models"), "HTTP/1.1 401 Unauthorized"],
      [raw("GET", "/api/v1/nowhere", { authorization: `Bearer ${key}` }), "HTTP/1.1 404 Not Found"],
      [raw("DELETE", "/api/v1/chat/completions", { authorization: `Bearer ${key}` }), "HTTP/1.1 405 Method Not Allowed"],
      [raw("OPTIONS", "/api/v1/chat/completions", { origin: "https://example.com", "access-control-request-method": "POST" }), "HTTP/1.1 204 No Content"],
    ];
    for (const [request, expected] of cases) expect(await statusLine(server, request), request.split("\r\n")[0]).toBe(expected);
  });
});

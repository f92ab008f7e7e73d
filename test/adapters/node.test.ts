import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toNodeListener } from "../../adapters/node";
import { createGateway, echo, type Gateway } from "../../src/index";
import { ADMIN_SECRET, seedAgent } from "../_setup";
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

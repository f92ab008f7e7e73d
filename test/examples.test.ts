import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it, vi } from "vitest";
import { signAdminToken } from "../src/index";
import { openaiClient } from "./_setup";

/** The placeholder the examples once fell back to: public, so anyone could sign admin tokens with it. */
const PUBLIC_PLACEHOLDER = "change-me-to-a-long-random-secret";

describe("the README's quick start", () => {
  let close: (() => Promise<void>) | undefined;
  afterAll(() => close?.());

  it("runs as written, answers the openai SDK, and without ADMIN_SECRET signs admin tokens with a random secret of its own", async () => {
    process.env.PORT = "0";
    delete process.env.ADMIN_SECRET;
    const logs: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void logs.push(args.join(" "));
    const { gateway, server } = await import("../examples/quick-start");
    console.log = log;
    close = async () => {
      server.close();
      await gateway.close();
    };
    await new Promise((resolve) => (server.listening ? resolve(undefined) : server.once("listening", resolve)));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const key = /OPENAI_API_KEY=(a2a_\w+)/.exec(logs.join("\n"))![1];
    const client = openaiClient(`${origin}/api/v1`, key);
    const reply = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "Hello, Ada" }] });
    expect(reply.choices[0].message.content).toBe("Hello, Ada");

    // The printed admin token works; one signed with the old public placeholder does not.
    const adminToken = /ADMIN_TOKEN=(\S+)/.exec(logs.join("\n"))![1];
    const agents = (token: string) => fetch(`${origin}/api/admin/agents`, { headers: { authorization: `Bearer ${token}` } });
    const listed = await agents(adminToken);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { data: Array<{ name: string }> }).data.map((agent) => agent.name)).toEqual(["Ada"]);
    expect((await agents(await signAdminToken(PUBLIC_PLACEHOLDER, "acct_1"))).status).toBe(401);
  });
});

describe("the README's mounting examples", () => {
  it.each(["mount-node", "mount-express"])("%s refuses to start without ADMIN_SECRET, with a message saying how to set one", async (name) => {
    delete process.env.ADMIN_SECRET;
    vi.resetModules();
    await expect(import(`../examples/${name}.ts`)).rejects.toThrow("Set ADMIN_SECRET to 32+ random bytes, e.g. ADMIN_SECRET=$(openssl rand -base64 32)");
  });
});

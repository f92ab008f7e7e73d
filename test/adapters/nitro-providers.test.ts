import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/index";
import type { FakeUpstream } from "../fakes/_server";
import { startOpenAIFake } from "../fakes/openai";
import { buildNitro, nitroProject, removeProject, startNitro, type NitroServer } from "./_nitro";

const SECRET = "nitro-providers-admin-secret-long-enough";

// One build, run with different NITRO_AGENTGATE_* variables: they are run-time settings.
describe("a built Nitro app whose config enables openai with no key in it", () => {
  let dir: string;
  const servers: NitroServer[] = [];
  beforeAll(async () => {
    dir = nitroProject({
      "nitro.config.ts": `import agentgate from "agentgate/nitro";
import { defineNitroConfig } from "nitropack/config";
export default defineNitroConfig({
  compatibilityDate: "2025-07-01",
  modules: [agentgate],
  agentgate: { providers: { echo: {}, openai: { baseURL: "" } }, admin: { secret: "" }, limits: { requestsPerMinute: 60 } },
});
`,
    });
    await buildNitro(dir);
  }, 90_000);
  afterAll(async () => {
    for (const server of servers) await server.stop();
    removeProject(dir);
  });

  const start = async (env: Record<string, string>) => {
    const server = await startNitro(dir, { NITRO_AGENTGATE_ADMIN_SECRET: SECRET, ...env });
    servers.push(server);
    return server;
  };
  const adminGet = async (server: NitroServer, path: string) =>
    fetch(`${server.origin}/api/admin${path}`, { headers: { authorization: `Bearer ${await signAdminToken(SECRET, "acct_nitro_keys")}` } });

  it("serves everything else when the key variable is unset, answering openai models with 503 provider_not_configured", async () => {
    const server = await start({});
    expect((await adminGet(server, "/agents")).status).toBe(200);
    const models = await fetch(`${server.origin}/api/v1/models`, { headers: { authorization: "Bearer a2a_nope" } });
    expect(models.status).toBe(401);
    expect(((await models.json()) as { error: { code: string } }).error.code).toBe("invalid_api_key");
    const key = await seedKey(server);
    const chat = (model: string) =>
      fetch(`${server.origin}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await chat("echo/echo")).status).toBe(200);
    const vendor = await chat("openai/gpt-4o-mini");
    expect(vendor.status).toBe(503);
    expect(await vendor.json()).toEqual({ error: { message: expect.stringContaining("openai"), type: "server_error", param: null, code: "provider_not_configured" } });
  });

  it("logs one warning at startup that names the provider and its variable", async () => {
    const server = await start({});
    const warnings = server.output().split("\n").filter((line) => line.includes("[agentgate]"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("`openai` provider has no apiKey (set NITRO_AGENTGATE_PROVIDERS_OPENAI_API_KEY)");
  });

  it("answers 503 in OpenAI's envelope, and logs why once, when a variable makes the gateway impossible to create", async () => {
    const server = await start({ NITRO_AGENTGATE_PROVIDERS_OPENAI_API_KEY: "sk-unused", NITRO_AGENTGATE_LIMITS_REQUESTS_PER_MINUTE: "lots" });
    for (const path of ["/api/v1/models", "/api/admin/agents"]) {
      const response = await fetch(`${server.origin}${path}`);
      expect(response.status, path).toBe(503);
      expect(await response.json()).toEqual({ error: { message: expect.stringContaining("server log"), type: "server_error", param: null, code: "service_unavailable" } });
    }
    const logged = server.output().split("Could not create the gateway").length - 1;
    expect(logged).toBe(1);
    expect(server.output()).toContain("`limits.requestsPerMinute` must be a positive whole number");
  });

  describe("with NITRO_AGENTGATE_PROVIDERS_OPENAI_API_KEY set", () => {
    let vendor: FakeUpstream;
    beforeAll(async () => {
      vendor = await startOpenAIFake();
    });
    afterAll(() => vendor.close());

    it("configures openai with the key from the variable", async () => {
      const server = await start({ NITRO_AGENTGATE_PROVIDERS_OPENAI_API_KEY: vendor.apiKey, NITRO_AGENTGATE_PROVIDERS_OPENAI_BASE_URL: vendor.baseURL });
      const key = await seedKey(server);
      const reply = await fetch(`${server.origin}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "from the vendor" }] }),
      });
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe("from the vendor");
      expect(vendor.requests.at(-1)!.headers.authorization).toBe(`Bearer ${vendor.apiKey}`);
      expect(server.output()).not.toContain("[agentgate]");
    });
  });
});

/** A funded key of a new agent, made over the admin API. */
async function seedKey(server: NitroServer): Promise<string> {
  const token = await signAdminToken(SECRET, "acct_nitro_keys", { scopes: ["billing:credit"] });
  const post = (path: string, body: unknown) =>
    fetch(`${server.origin}/api/admin${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ id: string; key: string }>);
  const agent = await post("/agents", { name: "Keyed" });
  await post("/billing/credit", { amount_micros: 1_000_000 });
  return (await post(`/agents/${agent.id}/keys`, { name: "k" })).key;
}

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/index";
import { testOpenAIClient, type AdapterTarget } from "./_openai";
import { buildNitro, nitroProject, removeProject, startNitro, type NitroServer } from "./_nitro";

const SECRET = "nitro-test-admin-secret-long-enough";

describe("a built Nitro app (nitropack 2) with the README's nitro.config.ts, as written", () => {
  let dir: string;
  let server: NitroServer | undefined;
  let origin: string;
  let target: AdapterTarget;
  let agentId: string;

  beforeAll(async () => {
    dir = nitroProject({ "nitro.config.ts": readFileSync(new URL("../../examples/nitro/nitro.config.ts", import.meta.url), "utf8") });
    await buildNitro(dir);
    server = await startNitro(dir, { NITRO_AGENTGATE_ADMIN_SECRET: SECRET });
    origin = server.origin;

    // Seed over the admin API, as the host's back office would.
    const token = await signAdminToken(SECRET, "acct_nitro", { scopes: ["billing:credit"] });
    const admin = (path: string, body: unknown) =>
      fetch(`${origin}/api/admin${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ id: string; key: string }>);
    agentId = (await admin("/agents", { name: "Nitro agent" })).id;
    const { key } = await admin(`/agents/${agentId}/keys`, { name: "nitro key" });
    await admin("/billing/credit", { amount_micros: 1_000_000 });
    target = { baseURL: `${origin}/api/v1`, key };
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    removeProject(dir);
  });

  testOpenAIClient(() => target);

  it("keeps its documents in the Nitro storage mount the config names", () => {
    expect(existsSync(join(dir, ".data/agentgate/agents", agentId))).toBe(true);
    expect(readdirSync(join(dir, ".data/agentgate")).length).toBeGreaterThan(1);
  });

  it("aborts a stream the client leaves, keeping and billing only what was generated", async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const controller = new AbortController();
    const res = await fetch(`${target.baseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { authorization: `Bearer ${target.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "echo/echo", stream: true, messages: [{ role: "user", content: words }] }),
    });
    const threadId = res.headers.get("x-thread-id")!;
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("word2")) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    // echo writes a word every 20 ms: the whole answer would take 800 ms. The thread gets the part sent.
    const token = await signAdminToken(SECRET, "acct_nitro");
    const thread = async () => {
      const read = await fetch(`${origin}/api/admin/threads/${threadId}`, { headers: { authorization: `Bearer ${token}` } });
      return read.ok ? ((await read.json()) as { messages: Array<{ content: string }> }) : undefined;
    };
    await expect.poll(thread, { timeout: 5_000, interval: 50 }).toBeDefined();
    const reply = (await thread())!.messages[1].content;
    expect(reply.startsWith("word0 word1 word2")).toBe(true);
    expect(reply.length).toBeLessThan(words.length);
  });

  it("mounts only /api/v1/** and /api/admin/**; the rest stays Nitro's", async () => {
    const models = await fetch(`${origin}/api/v1/models`, { headers: { authorization: `Bearer ${target.key}` } });
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain("echo/echo");
    const other = await fetch(`${origin}/api/other`);
    expect(other.status).toBe(404);
    expect(JSON.stringify(await other.json())).not.toContain("invalid_request_error");
  });
});

import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signAdminToken } from "../../src/admin/token";
import { anthropic, createGateway, echo, gemini, openai } from "../../src/index";
import { ledgerLines } from "../_billing";
import { ADMIN_SECRET, openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";
import { startAnthropicFake } from "../fakes/anthropic";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";

const ALIASES = {
  "claude-haiku-*": "gemini/gemini-2.5-flash",
  "claude-*": "anthropic/claude-sonnet-4-5",
  fast: "openai/gpt-4.1-mini",
};

describe("model aliases", () => {
  let fakes: Record<"gemini" | "anthropic" | "openai", FakeUpstream>;
  let t: TestGateway;
  let token: string;

  const vendors = () => [
    gemini({ apiKey: fakes.gemini.apiKey, baseURL: fakes.gemini.baseURL }),
    anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL }),
    openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }),
    echo(),
  ];

  beforeAll(async () => {
    fakes = { gemini: await startGeminiFake(), anthropic: await startAnthropicFake(), openai: await startOpenAIFake() };
    t = await startGateway({ providers: vendors(), aliases: ALIASES });
    token = await signAdminToken(ADMIN_SECRET, "acct_alias_admin", { expiresIn: "1h" });
  });
  afterEach(() => {
    for (const fake of Object.values(fakes)) fake.reset();
  });
  afterAll(async () => {
    await t?.close();
    for (const fake of Object.values(fakes ?? {})) await fake.close();
  });

  const chat = (baseURL: string, key: string, model: string, headers: Record<string, string> = {}) =>
    fetch(`${baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hello there" }] }),
    });
  const settledLines = async (accountId: string) => {
    for (let i = 0; i < 100; i++) {
      const lines = await ledgerLines(t.gateway, accountId);
      if (lines.some((line) => line.type === "charge")) return lines.filter((line) => line.type === "charge");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error("no charge reached the ledger");
  };

  it("routes Claude Code's names through the gateway's patterns, the most specific first, priced as the routed model", async () => {
    const { key, accountId } = await seedAgent(t.gateway);
    const client = openaiClient(t.baseURL, key);
    fakes.gemini.script({ reply: { text: "from gemini", usage: { prompt: 1000, completion: 100 } } });
    const haiku = await client.chat.completions.create({ model: "claude-haiku-4-5-20251001", messages: [{ role: "user", content: "background work" }] });
    expect(haiku.choices[0].message.content).toBe("from gemini");
    // The answer names the routed catalog model, as it names any model.
    expect(haiku.model).toBe("gemini/gemini-2.5-flash");
    expect(fakes.gemini.requests).toHaveLength(1);
    // 1000 in at $0.30 and 100 out at $2.50 per million: gemini-2.5-flash's prices, not Anthropic's.
    const [line] = await settledLines(accountId);
    expect(line).toMatchObject({ model: "gemini/gemini-2.5-flash", amount_micros: -550, prompt_tokens: 1000, completion_tokens: 100 });

    const sonnet = await client.chat.completions.create({ model: "claude-sonnet-4-5-20250929", messages: [{ role: "user", content: "main loop" }] });
    expect(sonnet.model).toBe("anthropic/claude-sonnet-4-5");
    expect((fakes.anthropic.requests[0].body as { model: string }).model).toBe("claude-sonnet-4-5");

    const fast = await client.chat.completions.create({ model: "fast", messages: [{ role: "user", content: "quick" }] });
    expect(fast.model).toBe("openai/gpt-4.1-mini");
    expect((fakes.openai.requests[0].body as { model: string }).model).toBe("gpt-4.1-mini");
  });

  it("looks at the agent's aliases before the gateway's, and knows a name only that agent has", async () => {
    const mine = await seedAgent(t.gateway, { agent: { name: "renamer", aliases: { fast: "echo/echo", "claude-haiku-*": "openai/gpt-4o-mini", house: "echo/echo" } } });
    const other = await seedAgent(t.gateway);

    const fast = await chat(t.baseURL, mine.key, "fast");
    expect(fast.status).toBe(200);
    expect((await fast.json()).model).toBe("echo/echo");
    const haiku = await chat(t.baseURL, mine.key, "claude-haiku-4-5");
    expect((await haiku.json()).model).toBe("openai/gpt-4o-mini");
    expect(fakes.openai.requests).toHaveLength(1);
    expect(fakes.gemini.requests).toHaveLength(0);
    // Patterns of the gateway still apply to names the agent's map does not match.
    expect((await (await chat(t.baseURL, mine.key, "claude-opus-4-1")).json()).model).toBe("anthropic/claude-sonnet-4-5");

    expect((await (await chat(t.baseURL, mine.key, "house")).json()).model).toBe("echo/echo");
    const elsewhere = await chat(t.baseURL, other.key, "house");
    expect(elsewhere.status).toBe(404);
    expect((await elsewhere.json()).error).toMatchObject({ code: "model_not_found", param: "model" });
    const unknown = await chat(t.baseURL, mine.key, "nobody/knows");
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error).toMatchObject({ code: "model_not_found", param: "model" });
  });

  it("routes a name only the agent's aliases know on the Responses and Messages APIs too, and to the pass-through when it names an Anthropic model", async () => {
    const mine = await seedAgent(t.gateway, { agent: { name: "three ways in", aliases: { house: "openai/gpt-4o-mini", "claude-house-*": "anthropic/claude-sonnet-4-6" } } });
    const other = await seedAgent(t.gateway);
    const client = openaiClient(t.baseURL, mine.key);
    fakes.openai.script({ reply: { text: "via responses" } });
    const response = await client.responses.create({ model: "house", input: "hello" });
    expect(response.output_text).toBe("via responses");
    expect((fakes.openai.requests.at(-1)!.body as { model: string }).model).toBe("gpt-4o-mini");

    const claude = new Anthropic({ apiKey: mine.key, baseURL: t.baseURL.replace(/\/v1$/, ""), maxRetries: 0 });
    fakes.openai.script({ reply: { text: "via messages" } });
    const message = await claude.messages.create({ model: "house", max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
    expect(message.content[0]).toMatchObject({ type: "text", text: "via messages" });
    const passed = await claude.messages.create({ model: "claude-house-1", max_tokens: 100, messages: [{ role: "user", content: "hello" }] });
    expect(passed.type).toBe("message");
    expect((fakes.anthropic.requests.at(-1)!.body as { model: string }).model).toBe("claude-sonnet-4-6");

    // Another agent's key: the name is unknown on every API.
    await expect(openaiClient(t.baseURL, other.key).responses.create({ model: "house", input: "hello" })).rejects.toMatchObject({ status: 404 });
    await expect(new Anthropic({ apiKey: other.key, baseURL: t.baseURL.replace(/\/v1$/, ""), maxRetries: 0 }).messages.create({ model: "house", max_tokens: 100, messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404 });
  });

  it("checks an agent's models allow-list against the routed model", async () => {
    const { key } = await seedAgent(t.gateway, { agent: { name: "echo only", models: ["echo/*"], aliases: { mine: "echo/echo", theirs: "openai/gpt-4.1" } } });
    expect((await chat(t.baseURL, key, "mine")).status).toBe(200);
    for (const model of ["fast", "theirs", "claude-haiku-4-5"]) {
      const res = await chat(t.baseURL, key, model);
      expect(res.status).toBe(404);
      expect((await res.json()).error).toMatchObject({ code: "model_not_found", param: "model" });
    }
    expect(fakes.openai.requests).toHaveLength(0);
  });

  it("routes a bare claude- name with no alias to anthropic/ when Anthropic is configured, and to nothing when it is not", async () => {
    const plain = await startGateway({ providers: vendors() });
    const noAnthropic = await startGateway({ providers: [echo()] });
    try {
      const { key } = await seedAgent(plain.gateway);
      const dated = await chat(plain.baseURL, key, "claude-haiku-4-5-20251001");
      expect((await dated.json()).model).toBe("anthropic/claude-haiku-4-5-20251001");
      // Anthropic's dated name of a model the catalog knows undated.
      expect((await (await chat(plain.baseURL, key, "claude-sonnet-4-5-20250929")).json()).model).toBe("anthropic/claude-sonnet-4-5");
      expect((fakes.anthropic.requests.at(-1)!.body as { model: string }).model).toBe("claude-sonnet-4-5");
      const other = await seedAgent(noAnthropic.gateway);
      const res = await chat(noAnthropic.baseURL, other.key, "claude-haiku-4-5-20251001");
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("model_not_found");
    } finally {
      await plain.close();
      await noAnthropic.close();
    }
  });

  it("lists aliases and catalog models in OpenAI's shape, each id usable verbatim", async () => {
    const { key } = await seedAgent(t.gateway, { agent: { name: "lister", aliases: { house: "echo/echo" } } });
    const client = openaiClient(t.baseURL, key);
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids.slice(0, 2)).toEqual(["house", "fast"]);
    expect(ids).toContain("anthropic/claude-sonnet-4-5");
    expect(ids).toContain("echo/echo");
    expect(ids.some((id) => id.includes("*"))).toBe(false);
    expect((await client.models.retrieve("fast")).owned_by).toBe("openai");
    for (const id of ["house", "fast", "gemini/gemini-2.5-pro"]) expect((await chat(t.baseURL, key, id)).status).toBe(200);

    const limited = await seedAgent(t.gateway, { agent: { name: "limited", models: ["echo/*"], aliases: { house: "echo/echo" } } });
    const limitedIds = (await (await fetch(`${t.baseURL}/models`, { headers: { authorization: `Bearer ${limited.key}` } })).json()).data.map((model: { id: string }) => model.id);
    expect(limitedIds).toEqual(["house", "echo/echo"]);
  });

  it("lists them in Anthropic's shape when the request carries anthropic-version, ?beta=true accepted", async () => {
    const { key } = await seedAgent(t.gateway, { agent: { name: "claude code", models: ["echo/*", "anthropic/*"] } });
    const res = await fetch(`${t.baseURL}/models?beta=true`, { headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } });
    expect(res.status).toBe(200);
    const list = await res.json();
    expect(Object.keys(list).sort()).toEqual(["data", "first_id", "has_more", "last_id"]);
    expect(list.has_more).toBe(false);
    expect(list.data[0]).toEqual({ type: "model", id: "anthropic/claude-sonnet-4-6", display_name: "anthropic/claude-sonnet-4-6", created_at: "2025-01-01T00:00:00.000Z" });
    const ids = list.data.map((model: { id: string }) => model.id);
    expect(ids).toEqual(["anthropic/claude-sonnet-4-6", "anthropic/claude-sonnet-4-5", "anthropic/claude-haiku-4-5-20251001", "echo/echo"]);
    expect(list.first_id).toBe(ids[0]);
    expect(list.last_id).toBe(ids.at(-1));

    // The Anthropic SDK, as Claude Code's ANTHROPIC_BASE_URL would point it.
    const sdk = new Anthropic({ apiKey: key, baseURL: `${t.origin}/api`, maxRetries: 0 });
    const listed = [];
    for await (const model of sdk.models.list()) listed.push(model.id);
    expect(listed).toEqual(ids);
    expect(await sdk.models.retrieve("echo/echo")).toMatchObject({ type: "model", id: "echo/echo" });
  });

  it("records Claude Code's session id on the request's ledger line", async () => {
    const { key, accountId } = await seedAgent(t.gateway);
    expect((await chat(t.baseURL, key, "echo/echo", { "x-claude-code-session-id": "4a1c7e9e-session" })).status).toBe(200);
    expect((await settledLines(accountId))[0].session_id).toBe("4a1c7e9e-session");
  });

  it("records Codex CLI's Session-Id on the ledger lines of its Responses and Messages requests, and ignores one too long to be an id", async () => {
    const { key, accountId } = await seedAgent(t.gateway);
    const post = (path: string, body: object, headers: Record<string, string>) =>
      fetch(`${t.baseURL}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    expect((await post("/responses", { model: "echo/echo", input: "hi", store: false }, { "session-id": "0199-codex-session" })).status).toBe(200);
    expect((await settledLines(accountId))[0].session_id).toBe("0199-codex-session");
    expect((await post("/messages", { model: "echo/echo", max_tokens: 20, messages: [{ role: "user", content: "hi" }] }, { "anthropic-version": "2023-06-01", "x-claude-code-session-id": "x".repeat(201) })).status).toBe(200);
    await expect.poll(async () => (await settledLines(accountId)).length).toBe(2);
    expect((await settledLines(accountId))[1].session_id).toBeUndefined();
    // Some Codex releases name it with an underscore.
    expect((await post("/responses", { model: "echo/echo", input: "hi", store: false }, { session_id: "0199-underscore" })).status).toBe(200);
    await expect.poll(async () => (await settledLines(accountId)).length).toBe(3);
    expect((await settledLines(accountId))[2].session_id).toBe("0199-underscore");
  });

  it("refuses an alias to a model the catalog does not have: at createGateway, and with 400 from the admin API", async () => {
    expect(() => createGateway({ providers: [echo()], aliases: { fast: "echo/missing" } })).toThrow(/`fast` routes to "echo\/missing"/);
    const call = async (method: string, path: string, body: unknown) => {
      const res = await fetch(`${t.origin}/api/admin${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    const refused = await call("POST", "/agents", { name: "bad", aliases: { fast: "openai/gpt-9" } });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "invalid_request", param: "aliases" });
    expect((await call("POST", "/agents", { name: "bad", aliases: ["fast"] })).status).toBe(400);

    const created = await call("POST", "/agents", { name: "good", aliases: { fast: "echo/echo" } });
    expect(created.status).toBe(201);
    expect(created.json.aliases).toEqual({ fast: "echo/echo" });
    const patched = await call("PATCH", `/agents/${created.json.id}`, { aliases: { "claude-*": "anthropic/claude-sonnet-4-6" } });
    expect(patched.json.aliases).toEqual({ "claude-*": "anthropic/claude-sonnet-4-6" });
    expect((await call("PATCH", `/agents/${created.json.id}`, { aliases: { x: "nope/nope" } })).status).toBe(400);
    expect((await call("PATCH", `/agents/${created.json.id}`, { aliases: null })).json.aliases).toBeNull();
    await expect(t.gateway.admin.updateAgent("acct_alias_admin", created.json.id, { aliases: { x: "nope/nope" } })).rejects.toMatchObject({ status: 400 });
  });
});

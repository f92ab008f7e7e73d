import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import express5 from "express";
import express4 from "express4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentgate, agentgateErrors } from "../../adapters/express";
import { createGateway, echo, signAdminToken, type Gateway } from "../../src/index";
import { ADMIN_SECRET, seedAgent } from "../_setup";
import { testOpenAIClient, type AdapterTarget } from "./_openai";

const hosts = [
  ["Express 4", express4],
  ["Express 5", express5],
] as const;

// Where express.json() runs: after the gateway (the README's order), before it (then
// agentgateErrors answers the parser's errors), or nowhere.
const parsers = [
  ["with express.json() after it", "after"],
  ["with express.json() before it and agentgateErrors at the end", "before"],
  ["without a body parser", "none"],
] as const;

describe.each(hosts)("%s", (_name, express) => {
  describe.each(parsers)("mounted under a sub-path, %s", (_parser, parser) => {
    let gateway: Gateway;
    let server: Server;
    let origin: string;
    let target: AdapterTarget;
    beforeAll(async () => {
      // Mounted at /team, so Express strips /team from req.url; the gateway's routes live under /team/ai.
      gateway = createGateway({ basePath: "/team/ai", admin: { secret: ADMIN_SECRET }, providers: [echo({ delayMs: 20 })] });
      const app = express();
      if (parser === "before") app.use(express.json());
      app.use("/team", agentgate(gateway));
      if (parser === "after") app.use(express.json());
      app.get("/team/ai/status", (_req, res) => void res.json({ host: "express" }));
      app.post("/team/notes", (req, res) => void res.json({ host: "express", body: req.body ?? null }));
      if (parser === "before") app.use(agentgateErrors(gateway));
      server = app.listen(0, "127.0.0.1");
      await new Promise((resolve) => server.once("listening", resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      target = { baseURL: `${origin}/team/ai/v1`, key: (await seedAgent(gateway)).key };
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
    });

    testOpenAIClient(() => target);

    it("passes every path the gateway does not own to next()", async () => {
      const status = await fetch(`${origin}/team/ai/status`);
      expect(await status.json()).toEqual({ host: "express" });
      const notes = await fetch(`${origin}/team/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"a":1}' });
      expect(await notes.json()).toEqual({ host: "express", body: parser === "none" ? null : { a: 1 } });
      expect((await fetch(`${origin}/team/ai/v1x`)).status).toBe(404);
    });

    it("reads admin bodies too, and answers bad JSON with OpenAI's envelope", async () => {
      const token = await signAdminToken(ADMIN_SECRET, "acct_express");
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const created = await fetch(`${origin}/team/ai/admin/agents`, { method: "POST", headers, body: JSON.stringify({ name: "Über agent ✓" }) });
      expect(created.status).toBe(201);
      expect(((await created.json()) as { name: string }).name).toBe("Über agent ✓");
      const bad = await fetch(`${origin}/team/ai/admin/agents`, { method: "POST", headers, body: '{"name":' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
      const list = (await (await fetch(`${origin}/team/ai/admin/agents`, { headers })).json()) as { data: unknown[] };
      expect(list.data).toHaveLength(1);
    });

    it("answers malformed chat JSON with OpenAI's 400 invalid_json, while the host's own paths keep Express's answer", async () => {
      const bad = await chat(target, "{\"model\":");
      expect(bad.status).toBe(400);
      expect(bad.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await bad.json()) as { error: { type: string; code: string } }).error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
      const notes = await fetch(`${origin}/team/notes`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" });
      expect(notes.status).toBe(parser === "none" ? 200 : 400);
      if (parser !== "none") expect(await notes.text()).not.toContain("invalid_request_error");
    });

    it(parser === "before" ? "answers a 200 KB chat body over the parser's 100 kB limit with OpenAI's 413" : "takes a 200 KB chat body, within the gateway's 1 MiB limit", async () => {
      const big = await chat(target, JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "a".repeat(200_000) }] }));
      if (parser === "before") {
        expect(big.status).toBe(413);
        expect(((await big.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
      } else {
        expect(big.status).toBe(200);
        // The whole body arrived: its prompt is counted in full; the echo itself stops at the output cap.
        const answer = (await big.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
        expect(answer.usage.prompt_tokens).toBeGreaterThanOrEqual(50_000);
        expect("a".repeat(200_000).startsWith(answer.choices[0].message.content)).toBe(true);
      }
    });
  });
});

describe("the README's Express example, as written", () => {
  let example: { gateway: Gateway; server: Server };
  let origin: string;
  let target: AdapterTarget;
  beforeAll(async () => {
    process.env.PORT = "0";
    process.env.ADMIN_SECRET = ADMIN_SECRET; // the example refuses to start without it
    example = await import("../../examples/mount-express");
    if (!example.server.listening) await new Promise((resolve) => example.server.once("listening", resolve));
    origin = `http://127.0.0.1:${(example.server.address() as AddressInfo).port}`;
    target = { baseURL: `${origin}/llm/v1`, key: (await seedAgent(example.gateway)).key };
  });
  afterAll(async () => {
    example.server.closeAllConnections();
    await new Promise((resolve) => example.server.close(resolve));
    await example.gateway.close();
  });

  testOpenAIClient(() => target);

  it("keeps the app's own route under the same path", async () => {
    expect(await (await fetch(`${origin}/llm/status`)).json()).toEqual({ ok: true });
  });

  it("reads chat bodies itself: a 200 KB body passes and malformed JSON gets OpenAI's envelope", async () => {
    const big = await chat(target, JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "a".repeat(200_000) }] }));
    expect(big.status).toBe(200);
    const bad = await chat(target, "{\"model\":");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
  });
});

function chat(target: AdapterTarget, body: string): Promise<Response> {
  return fetch(`${target.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${target.key}`, "content-type": "application/json" }, body });
}

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { openaiClient } from "./_setup";

const dist = new URL("../dist/", import.meta.url);

// The built package, as users install it: the bundler must not drop or break anything.
describe("the built package in dist/", () => {
  beforeAll(() => {
    // `npm run test:all` builds before the tests; a bare `vitest run` builds here once.
    if (!existsSync(new URL("index.mjs", dist))) execFileSync("npx", ["unbuild"], { stdio: "ignore" });
  }, 120_000);

  it("exports the public API from its entries, with type declarations beside them", async () => {
    const core = await import(new URL("index.mjs", dist).href);
    for (const name of ["createGateway", "defineProvider", "echo", "openai", "anthropic", "gemini", "createRedisAtomics", "createMemoryAtomics", "signAdminToken", "createAPIError", "upstreamError"]) {
      expect(typeof core[name], name).toBe("function");
    }
    for (const entry of ["index", "adapters/node", "adapters/express", "adapters/nitro", "providers/echo", "providers/openai", "providers/anthropic", "providers/gemini"]) {
      expect(existsSync(new URL(`${entry}.mjs`, dist)), entry).toBe(true);
      expect(existsSync(new URL(`${entry}.d.mts`, dist)), `${entry} types`).toBe(true);
      // The CommonJS twin, for require() (package.json's "require" condition).
      expect(existsSync(new URL(`${entry}.cjs`, dist)), `${entry} for require`).toBe(true);
      expect(existsSync(new URL(`${entry}.d.cts`, dist)), `${entry} types for require`).toBe(true);
    }
  });

  it("imports no vendor SDK anywhere, so a server without them runs every provider", () => {
    const files = (readdirSync(dist, { recursive: true }) as string[]).filter((file) => /\.(mjs|cjs|js)$/.test(file));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(new URL(file, dist), "utf8");
      expect(text, file).not.toMatch(/(?:from|import|require)\s*\(?\s*["'](?:openai|@anthropic-ai\/sdk|@google\/genai)(?:\/[^"']*)?["']/);
    }
  });

  it("serves a completion and a stream through the built node adapter", async () => {
    const { createGateway, echo } = await import(new URL("index.mjs", dist).href);
    const { toNodeListener } = await import(new URL("adapters/node.mjs", dist).href);
    const gateway = createGateway({ providers: [echo()] });
    const agent = await gateway.admin.createAgent("acct_dist", { name: "Built" });
    const { key } = await gateway.admin.createKey("acct_dist", agent.id, { name: "k" });
    await gateway.admin.credit("acct_dist", 1_000_000);
    const server = createServer(toNodeListener(gateway));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const client = openaiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, key);
      const reply = await client.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "built" }] });
      expect(reply.choices[0].message.content).toBe("built");
      let text = "";
      for await (const chunk of await client.chat.completions.create({ model: "echo/echo", stream: true, messages: [{ role: "user", content: "built stream" }] })) text += chunk.choices[0]?.delta.content ?? "";
      expect(text).toBe("built stream");
    } finally {
      server.closeAllConnections();
      server.close();
      await gateway.close();
    }
  });
});

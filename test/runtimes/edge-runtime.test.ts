import { build } from "esbuild";
import { EdgeRuntime } from "edge-runtime";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "../consumers/_consumer";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { expectScenarioServed } from "./_runtime-scenario";

const MAIN = fileURLToPath(new URL("../fixtures/runtimes/edge-main.mjs", import.meta.url));

describe("the built core entry in an edge runtime (web-standard globals only, no Node)", () => {
  let upstream: FakeUpstream;
  let script: string;
  beforeAll(async () => {
    ensureBuilt();
    upstream = await startOpenAIFake();
    // One script, as an edge platform bundles it: a static import of anything Node-only
    // fails the bundle; what the core loads on first use (Redis, undici) stays a dynamic import.
    const bundled = await build({
      entryPoints: [MAIN],
      bundle: true,
      write: false,
      format: "iife",
      platform: "browser",
      conditions: ["worker", "browser"],
      external: ["ioredis", "undici", "unstorage/drivers/redis", "node:*"],
      logLevel: "silent",
    });
    script = bundled.outputFiles[0].text;
  }, 120_000);
  afterAll(() => upstream?.close());

  it("bundles with nothing Node-only imported at load", () => {
    const staticRequires = [...script.matchAll(/__require\(["']([^"']+)["']\)/g)].map((match) => match[1]);
    expect(staticRequires).toEqual([]);
  });

  it("serves echo and openai completions and streams through gateway.fetch, on memory storage", async () => {
    const runtime = new EdgeRuntime({ initialCode: `globalThis.__upstream = ${JSON.stringify({ apiKey: upstream.apiKey, baseURL: upstream.baseURL })};` });
    expect(runtime.evaluate("typeof process === 'undefined' || typeof process.versions?.node !== 'string'")).toBe(true);
    runtime.evaluate(script);
    const result = await (runtime.context as unknown as { __result: Promise<string> }).__result;
    expectScenarioServed(JSON.parse(result));
  });
});

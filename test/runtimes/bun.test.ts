import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, it } from "vitest";
import { ensureBuilt } from "../consumers/_consumer";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { expectScenarioServed } from "./_runtime-scenario";
import { requireCachedProgram } from "../_system";

const MAIN = fileURLToPath(new URL("../fixtures/runtimes/bun-main.mjs", import.meta.url));

/** Bun from npm's @oven/bun-linux-x64 (its binary inside the package), where `npm run test:all` caches it. */
const bunPath = () => requireCachedProgram("AGENTGATE_BUN", "bun/node_modules/@oven/bun-linux-x64/bin/bun", "Bun is not installed: run `npm install --prefix ~/.cache/agentgate-node/bun @oven/bun-linux-x64`");

describe("the built core entry in Bun", () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    ensureBuilt();
    upstream = await startOpenAIFake();
  }, 120_000);
  afterAll(() => upstream?.close());

  it("serves echo and openai completions and streams through gateway.fetch, on memory storage", async () => {
    const env = { ...process.env, UPSTREAM: JSON.stringify({ apiKey: upstream.apiKey, baseURL: upstream.baseURL }) };
    const { stdout } = await promisify(execFile)(bunPath(), [MAIN], { env, timeout: 60_000 });
    expectScenarioServed(JSON.parse(stdout.trim().split("\n").pop()!));
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropic, openai } from "../../src/index";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream } from "../fakes/_server";
import { startOpenAIFake } from "../fakes/openai";
import { seedAgent, startGateway, type TestGateway } from "../_setup";

const run = promisify(execFile);
// 2.1.112 is the last Claude Code whose npm package carries its JS; later ones download a binary.
const CLI = createRequire(import.meta.url).resolve("@anthropic-ai/claude-code/cli.js");

interface ClaudeResult {
  type: "result";
  subtype: string;
  is_error: boolean;
  result: string;
  num_turns: number;
}

// Claude Code itself, in print mode, with the gateway as its ANTHROPIC_BASE_URL.
describe("Claude Code against the gateway", () => {
  let fakes: { openai: FakeUpstream; anthropic: FakeUpstream };
  let t: TestGateway;
  let key: string;
  let home: string;

  const claude = async (prompt: string, model: string): Promise<ClaudeResult> => {
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: home,
      ANTHROPIC_BASE_URL: `${t.origin}/api`,
      ANTHROPIC_API_KEY: key,
      DISABLE_TELEMETRY: "1",
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
    const { stdout } = await run(process.execPath, [CLI, "-p", prompt, "--output-format", "json", "--model", model], { env, cwd: home, timeout: 60_000 });
    return JSON.parse(stdout) as ClaudeResult;
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "agentgate-claude-"));
    fakes = { openai: await startOpenAIFake(), anthropic: await startAnthropicFake() };
    t = await startGateway({ providers: [openai({ apiKey: fakes.openai.apiKey, baseURL: fakes.openai.baseURL }), anthropic({ apiKey: fakes.anthropic.apiKey, baseURL: fakes.anthropic.baseURL })] });
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
    await rm(home, { recursive: true, force: true });
  });
  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  it("answers through an Anthropic model, its request passed through with its betas", async () => {
    fakes.anthropic.script({ reply: { text: "Hello from Claude." } });
    const result = await claude("Say hello", "anthropic/claude-sonnet-4-6");
    expect(result).toMatchObject({ type: "result", is_error: false, result: "Hello from Claude." });
    const sent = fakes.anthropic.requests.find((request) => request.path.startsWith("/v1/messages"))!;
    expect(sent.body).toMatchObject({ model: "claude-sonnet-4-6", stream: true });
    expect(sent.headers["anthropic-beta"]).toContain("claude-code-20250219");
  }, 90_000);

  it("answers through a non-Anthropic model", async () => {
    fakes.openai.script({ reply: { text: "Hello from GPT." } });
    const result = await claude("Say hello", "openai/gpt-4o-mini");
    expect(result).toMatchObject({ type: "result", is_error: false, result: "Hello from GPT." });
    expect(fakes.anthropic.requests).toHaveLength(0);
  }, 90_000);

  for (const [vendor, model] of [
    ["openai", "openai/gpt-4o-mini"],
    ["anthropic", "anthropic/claude-sonnet-4-6"],
  ] as const) {
    it(`completes a tool round trip the upstream asks for (reading a file) through ${model}`, async () => {
      const file = join(home, "notes.txt");
      await writeFile(file, "The secret word is pineapple.\n");
      fakes[vendor].script({ reply: { toolCalls: [{ name: "Read", arguments: { file_path: file } }] } }, { reply: { text: "The file says pineapple." } });
      const result = await claude("What does notes.txt say?", model);
      expect(result).toMatchObject({ is_error: false, result: "The file says pineapple." });
      expect(result.num_turns).toBeGreaterThanOrEqual(2);
      const second = fakes[vendor].requests.at(-1)!;
      expect(JSON.stringify(second.body)).toContain("pineapple");
    }, 90_000);
  }
});

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerLines } from "../_billing";
import { requireCachedProgram } from "../_system";
import { startMessagesGateway, type MessagesGateway } from "./_messages-gateway";

const SCRIPT = fileURLToPath(new URL("../fixtures/clients/anthropic-python.py", import.meta.url));

/** The venv `npm run test:all` keeps the `anthropic` Python package in (scripts/test.sh). */
const pythonPath = () =>
  requireCachedProgram("AGENTGATE_PYTHON", "python/bin/python", "The anthropic Python package is not installed: make a venv at ~/.cache/agentgate-node/python and `pip install anthropic==1.13.0` in it");

interface PythonRun {
  sdk: string;
  created: { id: string; type: string; role: string; model: string; content: { type: string; text: string }[]; stop_reason: string; usage: { input_tokens: number; output_tokens: number } };
  streamed_text: string;
  final: PythonRun["created"];
}

describe("the anthropic Python package against the gateway's Messages API", () => {
  let gateway: MessagesGateway;
  beforeAll(async () => {
    gateway = await startMessagesGateway();
  });
  afterAll(() => gateway?.close());

  // Passed through, the answer names Anthropic's own id; translated, the name the client sent (README).
  const cases = [
    { model: "anthropic/claude-sonnet-4-6", answered: "claude-sonnet-4-6" },
    { model: "openai/gpt-4o-mini", answered: "openai/gpt-4o-mini" },
  ];
  for (const { model, answered } of cases) {
    it(`creates and streams a message through ${model}, each billed once`, async () => {
      const { t, key, accountId } = gateway;
      const before = (await ledgerLines(t.gateway, accountId)).length;
      const env = { ...process.env, GATEWAY_URL: `${t.origin}/api`, API_KEY: key, MODEL: model };
      const { stdout } = await promisify(execFile)(pythonPath(), [SCRIPT], { env, timeout: 60_000 });
      const run = JSON.parse(stdout.trim().split("\n").pop()!) as PythonRun;

      expect(run.created).toMatchObject({ type: "message", role: "assistant", model: answered, content: [{ type: "text", text: "Hello there" }], stop_reason: "end_turn" });
      expect(run.created.id).toMatch(/^msg_/);
      expect(run.created.usage.output_tokens).toBeGreaterThan(0);
      expect(run.streamed_text).toBe("one two three");
      expect(run.final).toMatchObject({ type: "message", role: "assistant", content: [{ type: "text", text: "one two three" }], stop_reason: "end_turn" });
      expect(run.final.usage.output_tokens).toBeGreaterThan(0);

      const lines = (await ledgerLines(t.gateway, accountId)).slice(before);
      expect(lines.map((line) => [line.type, line.model])).toEqual([
        ["charge", model],
        ["charge", model],
      ]);
    });
  }
});

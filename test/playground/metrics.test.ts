import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlayground, type RunningPlayground } from "./_server";

describe("the playground's /metrics", () => {
  const dir = mkdtempSync(join(tmpdir(), "agentgate-metrics-"));
  let playground: RunningPlayground;
  beforeAll(async () => {
    playground = await startPlayground(dir);
  }, 60_000);
  afterAll(async () => {
    await playground?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the GenAI figures in Prometheus' format after a few calls, never a key", async () => {
    const call = (content: string, stream = false) =>
      fetch(`${playground.origin}/api/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${playground.demoKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "echo/echo", stream, messages: [{ role: "user", content }] }),
      }).then((res) => res.text());
    await call("hello there");
    await call("a second call");
    await call("and a streamed one", true);

    const res = await fetch(`${playground.origin}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    // Series split by their labels (the response model may differ between a stream and a JSON answer): add them up.
    expect(total(text, "gen_ai_client_token_usage_count", 'gen_ai_token_type="input"')).toBe(3);
    expect(total(text, "gen_ai_client_token_usage_sum", 'gen_ai_token_type="output"')).toBeGreaterThan(0);
    expect(total(text, "gen_ai_client_operation_duration_count", 'gen_ai_request_model="echo/echo"')).toBe(3);
    expect(total(text, "gen_ai_server_time_to_first_token_count")).toBe(3);
    expect(total(text, "agentgate_requests_total", 'http_response_status_code="200"')).toBe(3);
    expect(text).toMatch(/^agentgate_requests_total\{.*gen_ai_agent_name="Demo agent"/m);
    expect(total(text, "agentgate_spend_total")).toBeGreaterThan(0);
    expect(text).not.toContain(playground.demoKey!);
    expect(text).not.toContain("hello there");
  });
});

/** The sum of a metric's samples whose labels contain `label`. */
function total(text: string, name: string, label = ""): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(label))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

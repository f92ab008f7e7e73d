import { afterAll, describe, expect, it } from "vitest";
import { openai, type RequestRecord } from "../../src/index";
import { startOpenAIFake } from "../fakes/openai";
import { seedAgent, startGateway } from "../_setup";
import { startMemoryOpenTelemetry } from "../telemetry/_otel";

describe("spans, metric labels and request records", () => {
  const otel = startMemoryOpenTelemetry();
  afterAll(() => otel.shutdown());

  it("never hold a key, a vendor key or any message text", async () => {
    const fake = await startOpenAIFake();
    const records: RequestRecord[] = [];
    const logged: string[] = [];
    const logger = { warn: (...args: unknown[]) => logged.push(JSON.stringify(args)), error: (...args: unknown[]) => logged.push(JSON.stringify(args)) };
    const t = await startGateway({ providers: [openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })], telemetry: otel.telemetry, onRequest: (record) => records.push(record), logger, upstream: { retries: 0 } });
    const rich = await seedAgent(t.gateway, { agent: { name: "Scanner", instructions: "INSTRUCTIONS-SECRET-7f3a" } });
    const poor = await seedAgent(t.gateway, { creditMicros: 0 });
    const texts = ["PROMPT-SECRET-1b9c", "REPLY-SECRET-44de", "STREAM-SECRET-90aa", "FAILED-SECRET-12ff", "INSTRUCTIONS-SECRET-7f3a"];
    const chat = (key: string, content: string, extra: Record<string, unknown> = {}) =>
      fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content }], ...extra }),
      });
    try {
      fake.script({ reply: { text: "REPLY-SECRET-44de" } });
      expect((await chat(rich.key, "PROMPT-SECRET-1b9c")).status).toBe(200);
      const streamed = await chat(rich.key, "STREAM-SECRET-90aa", { stream: true });
      await streamed.text();
      fake.script({ error: { status: 400 } });
      expect((await chat(rich.key, "FAILED-SECRET-12ff")).status).toBe(400);
      expect((await chat(poor.key, "PROMPT-SECRET-1b9c")).status).toBe(402);
      // A well-formed key that does not exist, and one sent where the model belongs.
      expect((await chat(`${rich.key.slice(0, -3)}zzz`, "PROMPT-SECRET-1b9c")).status).toBe(401);
      expect((await chat(rich.key, "PROMPT-SECRET-1b9c", { model: rich.key })).status).toBe(404);
    } finally {
      await t.close();
      await fake.close();
    }

    const spans = otel.spans().map((span) => ({ name: span.name, attributes: span.attributes, status: span.status, events: span.events, links: span.links }));
    expect(spans.length).toBeGreaterThanOrEqual(6);
    const everything = JSON.stringify({ spans, metrics: (await otel.metrics()).map((metric) => ({ name: metric.name, labels: metric.points.map((point) => point.attributes) })), records, logged });
    for (const secret of [rich.key, poor.key, fake.apiKey, ...texts]) expect(everything).not.toContain(secret);
    expect(everything).not.toMatch(/a2a_[A-Za-z0-9]{8}/);
  });
});

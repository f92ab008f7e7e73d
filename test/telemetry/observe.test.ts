import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openai, type RequestRecord } from "../../src/index";
import { startOpenAIFake } from "../fakes/openai";
import type { FakeUpstream } from "../fakes/_server";
import { seedAgent, startGateway, type TestGateway } from "../_setup";
import { startMemoryOpenTelemetry, type MemoryOpenTelemetry } from "./_otel";

const MODEL = "openai/gpt-4o-mini";
// A client's own trace: 32 hex trace id, 16 hex span id, sampled.
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN = "00f067aa0ba902b7";

describe("OpenTelemetry spans, metrics and request records", () => {
  let otel: MemoryOpenTelemetry;
  let fake: FakeUpstream;
  let t: TestGateway;
  const records: RequestRecord[] = [];
  let seeded: Awaited<ReturnType<typeof seedAgent>>;

  beforeAll(async () => {
    otel = startMemoryOpenTelemetry();
    fake = await startOpenAIFake();
    t = await startGateway({ providers: [openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })], telemetry: otel.telemetry, onRequest: (record) => records.push(record), upstream: { retries: 0 } });
    seeded = await seedAgent(t.gateway, { agent: { name: "Support bot" } });
  });
  afterAll(async () => {
    await t.close();
    await fake.close();
    await otel.shutdown();
  });
  beforeEach(() => {
    otel.reset();
    fake.reset();
    records.length = 0;
  });

  const chat = (key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hello there" }], ...body }),
    });
  const serverSpan = () => only(otel.spans().filter((span) => span.kind === 1));
  const clientSpans = () => otel.spans().filter((span) => span.kind === 2);
  const pointsOf = async (name: string) => (await otel.metrics()).find((metric) => metric.name === name)?.points ?? [];

  it("gives a plain call one server span under the client's traceparent, and a child span whose traceparent reaches the upstream", async () => {
    fake.script({ reply: { text: "General Kenobi", usage: { prompt: 12, completion: 3 } } });
    const res = await chat(seeded.key, {}, { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` });
    expect(res.status).toBe(200);
    const body = await res.json();

    const span = serverSpan();
    expect(span.name).toBe(`chat ${MODEL}`);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(span.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": MODEL,
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
      "gen_ai.usage.input_tokens": 12,
      "gen_ai.usage.output_tokens": 3,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.conversation.id": body.thread_id,
      "gen_ai.agent.id": seeded.agent.id,
      "gen_ai.agent.name": "Support bot",
      "agentgate.key.id": seeded.keyId,
      "http.response.status_code": 200,
    });
    expect(span.attributes["agentgate.cost_micros"]).toBeGreaterThan(0);
    expect(span.attributes["error.type"]).toBeUndefined();

    const [upstream] = clientSpans();
    expect(upstream!.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
    expect(upstream!.attributes).toMatchObject({ "gen_ai.provider.name": "openai", "gen_ai.request.model": MODEL });
    // The upstream got the child span as its parent, in the same trace.
    expect(fake.requests[0]!.headers.traceparent).toBe(`00-${TRACE_ID}-${upstream!.spanContext().spanId}-01`);

    const [record] = records;
    expect(record).toMatchObject({ route: "/api/v1/chat/completions", status: 200, agent_id: seeded.agent.id, agent_name: "Support bot", key_id: seeded.keyId, model: MODEL, stream: false, thread_id: body.thread_id, prompt_tokens: 12, completion_tokens: 3, cost_micros: span.attributes["agentgate.cost_micros"], error_code: null });
    expect(record!.latency_ms).toBeGreaterThanOrEqual(record!.time_to_first_token_ms!);

    const tokens = await pointsOf("gen_ai.client.token.usage");
    const input = tokens.find((p) => p.attributes["gen_ai.token.type"] === "input");
    expect(input).toMatchObject({ attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": MODEL }, value: { sum: 12, count: 1 } });
    expect(tokens.find((p) => p.attributes["gen_ai.token.type"] === "output")?.value).toMatchObject({ sum: 3, count: 1 });
    expect((await pointsOf("gen_ai.client.operation.duration"))[0]?.value).toMatchObject({ count: 1 });
    expect((await pointsOf("gen_ai.server.time_to_first_token"))[0]?.value).toMatchObject({ count: 1 });
    expect(await pointsOf("agentgate.requests")).toContainEqual({ attributes: { "gen_ai.agent.id": seeded.agent.id, "gen_ai.agent.name": "Support bot", "gen_ai.request.model": MODEL, "http.response.status_code": 200 }, value: 1 });
    expect(await pointsOf("agentgate.spend")).toContainEqual({ attributes: { "gen_ai.agent.id": seeded.agent.id, "gen_ai.agent.name": "Support bot", "gen_ai.request.model": MODEL }, value: record!.cost_micros });
  });

  it("starts a new trace without a traceparent", async () => {
    expect((await chat(seeded.key)).status).toBe(200);
    const span = serverSpan();
    expect(span.parentSpanContext).toBeUndefined();
    expect(fake.requests[0]!.headers.traceparent).toContain(span.spanContext().traceId);
  });

  it("ends a stream's spans when the stream ends, with its usage, finish reason and time to first token", async () => {
    fake.script({ reply: { text: "one two three four", usage: { prompt: 9, completion: 4 }, chunkDelayMs: 20 } });
    const res = await chat(seeded.key, { stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("[DONE]");
    const span = serverSpan();
    expect(span.attributes).toMatchObject({ "gen_ai.usage.input_tokens": 9, "gen_ai.usage.output_tokens": 4, "gen_ai.response.finish_reasons": ["stop"], "http.response.status_code": 200 });
    const [upstream] = clientSpans();
    // The upstream call lasts as long as its stream, not just until the first chunk.
    expect(hrMs(upstream!.endTime)).toBeGreaterThanOrEqual(hrMs(upstream!.startTime) + 40);
    const [record] = records;
    expect(record).toMatchObject({ stream: true, prompt_tokens: 9, completion_tokens: 4, error_code: null });
    expect(record!.time_to_first_token_ms).toBeLessThan(record!.latency_ms);
  });

  it("marks a 402 with error.type insufficient_balance and no upstream span", async () => {
    const poor = await seedAgent(t.gateway, { creditMicros: 0, agent: { name: "Broke bot" } });
    expect((await chat(poor.key)).status).toBe(402);
    const span = serverSpan();
    expect(span.attributes).toMatchObject({ "error.type": "insufficient_balance", "http.response.status_code": 402, "gen_ai.agent.name": "Broke bot" });
    expect(span.status.code).toBe(2);
    expect(clientSpans()).toEqual([]);
    expect(records[0]).toMatchObject({ status: 402, error_code: "insufficient_balance", cost_micros: 0, time_to_first_token_ms: null });
    expect(await pointsOf("agentgate.requests")).toContainEqual({ attributes: { "gen_ai.agent.id": poor.agent.id, "gen_ai.agent.name": "Broke bot", "gen_ai.request.model": MODEL, "http.response.status_code": 402, "error.type": "insufficient_balance" }, value: 1 });
    const failed = (await pointsOf("gen_ai.client.operation.duration")).find((p) => p.attributes["error.type"] === "insufficient_balance");
    expect(failed?.value).toMatchObject({ count: 1 });
  });

  it("marks a 429 with error.type rate_limit_exceeded", async () => {
    const limited = await seedAgent(t.gateway, { agent: { name: "Busy bot", limits: { requests_per_minute: 1 } } });
    expect((await chat(limited.key)).status).toBe(200);
    otel.reset();
    records.length = 0;
    expect((await chat(limited.key)).status).toBe(429);
    expect(serverSpan().attributes).toMatchObject({ "error.type": "rate_limit_exceeded", "http.response.status_code": 429 });
    expect(records[0]).toMatchObject({ status: 429, error_code: "rate_limit_exceeded", agent_id: limited.agent.id });
  });

  it("marks an upstream failure on both spans and charges nothing", async () => {
    fake.script({ error: { status: 500 } });
    const res = await chat(seeded.key);
    expect(res.status).toBe(502);
    const span = serverSpan();
    expect(span.attributes).toMatchObject({ "error.type": "upstream_error", "http.response.status_code": 502 });
    expect(span.attributes["gen_ai.usage.input_tokens"]).toBeUndefined();
    const [upstream] = clientSpans();
    expect(upstream!.attributes["error.type"]).toBe("upstream_error");
    expect(upstream!.status.code).toBe(2);
    expect(records[0]).toMatchObject({ status: 502, error_code: "upstream_error", cost_micros: 0, prompt_tokens: 0 });
    // The new thread was never created (the answer names none): neither record nor span names it.
    expect(res.headers.get("x-thread-id")).toBeNull();
    expect(records[0].thread_id).toBeNull();
    expect(span.attributes["gen_ai.conversation.id"]).toBeUndefined();
  });

  it("records a request that fails before auth, without an agent", async () => {
    expect((await chat("a2a_not_a_real_key_at_all_0000000000000")).status).toBe(401);
    expect(serverSpan().attributes).toMatchObject({ "error.type": "invalid_api_key", "http.response.status_code": 401 });
    expect(records[0]).toMatchObject({ status: 401, agent_id: null, key_id: null, error_code: "invalid_api_key" });
  });
});

describe("telemetry and onRequest on their own", () => {
  it("nests the server span under the host's active span (its HTTP instrumentation) rather than the traceparent", async () => {
    const otel = startMemoryOpenTelemetry();
    const t = await startGateway({ telemetry: otel.telemetry });
    try {
      const { key } = await seedAgent(t.gateway);
      const host = otel.telemetry.tracer!.startSpan("POST /api/v1/chat/completions");
      const request = new Request(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
        body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }),
      });
      const res = await otel.telemetry.api.context.with(otel.telemetry.api.trace.setSpan(otel.telemetry.api.context.active(), host), () => t.gateway.fetch(request));
      expect(res.status).toBe(200);
      host.end();
      const server = only(otel.spans().filter((span) => span.kind === 1));
      expect(server.parentSpanContext?.spanId).toBe(host.spanContext().spanId);
      expect(server.spanContext().traceId).toBe(host.spanContext().traceId);
    } finally {
      await t.close();
      await otel.shutdown();
    }
  });

  it("hands onRequest its records without any OpenTelemetry, and survives a hook that throws", async () => {
    const warnings: string[] = [];
    let calls = 0;
    const t = await startGateway({
      logger: { warn: (message: string) => warnings.push(message), error: () => undefined },
      onRequest: (record) => {
        calls += 1;
        if (record.status === 200) throw new Error("a broken log sink");
      },
    });
    try {
      const { key } = await seedAgent(t.gateway);
      const res = await fetch(`${t.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(res.status).toBe(200);
      expect(calls).toBe(1);
      expect(warnings).toContain("agentgate: the onRequest hook failed");
    } finally {
      await t.close();
    }
  });
});

function only(spans: ReadableSpan[]): ReadableSpan {
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

function hrMs([seconds, nanos]: [number, number]): number {
  return seconds * 1000 + nanos / 1e6;
}

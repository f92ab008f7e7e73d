// `node --import tsx bench/telemetry-overhead.ts [--requests=5000]`: what telemetry costs a
// request, in-process (gateway.fetch, echo/echo without delay, 16 in flight): off, onRequest
// only, and the OpenTelemetry SDK with in-memory exporters (every span kept, every metric
// aggregated). Not a test: figures.
import * as otel from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { createGateway, echo, type GatewayOptions } from "../src/index";

const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const REQUESTS = Number(arg("requests", "5000"));
const IN_FLIGHT = 16;
const logger = { warn: () => {}, error: (message: string, detail?: unknown) => console.error(message, detail) };

async function run(name: string, options: GatewayOptions): Promise<void> {
  const gateway = createGateway({ providers: [echo()], logger, ...options });
  const agent = await gateway.admin.createAgent("acct_bench", { name: "Bench" });
  const { key } = await gateway.admin.createKey("acct_bench", agent.id, { name: "bench" });
  await gateway.admin.credit("acct_bench", 1_000_000_000_000);
  const body = JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "How much does telemetry cost?" }] });
  const once = async () => {
    const response = await gateway.fetch(new Request("http://bench/api/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}` }, body }));
    if (response.status !== 200) throw new Error(`status ${response.status}`);
    await response.arrayBuffer();
  };
  for (let i = 0; i < 500; i++) await once(); // warm up
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let done = 0; done < REQUESTS; done += IN_FLIGHT) await Promise.all(Array.from({ length: IN_FLIGHT }, once));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  console.log(`${name.padEnd(28)} ${Math.round(REQUESTS / seconds)} requests/s, ${((used.user + used.system) / REQUESTS).toFixed(0)} µs CPU a request`);
  await gateway.close();
}

await run("off (warming the process up)", {});
await run("off", {});
await run("onRequest only", { onRequest: () => {} });
otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(0), exportIntervalMillis: 3_600_000 })] });
await run("OpenTelemetry SDK (in memory)", { telemetry: { api: otel, tracer: tracerProvider.getTracer("bench"), meter: meterProvider.getMeter("bench") }, onRequest: () => spans.reset() });

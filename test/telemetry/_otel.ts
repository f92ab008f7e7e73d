import * as otel from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { TelemetryOptions } from "../../src/index";

/** One metric as exported: its name and its points (attributes and value). */
export interface MetricPoints {
  name: string;
  unit: string;
  points: Array<{ attributes: otel.Attributes; value: unknown }>;
}

/** The official OpenTelemetry SDK with in-memory exporters, as a host would wire it for agentgate. */
export interface MemoryOpenTelemetry {
  telemetry: TelemetryOptions;
  spans(): ReadableSpan[];
  metrics(): Promise<MetricPoints[]>;
  reset(): void;
  shutdown(): Promise<void>;
}

export function startMemoryOpenTelemetry(): MemoryOpenTelemetry {
  // The host's part: a context manager (so spans nest across awaits) and the W3C propagator.
  otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    telemetry: { api: otel, tracer: tracerProvider.getTracer("agentgate-test"), meter: meterProvider.getMeter("agentgate-test") },
    spans: () => spanExporter.getFinishedSpans(),
    async metrics() {
      await reader.forceFlush();
      const last = metricExporter.getMetrics().at(-1);
      return (last?.scopeMetrics ?? []).flatMap((scope) =>
        scope.metrics.map((metric) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          points: (metric.dataPoints as Array<{ attributes: otel.Attributes; value: unknown }>).map(({ attributes, value }) => ({ attributes, value })),
        })),
      );
    },
    reset() {
      spanExporter.reset();
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
      otel.context.disable();
      otel.propagation.disable();
    },
  };
}

import type { IncomingMessage, ServerResponse } from "node:http";
import * as otel from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { TelemetryOptions } from "../src/index";

/** The playground's OpenTelemetry: a meter whose figures `GET /metrics` shows in Prometheus' text format. */
export interface PlaygroundMetrics {
  /** What `createGateway({ telemetry })` takes. */
  telemetry: TelemetryOptions;
  /** Answers `GET /metrics`. */
  serve(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * The recipe for hosts: the OpenTelemetry SDK's MeterProvider with the Prometheus exporter
 * as its reader, served on the host's own server (no second port), and the API module
 * handed to the gateway. Traces go wherever the host's tracer provider sends them.
 */
export function createPlaygroundMetrics(): PlaygroundMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  return {
    telemetry: { api: otel, meter: meterProvider.getMeter("agentgate") },
    serve: (req, res) => exporter.getMetricsRequestHandler(req, res),
    close: () => meterProvider.shutdown(),
  };
}

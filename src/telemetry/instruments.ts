import type { Counter, Histogram, Meter, Tracer } from "@opentelemetry/api";
import type { TelemetryOptions } from "./options";

/** The tracer and the metric instruments, made once per gateway. */
export interface Instruments {
  api: TelemetryOptions["api"];
  tracer: Tracer;
  /** `gen_ai.client.token.usage`: tokens per request, by `gen_ai.token.type` (input, output). */
  tokenUsage: Histogram;
  /** `gen_ai.client.operation.duration`: seconds per request, `error.type` on failures. */
  duration: Histogram;
  /** `gen_ai.server.time_to_first_token`: seconds from arrival to the upstream's first answer. */
  timeToFirstToken: Histogram;
  /** `agentgate.requests`: requests by status, agent and model. */
  requests: Counter;
  /** `agentgate.spend`: micro-USD charged, by agent and model. */
  spend: Counter;
}

export function createInstruments(options: TelemetryOptions): Instruments {
  const { api } = options;
  const meter: Meter = options.meter ?? api.metrics.getMeter("agentgate");
  return {
    api,
    tracer: options.tracer ?? api.trace.getTracer("agentgate"),
    // Bucket boundaries as the GenAI semantic conventions advise.
    tokenUsage: meter.createHistogram("gen_ai.client.token.usage", {
      unit: "{token}",
      description: "Tokens used per request",
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] },
    }),
    duration: meter.createHistogram("gen_ai.client.operation.duration", { unit: "s", description: "Duration of a request, from arrival to its last byte", advice: { explicitBucketBoundaries: SECONDS } }),
    timeToFirstToken: meter.createHistogram("gen_ai.server.time_to_first_token", { unit: "s", description: "Time from arrival to the upstream's first answer", advice: { explicitBucketBoundaries: SECONDS } }),
    requests: meter.createCounter("agentgate.requests", { unit: "{request}", description: "API requests by status, agent and model" }),
    spend: meter.createCounter("agentgate.spend", { unit: "uUSD", description: "Micro-USD charged, by agent and model" }),
  };
}

// --- internal ---

const SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

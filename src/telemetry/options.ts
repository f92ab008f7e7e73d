import type * as OpenTelemetryAPI from "@opentelemetry/api";

/**
 * Tracing and metrics through `@opentelemetry/api`, an optional peer: the host passes the
 * module it already has (and registers its SDK and exporters as usual), so agentgate never
 * imports it and a gateway without `telemetry` does no telemetry work at all.
 *
 * @example
 * import * as otel from "@opentelemetry/api";
 * createGateway({ telemetry: { api: otel } });
 */
export interface TelemetryOptions {
  /** `import * as otel from "@opentelemetry/api"`: its globals give the tracer, meter, context and propagator. */
  api: typeof OpenTelemetryAPI;
  /** @default api.trace.getTracer("agentgate") */
  tracer?: OpenTelemetryAPI.Tracer;
  /** @default api.metrics.getMeter("agentgate") */
  meter?: OpenTelemetryAPI.Meter;
}

/**
 * One line per API request (chat completions, Responses, Messages), handed to `onRequest`
 * once the request is over (a stream: when it ends). Ids, counts and times only: never a
 * key, a prompt or a reply.
 */
export interface RequestRecord {
  /** When the request arrived, ISO 8601. */
  time: string;
  /** The route's path (`/api/v1/chat/completions`). */
  route: string;
  /** The HTTP status answered (a stream that failed mid-way was a 200). */
  status: number;
  agent_id: string | null;
  agent_name: string | null;
  key_id: string | null;
  /** The model as the catalog names it (`openai/gpt-4o-mini`), once the request was parsed. */
  model: string | null;
  stream: boolean;
  thread_id: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  /** What the request cost, in micro-USD (0 when it failed before generating). */
  cost_micros: number;
  /** From arrival to the last byte (a stream: its end). */
  latency_ms: number;
  /** From arrival to the upstream's first answer (a stream: its first chunk); null when none came. */
  time_to_first_token_ms: number | null;
  /** The error code (`insufficient_balance`, `rate_limit_exceeded`, `upstream_error`, `client_disconnected`...), null on success. */
  error_code: string | null;
}

/** Called once per request with its record; what it throws is logged and ignored. */
export type RequestHook = (record: RequestRecord) => void;

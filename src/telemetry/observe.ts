import type { Attributes, Context, Span } from "@opentelemetry/api";
import { HTTPError, type H3Event, type Middleware } from "h3";
import { costMicros } from "../catalog";
import { useGatewayContext, type GatewayContext, type Outcome } from "../context";
import type { Logger } from "../runtime";
import type { Instruments } from "./instruments";
import type { RequestHook, RequestRecord } from "./options";

/** What a gateway observes requests with; absent parts cost nothing. */
export interface Observer {
  instruments?: Instruments;
  onRequest?: RequestHook;
  logger: Logger;
}

/** One request being observed, on the context for dispatch's upstream calls. */
export interface Observation {
  /**
   * Runs one upstream attempt in a client span whose W3C trace headers `run` is to send.
   * A stream's span (`keepOpen`) stays open until the request ends; the first attempt
   * that answers marks the time to first token.
   */
  upstream<T>(provider: string, model: string, keepOpen: boolean, run: (headers: Record<string, string> | undefined) => Promise<T>): Promise<T>;
  /** The model the upstream says answered, when it says. */
  responseModel?: string;
}

/**
 * The answer routes' outermost step when the gateway has `telemetry` or `onRequest`: one
 * server span per request (child of the incoming `traceparent`, or of the host's own
 * span), the GenAI metrics, and one `RequestRecord`, all once the request is over.
 */
export function requestObserver(observer: Observer, route: string): Middleware {
  const { instruments } = observer;
  return async function requestObserver(event, next) {
    const ctx = useGatewayContext(event);
    const observation = startObservation(observer, route, event);
    ctx.observation = observation;
    ctx.settlers.push((outcome) => observation.finish(ctx, outcome));
    // Active while the chain runs, so the host's own instrumentation (say, of undici) nests under it.
    return instruments && observation.context ? instruments.api.context.with(observation.context, next) : next();
  };
}

// --- internal ---

interface RunningObservation extends Observation {
  context?: Context;
  finish(ctx: GatewayContext, outcome: Outcome): void;
}

function startObservation(observer: Observer, route: string, event: H3Event): RunningObservation {
  const { instruments, onRequest, logger } = observer;
  const started = performance.now();
  const time = new Date().toISOString();
  let firstAnswerAt: number | undefined;
  const open: Span[] = [];
  let span: Span | undefined;
  let context: Context | undefined;
  if (instruments) {
    const { api, tracer } = instruments;
    const active = api.context.active();
    // A host span (its HTTP instrumentation) is the parent; else the client's `traceparent`.
    const parent = api.trace.getSpan(active) ? active : api.propagation.extract(active, event.req.headers, HEADERS_GETTER);
    span = tracer.startSpan("chat", { kind: api.SpanKind.SERVER, attributes: { "gen_ai.operation.name": "chat", "http.request.method": event.req.method, "http.route": route } }, parent);
    context = api.trace.setSpan(parent, span);
  }

  return {
    context,
    async upstream(provider, model, keepOpen, run) {
      let child: Span | undefined;
      let headers: Record<string, string> | undefined;
      if (instruments && context) {
        const { api, tracer } = instruments;
        child = tracer.startSpan(`chat ${model}`, { kind: api.SpanKind.CLIENT, attributes: { "gen_ai.operation.name": "chat", "gen_ai.provider.name": provider, "gen_ai.request.model": model } }, context);
        headers = {};
        api.propagation.inject(api.trace.setSpan(context, child), headers);
      }
      try {
        const result = await run(headers);
        firstAnswerAt ??= performance.now();
        if (child) keepOpen ? open.push(child) : child.end();
        return result;
      } catch (error) {
        if (child) {
          child.setAttribute("error.type", errorType(error));
          child.setStatus({ code: 2, message: errorType(error) });
          child.end();
        }
        throw error;
      }
    },
    finish(ctx, outcome) {
      const record = toRecord(ctx, outcome, route, time, started, firstAnswerAt);
      if (instruments && span) {
        for (const child of open) child.end();
        recordSpan(span, record, ctx, outcome, this.responseModel);
        recordMetrics(instruments, record, ctx, this.responseModel);
      }
      if (onRequest) {
        try {
          onRequest(record);
        } catch (error) {
          logger.warn("agentgate: the onRequest hook failed", String(error));
        }
      }
    },
  };
}

const HEADERS_GETTER = {
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
  keys: (headers: Headers) => [...headers.keys()],
};

function toRecord(ctx: GatewayContext, outcome: Outcome, route: string, time: string, started: number, firstAnswerAt: number | undefined): RequestRecord {
  const { usage, error } = outcome;
  const model = ctx.model;
  // The charge settle makes: the real usage at the model's price, when a hold was made (free models have none).
  const cost = usage && model && ctx.reservation ? costMicros(model.info, usage.prompt_tokens, usage.completion_tokens) : 0;
  return {
    time,
    route,
    status: error === undefined || error === "client_disconnected" ? 200 : HTTPError.isError(error) ? error.status : 500,
    agent_id: ctx.auth?.agent.id ?? null,
    agent_name: ctx.auth?.agent.name ?? null,
    key_id: ctx.auth?.key.id ?? null,
    model: model?.name ?? null,
    stream: ctx.request?.stream === true,
    // A thread that exists: one the request continued, or whose turn it saved (a new thread a failed request never created is not named).
    thread_id: ctx.thread?.id && (ctx.thread.record || ctx.request?.thread_id || outcome.reply) ? ctx.thread.id : null,
    prompt_tokens: usage?.prompt_tokens ?? 0,
    completion_tokens: usage?.completion_tokens ?? 0,
    cost_micros: cost,
    latency_ms: round(performance.now() - started),
    time_to_first_token_ms: firstAnswerAt === undefined ? null : round(firstAnswerAt - started),
    error_code: error === undefined ? null : errorType(error),
  };
}

function recordSpan(span: Span, record: RequestRecord, ctx: GatewayContext, outcome: Outcome, responseModel: string | undefined): void {
  if (record.model) span.updateName(`chat ${record.model}`);
  const attributes: Attributes = { "http.response.status_code": record.status };
  if (ctx.model) Object.assign(attributes, { "gen_ai.provider.name": ctx.model.providerId, "gen_ai.request.model": record.model, "gen_ai.response.model": responseModel ?? record.model });
  if (ctx.auth) Object.assign(attributes, { "gen_ai.agent.id": record.agent_id, "gen_ai.agent.name": record.agent_name, "agentgate.key.id": record.key_id, "agentgate.account.id": ctx.auth.accountId });
  if (record.thread_id) attributes["gen_ai.conversation.id"] = record.thread_id;
  if (outcome.usage) Object.assign(attributes, { "gen_ai.usage.input_tokens": record.prompt_tokens, "gen_ai.usage.output_tokens": record.completion_tokens, "agentgate.cost_micros": record.cost_micros });
  if (outcome.finishReason) attributes["gen_ai.response.finish_reasons"] = [outcome.finishReason];
  if (record.error_code) {
    attributes["error.type"] = record.error_code;
    span.setStatus({ code: 2, message: record.error_code });
  }
  span.setAttributes(attributes);
  span.end();
}

function recordMetrics(instruments: Instruments, record: RequestRecord, ctx: GatewayContext, responseModel: string | undefined): void {
  const base: Attributes = { "gen_ai.operation.name": "chat" };
  if (ctx.model) Object.assign(base, { "gen_ai.provider.name": ctx.model.providerId, "gen_ai.request.model": record.model, "gen_ai.response.model": responseModel ?? record.model });
  const failed = record.error_code ? { ...base, "error.type": record.error_code } : base;
  instruments.duration.record(record.latency_ms / 1000, failed);
  if (record.time_to_first_token_ms !== null) instruments.timeToFirstToken.record(record.time_to_first_token_ms / 1000, base);
  if (record.prompt_tokens || record.completion_tokens) {
    instruments.tokenUsage.record(record.prompt_tokens, { ...base, "gen_ai.token.type": "input" });
    instruments.tokenUsage.record(record.completion_tokens, { ...base, "gen_ai.token.type": "output" });
  }
  const who: Attributes = { ...(record.agent_id && { "gen_ai.agent.id": record.agent_id, "gen_ai.agent.name": record.agent_name ?? "" }), ...(record.model && { "gen_ai.request.model": record.model }) };
  instruments.requests.add(1, { ...who, "http.response.status_code": record.status, ...(record.error_code && { "error.type": record.error_code }) });
  if (record.cost_micros > 0) instruments.spend.add(record.cost_micros, who);
}

/** The error's code (`insufficient_balance`...), never its message (it may quote the client). */
function errorType(error: unknown): string {
  if (typeof error === "string") return error;
  if (HTTPError.isError(error)) {
    const code = (error.data as { code?: unknown } | undefined)?.code;
    return typeof code === "string" ? code : String(error.status);
  }
  return "_OTHER";
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

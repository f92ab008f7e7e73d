import { HTTPError, type H3Event, type Middleware } from "h3";
import { outputCap } from "../../catalog";
import { requireContext, useGatewayContext, type GatewayContext } from "../../context";
import { createAPIError } from "../../errors";
import { chatDialect } from "../../dialects/chat";
import type { AnswerMeta, Dialect, NormalizedCompletion } from "../../dialects/types";
import { collectCompletion, completionToChunks } from "./accumulate";
import type { Deadline } from "./deadline";
import { fallbackCandidates, firstAnswering, type DispatchModel } from "./fallbacks";
import { isChunkStream, type ProviderContext, type ProviderRequest } from "../../providers/_define";
import { isRetryable, upstreamError, upstreamTimeout } from "../../providers/_errors";
import { toClientParam } from "./client-param";
import { toSSEBody } from "./stream";
import type { GatewayRuntime } from "../../runtime";
import type { ChatCompletion, ChatRequest } from "../../schema";
import { estimateTokens, messageText } from "../../tokens";
import { settle } from "../settle";
import { jsonAnswer, sseAnswer, writesDirectly } from "../answer-headers";

/**
 * Last step: sends the request to the model's provider and answers in the route's dialect
 * (OpenAI's chat completions unless told), as one JSON answer or as an SSE stream.
 * Failures before the first byte are retried here (and only here) with backoff,
 * honouring `retry-after`.
 */
export function providerDispatch(runtime: GatewayRuntime, dialect: Dialect = chatDialect): Middleware {
  return async function providerDispatch(event) {
    const ctx = useGatewayContext(event);
    const request = requireContext(event, "request", "requestParser");
    const model = requireContext(event, "model", "requestParser");
    const thread = requireContext(event, "thread", "threadResolver");
    // The model asked for, then its fallbacks (none configured: the model alone).
    const candidates = ctx.auth ? fallbackCandidates(runtime, ctx.auth.agent, model) : [model];
    const requested = request.max_completion_tokens ?? request.max_tokens;
    const providerRequest = (m: DispatchModel) => {
      const out = toProviderRequest(request, thread.messages, m.name);
      // Always a limit, and the one the hold covers (free models have no hold, the same rule).
      out.max_tokens = (m === model && ctx.reservation?.outputCap) || outputCap(requested, m, runtime.defaultMaxTokens);
      return out;
    };
    const providerContext = (m: DispatchModel, deadline: Deadline) => ({ signal: deadline.signal, model: m.name, keepAlive: deadline.touch, cooldowns: runtime.cooldowns });
    const errorOf = (m: DispatchModel, deadline: Deadline) => (error: unknown) => toGatewayError(error, deadline, m.providerId, runtime);
    // Timed out or left: settle follows; a stream nobody reads must not stay leased for ever.
    const stopHeartbeatOn = (deadline: Deadline) => deadline.signal.addEventListener("abort", () => ctx.heartbeat?.stop(), { once: true });
    const answerWith = async <T>(attempt: (m: DispatchModel, deadline: Deadline) => Promise<T>) => {
      let answered: Awaited<ReturnType<typeof firstAnswering<T>>>;
      try {
        answered = await firstAnswering({
          candidates,
          timeoutMs: runtime.upstream.timeoutMs,
          clientSignal: event.req.signal,
          attempt: (m, deadline, retries) => {
            if (retries === undefined) stopHeartbeatOn(deadline); // the last model: as without fallbacks
            return withRetries(runtime, deadline, errorOf(m, deadline), () => attempt(m, deadline), retries);
          },
          toError: (error, deadline, m) => errorOf(m, deadline)(error),
        });
      } catch (error) {
        // A refused field of the prompt is named as the client sent it (the prompt keeps the client's message objects).
        if (!HTTPError.isError(error)) throw error;
        throw toClientParam(error, (index) => request.messages.indexOf(thread.messages[index]), dialect.inputParam ?? "messages", dialect === chatDialect);
      }
      if (answered.model !== model) {
        stopHeartbeatOn(answered.deadline);
        // Settle charges, and the answer names, the model that answered.
        ctx.answeredBy = answered.model;
      }
      meta.model = answered.model.name;
      return answered;
    };
    // One upstream attempt, in its own client span when observed (its trace headers sent along).
    const observed = <T>(m: DispatchModel, d: Deadline, keepOpen: boolean, run: (context: ProviderContext) => Promise<T>): Promise<T> => {
      const context = providerContext(m, d);
      return ctx.observation ? ctx.observation.upstream(m.providerId, m.name, keepOpen, (headers) => run(headers ? { ...context, headers } : context)) : run(context);
    };
    const meta: AnswerMeta = { id: dialect.newId(), created: Math.floor(Date.now() / 1000), model: model.name, threadId: thread.id, request, promptTokens: thread.promptTokens };

    if (!request.stream) {
      let completion: ChatCompletion;
      let deadline: Deadline | undefined;
      try {
        ({ value: completion, deadline } = await answerWith((m, d) =>
          observed(m, d, false, async (context) => {
            const result = await m.provider.chat(providerRequest(m), context);
            return isChunkStream(result) ? collectCompletion(result) : result;
          }),
        ));
      } finally {
        deadline?.clear();
      }
      const normalized = normalizeCompletion(completion, meta);
      const answer = dialect.answer(normalized, meta);
      if (ctx.observation && completion.model) ctx.observation.responseModel = completion.model;
      await settle(ctx, { usage: normalized.usage, reply: normalized.choices[0]?.message, answer, finishReason: normalized.choices[0]?.finish_reason }, runtime.logger);
      return jsonAnswer(event, JSON.stringify(answer));
    }

    // Before the first byte only: once a stream has started, its failure ends it as always.
    const { value, deadline, model: answered } = await answerWith((m, d) =>
      observed(m, d, true, async (context) => {
        const result = await m.provider.chat({ ...providerRequest(m), stream: true }, context);
        const it = (isChunkStream(result) ? result : completionToChunks(result))[Symbol.asyncIterator]();
        return { iterator: it, first: await it.next() };
      }),
    );
    const { first, iterator } = value;
    if (ctx.observation && !first.done && first.value.model) ctx.observation.responseModel = first.value.model;
    const toError = errorOf(answered, deadline);
    return sseResponse(event, ctx, runtime, {
      first,
      iterator,
      encoder: dialect.stream(meta),
      promptTokens: thread.promptTokens,
      deadline,
      clientSignal: event.req.signal,
      toError,
    });
  };
}

/** What a provider gets: the client's request with the thread's full history and one token limit. */
export function toProviderRequest(request: ChatRequest, messages: ProviderRequest["messages"], modelName: string): ProviderRequest {
  const { thread_id: _thread, messages: _messages, max_completion_tokens, max_tokens, ...rest } = request;
  const limit = max_completion_tokens ?? max_tokens ?? undefined;
  return { ...rest, model: modelName.slice(modelName.indexOf("/") + 1), messages, ...(limit !== undefined && { max_tokens: limit }) };
}

// --- internal ---

function sseResponse(event: H3Event, ctx: GatewayContext, runtime: GatewayRuntime, options: Omit<Parameters<typeof toSSEBody>[0], "onEnd">): Response {
  return sseAnswer(event, toSSEBody({ ...options, onEnd: (outcome) => settle(ctx, outcome, runtime.logger) }, writesDirectly(event)));
}

function normalizeCompletion(completion: ChatCompletion, { id, created, model, threadId, promptTokens: promptEstimate }: AnswerMeta): NormalizedCompletion {
  const choices = completion.choices.map((choice, index) => ({
    index: choice.index ?? index,
    message: { ...choice.message, role: "assistant" as const, content: choice.message.content ?? null, refusal: choice.message.refusal ?? null },
    logprobs: choice.logprobs ?? null,
    finish_reason: choice.finish_reason ?? "stop",
  }));
  let usage = completion.usage;
  if (!usage) {
    // The whole reply counts, tool calls included, as the stream's estimate counts them.
    const completionTokens = choices[0] ? estimateTokens(messageText(choices[0].message)) : 0;
    usage = { prompt_tokens: promptEstimate, completion_tokens: completionTokens, total_tokens: promptEstimate + completionTokens };
  }
  return { id, object: "chat.completion", created, model, choices, usage, thread_id: threadId };
}

/** Runs `attempt` until it succeeds or its failure is not worth another try (shared by every dispatch path). */
export async function withRetries<T>(runtime: GatewayRuntime, deadline: Deadline, toError: (e: unknown) => HTTPError, attempt: () => Promise<T>, retries = runtime.upstream.retries): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (raw) {
      const error = toError(raw);
      if (tries >= retries || !isRetryable(error) || deadline.signal.aborted) throw error;
      const retryAfter = Number(error.headers?.get("retry-after"));
      // A vendor that asks for a longer wait than the gateway will hold: pass its answer on
      // (with its retry-after) rather than retry early into the same refusal.
      if (retryAfter * 1000 > runtime.upstream.maxRetryDelayMs) throw error;
      const wait = Math.min(runtime.upstream.maxRetryDelayMs, retryAfter > 0 ? retryAfter * 1000 : 250 * 2 ** tries);
      await sleep(wait, deadline.signal);
      if (deadline.signal.aborted) throw error;
    }
  }
}

/** Any failure of an upstream call → the gateway's HTTPError (a timeout, a cancel, a 502 naming the provider). */
export function toGatewayError(error: unknown, deadline: Deadline, providerId: string, runtime: GatewayRuntime): HTTPError {
  if (HTTPError.isError(error) && (error.data as { type?: string } | undefined)?.type) return error;
  if (deadline.timedOut) return upstreamTimeout(providerId);
  if (deadline.signal.aborted) return createAPIError({ code: "upstream_error", message: "The request was cancelled." });
  runtime.logger.error(`agentgate: the ${providerId} provider failed`, error instanceof Error ? error.message : String(error));
  return upstreamError({ provider: providerId, cause: error });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}

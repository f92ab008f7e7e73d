import { HTTPError, type H3Event, type Middleware } from "h3";
import { outputCap } from "../../catalog";
import { requireContext, useGatewayContext, type GatewayContext } from "../../context";
import { createAPIError } from "../../errors";
import { createId } from "../../ids";
import { collectCompletion, completionToChunks } from "./accumulate";
import { createDeadline, type Deadline } from "./deadline";
import { isChunkStream, type ProviderRequest } from "../../providers/_define";
import { isRetryable, upstreamError, upstreamTimeout } from "../../providers/_errors";
import { toSSEStream } from "./stream";
import type { GatewayRuntime } from "../../runtime";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../../schema";
import { estimateTokens, messageText } from "../../tokens";
import { settle } from "../settle";

/**
 * Last step: sends the request to the model's provider and answers in OpenAI's format,
 * as one `chat.completion` or as an SSE stream. Failures before the first byte are
 * retried here (and only here) with backoff, honouring `retry-after`.
 */
export function providerDispatch(runtime: GatewayRuntime): Middleware {
  return async function providerDispatch(event) {
    const ctx = useGatewayContext(event);
    const request = requireContext(event, "request", "requestParser");
    const model = requireContext(event, "model", "requestParser");
    const thread = requireContext(event, "thread", "threadResolver");
    const providerRequest = toProviderRequest(request, thread.messages, model.name);
    // Always a limit, and the one the hold covers (free models have no hold, the same rule).
    providerRequest.max_tokens = ctx.reservation?.outputCap ?? outputCap(providerRequest.max_tokens, model, runtime.defaultMaxTokens);
    const providerId = model.providerId;
    const deadline = createDeadline(runtime.upstream.timeoutMs, event.req.signal);
    // Timed out or left: settle follows; a stream nobody reads must not stay leased for ever.
    deadline.signal.addEventListener("abort", () => ctx.heartbeat?.stop(), { once: true });
    const providerContext = { signal: deadline.signal, model: model.name, keepAlive: deadline.touch };
    const toError = (error: unknown) => toGatewayError(error, deadline, providerId, runtime);
    const id = createId("chatcmpl-", 24);
    const created = Math.floor(Date.now() / 1000);

    if (!request.stream) {
      let completion: ChatCompletion;
      try {
        completion = await withRetries(runtime, deadline, toError, async () => {
          const result = await model.provider.chat(providerRequest, providerContext);
          return isChunkStream(result) ? collectCompletion(result) : result;
        });
      } finally {
        deadline.clear();
      }
      const answer = normalizeCompletion(completion, id, created, model.name, thread.id, thread.promptTokens);
      await settle(ctx, { usage: answer.usage, reply: answer.choices[0]?.message }, runtime.logger);
      return answer;
    }

    let first: IteratorResult<ChatCompletionChunk>;
    let iterator: AsyncIterator<ChatCompletionChunk>;
    try {
      ({ first, iterator } = await withRetries(runtime, deadline, toError, async () => {
        const result = await model.provider.chat({ ...providerRequest, stream: true }, providerContext);
        const it = (isChunkStream(result) ? result : completionToChunks(result))[Symbol.asyncIterator]();
        return { iterator: it, first: await it.next() };
      }));
    } catch (error) {
      deadline.clear();
      throw error;
    }
    return sseResponse(event, ctx, runtime, {
      first,
      iterator,
      id,
      created,
      model: model.name,
      threadId: thread.id,
      includeUsage: request.stream_options?.include_usage === true,
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

function sseResponse(
  event: H3Event,
  ctx: GatewayContext,
  runtime: GatewayRuntime,
  options: Omit<Parameters<typeof toSSEStream>[0], "onEnd">,
): Response {
  const body = toSSEStream({ ...options, onEnd: (outcome) => settle(ctx, outcome, runtime.logger) });
  return new Response(body, {
    status: 200,
    statusText: "OK",
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" },
  });
}

function normalizeCompletion(completion: ChatCompletion, id: string, created: number, model: string, threadId: string, promptEstimate: number) {
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
  return { id, object: "chat.completion" as const, created, model, choices, usage, thread_id: threadId };
}

async function withRetries<T>(runtime: GatewayRuntime, deadline: Deadline, toError: (e: unknown) => HTTPError, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (raw) {
      const error = toError(raw);
      if (tries >= runtime.upstream.retries || !isRetryable(error) || deadline.signal.aborted) throw error;
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

function toGatewayError(error: unknown, deadline: Deadline, providerId: string, runtime: GatewayRuntime): HTTPError {
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

import type { EventHandler } from "h3";
import { requireContext, useGatewayContext } from "../../context";
import { jsonAnswer } from "../../chain/answer-headers";
import { settle } from "../../chain/settle";
import { createDeadline } from "../../chain/dispatch/deadline";
import { toGatewayError, toProviderRequest, withRetries } from "../../chain/dispatch/index";
import { anthropicRawClient } from "../../providers/anthropic/raw";
import { readBody } from "../../providers/_upstream";
import type { GatewayRuntime } from "../../runtime";
import { estimatePromptTokens } from "../../tokens";

/**
 * `POST /v1/messages/count_tokens`, after auth and the rate limit: exact through the vendor's
 * own counting endpoint (Anthropic's for `anthropic/` models, a provider's `countTokens`:
 * Gemini's), an estimate (the gateway's, the one its holds use) for other vendors. Never billed.
 */
export function countTokensHandler(runtime: GatewayRuntime): EventHandler {
  return async function countTokens(event) {
    const ctx = useGatewayContext(event);
    const model = requireContext(event, "model", "messagesParser");
    const request = requireContext(event, "request", "messagesParser");
    const pass = ctx.passThrough;
    const raw = pass && anthropicRawClient(model.provider);
    let answer: unknown;
    if (pass && raw) {
      const body = JSON.stringify({ ...pass.body, model: model.name.slice(model.name.indexOf("/") + 1) });
      const deadline = createDeadline(runtime.upstream.timeoutMs, event.req.signal);
      const toError = (error: unknown) => toGatewayError(error, deadline, "anthropic", runtime);
      try {
        answer = await withRetries(runtime, deadline, toError, async () => {
          const response = await raw.post("/v1/messages/count_tokens", body, { model: model.name, version: pass.version, beta: pass.beta }, deadline.signal);
          return readBody(response.body);
        });
      } finally {
        deadline.clear();
      }
    } else if (model.provider.countTokens) {
      const counter = model.provider.countTokens.bind(model.provider);
      const deadline = createDeadline(runtime.upstream.timeoutMs, event.req.signal);
      const toError = (error: unknown) => toGatewayError(error, deadline, model.providerId, runtime);
      const context = { signal: deadline.signal, model: model.name, keepAlive: deadline.touch };
      try {
        answer = { input_tokens: await withRetries(runtime, deadline, toError, () => counter(toProviderRequest(request, request.messages, model.name), context)) };
      } finally {
        deadline.clear();
      }
    } else {
      answer = { input_tokens: estimatePromptTokens(request.messages, request.tools) };
    }
    // Nothing was generated: the rate step's estimate stands, nothing is charged.
    await settle(ctx, {}, runtime.logger);
    return jsonAnswer(event, JSON.stringify(answer));
  };
}

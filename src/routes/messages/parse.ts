import type { H3Event, Middleware } from "h3";
import { agentAllowsModel } from "../../catalog";
import { readJSONBody, resolveModel, threadIdHeader } from "../../chain/parse";
import { requireContext, useGatewayContext, type GatewayContext } from "../../context";
import { messagesRequestSchema, countTokensRequestSchema } from "../../dialects/messages/schema";
import { toChatRequest } from "../../dialects/messages/request";
import { clip, createAPIError } from "../../errors";
import { createId } from "../../ids";
import { anthropicRawClient } from "../../providers/anthropic/raw";
import type { GatewayRuntime } from "../../runtime";
import { parseOrThrow } from "../../validate";

type Model = NonNullable<GatewayContext["model"]>;

/** The model a Messages request named, until `modelPermission` has checked the agent may use it. */
const namedModels = new WeakMap<H3Event, Model>();

/**
 * First step of the Messages routes: a `request-id`, the body read and checked against
 * Anthropic's request (400 naming the field; `max_tokens` required on `/v1/messages`), the
 * model resolved. Stateless unless `x-thread-id` names a thread. An `anthropic/` model with
 * no thread goes through as it came (`ctx.passThrough`); the normalized request then only
 * sizes the estimates.
 */
export function messagesParser(runtime: GatewayRuntime, options: { countTokens?: boolean } = {}): Middleware {
  const schema = options.countTokens ? countTokensRequestSchema : messagesRequestSchema;
  return async function messagesParser(event) {
    const ctx = useGatewayContext(event);
    event.res.headers.set("request-id", createId("req_", 24));
    const raw = await readJSONBody(event, runtime.maxBodyBytes);
    const body = parseOrThrow(schema, raw);
    const model = resolveModel(runtime, body.model);
    const threadId = threadIdHeader(event);
    ctx.stateless = threadId === undefined;
    ctx.sessionId = sessionIdHeader(event);
    ctx.fitOutputToBalance = true;
    const passThrough = ctx.stateless && model.providerId === "anthropic" && anthropicRawClient(model.provider) !== undefined;
    const request = toChatRequest(body, model.name, { lenient: passThrough });
    if (threadId !== undefined) request.thread_id = threadId;
    ctx.request = request;
    if (passThrough) {
      const headers = event.req.headers;
      ctx.passThrough = { body: raw as Record<string, unknown>, version: headers.get("anthropic-version") ?? undefined, beta: headers.get("anthropic-beta") ?? undefined };
    }
    namedModels.set(event, model);
  };
}

/**
 * After auth: a model the agent may not use is a 403 `permission_error` (chat completions
 * answers 404; Anthropic's SDKs and Claude Code tell the two apart).
 */
export function modelPermission(): Middleware {
  return function modelPermission(event) {
    const { agent } = requireContext(event, "auth", "apiKeyAuth");
    const model = namedModels.get(event);
    if (!model) throw createAPIError({ code: "server_error", message: "agentgate chain misconfigured: the `messagesParser` step must run before this one" });
    if (!agentAllowsModel(agent.models, model.name)) {
      throw createAPIError({ code: "insufficient_scope", param: "model", message: `This agent may not use the model \`${clip(model.name)}\`.` });
    }
    useGatewayContext(event).model = model;
  };
}

// --- internal ---

/** Claude Code's session id, kept for the ledger line (at most 200 characters, as a thread id). */
function sessionIdHeader(event: H3Event): string | undefined {
  const value = event.req.headers.get("x-claude-code-session-id")?.trim();
  return value ? value.slice(0, 200) : undefined;
}

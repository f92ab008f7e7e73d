import type { H3Event, Middleware } from "h3";
import { agentAllowsModel } from "../../catalog";
import { setAnswerHeader } from "../../chain/answer-headers";
import { readJSONBody, resolveModel, sessionIdHeader, threadIdHeader } from "../../chain/parse";
import { requireContext, useGatewayContext, type GatewayContext } from "../../context";
import { messagesRequestSchema, countTokensRequestSchema } from "../../dialects/messages/schema";
import { toChatRequest } from "../../dialects/messages/request";
import { clip, createAPIError } from "../../errors";
import { createId } from "../../ids";
import { anthropicRawClient } from "../../providers/anthropic/raw";
import type { GatewayRuntime } from "../../runtime";
import { parseOrThrow } from "../../validate";

type Model = NonNullable<GatewayContext["model"]>;
type MessagesBody = ReturnType<typeof messagesRequestSchema.parse>;

/** What a Messages request named, until `modelPermission` routes it with the agent's aliases and checks the agent may use it. */
const namedRequests = new WeakMap<H3Event, { body: MessagesBody; raw: unknown; model: Model | undefined; threadId: string | undefined }>();

/**
 * First step of the Messages routes: a `request-id`, the body read and checked against
 * Anthropic's request (400 naming the field; `max_tokens` required on `/v1/messages`).
 * Stateless unless `x-thread-id` names a thread. The model is routed after auth (an
 * agent's aliases may name it), in `modelPermission`.
 */
export function messagesParser(runtime: GatewayRuntime, options: { countTokens?: boolean } = {}): Middleware {
  const schema = options.countTokens ? countTokensRequestSchema : messagesRequestSchema;
  return async function messagesParser(event) {
    const ctx = useGatewayContext(event);
    setAnswerHeader(event, "request-id", createId("req_", 24));
    const raw = await readJSONBody(event, runtime.maxBodyBytes);
    const body = parseOrThrow(schema, raw) as MessagesBody;
    const threadId = threadIdHeader(event);
    ctx.stateless = threadId === undefined;
    ctx.sessionId = sessionIdHeader(event);
    ctx.fitOutputToBalance = true;
    namedRequests.set(event, { body, raw, model: knownModel(runtime, body.model), threadId });
  };
}

/**
 * After auth: the model routed (the agent's aliases first, then the gateway's), and one the
 * agent may not use is a 403 `permission_error` (chat completions answers 404; Anthropic's
 * SDKs and Claude Code tell the two apart). An `anthropic/` model with no thread goes
 * through as it came (`ctx.passThrough`); the normalized request then only sizes the estimates.
 */
export function modelPermission(runtime: GatewayRuntime): Middleware {
  return function modelPermission(event) {
    const ctx = useGatewayContext(event);
    const { agent } = requireContext(event, "auth", "apiKeyAuth");
    const named = namedRequests.get(event);
    if (!named) throw createAPIError({ code: "server_error", message: "agentgate chain misconfigured: the `messagesParser` step must run before this one" });
    const model = agent.aliases || !named.model ? resolveModel(runtime, named.body.model, agent.aliases) : named.model;
    if (!agentAllowsModel(agent.models, model.name)) {
      throw createAPIError({ code: "insufficient_scope", param: "model", message: `This agent may not use the model \`${clip(model.name)}\`.` });
    }
    const passThrough = ctx.stateless === true && model.providerId === "anthropic" && anthropicRawClient(model.provider) !== undefined;
    const request = toChatRequest(named.body, model.name, { lenient: passThrough });
    if (named.threadId !== undefined) request.thread_id = named.threadId;
    ctx.request = request;
    if (passThrough) {
      const headers = event.req.headers;
      ctx.passThrough = { body: named.raw as Record<string, unknown>, version: headers.get("anthropic-version") ?? undefined, beta: headers.get("anthropic-beta") ?? undefined };
    }
    ctx.model = model;
  };
}

// --- internal ---

/** The model the gateway routes a name to, or undefined when only an agent's aliases may know it (404 after auth otherwise). */
function knownModel(runtime: GatewayRuntime, name: string): Model | undefined {
  try {
    return resolveModel(runtime, name);
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === "model_not_found") return undefined;
    throw error;
  }
}


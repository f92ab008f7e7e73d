import type { Middleware } from "h3";
import { outputCap } from "../../catalog";
import { requireContext, useGatewayContext } from "../../context";
import { anthropicRawClient, rawUsage } from "../../providers/anthropic/raw";
import type { AnthropicUsageCounts } from "../../providers/anthropic/response";
import { upstreamError } from "../../providers/_errors";
import type { GatewayRuntime } from "../../runtime";
import { jsonAnswer, sseAnswer, writesDirectly } from "../answer-headers";
import { settle } from "../settle";
import { createDeadline } from "./deadline";
import { toGatewayError, withRetries } from "./index";
import { withPortableToolIds } from "./portable-tool-ids";
import { toRawSSEStream } from "./raw-stream";

/**
 * The Messages route's dispatch for `anthropic/` models: Anthropic gets the client's body
 * with only `model` replaced (and `max_tokens`, with a thinking budget above it, lowered to
 * the cap the hold covers, when it asked for more; the agent's instructions first in `system`, when it has some) and the
 * client's `anthropic-version` and `anthropic-beta`; the answer goes back as it came. The
 * usage is read from it for settle. Retries, the deadline and a client's leave work as in
 * the normalized dispatch. Requests without a pass-through go on to that dispatch.
 */
export function anthropicPassThrough(runtime: GatewayRuntime, failFrames: (error: unknown) => string): Middleware {
  return async function anthropicPassThrough(event) {
    const ctx = useGatewayContext(event);
    const pass = ctx.passThrough;
    if (!pass) return;
    const model = requireContext(event, "model", "requestParser");
    const thread = requireContext(event, "thread", "threadResolver");
    const { agent } = requireContext(event, "auth", "apiKeyAuth");
    const raw = anthropicRawClient(model.provider);
    if (!raw) throw new Error("agentgate: a pass-through was set for a provider without a raw client");

    const body: Record<string, unknown> = { ...pass.body, model: model.name.slice(model.name.indexOf("/") + 1) };
    const cap = ctx.reservation?.outputCap ?? outputCap(body.max_tokens as number | undefined, model, runtime.defaultMaxTokens);
    // The hold covers `cap` tokens of output: more would spend past it.
    if (typeof body.max_tokens === "number" && body.max_tokens > cap) {
      body.max_tokens = cap;
      // Anthropic wants a thinking budget below max_tokens.
      const thinking = body.thinking as { budget_tokens?: number } | undefined;
      if (typeof thinking?.budget_tokens === "number" && thinking.budget_tokens >= cap) body.thinking = { ...thinking, budget_tokens: Math.max(1, cap - 1) };
    }
    if (agent.instructions) body.system = withInstructions(body.system, agent.instructions);
    body.messages = withPortableToolIds(body.messages);
    const text = JSON.stringify(body);

    const deadline = createDeadline(runtime.upstream.timeoutMs, event.req.signal);
    deadline.signal.addEventListener("abort", () => ctx.heartbeat?.stop(), { once: true });
    const toError = (error: unknown) => toGatewayError(error, deadline, "anthropic", runtime);
    const headers = { model: model.name, version: pass.version, beta: pass.beta };
    let response: Awaited<ReturnType<typeof raw.post>>;
    try {
      response = await withRetries(runtime, deadline, toError, () => raw.post("/v1/messages", text, headers, deadline.signal));
    } catch (error) {
      deadline.clear();
      throw error;
    }

    if (body.stream !== true) {
      let answer: string;
      try {
        answer = await response.body.text();
      } catch (error) {
        throw toError(error);
      } finally {
        deadline.clear();
      }
      let json: { usage?: AnthropicUsageCounts };
      try {
        json = JSON.parse(answer);
      } catch (error) {
        throw upstreamError({ provider: "anthropic", message: "The answer was not JSON.", cause: error });
      }
      await settle(ctx, { usage: rawUsage(json.usage ?? {}), answer: json }, runtime.logger);
      return jsonAnswer(event, answer);
    }

    const stream = toRawSSEStream(
      {
        body: response.body,
        deadline,
        promptTokens: thread.promptTokens,
        clientSignal: event.req.signal,
        onEnd: (outcome) => settle(ctx, outcome, runtime.logger),
        toError,
        failFrames,
      },
      writesDirectly(event),
    );
    return sseAnswer(event, stream);
  };
}

// --- internal ---

/** The agent's instructions as the first system block, before the client's own. */
function withInstructions(system: unknown, instructions: string): unknown {
  const first = { type: "text", text: instructions };
  if (system === undefined || system === "") return [first];
  if (typeof system === "string") return [first, { type: "text", text: system }];
  return Array.isArray(system) ? [first, ...system] : system;
}

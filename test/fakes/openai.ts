import { sample } from "../_wire";
import { pieces, startFake, type FakeUpstream, type Turn, type VendorWire } from "./_server";

// OpenAI's wire (test/fixtures/wire/WIRE.md §1): POST /v1/chat/completions, Bearer auth, SSE of
// `data: {json}\n\n` ending in `data: [DONE]`, the usage chunk only with include_usage.

const ERROR_SAMPLES: Record<number, string> = {
  400: "error.400.invalid_param.json",
  401: "error.401.json",
  403: "error.403.json",
  404: "error.404.model_not_found.json",
  429: "error.429.rate_limit.json",
  500: "error.500.json",
  503: "error.503.json",
};

type Message = { role: string; content?: unknown; tool_calls?: unknown[] };

const wire: VendorWire = {
  name: "openai",
  basePath: "/v1",
  overloadedStatus: 503,
  route: (method, url, body) => (method === "POST" && url.pathname === "/v1/chat/completions" ? { stream: body.stream === true } : undefined),
  apiKey: (headers) => /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1],
  authError: () => ({ status: 401, body: sample("openai", ERROR_SAMPLES[401]) }),
  errorFor(status, retryAfter) {
    const body = sample("openai", ERROR_SAMPLES[status] ?? ERROR_SAMPLES[status >= 500 ? 500 : 400]);
    const headers: Record<string, string> = retryAfter === undefined ? {} : { "retry-after": String(retryAfter) };
    return { body, headers };
  },
  turns(body) {
    return ((body.messages as Message[]) ?? []).map((message): Turn => {
      const role = message.role === "developer" ? "system" : (message.role as Turn["role"]);
      const text = typeof message.content === "string" ? message.content : Array.isArray(message.content) ? message.content.map((part: { text?: string }) => part.text ?? "").join("") : "";
      return { role, text };
    });
  },
  json(reply, body) {
    const toolCalls = (reply.toolCalls ?? []).map((call, i) => ({ id: `call_fake${i}`, type: "function", function: { name: call.name, arguments: JSON.stringify(call.arguments) } }));
    return {
      id: "chatcmpl-fake",
      object: "chat.completion",
      created: 1741569952,
      model: `${body.model}-2024-07-18`,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: toolCalls.length ? null : reply.text, refusal: null, ...(toolCalls.length && { tool_calls: toolCalls }), annotations: [] },
          logprobs: body.logprobs === true ? { content: pieces(reply.text).map((piece) => logprobOf(piece, body)), refusal: null } : null,
          finish_reason: reply.finish,
        },
      ],
      usage: usageOf(reply.usage),
      service_tier: "default",
      system_fingerprint: "fp_fake",
    };
  },
  stream(reply, body) {
    const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
    const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1694268190, model: `${body.model}-2024-07-18`, service_tier: "default", system_fingerprint: "fp_fake" };
    const frame = (choices: unknown[], usage: unknown = null) => `data: ${JSON.stringify({ ...base, choices, ...(includeUsage && { usage }) })}\n\n`;
    const delta = (d: object, finish: string | null = null, logprobs: object | null = null) => frame([{ index: 0, delta: d, logprobs, finish_reason: finish }]);
    const content = pieces(reply.text).map((piece) => delta({ content: piece }, null, body.logprobs === true ? { content: [logprobOf(piece, body)], refusal: null } : null));
    const tools = (reply.toolCalls ?? []).flatMap((call, index) => {
      const args = JSON.stringify(call.arguments);
      const half = Math.ceil(args.length / 2);
      return [
        delta({ tool_calls: [{ index, id: `call_fake${index}`, type: "function", function: { name: call.name, arguments: "" } }] }),
        delta({ tool_calls: [{ index, function: { arguments: args.slice(0, half) } }] }),
        delta({ tool_calls: [{ index, function: { arguments: args.slice(half) } }] }),
      ];
    });
    const events = [delta({ role: "assistant", content: "", refusal: null }), ...content, ...tools, delta({}, reply.finish)];
    if (includeUsage) events.push(frame([], usageOf(reply.usage)));
    events.push("data: [DONE]\n\n");
    const error = `data: ${JSON.stringify(sample("openai", ERROR_SAMPLES[500]))}\n\n`;
    return { events, contentEvents: 1 + content.length + tools.length, error, contentType: "text/event-stream; charset=utf-8" };
  },
};

/** One token's logprob entry, with as many alternatives as `top_logprobs` asks. */
function logprobOf(token: string, body: Record<string, unknown>) {
  const entry = (text: string, logprob: number) => ({ token: text, logprob, bytes: [...Buffer.from(text)] });
  const alternatives = Array.from({ length: Number(body.top_logprobs ?? 0) }, (_, k) => entry(k ? `${token.trim()}${k}` : token, -0.1 - k));
  return { ...entry(token, -0.1), top_logprobs: alternatives };
}

function usageOf(usage: { prompt: number; completion: number; cached?: number }) {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
    prompt_tokens_details: { cached_tokens: usage.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** A fake OpenAI upstream; point `openai({ baseURL: fake.baseURL, apiKey: fake.apiKey })` at it. */
export function startOpenAIFake(): Promise<FakeUpstream> {
  return startFake(wire);
}

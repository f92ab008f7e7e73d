import { sample } from "../_wire";
import { pieces, startFake, type FakeUpstream, type Turn, type VendorWire } from "./_server";

// Anthropic's wire (test/fixtures/wire/WIRE.md §3): POST /v1/messages, `x-api-key` or Bearer
// auth, SSE where every event has an `event:` line, message_start first, message_stop last.

const ERROR_SAMPLES: Record<number, string> = {
  400: "error.400.json",
  401: "error.401.json",
  402: "error.402.json",
  403: "error.403.json",
  404: "error.404.json",
  413: "error.413.json",
  429: "error.429.json",
  500: "error.500.json",
  529: "error.529.json",
};

const STOP_REASONS = { stop: "end_turn", length: "max_tokens", tool_calls: "tool_use", content_filter: "refusal" } as const;

type Block = { type: string; text?: string; content?: unknown };
type Message = { role: string; content: string | Block[] };

/** What the fake's `count_tokens` answers, whatever it is sent. */
export const FAKE_TOKEN_COUNT = 4242;

const PING = `event: ping\ndata: {"type": "ping"}\n\n`;

const wire: VendorWire = {
  name: "anthropic",
  ping: PING,
  basePath: "",
  overloadedStatus: 529,
  route(method, url, body) {
    if (method !== "POST") return undefined;
    if (url.pathname === "/v1/messages") return { stream: body.stream === true };
    // Counted exactly, as Anthropic counts: here, a fixed number the tests can recognize.
    if (url.pathname === "/v1/messages/count_tokens") return { stream: false, answer: () => ({ input_tokens: FAKE_TOKEN_COUNT }) };
    return undefined;
  },
  apiKey: (headers) => (headers["x-api-key"] as string | undefined) ?? /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1],
  authError: () => ({ status: 401, body: sample("anthropic", ERROR_SAMPLES[401]) }),
  errorFor(status, retryAfter) {
    const body = sample("anthropic", ERROR_SAMPLES[status] ?? ERROR_SAMPLES[status >= 500 ? 500 : 400]);
    return { body, headers: { "request-id": "req_fake", ...(retryAfter !== undefined && { "retry-after": String(retryAfter) }) } };
  },
  turns(body) {
    const turns: Turn[] = [];
    const system = body.system;
    if (typeof system === "string") turns.push({ role: "system", text: system });
    for (const message of (body.messages as Message[]) ?? []) {
      if (typeof message.content === "string") {
        turns.push({ role: message.role as Turn["role"], text: message.content });
        continue;
      }
      const results = message.content.filter((block) => block.type === "tool_result");
      for (const result of results) turns.push({ role: "tool", text: typeof result.content === "string" ? result.content : "" });
      const text = message.content.map((block) => (block.type === "text" ? (block.text ?? "") : "")).join("");
      if (text || results.length === 0) turns.push({ role: message.role as Turn["role"], text });
    }
    return turns;
  },
  json(reply, body) {
    const content = [
      ...(reply.text ? [{ type: "text", text: reply.text }] : []),
      ...(reply.toolCalls ?? []).map((call, i) => ({ type: "tool_use", id: `toolu_fake${i}`, name: call.name, input: call.arguments })),
    ];
    return {
      id: "msg_fake",
      type: "message",
      role: "assistant",
      model: body.model,
      content,
      stop_reason: STOP_REASONS[reply.finish],
      stop_sequence: null,
      usage: usageOf(reply.usage),
    };
  },
  stream(reply, body) {
    const event = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
    const { output_tokens, ...startUsage } = usageOf(reply.usage);
    const events = [event("message_start", { message: { id: "msg_fake", type: "message", role: "assistant", model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...startUsage, output_tokens: 1 } } })];
    let index = 0;
    if (reply.text) {
      events.push(event("content_block_start", { index, content_block: { type: "text", text: "" } }), PING);
      for (const piece of pieces(reply.text)) events.push(event("content_block_delta", { index, delta: { type: "text_delta", text: piece } }));
      events.push(event("content_block_stop", { index }));
      index++;
    }
    for (const call of reply.toolCalls ?? []) {
      const args = JSON.stringify(call.arguments);
      const half = Math.ceil(args.length / 2);
      events.push(
        event("content_block_start", { index, content_block: { type: "tool_use", id: `toolu_fake${index}`, name: call.name, input: {} } }),
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: "" } }),
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: args.slice(0, half) } }),
        event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: args.slice(half) } }),
        event("content_block_stop", { index }),
      );
      index++;
    }
    const contentEvents = events.length;
    // The running output count in message_delta is cumulative: the final one is the total.
    events.push(event("message_delta", { delta: { stop_reason: STOP_REASONS[reply.finish], stop_sequence: null }, usage: { output_tokens } }), event("message_stop", {}));
    const error = `event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n`;
    return { events, contentEvents, error, contentType: "text/event-stream; charset=utf-8" };
  },
};

function usageOf(usage: { prompt: number; completion: number; cached?: number; cacheWrite?: number }) {
  const cached = usage.cached ?? 0;
  const written = usage.cacheWrite ?? 0;
  // Anthropic's input_tokens leaves out cache reads and cache writes.
  return { input_tokens: usage.prompt - cached - written, cache_creation_input_tokens: written, cache_read_input_tokens: cached, output_tokens: usage.completion, service_tier: "standard" };
}

/** A fake Anthropic upstream; point `anthropic({ baseURL: fake.baseURL, apiKey: fake.apiKey })` at it. */
export function startAnthropicFake(): Promise<FakeUpstream> {
  return startFake(wire);
}

import { sample } from "../_wire";
import { pieces, startFake, type FakeUpstream, type Turn, type VendorWire } from "./_server";

// Gemini's wire (test/fixtures/wire/WIRE.md §4): POST /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse, `x-goog-api-key` auth, SSE of `data: {json}` + CRLF CRLF
// with no event lines and no [DONE]; errors are Google RPC JSON (a bad key is a 400).

const ERROR_SAMPLES: Record<number, string> = {
  400: "error.400.invalid_argument.json",
  403: "error.403.json",
  404: "error.404.json",
  429: "error.429.json",
  500: "error.500.json",
  503: "error.503.json",
};

const FINISH_REASONS = { stop: "STOP", length: "MAX_TOKENS", tool_calls: "STOP", content_filter: "SAFETY" } as const;

type Part = { text?: string; functionResponse?: { response?: unknown } };
type Content = { role?: string; parts?: Part[] };

/** What the fake's `countTokens` answers, whatever it is sent. */
export const FAKE_TOKEN_COUNT = 2424;

const wire: VendorWire = {
  name: "gemini",
  basePath: "",
  overloadedStatus: 503,
  route(method, url) {
    const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(url.pathname);
    if (method !== "POST" || !match) return undefined;
    if (match[2] === "countTokens") return { stream: false, answer: () => ({ totalTokens: FAKE_TOKEN_COUNT }) };
    const stream = match[2] === "streamGenerateContent";
    if (stream && url.searchParams.get("alt") !== "sse") return undefined;
    return { stream };
  },
  apiKey: (headers) => headers["x-goog-api-key"] as string | undefined,
  authError: () => ({ status: 400, body: sample("gemini", "error.400.api_key_invalid.json") }),
  errorFor(status, retryAfter) {
    const body = sample<{ error: { details?: Array<Record<string, unknown>> } }>("gemini", ERROR_SAMPLES[status] ?? ERROR_SAMPLES[status >= 500 ? 500 : 400]);
    // Gemini sends no retry-after header: the delay is RetryInfo in the body.
    if (retryAfter !== undefined) {
      const details = (body.error.details ?? []).filter((detail) => !String(detail["@type"]).endsWith("RetryInfo"));
      body.error.details = [...details, { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfter}s` }];
    }
    return { body, headers: {} };
  },
  turns(body) {
    const turns: Turn[] = [];
    const system = body.systemInstruction as Content | undefined;
    if (system) turns.push({ role: "system", text: (system.parts ?? []).map((part) => part.text ?? "").join("") });
    for (const content of (body.contents as Content[]) ?? []) {
      const parts = content.parts ?? [];
      for (const part of parts) if (part.functionResponse) turns.push({ role: "tool", text: JSON.stringify(part.functionResponse.response) });
      const text = parts.map((part) => part.text ?? "").join("");
      if (text || parts.every((part) => !part.functionResponse)) turns.push({ role: content.role === "model" ? "assistant" : "user", text });
    }
    return turns;
  },
  json(reply, body) {
    return response(reply.text, reply, String(body.model ?? "gemini-2.5-flash"), true);
  },
  stream(reply) {
    const frame = (json: object) => `data: ${JSON.stringify(json)}\r\n\r\n`;
    const words = pieces(reply.text);
    const partial = reply.withoutUsage ? undefined : { promptTokenCount: reply.usage.prompt, totalTokenCount: reply.usage.prompt };
    const events = words.slice(0, -1).map((word) => frame({ candidates: [{ content: { parts: [{ text: word }], role: "model" } }], usageMetadata: partial, modelVersion: "gemini-2.5-flash", responseId: "fakeResponseId" }));
    const contentEvents = events.length;
    // The last chunk has the finish reason, any function calls and the full usage...
    const last = response(words.at(-1) ?? "", reply, "gemini-2.5-flash", true);
    if (!reply.usageAfterFinish) events.push(frame(last));
    else {
      // ...or, as Gemini may send it, the full usage in a trailing chunk of its own.
      events.push(frame({ ...last, usageMetadata: partial }));
      events.push(frame({ candidates: [{ content: { parts: [] } }], usageMetadata: last.usageMetadata, modelVersion: last.modelVersion, responseId: last.responseId }));
    }
    const error = JSON.stringify(sample("gemini", ERROR_SAMPLES[503]));
    return { events, contentEvents, error, contentType: "text/event-stream" };
  },
};

function response(text: string, reply: Parameters<VendorWire["json"]>[0], model: string, final: boolean) {
  const parts = [
    ...(text ? [{ text }] : []),
    ...(reply.toolCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.arguments }, ...(call.signature && { thoughtSignature: call.signature }) })),
  ];
  const { prompt, completion, cached } = reply.usage;
  return {
    candidates: [{ content: { parts, role: "model" }, ...(final && { finishReason: FINISH_REASONS[reply.finish] }), index: 0 }],
    usageMetadata: reply.withoutUsage ? undefined : { promptTokenCount: prompt, candidatesTokenCount: completion, totalTokenCount: prompt + completion, ...(cached && { cachedContentTokenCount: cached }) },
    modelVersion: model,
    responseId: "fakeResponseId",
  };
}

/** A fake Gemini upstream; point `gemini({ baseURL: fake.baseURL, apiKey: fake.apiKey })` at it. */
export function startGeminiFake(): Promise<FakeUpstream> {
  return startFake(wire);
}

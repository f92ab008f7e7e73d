import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A reply a test scripts, in vendor-neutral terms; each fake renders it in its own wire format. */
export interface FakeReply {
  /** The answer's text. @default the last user text of the request (as the echo provider does) */
  text?: string;
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown>; /** Gemini only. */ signature?: string }>;
  /** @default "tool_calls" when toolCalls are given, else "stop" */
  finish?: "stop" | "length" | "tool_calls" | "content_filter";
  /** In OpenAI's terms: prompt includes cached tokens (and, Anthropic only, `cacheWrite`, the tokens written to its cache). @default { prompt: 10, completion: <pieces of text> } */
  usage?: { prompt: number; completion: number; cached?: number; cacheWrite?: number };
  /** Gemini only: the finish chunk has the prompt count only; the full usage follows in a chunk of its own. */
  usageAfterFinish?: boolean;
  /** Gemini only: no usageMetadata anywhere, so the gateway must estimate. */
  withoutUsage?: boolean;
  /** Anthropic only: after `after` events, `count` ping events `everyMs` apart. */
  pings?: { after: number; count: number; everyMs: number };
  /** Milliseconds before the answer starts. */
  delayMs?: number;
  /** Milliseconds between streamed pieces. */
  chunkDelayMs?: number;
  /** Streams only: send this many events, then the vendor's mid-stream error (before the finish). */
  failAfter?: number;
  /** Streams only: send this many events, then fall silent until the caller gives up. */
  stallAfter?: number;
}

/** One scripted answer: a reply, an HTTP error (the vendor's sample body by default), or silence. */
export type FakeStep =
  | { reply: FakeReply }
  | { error: { status: number; retryAfter?: number; body?: unknown; /** Extra response headers (a proxy's `retry-after` on Gemini). */ headers?: Record<string, string> } }
  | { hang: true };

/** A request the fake received, as the vendor's wire shows it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
  /** True when the caller went away before the answer ended. */
  aborted: boolean;
  /** Resolves when the connection closed, whichever side closed it. */
  closed: Promise<void>;
}

/** A conversation turn, normalized from any vendor's request, for vendor-neutral assertions. */
export interface Turn {
  role: "system" | "user" | "assistant" | "tool";
  text: string;
}

/** What the vendor-neutral server needs to know about one vendor's wire. */
export interface VendorWire {
  name: "openai" | "anthropic" | "gemini";
  /** The path prefix the SDK's base URL adds (`/v1` for openai). */
  basePath: string;
  /** The status the vendor uses for "overloaded". */
  overloadedStatus: number;
  /** Undefined when the path is not an endpoint; otherwise whether the call streams, or the fixed answer of an endpoint that is not a completion (token counting). */
  route(method: string, url: URL, body: Record<string, unknown>): { stream: boolean; answer?: () => unknown } | undefined;
  /** The request's key, from whichever header the SDK sends. */
  apiKey(headers: IncomingMessage["headers"]): string | undefined;
  /** The error for a wrong key: status and body, as the vendor sends it. */
  authError(): { status: number; body: unknown };
  /** The vendor's sample error body for a status; extra headers (`retry-after`) and body tweaks. */
  errorFor(status: number, retryAfter?: number): { body: unknown; headers: Record<string, string> };
  turns(body: Record<string, unknown>): Turn[];
  /** The vendor's keep-alive event, if it has one (Anthropic's `ping`). */
  ping?: string;
  json(reply: Required<Pick<FakeReply, "text" | "finish" | "usage">> & FakeReply, body: Record<string, unknown>): unknown;
  /** SSE events, already framed, one per piece; `error` is the mid-stream failure. */
  stream(reply: Required<Pick<FakeReply, "text" | "finish" | "usage">> & FakeReply, body: Record<string, unknown>): { events: string[]; contentEvents: number; error: string; contentType: string };
}

/** A local vendor upstream on an ephemeral port that real SDKs talk to unmodified. */
export interface FakeUpstream {
  vendor: VendorWire["name"];
  origin: string;
  /** The base URL as this vendor's SDK takes it. */
  baseURL: string;
  /** The key the fake accepts; any other gets the vendor's auth error. */
  apiKey: string;
  overloadedStatus: number;
  requests: RecordedRequest[];
  /** Queues answers, one per incoming request; when the queue is empty the fake echoes. */
  script(...steps: FakeStep[]): void;
  turns(request: RecordedRequest): Turn[];
  /** The vendor's sample error body for a status (what a scripted error sends). */
  errorBody(status: number): unknown;
  /** Forgets scripts and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFake(wire: VendorWire, apiKey = `fake-${wire.name}-key-0123456789`): Promise<FakeUpstream> {
  const steps: FakeStep[] = [];
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    const url = new URL(req.url ?? "/", "http://fake");
    let onClose!: () => void;
    const record: RecordedRequest = { method: req.method ?? "GET", path: url.pathname + url.search, headers: req.headers, body, aborted: false, closed: new Promise((resolve) => (onClose = resolve)) };
    res.on("close", () => {
      if (!res.writableFinished) record.aborted = true;
      onClose();
    });
    const route = wire.route(record.method, url, body);
    if (!route) return sendJSON(res, 404, { error: { message: `fake ${wire.name}: no route ${record.method} ${record.path}` } });
    requests.push(record);
    if (wire.apiKey(req.headers) !== apiKey) {
      const { status, body: errorBody } = wire.authError();
      return sendJSON(res, status, errorBody);
    }
    if (route.answer) return sendJSON(res, 200, route.answer());
    const step = steps.shift() ?? { reply: {} };
    if ("hang" in step) return; // never answers: the caller's timeout or abort ends it
    if ("error" in step) {
      const { body: sampleBody, headers } = wire.errorFor(step.error.status, step.error.retryAfter);
      return sendJSON(res, step.error.status, step.error.body ?? sampleBody, { ...headers, ...step.error.headers });
    }
    const reply = step.reply;
    const answer = reply.text ?? (reply.toolCalls ? "" : lastUserText(wire.turns(body)));
    const fullReply = {
      ...reply,
      text: answer,
      finish: reply.finish ?? (reply.toolCalls?.length ? "tool_calls" : "stop"),
      usage: reply.usage ?? { prompt: 10, completion: pieces(answer).length + 1 },
    } as const;
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    if (!route.stream) return sendJSON(res, 200, wire.json(fullReply, body));
    const { events, contentEvents, error, contentType } = wire.stream(fullReply, body);
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache" });
    let sent = 0;
    for (const event of events) {
      if (res.destroyed) return;
      if (reply.failAfter !== undefined && sent >= reply.failAfter && sent < contentEvents) {
        // Its own network write, as a vendor's error arrives (Gemini's SDK looks at whole chunks).
        await sleep(10);
        res.end(error);
        return;
      }
      if (reply.stallAfter !== undefined && sent >= reply.stallAfter) {
        await new Promise((resolve) => res.once("close", resolve));
        return;
      }
      res.write(event);
      sent++;
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (wire.ping && reply.pings?.after === sent) {
        for (let i = 0; i < reply.pings.count && !res.destroyed; i++) {
          await sleep(reply.pings.everyMs);
          res.write(wire.ping);
        }
      }
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    vendor: wire.name,
    origin,
    baseURL: origin + wire.basePath,
    apiKey,
    overloadedStatus: wire.overloadedStatus,
    requests,
    script: (...more) => void steps.push(...more),
    turns: (request) => wire.turns(request.body),
    errorBody: (status) => wire.errorFor(status).body,
    reset() {
      steps.length = 0;
      requests.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Text split as vendors stream it: word by word, spaces kept. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function lastUserText(turns: Turn[]): string {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i].role === "user" && turns[i].text) return turns[i].text;
  return "";
}

function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

import type { IncomingMessage, ServerResponse } from "node:http";
import { createAPIError, renderError } from "../src/errors";
import type { Gateway } from "../src/gateway";
import { isGatewayPath, toNodeListener } from "./node";

/** What the adapter reads of an Express request (Express 4 and 5 both provide it). */
export interface ExpressRequest extends IncomingMessage {
  /** The URL before Express stripped the mount path from `url`. */
  originalUrl?: string;
  /** Set by `express.json()` (or `text()`, `raw()`, `urlencoded()`) when it ran first. */
  body?: unknown;
  /** The exact bytes, when a parser's `verify` hook kept them. */
  rawBody?: unknown;
}

/** An Express middleware: `app.use(agentgate(gateway))` or `app.use("/path", agentgate(gateway))`. */
export type ExpressMiddleware = (req: ExpressRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

/** An Express error middleware (four parameters): `app.use(agentgateErrors(gateway))`. */
export type ExpressErrorMiddleware = (error: unknown, req: ExpressRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Express middleware (Express 4 and 5) serving the gateway's routes, `${basePath}/v1/...`
 * and `${basePath}/admin/...`, and passing every other path to `next()`. Mount it at
 * the root or under any path: the gateway sees the full original URL, so its
 * `basePath` is where its routes live. Streams SSE as it is produced.
 *
 * Mount it before `express.json()`: the gateway then reads the body itself, with its own
 * `maxBodyBytes` and OpenAI's errors. After a parser it still works, from `req.body`, but
 * the parser's limit (100 kB) and error pages apply: add `agentgateErrors(gateway)`.
 *
 * @example
 * const app = express();
 * app.use(agentgate(gateway)); // POST /api/v1/chat/completions, /api/admin/...
 * app.use(express.json()); // for your own routes
 */
export function agentgate(gateway: Pick<Gateway, "app" | "basePath">): ExpressMiddleware {
  const listener = toNodeListener(gateway);
  return function agentgate(req, res, next) {
    const url = req.originalUrl ?? req.url ?? "/";
    if (!isGatewayPath(url, gateway.basePath)) return next();
    req.url = url; // the gateway answers; Express never needs the stripped URL back
    if (bodyWasRead(req)) restoreBody(req);
    listener(req, res);
  };
}

/**
 * For apps whose body parser runs before `agentgate()`: answers the parser's errors on the
 * gateway's paths in OpenAI's envelope (malformed JSON: 400 `invalid_json`, over the
 * parser's `limit`: 413 `request_too_large`) instead of Express's HTML page. Errors on
 * other paths, and any other error, go on to `next(error)`. Add it after your middleware.
 *
 * @example
 * app.use(express.json());
 * app.use(agentgate(gateway));
 * app.use(agentgateErrors(gateway));
 */
export function agentgateErrors(gateway: Pick<Gateway, "basePath">): ExpressErrorMiddleware {
  return function agentgateErrors(error, req, res, next) {
    const url = req.originalUrl ?? req.url ?? "/";
    const answer = bodyParserError(error);
    if (!answer || res.headersSent || !isGatewayPath(url, gateway.basePath)) return next(error);
    void sendResponse(renderError(answer), res);
  };
}

export default agentgate;

// --- internal ---

/** The gateway's own error for what body-parser (express.json() and its siblings) reports. */
function bodyParserError(error: unknown) {
  const { type, limit } = (error ?? {}) as { type?: unknown; limit?: unknown };
  if (type === "entity.parse.failed") return createAPIError({ code: "invalid_json", message: "The request body is not valid JSON." });
  if (type === "entity.too.large") return createAPIError({ code: "request_too_large", message: `The request body is larger than the limit of ${limit} bytes.` });
  return undefined;
}

async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(await response.text());
}

/** A body parser ran before us: the stream is spent, only `req.body` is left. */
function bodyWasRead(req: ExpressRequest): boolean {
  return req.readableEnded || (req.complete && !req.readable);
}

/**
 * Hands the parsed body back as bytes. h3's Node bridge (srvx) reads `req.rawBody`, the
 * Cloud Functions convention, in place of a spent stream; the headers are made to match
 * (a parser may have inflated a gzip body, and re-serialized JSON has its own length).
 */
function restoreBody(req: ExpressRequest): void {
  const { body, rawBody } = req;
  const bytes = Buffer.isBuffer(rawBody) ? rawBody : Buffer.isBuffer(body) ? body : Buffer.from(typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body));
  req.rawBody = bytes;
  const stale = new Set(["content-length", "content-encoding", "transfer-encoding"]);
  for (const name of stale) delete req.headers[name];
  req.headers["content-length"] = String(bytes.length);
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (!stale.has(req.rawHeaders[i].toLowerCase())) raw.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
  }
  req.rawHeaders = [...raw, "Content-Length", String(bytes.length)];
}

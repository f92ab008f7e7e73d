import type { IncomingMessage, ServerResponse } from "node:http";
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

/**
 * Express middleware (Express 4 and 5) serving the gateway's routes, `${basePath}/v1/...`
 * and `${basePath}/admin/...`, and passing every other path to `next()`. Mount it at
 * the root or under any path: the gateway sees the full original URL, so its
 * `basePath` is where its routes live. Works whether or not `express.json()` ran
 * before it, and streams SSE as it is produced.
 *
 * @example
 * const app = express();
 * app.use(express.json());
 * app.use(agentgate(gateway)); // POST /api/v1/chat/completions, /api/admin/...
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

export default agentgate;

// --- internal ---

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

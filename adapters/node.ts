import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "h3/node";
import type { Gateway } from "../src/gateway";

/** A Node request listener, for `http.createServer(listener)`. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Node/Connect-style middleware: handles its own paths and calls `next()` for the rest. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Turns a gateway into a Node `http` request listener (through h3's srvx bridge, the
 * same path Nitro's node presets use). Streams are written chunk by chunk as they are
 * produced, never buffered.
 *
 * @example
 * import { createServer } from "node:http";
 * createServer(toNodeListener(gateway)).listen(3000);
 */
export function toNodeListener(gateway: Pick<Gateway, "app">): NodeListener {
  const handler = toNodeHandler(gateway.app);
  return (req, res) => void handler(req, res);
}

/**
 * Mounts the gateway inside an existing listener: requests for the gateway's routes
 * (`${prefix}/v1/...` and `${prefix}/admin/...`) go to the gateway, all others to
 * `next`, untouched. `prefix` is the gateway's `basePath` unless given.
 *
 * @example
 * const api = mountGateway(gateway);
 * createServer((req, res) => api(req, res, () => myApp(req, res))).listen(3000);
 */
export function mountGateway(gateway: Pick<Gateway, "app"> & Partial<Pick<Gateway, "basePath">>, prefix: string = gateway.basePath ?? "/api"): NodeMiddleware {
  const handler = toNodeHandler(gateway.app);
  return (req, res, next) => {
    if (isGatewayPath(req.url ?? "/", prefix)) void handler(req, res);
    else next();
  };
}

/**
 * Whether a request path (query allowed) is one of the gateway's: `${base}/v1` or
 * `${base}/admin`, or anything below them. The host keeps every other path under `base`.
 */
export function isGatewayPath(url: string, base: string): boolean {
  const prefix = base.replace(/\/+$/, "");
  for (const area of ["/v1", "/admin"]) {
    const root = prefix + area;
    if (url.startsWith(root) && (url.length === root.length || "/?".includes(url[root.length]))) return true;
  }
  return false;
}

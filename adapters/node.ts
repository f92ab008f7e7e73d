import type { IncomingMessage, ServerResponse } from "node:http";
import { toNodeHandler } from "h3/node";
import type { Gateway } from "../src/gateway";

/** A Node request listener, for `http.createServer(listener)`. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Node/Connect-style middleware: handles its own paths and calls `next()` for the rest. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Turns a gateway into a Node `http` request listener (through h3's srvx bridge, the
 * same path Nitro's node presets use). Streams are written as they are produced.
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
 * Mounts the gateway inside an existing listener: requests under `prefix` (the
 * gateway's `basePath`, default `/api`) go to the gateway, all others to `next`.
 *
 * @example
 * const api = mountGateway(gateway);
 * createServer((req, res) => api(req, res, () => myApp(req, res))).listen(3000);
 */
export function mountGateway(gateway: Pick<Gateway, "app">, prefix = "/api"): NodeMiddleware {
  const handler = toNodeHandler(gateway.app);
  const base = prefix.replace(/\/+$/, "");
  return (req, res, next) => {
    const path = req.url ?? "/";
    if (path === base || path.startsWith(`${base}/`) || path.startsWith(`${base}?`)) void handler(req, res);
    else next();
  };
}

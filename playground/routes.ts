import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Gateway } from "../src/index";

/** What the page's routes need: the gateway, the demo account, its admin token, where we listen. */
export interface PlaygroundRoutesOptions {
  gateway: Gateway;
  accountId: string;
  adminToken: string;
  /** The `HOST` the server listens on; a wildcard (0.0.0.0, ::) means every Host is expected. */
  host: string;
}

/** Largest demo top-up per click: $100. */
const MAX_TOP_UP_MICROS = 100_000_000;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const FILES: Record<string, [file: string, type: string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/index.html": ["index.html", "text/html; charset=utf-8"],
  "/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/style.css": ["style.css", "text/css; charset=utf-8"],
  "/usage.js": ["usage.js", "text/javascript; charset=utf-8"],
  "/usage.css": ["usage.css", "text/css; charset=utf-8"],
};
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/**
 * The page and its two helpers, for everything the gateway does not own:
 * `GET /playground/session` hands the page the demo account's admin token (same origin
 * only), and `POST /playground/top-up` credits the demo account in-process, because
 * crediting over HTTP needs the host's `billing:credit` scope.
 */
export function createPlaygroundRoutes(options: PlaygroundRoutesOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { gateway, accountId, adminToken } = options;
  const files = new Map(Object.entries(FILES).map(([path, [file, type]]) => [path, { type, body: readFileSync(new URL(`./public/${file}`, import.meta.url)) }]));
  const models = gateway.catalog
    .list()
    .filter((model) => model.provider)
    .map((model) => model.name);

  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const file = files.get(path);
    if (req.method === "GET" && file) return send(res, 200, file.body, file.type);
    // The admin token is for this page only: refuse other Host names (DNS rebinding).
    if (path.startsWith("/playground/") && !expectedHost(req.headers.host, options.host)) return json(res, 403, { error: "unexpected Host" });
    if (req.method === "GET" && path === "/playground/session") return json(res, 200, { account_id: accountId, admin_token: adminToken, models });
    if (req.method === "POST" && path === "/playground/top-up") return void topUp(req, res).catch(() => json(res, 500, { error: "top-up failed" }));
    send(res, 404, "Not found", "text/plain; charset=utf-8");
  };

  async function topUp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // JSON only: a cross-site form cannot send it without a CORS preflight, which we never answer.
    if (!req.headers["content-type"]?.startsWith("application/json")) return json(res, 415, { error: "send JSON" });
    let body = "";
    for await (const chunk of req) {
      body += chunk;
      if (body.length > 1024) return json(res, 413, { error: "too large" });
    }
    let amount = NaN;
    try {
      amount = Number((JSON.parse(body || "{}") as { amount_micros?: unknown }).amount_micros);
    } catch {
      // answered below, as any other bad amount
    }
    if (!Number.isSafeInteger(amount) || amount <= 0 || amount > MAX_TOP_UP_MICROS) {
      return json(res, 400, { error: `amount_micros must be a whole number from 1 to ${MAX_TOP_UP_MICROS}` });
    }
    json(res, 200, await gateway.admin.credit(accountId, amount));
  }
}

// --- internal ---

function expectedHost(header: string | undefined, listenHost: string): boolean {
  if (listenHost === "0.0.0.0" || listenHost === "::") return true;
  const name = (header ?? "").replace(/:\d+$/, "").toLowerCase();
  return LOOPBACK.has(name) || name === listenHost.toLowerCase();
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { "content-type": type, ...SECURITY_HEADERS });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), "application/json");
}

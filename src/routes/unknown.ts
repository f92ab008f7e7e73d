import type { H3 } from "h3";
import { clip, createAPIError } from "../errors";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/**
 * Notes the method and path of every route registered on `app` until `done()`, which
 * gives the lookup `registerUnknownRoutes` needs to tell a wrong method on a known path
 * (405 with `allow`) from a path that does not exist (404).
 */
export function trackRoutes(app: H3): { done(): (pathname: string) => string[] } {
  const routes: Array<{ method: string; pattern: RegExp }> = [];
  const on = app.on;
  // h3's get/post/... all go through `on`.
  app.on = function trackedOn(this: H3, method, route, handler, opts) {
    if (method) routes.push({ method: method.toUpperCase(), pattern: routePattern(route) });
    return on.call(this, method, route, handler as never, opts);
  } as H3["on"];
  return {
    done() {
      app.on = on;
      return (pathname) => {
        const allowed = new Set(routes.filter((route) => route.pattern.test(pathname)).map((route) => route.method));
        if (allowed.has("GET")) allowed.add("HEAD");
        return [...allowed];
      };
    },
  };
}

/**
 * Answers whatever no route took under `base`, in OpenAI's envelope. Registered per
 * method, not for all, so h3 still answers HEAD through the GET route of a known path.
 */
export function registerUnknownRoutes(app: H3, base: string, allowedMethods: (pathname: string) => string[]): void {
  for (const method of METHODS) {
    app.on(method, `${base}/**`, (event) => {
      const { pathname } = event.url;
      const allowed = allowedMethods(pathname);
      if (allowed.length > 0) {
        throw createAPIError({ code: "method_not_allowed", message: `${event.req.method} is not allowed on ${clip(pathname)}; it answers ${allowed.join(", ")}.`, headers: { allow: allowed.join(", ") } });
      }
      throw createAPIError({ code: "not_found", message: `Unknown route: ${event.req.method} ${clip(pathname)}` });
    });
  }
}

// --- internal ---

/** `/a/:id/**` as a regular expression over a pathname. */
function routePattern(route: string): RegExp {
  const source = route
    .split("/")
    .map((part) => (part === "**" ? ".*" : part.startsWith(":") || part === "*" ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}/?$`);
}

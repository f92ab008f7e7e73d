import type { H3, Middleware } from "h3";
import { apiKeyAuth } from "../chain/auth";
import { balanceGuard } from "../chain/balance";
import { speaks } from "../chain/dialect";
import { providerDispatch } from "../chain/dispatch";
import { rateLimit } from "../chain/rate-limit";
import { settlement } from "../chain/settle";
import { threadResolver } from "../chain/thread";
import type { Dialect } from "../dialects/types";
import type { GatewayRuntime } from "../runtime";
import { requestObserver } from "../telemetry/observe";

/**
 * Registers `POST path` as the chain of DESIGN.md in one dialect, built once:
 * parse → auth → rate → thread → balance → dispatch, with settlement around them all.
 * Only the parser (the dialect's request → the normalized chat request) and the dialect's
 * encoders differ between chat completions, Responses and Messages. `beforeDispatch` steps
 * may answer instead of the dispatch (the Messages pass-through to Anthropic does).
 */
export function registerAnswerRoute(app: H3, path: string, runtime: GatewayRuntime, dialect: Dialect, parser: Middleware, extra: { afterAuth?: Middleware[]; beforeDispatch?: Middleware[] } = {}): void {
  const dispatch = providerDispatch(runtime, dialect);
  app.post(path, (event) => dispatch(event, () => undefined), {
    middleware: [
      speaks(dialect),
      ...(runtime.observer ? [requestObserver(runtime.observer, path)] : []),
      settlement(runtime.logger),
      parser,
      apiKeyAuth(runtime),
      ...(extra.afterAuth ?? []),
      rateLimit(runtime),
      threadResolver(runtime),
      balanceGuard(runtime),
      ...(extra.beforeDispatch ?? []),
    ],
  });
}

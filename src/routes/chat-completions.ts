import type { H3 } from "h3";
import { apiKeyAuth } from "../chain/auth";
import { balanceGuard } from "../chain/balance";
import { providerDispatch } from "../chain/dispatch";
import { requestParser } from "../chain/parse";
import { rateLimit } from "../chain/rate-limit";
import { settlement } from "../chain/settle";
import { threadResolver } from "../chain/thread";
import type { GatewayRuntime } from "../runtime";

/**
 * `POST {base}/v1/chat/completions`: the chain of DESIGN.md, built once.
 * parse → auth → rate → thread → balance → dispatch, with settlement around them all.
 */
export function registerChatCompletions(app: H3, base: string, runtime: GatewayRuntime): void {
  const dispatch = providerDispatch(runtime);
  app.post(`${base}/v1/chat/completions`, (event) => dispatch(event, () => undefined), {
    middleware: [settlement(runtime.logger), requestParser(runtime), apiKeyAuth(runtime), rateLimit(runtime), threadResolver(runtime), balanceGuard(runtime)],
  });
}

import type { H3 } from "h3";
import { apiKeyAuth } from "../../chain/auth";
import { speaks } from "../../chain/dialect";
import { anthropicPassThrough } from "../../chain/dispatch/pass-through";
import { rateLimit } from "../../chain/rate-limit";
import { settlement } from "../../chain/settle";
import { messagesDialect } from "../../dialects/messages";
import type { GatewayRuntime } from "../../runtime";
import { registerAnswerRoute } from "../answer-chain";
import { countTokensHandler } from "./count-tokens";
import { messagesParser, modelPermission } from "./parse";

/**
 * Anthropic's Messages API, for Claude Code and the Anthropic SDKs (their base URL is
 * `http://host{base}`): `POST {base}/v1/messages` on every model, through the same chain
 * as chat completions (an `anthropic/` model without a thread goes through as it came),
 * and `POST {base}/v1/messages/count_tokens`.
 */
export function registerMessages(app: H3, base: string, runtime: GatewayRuntime): void {
  const failFrames = (error: unknown) => messagesDialect.stream(NO_META).fail(error);
  registerAnswerRoute(app, `${base}/v1/messages`, runtime, messagesDialect, messagesParser(runtime), {
    afterAuth: [modelPermission(runtime)],
    beforeDispatch: [anthropicPassThrough(runtime, failFrames)],
  });
  app.post(`${base}/v1/messages/count_tokens`, countTokensHandler(runtime), {
    middleware: [speaks(messagesDialect), settlement(runtime.logger), messagesParser(runtime, { countTokens: true }), apiKeyAuth(runtime), modelPermission(runtime), rateLimit(runtime)],
  });
}

/** An encoder's `fail` reads nothing of its answer's meta. */
const NO_META = { id: "", created: 0, model: "", threadId: null, request: { model: "", messages: [] }, promptTokens: 0 };

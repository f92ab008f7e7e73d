import type { H3 } from "h3";
import { requestParser } from "../chain/parse";
import { chatDialect } from "../dialects/chat";
import type { GatewayRuntime } from "../runtime";
import { registerAnswerRoute } from "./answer-chain";

/** `POST {base}/v1/chat/completions`: the chain in OpenAI's chat-completions dialect. */
export function registerChatCompletions(app: H3, base: string, runtime: GatewayRuntime): void {
  registerAnswerRoute(app, `${base}/v1/chat/completions`, runtime, chatDialect, requestParser(runtime));
}

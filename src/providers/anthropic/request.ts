import type {
  AnthropicContentBlockParam as ContentBlockParam,
  AnthropicImageBlockParam as ImageBlockParam,
  AnthropicMessageParam as MessageParam,
  AnthropicParams,
  AnthropicTextBlockParam as TextBlockParam,
  AnthropicTool as Tool,
  AnthropicToolChoice as ToolChoice,
  AnthropicToolResultBlockParam as ToolResultBlockParam,
} from "./wire-types";
import type { ChatMessage } from "../../schema";
import { contentText } from "../../tokens";
import { assistantParts, userParts, type UserContent } from "../_content";
import type { ProviderRequest } from "../_define";
import { portableCallId, rejectUnhandled, stopList, unsupportedParameter } from "../_mapping";

const PROVIDER_NAME = "anthropic";

/**
 * Anthropic requires `max_tokens`; a request without one (the gateway always sends its
 * output cap, so only a direct caller) gets this many.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4_096;

/** Request fields the mapping below translates (the rest must be absent or at OpenAI's default). */
const HANDLED = new Set(["max_tokens", "stop", "tools", "tool_choice", "parallel_tool_calls", "response_format", "temperature", "top_p"]);

/** Pure: an OpenAI-format request → Anthropic Messages parameters (without `stream`). */
export function toAnthropicParams(request: ProviderRequest, options: { defaultMaxTokens?: number } = {}): AnthropicParams {
  // Anthropic samples with temperature 0..1 (OpenAI allows up to 2): above 1 it cannot honour.
  if (request.temperature != null && request.temperature > 1) {
    throw unsupportedParameter(PROVIDER_NAME, "temperature", "Anthropic takes a temperature from 0 to 1.");
  }
  rejectUnhandled(PROVIDER_NAME, request, HANDLED);

  const { system, messages } = toAnthropicMessages(request.messages);
  const params: AnthropicParams = {
    model: request.model,
    max_tokens: request.max_tokens ?? options.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system) params.system = system;
  // @anthropic-ai/sdk 1.x no longer types the sampling fields (WIRE.md §3.1); they are sent as
  // given and the API decides: a model that refuses them answers 400, passed on with its message.
  const sampling = params;
  if (request.temperature != null) sampling.temperature = request.temperature;
  if (request.top_p != null) sampling.top_p = request.top_p;
  const stop = stopList(request.stop);
  if (stop?.length) params.stop_sequences = stop;
  if (request.tools?.length) params.tools = request.tools.map(toAnthropicTool);
  const toolChoice = toAnthropicToolChoice(request);
  if (toolChoice) params.tool_choice = toolChoice;
  const format = request.response_format;
  if (format?.type === "json_object") {
    throw unsupportedParameter(PROVIDER_NAME, "response_format", "Anthropic needs a schema; send `{ type: \"json_schema\", json_schema: { schema } }`.");
  }
  if (format?.type === "json_schema") {
    if (!format.json_schema.schema) throw unsupportedParameter(PROVIDER_NAME, "response_format", "`json_schema.schema` is required.");
    params.output_config = { format: { type: "json_schema", schema: format.json_schema.schema } };
  }
  if (request.user) params.metadata = { user_id: request.user };
  return params;
}

/** Pure: the body sent. */
export function toAnthropicBody(request: ProviderRequest, stream: boolean, defaultMaxTokens?: number): object {
  const params = toAnthropicParams(request, { defaultMaxTokens });
  return stream ? { ...params, stream: true } : params;
}

/**
 * Pure: OpenAI messages → Anthropic's top-level `system` and `messages`. Leading
 * system/developer messages (the agent's instructions first) become `system`; later ones
 * stay in place as `system` turns. Consecutive `tool` results share one user turn. Call
 * ids go out portable (another vendor's, a Gemini signature, would be refused).
 */
export function toAnthropicMessages(input: readonly ChatMessage[]): { system?: string; messages: MessageParam[] } {
  const system: string[] = [];
  const messages: MessageParam[] = [];
  input.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer": {
        const text = contentText(message.content);
        if (messages.length === 0) system.push(text);
        else messages.push({ role: "system", content: text });
        return;
      }
      case "user": {
        const content = typeof message.content === "string" ? message.content : userParts(PROVIDER_NAME, message.content, index).map(toAnthropicPart);
        // After tool results (and the images they carried), one user turn: results first, as Anthropic has them.
        const results = toolResultsTurn(messages);
        if (results) results.push(...(typeof content === "string" ? [{ type: "text" as const, text: content }] : content));
        else messages.push({ role: "user", content });
        return;
      }
      case "assistant": {
        const { text, calls } = assistantParts(message, index);
        const blocks: ContentBlockParam[] = [];
        if (text) blocks.push({ type: "text", text });
        for (const call of calls) blocks.push({ type: "tool_use", id: portableCallId(call.id), name: call.name, input: call.args });
        if (blocks.length) messages.push({ role: "assistant", content: blocks });
        return;
      }
      case "tool": {
        const result: ToolResultBlockParam = { type: "tool_result", tool_use_id: portableCallId(message.tool_call_id), content: contentText(message.content) };
        const results = toolResultsTurn(messages);
        if (results) results.push(result);
        else messages.push({ role: "user", content: [result] });
        return;
      }
    }
  });
  return { system: system.length ? system.join("\n\n") : undefined, messages };
}

// --- internal ---

/** The blocks of the last turn when it is a user turn of tool results only. */
function toolResultsTurn(messages: MessageParam[]): ContentBlockParam[] | undefined {
  const last = messages[messages.length - 1];
  const blocks = last?.role === "user" && Array.isArray(last.content) ? last.content : undefined;
  return blocks?.length && blocks.every((block) => block.type === "tool_result") ? blocks : undefined;
}

const IMAGE_TYPES = new Set(["image/jpeg", "image/png", "image/gif", "image/webp"]);

function toAnthropicPart(part: UserContent): TextBlockParam | ImageBlockParam {
  if (part.type === "text") return { type: "text", text: part.text };
  if (part.inline) {
    if (!IMAGE_TYPES.has(part.inline.mimeType)) throw unsupportedParameter(PROVIDER_NAME, part.param, `images must be JPEG, PNG, GIF or WebP (got ${part.inline.mimeType}).`);
    return { type: "image", source: { type: "base64", media_type: part.inline.mimeType as "image/png", data: part.inline.data } };
  }
  if (/^https?:\/\//i.test(part.url)) return { type: "image", source: { type: "url", url: part.url } };
  throw unsupportedParameter(PROVIDER_NAME, part.param, "images must be data: or http(s) URLs.");
}

function toAnthropicTool(tool: NonNullable<ProviderRequest["tools"]>[number]): Tool {
  const fn = tool.function;
  return {
    name: fn.name,
    ...(fn.description && { description: fn.description }),
    input_schema: { ...(fn.parameters ?? { properties: {} }), type: "object" },
    ...(typeof fn.strict === "boolean" && { strict: fn.strict }),
  };
}

function toAnthropicToolChoice(request: ProviderRequest): ToolChoice | undefined {
  const choice = request.tool_choice;
  const disable = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...disable };
  if (choice && typeof choice === "object") return { type: "tool", name: choice.function.name, ...disable };
  if (choice === "auto" || (request.tools?.length && request.parallel_tool_calls === false)) return { type: "auto", ...disable };
  return undefined;
}

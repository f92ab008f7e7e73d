import type { OpenAIChatParams, OpenAIContentPart, OpenAIMessageParam } from "./wire-types";
import type { ChatMessage } from "../../schema";
import type { ProviderRequest } from "../_define";
import { portableCallId } from "../_mapping";

/**
 * Pure: the gateway's request → OpenAI's body (without `stream`). Fields the gateway
 * does not model (`seed`, `logit_bias`, `reasoning_effort`...) pass through unchanged:
 * OpenAI honours or rejects them itself. The one token limit goes out as
 * `max_completion_tokens`, which every current model takes.
 */
export function toOpenAIParams(request: ProviderRequest): OpenAIChatParams {
  const { model, messages, max_tokens, stream: _stream, stream_options: _options, tools, tool_choice, response_format, parallel_tool_calls, ...rest } = request;
  return {
    ...rest,
    ...(typeof parallel_tool_calls === "boolean" && { parallel_tool_calls }),
    model,
    messages: messages.map(toOpenAIMessage),
    ...(max_tokens !== undefined && { max_completion_tokens: max_tokens }),
    ...(tools && { tools: tools.map((tool) => ({ type: "function" as const, function: tool.function })) }),
    ...(tool_choice !== undefined && { tool_choice: typeof tool_choice === "string" ? tool_choice : { type: "function" as const, function: { name: tool_choice.function.name } } }),
    ...(response_format && { response_format }),
  };
}

/** Pure: the body sent; a stream always asks for the final usage, which the gateway bills whether or not the client asked. */
export function toOpenAIBody(request: ProviderRequest, stream: boolean): object {
  const params = toOpenAIParams(request);
  return stream ? { ...params, stream: true, stream_options: { include_usage: true } } : params;
}

/**
 * Pure: a stored OpenAI-shaped message → OpenAI's message. Call ids go out portable:
 * a thread begun on Gemini carries its thought signatures in them, past OpenAI's 40 characters.
 */
export function toOpenAIMessage(message: ChatMessage): OpenAIMessageParam {
  switch (message.role) {
    case "system":
    case "developer":
      return { role: message.role, content: textContent(message.content) };
    case "user":
      // OpenAI validates its own content parts; ours are the same objects.
      return { role: "user", content: typeof message.content === "string" ? message.content : (message.content as OpenAIContentPart[]) };
    case "assistant":
      return {
        role: "assistant",
        content: message.content === undefined || message.content === null ? null : textContent(message.content),
        ...(message.tool_calls?.length && {
          tool_calls: message.tool_calls.map((call) => ({ id: portableCallId(call.id), type: "function" as const, function: { name: call.function.name, arguments: call.function.arguments } })),
        }),
      };
    case "tool":
      return { role: "tool", tool_call_id: portableCallId(message.tool_call_id), content: textContent(message.content) };
  }
}

// --- internal ---

function textContent(content: ChatMessage["content"]): string | Array<{ type: "text"; text: string }> {
  if (typeof content === "string") return content;
  const parts: Array<{ type: "text"; text: string }> = [];
  for (const part of content ?? []) if (part.type === "text" && "text" in part && typeof part.text === "string") parts.push({ type: "text", text: part.text });
  return parts;
}

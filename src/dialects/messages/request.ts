import { createAPIError } from "../../errors";
import type { ChatMessage, ChatRequest, ChatTool } from "../../schema";
import { toolImageParts, toolResultText, type ToolImages, type UserPart } from "../tool-images";
import type { MessagesBlock, MessagesRequest, MessagesTool } from "./schema";


/**
 * Pure: an Anthropic Messages request → the gateway's normalized chat request, for vendors
 * other than Anthropic. What has a counterpart is translated (system blocks, mid-conversation
 * system turns, tool results, tool choice, thinking as a reasoning effort); what has none
 * (`cache_control`, `context_management`, `top_k`, thinking blocks of earlier turns) is
 * dropped without an error. Server tools have no counterpart and are a 400 naming them.
 */
export function toChatRequest(body: MessagesRequest, modelName: string, options: { lenient?: boolean } = {}): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(body.system);
  if (system) messages.push({ role: "system", content: system });
  body.messages.forEach((message, index) => {
    if (message.role === "system") messages.push({ role: "system", content: blocksText(message.content) });
    else if (message.role === "assistant") messages.push(assistantMessage(message.content));
    else messages.push(...userMessages(message.content, index, options.lenient === true));
  });

  const request: ChatRequest & Record<string, unknown> = { model: body.model, messages, max_tokens: body.max_tokens, stream: body.stream === true };
  if (body.stop_sequences?.length) request.stop = body.stop_sequences;
  if (body.temperature !== undefined) request.temperature = body.temperature;
  if (body.top_p !== undefined) request.top_p = body.top_p;
  // Lenient: the request only sizes the estimates of a pass-through, where Anthropic runs its server tools.
  const tools = options.lenient ? body.tools?.filter((tool) => !isServerTool(tool)) : body.tools;
  if (tools?.length) request.tools = tools.map(toChatTool);
  Object.assign(request, toolChoice(body));
  const effort = reasoningEffort(body, modelName);
  if (effort) request.reasoning_effort = effort;
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  return request;
}

/** True for a tool Anthropic runs itself (web search, code execution, bash, text editor, computer use). */
export function isServerTool(tool: MessagesTool): boolean {
  return tool.type !== undefined && tool.type !== "custom";
}

/** `system` as one text: a string, or its text blocks joined. */
export function systemText(system: MessagesRequest["system"]): string {
  if (system === undefined) return "";
  return typeof system === "string" ? system : blocksText(system);
}

// --- internal ---

function blocksText(content: string | MessagesBlock[]): string {
  if (typeof content === "string") return content;
  // Text blocks only: an image beside the text adds no empty paragraph.
  return content.flatMap((block) => (block.type === "text" && typeof block.text === "string" ? [block.text] : [])).join("\n\n");
}

function assistantMessage(content: string | MessagesBlock[]): ChatMessage {
  if (typeof content === "string") return { role: "assistant", content };
  let text = "";
  const toolCalls = [];
  for (const block of content) {
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "tool_use") toolCalls.push({ id: String(block.id), type: "function" as const, function: { name: String(block.name), arguments: JSON.stringify(block.input ?? {}) } });
    // thinking and redacted_thinking blocks are Anthropic's own: another vendor cannot read them.
  }
  return { role: "assistant", content: text || null, ...(toolCalls.length && { tool_calls: toolCalls }) };
}

/**
 * A user turn: its tool results first (each a `tool` message), then what the user said,
 * led by the images the tool results carried (see `toolImageParts`).
 */
function userMessages(content: string | MessagesBlock[], index: number, lenient: boolean): ChatMessage[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const out: ChatMessage[] = [];
  const parts: UserPart[] = [];
  const toolImages: ToolImages[] = [];
  content.forEach((block, j) => {
    const param = `messages[${index}].content[${j}]`;
    if (block.type === "tool_result") {
      const images = resultImages(block, param, lenient);
      // Chat tools have no error flag: the model still has to know the call failed.
      const text = toolResultText(resultText(block), images.length);
      out.push({ role: "tool", tool_call_id: String(block.tool_use_id), content: block.is_error === true ? `Error: ${text}` : text });
      toolImages.push({ callId: String(block.tool_use_id), images });
    } else {
      const part = userPart(block, param, lenient);
      if (part) parts.push(part);
    }
  });
  parts.unshift(...toolImageParts(toolImages));
  if (parts.length) out.push({ role: "user", content: parts });
  return out;
}

function resultText(block: MessagesBlock): string {
  const content = block.content;
  return typeof content === "string" ? content : Array.isArray(content) ? blocksText(content as MessagesBlock[]) : "";
}

/** The image (and document) blocks of a tool result, as user parts. */
function resultImages(block: MessagesBlock, param: string, lenient: boolean): UserPart[] {
  if (!Array.isArray(block.content)) return [];
  return (block.content as MessagesBlock[]).flatMap((inner, k) => {
    if (inner.type !== "image" && inner.type !== "document") return [];
    const part = userPart(inner, `${param}.content[${k}]`, lenient);
    return part && part.type !== "text" ? [part] : [];
  });
}

function userPart(block: MessagesBlock, param: string, lenient: boolean): UserPart | undefined {
  if (block.type === "text") return { type: "text", text: String(block.text ?? "") };
  if (block.type === "image" || block.type === "document") {
    const source = (block.source ?? {}) as { type?: string; media_type?: string; data?: string; url?: string };
    if (source.type === "base64") return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
    if (source.type === "url") return { type: "image_url", image_url: { url: String(source.url) } };
    if (source.type === "text") return { type: "text", text: String(source.data ?? "") };
    if (lenient) return undefined;
    throw createAPIError({ code: "invalid_request", param, message: `${param}: a ${block.type} source of type \`${source.type}\` is only supported on anthropic/ models.` });
  }
  // thinking, redacted_thinking, and other blocks another vendor has no use for.
  return undefined;
}

function toChatTool(tool: MessagesTool, index: number): ChatTool {
  if (isServerTool(tool)) {
    throw createAPIError({ code: "invalid_request", param: `tools[${index}]`, message: `tools[${index}]: the server tool \`${tool.name}\` (${tool.type}) is only available on anthropic/ models.` });
  }
  return { type: "function", function: { name: tool.name, ...(tool.description && { description: tool.description }), parameters: tool.input_schema ?? { type: "object", properties: {} } } };
}

function toolChoice(body: MessagesRequest): Partial<ChatRequest> {
  const choice = body.tool_choice;
  if (!choice) return {};
  const parallel = choice.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (choice.type) {
    case "none":
      return { tool_choice: "none" };
    case "any":
      return { tool_choice: "required", ...parallel };
    case "tool":
      return { tool_choice: { type: "function", function: { name: String(choice.name) } }, ...parallel };
    default:
      return { tool_choice: "auto", ...parallel };
  }
}

/** Models that take a reasoning setting: OpenAI's o-series and gpt-5, Gemini 2.5 and later. */
const REASONING_MODELS = /^(openai\/(o\d|gpt-5)|gemini\/gemini-(2\.5|[3-9]))/;

/**
 * Anthropic's thinking (a budget, or `adaptive` with `output_config.effort`) as the
 * gateway's `reasoning_effort` (OpenAI's; a Gemini thinking budget), for the models that
 * take one; other models reason as they do by default.
 */
function reasoningEffort(body: MessagesRequest, modelName: string): string | undefined {
  if (!REASONING_MODELS.test(modelName)) return undefined;
  const thinking = body.thinking;
  if (!thinking || thinking.type === "disabled") return undefined;
  const effort = body.output_config?.effort;
  if (effort === "low" || effort === "medium" || effort === "high") return effort;
  const budget = thinking.budget_tokens;
  if (budget === undefined) return undefined;
  return budget < 4_096 ? "low" : budget < 16_384 ? "medium" : "high";
}

import type { GeminiConfig as GenerateContentConfig, GeminiContent as Content, GeminiPart as Part, GeminiToolConfig as ToolConfig } from "./wire-types";
import { createAPIError } from "../../errors";
import type { ChatMessage } from "../../schema";
import { contentText } from "../../tokens";
import { assistantParts, userParts, type UserContent } from "../_content";
import type { ProviderRequest } from "../_define";
import { GEMINI_SIGNATURE_SEPARATOR, rejectUnhandled, stopList, toolNamesById, unsupportedParameter } from "../_mapping";

const PROVIDER_NAME = "gemini";

// Gemini 3 rejects replayed function calls without their thought signature: it travels in
// the tool call id (see GEMINI_SIGNATURE_SEPARATOR), and a call that never had one
// (another vendor's history) gets Google's documented placeholder.
const PLACEHOLDER_SIGNATURE = "skip_thought_signature_validator";

/** Request fields the mapping below translates (the rest must be absent or at OpenAI's default). */
const HANDLED = new Set(["max_tokens", "temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty", "tools", "tool_choice", "parallel_tool_calls", "response_format", "reasoning_effort"]);

/** OpenAI's `reasoning_effort` → Gemini's thinking budget, as Google's OpenAI-compatible endpoint maps it. */
const THINKING_BUDGETS: Record<string, number> = { none: 0, low: 1_024, medium: 8_192, high: 24_576 };

/** `generateContent` parameters as the mapping builds them: contents always a list, config always set. */
export interface GeminiRequest {
  model: string;
  contents: Content[];
  config: GenerateContentConfig;
}

/** Pure: an OpenAI-format request → @google/genai `generateContent` parameters. */
export function toGeminiRequest(request: ProviderRequest): GeminiRequest {
  rejectUnhandled(PROVIDER_NAME, request, HANDLED);
  const extra = request as ProviderRequest & { seed?: number | null; presence_penalty?: number | null; frequency_penalty?: number | null };
  const { systemInstruction, contents } = toGeminiContents(request.messages, request.model);
  const config: GenerateContentConfig = {};
  if (systemInstruction) config.systemInstruction = systemInstruction;
  if (request.max_tokens !== undefined) config.maxOutputTokens = request.max_tokens;
  if (typeof request.temperature === "number") config.temperature = request.temperature;
  if (typeof request.top_p === "number") config.topP = request.top_p;
  if (typeof extra.seed === "number") config.seed = extra.seed;
  if (typeof extra.presence_penalty === "number") config.presencePenalty = extra.presence_penalty;
  if (typeof extra.frequency_penalty === "number") config.frequencyPenalty = extra.frequency_penalty;
  const stop = stopList(request.stop);
  if (stop?.length) config.stopSequences = stop;
  const effort = (request as { reasoning_effort?: unknown }).reasoning_effort;
  if (typeof effort === "string") {
    const thinkingBudget = THINKING_BUDGETS[effort];
    if (thinkingBudget === undefined) throw unsupportedParameter(PROVIDER_NAME, "reasoning_effort", "Gemini takes `none`, `low`, `medium` or `high`.");
    config.thinkingConfig = { thinkingBudget };
  }
  if (request.tools?.length) {
    // parametersJsonSchema takes JSON Schema as is (`parameters` is Google's OpenAPI subset).
    config.tools = [
      { functionDeclarations: request.tools.map(({ function: fn }) => ({ name: fn.name, ...(fn.description && { description: fn.description }), ...(fn.parameters && { parametersJsonSchema: fn.parameters }) })) },
    ];
  }
  const toolConfig = toGeminiToolConfig(request.tool_choice);
  if (toolConfig) config.toolConfig = toolConfig;
  const format = request.response_format;
  if (format?.type === "json_object") config.responseMimeType = "application/json";
  if (format?.type === "json_schema") {
    config.responseMimeType = "application/json";
    if (format.json_schema.schema) config.responseJsonSchema = format.json_schema.schema;
  }
  return { model: request.model, contents, config };
}

/**
 * Pure: OpenAI messages → Gemini's `systemInstruction` and `contents`. Gemini has one
 * system instruction, so every system/developer message (the agent's instructions first)
 * joins it, in order. Assistant turns become `model` turns; `tool` results become
 * `functionResponse` parts, named from the assistant call they answer.
 */
export function toGeminiContents(messages: readonly ChatMessage[], model = ""): { systemInstruction?: string; contents: Content[] } {
  const system: string[] = [];
  const contents: Content[] = [];
  const names = toolNamesById(messages);
  const needsSignature = Number(/^gemini-(\d+)/.exec(model)?.[1] ?? 0) >= 3;
  messages.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(contentText(message.content));
        return;
      case "user":
        contents.push({ role: "user", parts: typeof message.content === "string" ? [{ text: message.content }] : userParts(PROVIDER_NAME, message.content, index).map(toGeminiPart) });
        return;
      case "assistant": {
        const parts: Part[] = [];
        const { text, calls } = assistantParts(message, index);
        if (text) parts.push({ text });
        calls.forEach((call, k) => {
          const signature = call.id.split(GEMINI_SIGNATURE_SEPARATOR)[1] || (needsSignature && k === 0 ? PLACEHOLDER_SIGNATURE : undefined);
          parts.push({ functionCall: { name: call.name, args: call.args }, ...(signature && { thoughtSignature: signature }) });
        });
        if (parts.length) contents.push({ role: "model", parts });
        return;
      }
      case "tool": {
        const name = names.get(message.tool_call_id);
        if (!name) {
          throw createAPIError({ code: "invalid_request", param: `messages[${index}].tool_call_id`, message: `No earlier assistant tool call has the id '${message.tool_call_id}'.` });
        }
        const part: Part = { functionResponse: { name, response: toFunctionResponse(contentText(message.content)) } };
        const last = contents[contents.length - 1];
        if (last?.role === "user" && last.parts?.every((p) => p.functionResponse)) last.parts.push(part);
        else contents.push({ role: "user", parts: [part] });
        return;
      }
    }
  });
  return { systemInstruction: system.length ? system.join("\n\n") : undefined, contents };
}



/**
 * Pure: `generateContent` parameters → the JSON body @google/genai sends for them: the
 * system instruction, tools and tool config at the top, the rest as `generationConfig`.
 */
export function toGeminiBody(params: GeminiRequest): object {
  const { systemInstruction, tools, toolConfig, ...generation } = params.config;
  const body: Record<string, unknown> = { contents: params.contents };
  if (systemInstruction !== undefined) body.systemInstruction = typeof systemInstruction === "string" ? { parts: [{ text: systemInstruction }], role: "user" } : systemInstruction;
  if (tools) body.tools = tools;
  if (toolConfig) body.toolConfig = toolConfig;
  if (Object.keys(generation).length) body.generationConfig = generation;
  return body;
}

// --- internal ---

type UserPart = UserContent;

const IMAGE_EXTENSIONS: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp", gif: "image/gif", heic: "image/heic", heif: "image/heif" };

function toGeminiPart(part: UserPart): Part {
  if (part.type === "text") return { text: part.text };
  if (part.inline) return { inlineData: { mimeType: part.inline.mimeType, data: part.inline.data } };
  const mimeType = IMAGE_EXTENSIONS[/\.([a-z0-9]+)(?:[?#].*)?$/i.exec(part.url)?.[1]?.toLowerCase() ?? ""];
  if (/^https?:\/\//i.test(part.url) && mimeType) return { fileData: { fileUri: part.url, mimeType } };
  throw unsupportedParameter(PROVIDER_NAME, part.param, "images must be data: URLs, or http(s) URLs ending in a known image extension.");
}

/** A tool's text result as the object `functionResponse.response` must be. */
function toFunctionResponse(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    return { output: value };
  } catch {
    return { output: text };
  }
}

function toGeminiToolConfig(choice: ProviderRequest["tool_choice"]): ToolConfig | undefined {
  if (choice === undefined) return undefined;
  const mode = (value: "AUTO" | "ANY" | "NONE") => value;
  if (choice === "auto") return { functionCallingConfig: { mode: mode("AUTO") } };
  if (choice === "none") return { functionCallingConfig: { mode: mode("NONE") } };
  if (choice === "required") return { functionCallingConfig: { mode: mode("ANY") } };
  return { functionCallingConfig: { mode: mode("ANY"), allowedFunctionNames: [choice.function.name] } };
}

import { createAPIError } from "../../errors";
import type { ChatMessage, ToolCall } from "../../schema";
import { toolImageParts, toolResultText, type ToolImages } from "../tool-images";
import type { ContentPart, InputItem } from "./request";

/**
 * Items as a response keeps them (OpenAI's `ItemResource` shapes, each with its id and
 * `status: "completed"`): what `input_items` lists, what `output` holds and what an
 * `item_reference` resolves to.
 */
export type StoredItem =
  | { id: string; type: "message"; role: "user" | "system" | "developer"; status: "completed"; content: InputPart[] }
  | { id: string; type: "message"; role: "assistant"; status: "completed" | "incomplete"; content: OutputPart[] }
  | { id: string; type: "function_call"; status: "completed"; call_id: string; name: string; arguments: string }
  | { id: string; type: "function_call_output"; status: "completed"; call_id: string; output: string | InputPart[] };

export type InputPart = { type: "input_text"; text: string } | { type: "input_image"; image_url: string; detail: "auto" | "low" | "high" };
export type OutputPart = { type: "output_text"; text: string; annotations: []; logprobs: [] } | { type: "refusal"; refusal: string };

/** An input item that is not yet an item: a reference to a stored one, or reasoning (dropped for chat upstreams). */
export type Pending = { reference: string; param: string } | null;

/**
 * One input item as a stored item, with the id the gateway gives it (a client's own ids
 * are not kept: they need not be unique). References and reasoning items come back as
 * `Pending` for the caller to resolve or drop. `param` names the item in errors.
 */
export function toStoredItem(item: InputItem, id: string, param: string): StoredItem | Pending {
  switch (item.type) {
    case "item_reference":
      return { reference: item.id, param: `${param}.id` };
    case "reasoning":
      return null;
    case "function_call":
      return { id, type: "function_call", status: "completed", call_id: item.call_id, name: item.name, arguments: item.arguments };
    case "function_call_output":
      return { id, type: "function_call_output", status: "completed", call_id: item.call_id, output: typeof item.output === "string" ? item.output : inputParts(item.output, `${param}.output`) };
    case "message":
      if (item.role === "assistant") return { id, type: "message", role: "assistant", status: "completed", content: outputParts(item.content, `${param}.content`) };
      return { id, type: "message", role: item.role, status: "completed", content: typeof item.content === "string" ? [{ type: "input_text", text: item.content }] : inputParts(item.content, `${param}.content`) };
  }
}

/**
 * Stored items → chat messages: a function call joins the assistant message before it
 * (the same turn), and consecutive calls (parallel ones) join one assistant message,
 * as every chat upstream expects them; reasoning is not sent. Images in function call
 * outputs follow the run of outputs in a user message (see `toolImageParts`).
 */
export function toChatMessages(items: readonly StoredItem[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let toolImages: ToolImages[] = [];
  const flushToolImages = () => {
    const parts = toolImageParts(toolImages);
    if (parts.length) out.push({ role: "user", content: parts });
    toolImages = [];
  };
  for (const item of items) {
    if (item.type !== "function_call_output") flushToolImages();
    const last = out[out.length - 1];
    switch (item.type) {
      case "function_call": {
        const call: ToolCall = { id: item.call_id, type: "function", function: { name: item.name, arguments: item.arguments } };
        if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
        else out.push({ role: "assistant", content: null, tool_calls: [call] });
        break;
      }
      case "function_call_output": {
        if (typeof item.output === "string") {
          out.push({ role: "tool", tool_call_id: item.call_id, content: item.output });
          break;
        }
        const text = item.output.map((part) => (part.type === "input_text" ? part.text : "")).join("");
        const images = item.output.filter((part) => part.type === "input_image").map((part) => imageUrlPart(part));
        out.push({ role: "tool", tool_call_id: item.call_id, content: toolResultText(text, images.length) });
        toolImages.push({ callId: item.call_id, images });
        break;
      }
      case "message":
        if (item.role === "assistant") {
          const text = item.content.map((part) => (part.type === "output_text" ? part.text : "")).join("");
          const refusal = item.content.map((part) => (part.type === "refusal" ? part.refusal : "")).join("");
          out.push({ role: "assistant", content: text || null, ...(refusal && { refusal }) });
        } else {
          const role = item.role === "user" ? "user" : "system";
          const onlyText = item.content.every((part) => part.type === "input_text");
          const content = onlyText
            ? item.content.map((part) => (part as { text: string }).text).join("")
            : item.content.map((part) => (part.type === "input_text" ? { type: "text" as const, text: part.text } : imageUrlPart(part)));
          out.push(role === "user" ? { role, content } : { role, content: typeof content === "string" ? content : item.content.map((part) => ("text" in part ? part.text : "")).join("") });
        }
        break;
    }
  }
  flushToolImages();
  return out;
}

// --- internal ---

function imageUrlPart(part: Extract<InputPart, { type: "input_image" }>) {
  return { type: "image_url" as const, image_url: { url: part.image_url, detail: part.detail } };
}

function inputParts(parts: readonly ContentPart[], param: string): InputPart[] {
  return parts.map((part, index): InputPart => {
    switch (part.type) {
      case "input_text":
      case "output_text":
        return { type: "input_text", text: part.text };
      case "input_image":
        if (!part.image_url) throw unsupported(`${param}[${index}].file_id`, "Images by `file_id` need OpenAI's Files API, which agentgate does not serve; send `image_url` (a URL or a data URL).");
        return { type: "input_image", image_url: part.image_url, detail: part.detail ?? "auto" };
      case "input_file":
        throw unsupported(`${param}[${index}].type`, "`input_file` parts are not supported; send the file's text as `input_text`.");
      case "refusal":
        return { type: "input_text", text: part.refusal };
    }
  });
}

function outputParts(content: string | readonly ContentPart[], param: string): OutputPart[] {
  if (typeof content === "string") return [outputText(content)];
  return content.map((part, index): OutputPart => {
    if (part.type === "refusal") return { type: "refusal", refusal: part.refusal };
    if (part.type === "output_text" || part.type === "input_text") return outputText(part.text);
    throw createAPIError({ code: "invalid_request", param: `${param}[${index}].type`, message: `An assistant message holds \`output_text\` or \`refusal\` parts, not \`${part.type}\`.` });
  });
}

/** An `output_text` part as the spec requires it (both arrays present). */
export function outputText(text: string): OutputPart {
  return { type: "output_text", text, annotations: [], logprobs: [] };
}

function unsupported(param: string, message: string) {
  return createAPIError({ code: "unsupported_parameter", param, message });
}

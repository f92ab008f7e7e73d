import type { ChatMessage } from "../schema";
import { contentText } from "../tokens";
import { parseToolArguments, parseDataUrl, unsupportedParameter } from "./_mapping";

type UserPart = Exclude<Extract<ChatMessage, { role: "user" }>["content"], string>[number];

/** A user content part as vendors need it: text, or an image given inline (base64) or by URL. */
export type UserContent = { type: "text"; text: string } | { type: "image"; inline?: { mimeType: string; data: string }; url: string; param: string };

/** The parts of a user message (`index` in the request), text and images; any other part type is a 400. */
export function userParts(provider: string, content: readonly UserPart[], index: number): UserContent[] {
  return content.map((part, j) => {
    if (part.type === "text" && "text" in part && typeof part.text === "string") return { type: "text", text: part.text };
    if (part.type === "image_url" && "image_url" in part && part.image_url && typeof part.image_url === "object") {
      const url = String((part.image_url as { url: unknown }).url);
      return { type: "image", url, inline: parseDataUrl(url), param: `messages[${index}].content[${j}]` };
    }
    throw unsupportedParameter(provider, `messages[${index}].content[${j}]`, `content parts of type \`${part.type}\` are not supported.`);
  });
}

/** An assistant turn as vendors need it: its text, and its tool calls with arguments parsed. */
export function assistantParts(message: Extract<ChatMessage, { role: "assistant" }>, index: number): { text: string; calls: Array<{ id: string; name: string; args: Record<string, unknown> }> } {
  const calls = (message.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, args: parseToolArguments(call.function.arguments, index) }));
  return { text: contentText(message.content), calls };
}

import type { ChatMessage } from "./schema";

/**
 * A cheap, deterministic token estimate: ceil(characters / 4), the rule of thumb the
 * vendors publish (and the echo provider's count). Holds and rate windows use
 * `estimatePromptTokens`, which does not undercount other scripts, images or tools.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Tokens an image or other non-text part may cost: more than any catalog vendor charges
 * for one image at its default detail (OpenAI ~1,100 at high detail, Anthropic ~1,600
 * for a 1.15-megapixel image, Gemini 258), so the hold covers it.
 */
export const PART_TOKEN_ESTIMATE = 1_600;

/**
 * The prompt's tokens as the hold and the token windows count them, before the vendor's
 * real count: every message (text by UTF-8 bytes / 4, so scripts with fewer characters
 * per token are not undercounted; each image or other part at `PART_TOKEN_ESTIMATE`;
 * 4 tokens of overhead each), and the tool definitions, which vendors bill as prompt.
 */
export function estimatePromptTokens(messages: readonly ChatMessage[], tools?: readonly unknown[]): number {
  let total = 0;
  for (const message of messages) {
    total += 4 + estimateTextTokens(messageText(message));
    if (Array.isArray(message.content)) {
      for (const part of message.content) if (part.type !== "text") total += PART_TOKEN_ESTIMATE;
    }
  }
  if (tools?.length) total += estimateTextTokens(JSON.stringify(tools));
  return total;
}

/** ceil(UTF-8 bytes / 4): the same as `estimateTokens` for ASCII, more for other scripts. */
export function estimateTextTokens(text: string): number {
  return NON_ASCII.test(text) ? Math.ceil(utf8Length(text) / 4) : Math.ceil(text.length / 4);
}

const NON_ASCII = /[^\x00-\x7f]/;

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair (4 bytes) counts 2 + 2.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return bytes;
}

/** The text of a message: its content (string or text parts) and any tool-call arguments. */
export function messageText(message: ChatMessage): string {
  let text = contentText(message.content);
  if (message.role === "assistant" && message.tool_calls) {
    for (const call of message.tool_calls) text += call.function.name + call.function.arguments;
  }
  return text;
}

/** The text of OpenAI `content`: a string, or the `text` of its parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const part of content) {
    if (part && typeof part === "object" && typeof (part as { text?: unknown }).text === "string") text += (part as { text: string }).text;
  }
  return text;
}

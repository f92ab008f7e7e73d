import type { ChatMessage } from "./schema";

/**
 * A cheap, deterministic token estimate: ceil(characters / 4), the rule of thumb the
 * vendors publish. Used for reservations and rate windows before the vendor's real count.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated prompt tokens of a conversation, with a small overhead per message. */
export function estimateMessagesTokens(messages: readonly ChatMessage[]): number {
  let total = 0;
  for (const message of messages) total += 4 + estimateTokens(messageText(message));
  return total;
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

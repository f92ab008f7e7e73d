import type { ChatMessage } from "../schema";

/** A part of a user message, as chat upstreams take it. */
export type UserPart = Exclude<Extract<ChatMessage, { role: "user" }>["content"], string>[number];

/** The images one tool result carried, with the call it answers. */
export interface ToolImages {
  callId: string;
  images: UserPart[];
}

/**
 * A chat `tool` message carries text only, but a client's tool may return images (Codex's
 * `view_image`, Claude Code reading a picture). The text stays in the tool message; when
 * there is none, it says where the image went, so the model never reads an empty result.
 */
export function toolResultText(text: string, imageCount: number): string {
  if (text || imageCount === 0) return text;
  return imageCount === 1 ? "The result is an image, in the next message." : "The result is images, in the next message.";
}

/**
 * The images of a run of tool results, as the parts of one user message that follows the
 * run (every chat upstream takes images there, none in a tool result), each image led by
 * the call it came from. Empty when no result had an image.
 */
export function toolImageParts(results: readonly ToolImages[]): UserPart[] {
  return results.flatMap(({ callId, images }) => (images.length ? [{ type: "text" as const, text: `The result of tool call ${callId}:` }, ...images] : []));
}

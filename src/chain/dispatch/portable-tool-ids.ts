import { portableCallId } from "../../providers/_mapping";

const ANTHROPIC_ID = /^[\w-]+$/;

type Block = { type?: unknown; id?: unknown; tool_use_id?: unknown };

/**
 * A Messages body's tool ids as Anthropic takes them. An id another vendor's call was
 * given (a Gemini 3 call's carries its thought signature: `~`, `+`, `/`, `=`) is outside
 * Anthropic's pattern, so a conversation that moves on to an anthropic/ model would be
 * refused: such ids are rewritten as the providers write them (`portableCallId`), on the
 * `tool_use` and its `tool_result` alike. Messages without one come back as they are.
 */
export function withPortableToolIds(messages: unknown): unknown {
  if (!Array.isArray(messages) || !messages.some((message) => blocksOf(message)?.some(foreignId))) return messages;
  return messages.map((message) => {
    const blocks = blocksOf(message);
    if (!blocks?.some(foreignId)) return message;
    return { ...message, content: blocks.map((block) => (foreignId(block) ? portable(block) : block)) };
  });
}

// --- internal ---

function blocksOf(message: unknown): Block[] | undefined {
  const content = (message as { content?: unknown } | null)?.content;
  return Array.isArray(content) ? (content as Block[]) : undefined;
}

function foreignId(block: Block): boolean {
  if (block?.type === "tool_use") return typeof block.id === "string" && !ANTHROPIC_ID.test(block.id);
  if (block?.type === "tool_result") return typeof block.tool_use_id === "string" && !ANTHROPIC_ID.test(block.tool_use_id);
  return false;
}

function portable(block: Block): Block {
  return block.type === "tool_use" ? { ...block, id: portableCallId(block.id as string) } : { ...block, tool_use_id: portableCallId(block.tool_use_id as string) };
}

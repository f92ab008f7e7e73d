import { createAPIError } from "../errors";
import type { ChatMessage } from "../schema";
import { estimatePromptTokens } from "../tokens";

/**
 * What to do with a prompt larger than the model's context window: `disabled` refuses it
 * (400 `context_length_exceeded`, OpenAI's Responses default); `auto` drops the oldest
 * turns until it fits.
 */
export type Truncation = "auto" | "disabled";

export interface FitOptions {
  /** The model's context window in tokens; none: every prompt fits. */
  contextWindow?: number;
  /** Tokens kept free for the answer (the client's own output limit, when it set one). */
  outputTokens: number;
  truncation: Truncation;
  tools?: readonly unknown[];
  /** The request field an error names (`messages`, `input`). */
  param: string;
}

/**
 * The prompt, cut to fit the window. `auto` drops whole turns from the oldest end (a turn
 * is a user message and what answered it, tool calls and their results together, so no
 * tool result loses its call), never a system or developer message (the instructions)
 * and never the last turn; when even that does not fit, or with `disabled`, it is a 400
 * and nothing was changed. Returns the messages kept, how many were dropped and the kept
 * prompt's estimate (`estimatePromptTokens` of it, counted once here for the hold too).
 */
export function fitContextWindow(messages: ChatMessage[], options: FitOptions): { messages: ChatMessage[]; dropped: number; tokens: number } {
  const toolTokens = options.tools?.length ? estimatePromptTokens([], options.tools) : 0;
  const costs = messages.map((message) => estimatePromptTokens([message]));
  let total = toolTokens + costs.reduce((sum, cost) => sum + cost, 0);
  const window = options.contextWindow;
  const budget = window ? window - options.outputTokens : Infinity;
  if (!window || total <= budget) return { messages, dropped: 0, tokens: total };
  if (options.truncation === "disabled") throw tooLong(total, window, options);

  // Turn starts: each user message; the last one's turn is always kept.
  const turnStarts = messages.flatMap((message, index) => (message.role === "user" ? [index] : []));
  const drop = new Set<number>();
  for (let turn = 0; turn < turnStarts.length - 1 && total > budget; turn++) {
    // The first turn takes whatever came before it too (an assistant opening, say).
    const from = turn === 0 ? 0 : turnStarts[turn];
    for (let index = from; index < turnStarts[turn + 1]; index++) {
      if (isInstruction(messages[index])) continue;
      drop.add(index);
      total -= costs[index];
    }
  }
  if (total > budget) throw tooLong(total, window, options);
  return { messages: messages.filter((_, index) => !drop.has(index)), dropped: drop.size, tokens: total };
}

// --- internal ---

function isInstruction(message: ChatMessage): boolean {
  return message.role === "system" || message.role === "developer";
}

function tooLong(tokens: number, window: number, options: FitOptions) {
  const room = options.outputTokens ? ` with ${options.outputTokens} kept for the answer` : "";
  const hint = options.truncation === "auto" ? " Even its last turn alone is too long." : " Truncation `auto` would drop the oldest turns instead.";
  return createAPIError({
    code: "context_length_exceeded",
    param: options.param,
    message: `The prompt is about ${tokens} tokens: more than this model's context window of ${window} tokens${room}.${hint}`,
  });
}

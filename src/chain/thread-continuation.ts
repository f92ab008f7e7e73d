import type { ChatMessage } from "../schema";
import { contentText } from "../tokens";

/**
 * A client's new messages made to follow a thread's stored history, for two ways clients
 * talk past a thread:
 *
 * - **Tool results under the dialect's id.** A dialect may show a call under an id of its
 *   own (Messages: `toolu_` + the vendor's id, `shownId`), while the thread keeps the
 *   vendor's. A result naming the shown id of a stored call is renamed to the stored id, so
 *   the pair still matches upstream.
 * - **Turns sent again.** A client may resend the thread's last turns ahead of its new
 *   messages, under the ids it was shown or the stored ones (the AI SDK's tool loop repeats
 *   one `previous_response_id` and sends the step's prompt, call and result each time). When the new messages begin with the
 *   thread's tail and that tail holds a tool call the thread has (call ids are unique), the
 *   repeat is dropped: the model would otherwise see the call twice, and vendors refuse a
 *   call without its result right after it.
 *
 * Anything else is returned as sent (the same array when nothing changes).
 */
export function continueThread(history: readonly ChatMessage[], messages: ChatMessage[], shownId: (callId: string) => string = sameId): ChatMessage[] {
  if (history.length === 0) return messages;
  // The repeat first: its calls, gone, then no longer count as the client's own.
  const rest = dropRepeatedTail(history, messages, shownId);
  return shownId === sameId ? rest : matchShownToolIds(history, rest, shownId);
}

// --- internal ---

const sameId = (callId: string) => callId;

function matchShownToolIds(history: readonly ChatMessage[], messages: ChatMessage[], shownId: (callId: string) => string): ChatMessage[] {
  let stored: Map<string, string> | undefined;
  for (const message of history) {
    if (message.role !== "assistant") continue;
    for (const call of message.tool_calls ?? []) {
      const shown = shownId(call.id);
      if (shown !== call.id) (stored ??= new Map()).set(shown, call.id);
    }
  }
  if (!stored) return messages;
  // Calls the new messages make themselves pair with their own results, as sent.
  const own = new Set<string>();
  for (const message of messages) if (message.role === "assistant") for (const call of message.tool_calls ?? []) own.add(call.id);
  let out: ChatMessage[] | undefined;
  messages.forEach((message, i) => {
    if (message.role !== "tool" || own.has(message.tool_call_id)) return;
    const id = stored.get(message.tool_call_id);
    if (id === undefined) return;
    (out ??= [...messages])[i] = { ...message, tool_call_id: id };
  });
  return out ?? messages;
}

function dropRepeatedTail(history: readonly ChatMessage[], messages: ChatMessage[], shownId: (callId: string) => string): ChatMessage[] {
  // Where the first call the new messages repeat sits, in both (sent back under the id it was stored or shown under).
  const storedAt = new Map<string, number>();
  history.forEach((message, i) => {
    if (message.role !== "assistant") return;
    for (const call of message.tool_calls ?? []) storedAt.set(call.id, i).set(shownId(call.id), i);
  });
  if (storedAt.size === 0) return messages;
  let i = -1;
  let j = -1;
  for (let m = 0; m < messages.length && j === -1; m++) {
    const message = messages[m];
    if (message.role !== "assistant") continue;
    const at = message.tool_calls?.map((call) => storedAt.get(call.id)).find((index) => index !== undefined);
    if (at !== undefined) [i, j] = [at, m];
  }
  if (j === -1) return messages;
  // The repeat must start the new messages and run to the thread's end.
  const start = i - j;
  const length = history.length - start;
  if (start < 0 || length > messages.length) return messages;
  for (let k = 0; k < length; k++) if (!sameTurn(history[start + k], messages[k], shownId)) return messages;
  return messages.slice(length);
}

/** The same message as far as a model sees it: its role, its text, its calls or the call it answers. */
function sameTurn(stored: ChatMessage, sent: ChatMessage, shownId: (callId: string) => string): boolean {
  if (stored.role !== sent.role) return false;
  const sameCall = (storedId: string, sentId: string) => sentId === storedId || sentId === shownId(storedId);
  if (stored.role === "tool") return sameCall(stored.tool_call_id, (sent as typeof stored).tool_call_id) && contentText(stored.content) === contentText(sent.content);
  if (stored.role === "assistant") {
    const a = stored.tool_calls ?? [];
    const b = (sent as typeof stored).tool_calls ?? [];
    if (a.length !== b.length || a.some((call, k) => !sameCall(call.id, b[k].id))) return false;
    // A call-only turn may come back with its text left out or as null.
    return a.length > 0 || contentText(stored.content) === contentText(sent.content);
  }
  return contentText(stored.content) === contentText(sent.content);
}

import type { H3Event, Middleware } from "h3";
import { requireContext, useGatewayContext } from "../context";
import { createAPIError } from "../errors";
import { createId, nowISO } from "../ids";
import type { GatewayRuntime } from "../runtime";
import { setAnswerHeader } from "./answer-headers";
import { fitContextWindow } from "./context-window";
import { useHeartbeat } from "./heartbeat";
import { continueThread } from "./thread-continuation";
import { saveTurn } from "./thread-save";
import type { AssistantMessage, ChatMessage } from "../schema";
import type { AgentRecord, ThreadRecord } from "../stores/records";
import { threadLeaseName } from "../stores/thread-records";

/**
 * Resolves `thread_id` (or opens a new thread; none for a stateless request) and leases it for this request: a second
 * request on the same thread gets 409 `thread_busy` until the first settles. (A new thread
 * answered in one piece is leased only if its save fails: nothing can name it before.) Another
 * agent's thread is 404, exactly like one that does not exist. The prompt becomes the
 * agent's instructions, then the stored history, then the new messages. At settle time
 * the new messages and the reply are saved; a failed request writes nothing.
 */
export function threadResolver(runtime: GatewayRuntime): Middleware {
  return async function threadResolver(event) {
    await requireThread(event, runtime);
  };
}

/** The guard behind `threadResolver`. */
export async function requireThread(event: H3Event, runtime: GatewayRuntime): Promise<void> {
  const ctx = useGatewayContext(event);
  const { agent } = requireContext(event, "auth", "apiKeyAuth");
  const request = requireContext(event, "request", "requestParser");
  const model = requireContext(event, "model", "requestParser");
  // The agent's instructions, then the request's own (never saved), then the conversation, cut to the model's window.
  const prompt = (history: ChatMessage[], messages: ChatMessage[]) =>
    fitContextWindow([...instructionMessages(agent, ctx.instructions), ...history, ...messages], {
      contextWindow: model.info.contextWindow,
      // Room for the client's own limit, as sent: bounded by the model's maximum (see outputCap).
      outputTokens: Math.min(request.max_completion_tokens ?? request.max_tokens ?? 0, model.info.maxOutputTokens ?? Infinity),
      truncation: ctx.truncation ?? agent.truncation ?? runtime.threads.truncation,
      tools: request.tools,
      param: ctx.dialect?.inputParam ?? "messages",
    });
  if (ctx.stateless && !request.thread_id) {
    // Nothing to continue and nothing to keep: no lease, no read, no write.
    const { messages, tokens } = prompt([], request.messages);
    ctx.thread = { id: null, record: null, messages, promptTokens: tokens, newMessages: request.messages, leaseToken: "" };
    return;
  }
  const leaseToken = createId("lease_", 16);
  const threadId = request.thread_id ?? createId("thread_", 24);
  const leaseName = threadLeaseName(agent.id, threadId);
  // A new thread answered in one piece is leased only if its save fails: its id reaches the
  // client with the answer, after the turn is saved, so no request can name it while it runs.
  // A stream names it with its first byte, and a follow-up then must get 409, not 404.
  const leaseHeld = request.thread_id !== undefined || request.stream === true;

  // Both in parallel: one round-trip time. If the read fails, a lease we got is given back.
  const [leaseResult, storedResult] = await Promise.allSettled([
    leaseHeld ? runtime.atomics.acquireLease(leaseName, leaseToken, runtime.holdTtlMs) : true,
    request.thread_id ? loadThread(runtime, agent, threadId) : null,
  ]);
  // A failed take may still have taken the lease (the reply was lost): give it back too.
  const giveBack = () => void runtime.retries.attempt("release a thread lease", () => runtime.atomics.releaseLease(leaseName, leaseToken));
  if (leaseResult.status === "rejected") {
    giveBack();
    throw leaseResult.reason;
  }
  const leased = leaseResult.value;
  if (storedResult.status === "rejected") {
    if (leased && leaseHeld) giveBack();
    throw storedResult.reason;
  }
  const stored = storedResult.value;
  if (request.thread_id && !stored) {
    // Held by another request but not saved yet: the agent's own new thread, still answering its first request.
    if (!leased) throw threadBusy(event, threadId);
    // Awaited, so a follow-up finds the lease free; a failed release is retried in the
    // background and the answer is still 404 (the thread does not exist either way).
    await runtime.retries.attempt("release a thread lease", () => runtime.atomics.releaseLease(leaseName, leaseToken));
    throw createAPIError({ code: "thread_not_found", param: "thread_id", message: `No thread found with id '${threadId}'.` });
  }
  if (!leased) throw threadBusy(event, threadId);

  const history = stored?.messages ?? [];
  // What the client sent, made to follow the stored history (a repeated tail dropped, tool results under a dialect's ids renamed).
  const newMessages = continueThread(history, request.messages, ctx.dialect?.toolCallId);
  let fitted: ReturnType<typeof prompt>;
  try {
    fitted = prompt(history, newMessages);
  } catch (error) {
    // Too long for the window: the lease goes back at once, and nothing was written.
    if (leaseHeld) await runtime.retries.attempt("release a thread lease", () => runtime.atomics.releaseLease(leaseName, leaseToken));
    throw error;
  }
  // Estimated once (while fitting the window); the balance hold and the dispatch both use it.
  ctx.thread = { id: threadId, record: stored, messages: fitted.messages, promptTokens: fitted.tokens, newMessages, leaseToken };
  setAnswerHeader(event, "x-thread-id", threadId);
  if (leaseHeld) useHeartbeat(event, runtime).keep(`lease of thread ${threadId}`, (ttlMs) => runtime.atomics.renewLease(leaseName, leaseToken, ttlMs));

  const turn = { agent, threadId, leaseName, leaseToken, stored, newMessages, leaseHeld };
  ctx.settlers.push(({ reply }) => saveTurn(runtime, turn, reply));
}

/** The thread with the new turn appended, trimmed to `maxMessages` from the oldest end. */
export function appendToThread(
  stored: ThreadRecord | null,
  agent: AgentRecord,
  threadId: string,
  newMessages: ChatMessage[],
  reply: AssistantMessage,
  maxMessages: number,
): ThreadRecord {
  const now = nowISO();
  const replyMessage: ChatMessage = { role: "assistant", content: reply.content, ...(reply.tool_calls?.length && { tool_calls: reply.tool_calls }) };
  let messages = [...(stored?.messages ?? []), ...newMessages, replyMessage];
  if (messages.length > maxMessages) {
    messages = messages.slice(messages.length - maxMessages);
    // A tool result must not lose the assistant turn that asked for it.
    while (messages.length > 1 && messages[0].role === "tool") messages.shift();
  }
  return {
    id: threadId,
    agent_id: agent.id,
    account_id: agent.account_id,
    created_at: stored?.created_at ?? now,
    updated_at: now,
    messages,
  };
}

/** The thread if it belongs to `agentId` and is within its time to live; otherwise null, as if missing. */
export function ownLiveThread(thread: ThreadRecord | null, agentId: string, ttlSeconds: number): ThreadRecord | null {
  if (!thread || thread.agent_id !== agentId) return null;
  return Date.parse(thread.updated_at) + ttlSeconds * 1000 <= Date.now() ? null : thread;
}

/** The system messages every prompt starts with: the agent's instructions, then the request's own. */
export function instructionMessages(agent: AgentRecord, requestInstructions: string | undefined): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (agent.instructions) out.push({ role: "system", content: agent.instructions });
  if (requestInstructions) out.push({ role: "system", content: requestInstructions });
  return out;
}

// --- internal ---

async function loadThread(runtime: GatewayRuntime, agent: AgentRecord, threadId: string): Promise<ThreadRecord | null> {
  return ownLiveThread(await runtime.records.getThread(threadId), agent.id, runtime.threads.ttlSeconds);
}

function threadBusy(event: H3Event, threadId: string) {
  // The thread exists (the agent's own, mid-answer): the 409 names it like any answer on it.
  setAnswerHeader(event, "x-thread-id", threadId);
  return createAPIError({ code: "thread_busy", param: "thread_id", message: `Thread '${threadId}' is answering another request; retry when it is done.` });
}

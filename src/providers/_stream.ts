import type { Outcome } from "../context";
import { toErrorBody } from "../errors";
import type { ChatCompletionChunk, Usage } from "../schema";
import { createReplyAccumulator } from "./_accumulate";
import type { Deadline } from "./_deadline";

export interface SSEStreamOptions {
  /** The first chunk, already pulled (so failures before it were plain HTTP errors). */
  first: IteratorResult<ChatCompletionChunk>;
  iterator: AsyncIterator<ChatCompletionChunk>;
  id: string;
  created: number;
  model: string;
  threadId: string;
  includeUsage: boolean;
  /** Estimated prompt tokens, to bill a stream cut before the vendor's count. */
  promptTokens: number;
  deadline: Deadline;
  /** The client's own signal: aborted means it left, not that the upstream failed. */
  clientSignal?: AbortSignal;
  /** Settles the request; awaited before `[DONE]` so a follow-up finds the thread saved. */
  onEnd(outcome: Outcome): Promise<void>;
  /** Turns an upstream failure into the gateway's error. */
  toError(error: unknown): unknown;
}

const encoder = new TextEncoder();
const DONE = encoder.encode("data: [DONE]\n\n");

/**
 * Provider chunks → OpenAI's SSE bytes: one `id` and `created` for the whole stream, the
 * role in the first delta, `thread_id` on every chunk, `usage: null` on each chunk and
 * the vendor's final usage in a last chunk when `include_usage` is set, then `[DONE]`.
 * A failure mid-way ends with an OpenAI-style error event; a client that leaves
 * aborts the upstream call and is charged for what was generated.
 */
export function toSSEStream(options: SSEStreamOptions): ReadableStream<Uint8Array> {
  const { iterator, deadline } = options;
  const acc = createReplyAccumulator();
  let pending: IteratorResult<ChatCompletionChunk> | undefined = options.first;
  let sentRole = false;
  let sentFinish = false;
  let finished = false;

  const frame = (payload: object) => encoder.encode(`data: ${JSON.stringify(payload)}\n\n`);
  const base = () => ({ id: options.id, object: "chat.completion.chunk", created: options.created, model: options.model });
  const estimate = (): Usage => {
    const completion = Math.ceil(acc.generatedChars() / 4);
    return { prompt_tokens: options.promptTokens, completion_tokens: completion, total_tokens: options.promptTokens + completion };
  };
  const clientLeft = () => finished || options.clientSignal?.aborted === true;

  const end = async (controller: ReadableStreamDefaultController<Uint8Array>) => {
    finished = true;
    deadline.clear();
    const usage = acc.usage ?? estimate();
    await options.onEnd({ usage, reply: acc.reply() ?? { role: "assistant", content: "", refusal: null } });
    if (!sentFinish) controller.enqueue(frame({ ...base(), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: acc.finishReason ?? "stop" }], ...(options.includeUsage && { usage: null }), thread_id: options.threadId }));
    if (options.includeUsage) controller.enqueue(frame({ ...base(), choices: [], usage, thread_id: options.threadId }));
    controller.enqueue(DONE);
    controller.close();
  };

  const fail = async (controller: ReadableStreamDefaultController<Uint8Array>, error: unknown) => {
    if (clientLeft()) return;
    finished = true;
    deadline.clear();
    // An upstream failure charges nothing and writes no half answer into the thread.
    await options.onEnd({ error });
    controller.enqueue(frame({ ...toErrorBody(options.toError(error)).body, thread_id: options.threadId }));
    controller.close();
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        // Loop until something is enqueued: a pull that enqueues nothing is not called again.
        for (;;) {
          const result = pending ?? (await iterator.next());
          pending = undefined;
          if (finished) return;
          if (result.done) return await end(controller);
          deadline.touch();
          const chunk = result.value;
          acc.add(chunk);
          if (chunk.choices.length === 0) continue; // usage-only: ours comes last
          const choices = chunk.choices.map((choice) => {
            const delta = sentRole ? choice.delta : { role: "assistant" as const, ...choice.delta };
            if (choice.finish_reason) sentFinish = true;
            return { index: choice.index, delta, logprobs: null, finish_reason: choice.finish_reason ?? null };
          });
          sentRole = true;
          controller.enqueue(frame({ ...base(), choices, ...(options.includeUsage && { usage: null }), thread_id: options.threadId }));
          return;
        }
      } catch (error) {
        await fail(controller, error);
      }
    },
    async cancel() {
      if (finished) return;
      finished = true;
      deadline.abort(new DOMException("The client closed the stream", "AbortError"));
      deadline.clear();
      iterator.return?.().catch(() => {});
      // The client left: bill and keep what was generated so far.
      await options.onEnd({ error: "client_disconnected", usage: estimate(), reply: acc.reply() });
    },
  });
}

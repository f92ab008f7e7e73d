import type { Outcome } from "../../context";
import { toErrorBody } from "../../errors";
import type { ChatCompletionChunk, Usage } from "../../schema";
import { createReplyAccumulator } from "./accumulate";
import type { Deadline } from "./deadline";

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
const DONE = "data: [DONE]\n\n";
/** Flush a batch once it is this large, even if more chunks are ready. */
const MAX_BATCH_CHARS = 64 * 1024;
const NOT_YET = Symbol("not yet");
const host = globalThis as { setImmediate?: (fn: () => void) => unknown; clearImmediate?: (handle: unknown) => void };

/**
 * Resolves after the current turn of the event loop (what is already on its way has
 * arrived by then); `cancel` drops the timer when something else won the race.
 */
function nextTurn(): { promise: Promise<typeof NOT_YET>; cancel(): void } {
  let handle: unknown;
  const promise = new Promise<typeof NOT_YET>((resolve) => {
    handle = host.setImmediate ? host.setImmediate(() => resolve(NOT_YET)) : setTimeout(() => resolve(NOT_YET), 0);
  });
  return { promise, cancel: () => (host.clearImmediate ? host.clearImmediate(handle) : clearTimeout(handle as ReturnType<typeof setTimeout>)) };
}

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

  const frame = (payload: object) => `data: ${JSON.stringify(payload)}\n\n`;
  const base = () => ({ id: options.id, object: "chat.completion.chunk", created: options.created, model: options.model });
  const estimate = (): Usage => {
    const completion = Math.ceil(acc.generatedChars() / 4);
    return { prompt_tokens: options.promptTokens, completion_tokens: completion, total_tokens: options.promptTokens + completion };
  };
  const clientLeft = () => finished || options.clientSignal?.aborted === true;

  /** The closing frames: the finish reason if the provider sent none, usage, `[DONE]`. */
  const end = async (): Promise<string> => {
    finished = true;
    deadline.clear();
    const usage = acc.usage ?? estimate();
    await options.onEnd({ usage, reply: acc.reply() ?? { role: "assistant", content: "", refusal: null } });
    let out = "";
    if (!sentFinish) out += frame({ ...base(), choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: acc.finishReason ?? "stop" }], ...(options.includeUsage && { usage: null }), thread_id: options.threadId });
    if (options.includeUsage) out += frame({ ...base(), choices: [], usage, thread_id: options.threadId });
    return out + DONE;
  };

  /** The error event that ends a stream whose upstream failed mid-way. */
  const fail = async (error: unknown): Promise<string> => {
    // The upstream call failed because the client left (its signal aborted the call): a
    // leave, whether or not the host ever cancels the stream.
    if (clientLeft()) {
      await leave();
      return "";
    }
    finished = true;
    deadline.clear();
    // An upstream failure charges nothing and writes no half answer into the thread.
    await options.onEnd({ error });
    return frame({ ...toErrorBody(options.toError(error)).body, thread_id: options.threadId });
  };

  /** The client left: abort the upstream call, bill and keep what was generated so far. Once. */
  const leave = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    deadline.abort(new DOMException("The client closed the stream", "AbortError"));
    deadline.clear();
    iterator.return?.().catch(() => {});
    await options.onEnd({ error: "client_disconnected", usage: estimate(), reply: acc.reply() });
  };

  /** One provider chunk as an SSE frame ("" for usage-only chunks: ours comes last). */
  const toFrame = (chunk: ChatCompletionChunk): string => {
    deadline.touch();
    acc.add(chunk);
    if (chunk.choices.length === 0) return "";
    const choices = chunk.choices.map((choice) => {
      const delta = sentRole ? choice.delta : { role: "assistant" as const, ...choice.delta };
      if (choice.finish_reason) sentFinish = true;
      return { index: choice.index, delta, logprobs: choice.logprobs ?? null, finish_reason: choice.finish_reason ?? null };
    });
    sentRole = true;
    return frame({ ...base(), choices, ...(options.includeUsage && { usage: null }), thread_id: options.threadId });
  };

  let sentFirstFrame = false;
  let yieldAfterFirst = false;
  // A chunk requested but not yet arrived when a batch was sent; awaited by the next pull.
  let inFlight: Promise<IteratorResult<ChatCompletionChunk>> | undefined;

  /** Sends one batch; false when there was nothing to send yet (only usage-only chunks). */
  const sendBatch = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<boolean> => {
    // Chunks that arrive together (an upstream read holds several) go out as one write;
    // waiting for more never goes past the current turn of the event loop.
    let batch = "";
    let closing: string | undefined;
    if (yieldAfterFirst) {
      // Let the host write the first frame to the socket before the rest is worked on.
      yieldAfterFirst = false;
      await nextTurn().promise;
    }
    try {
      while (batch.length < MAX_BATCH_CHARS) {
        // A provider may ignore the abort; the client's own signal still ends the stream.
        if (options.clientSignal?.aborted) {
          await leave();
          closing = "";
          break;
        }
        let result: IteratorResult<ChatCompletionChunk>;
        if (pending) {
          result = pending;
          pending = undefined;
        } else if (inFlight) {
          result = await inFlight;
          inFlight = undefined;
        } else if (batch && !sentFirstFrame) {
          break; // the first frame goes out alone: time to first byte is what a client feels
        } else if (batch) {
          const next = iterator.next();
          const turn = nextTurn();
          const ready = await Promise.race([next, turn.promise]);
          turn.cancel();
          if (ready === NOT_YET) {
            inFlight = next;
            next.catch(() => {}); // observed by the next pull; never an unhandled rejection
            break;
          }
          result = ready;
        } else {
          result = await iterator.next();
        }
        if (finished) return true;
        if (result.done) {
          closing = await end();
          break;
        }
        batch += toFrame(result.value);
      }
    } catch (error) {
      closing = await fail(error);
    }
    const out = closing === undefined ? batch : batch + closing;
    try {
      if (out) {
        controller.enqueue(encoder.encode(out));
        yieldAfterFirst = !sentFirstFrame;
        sentFirstFrame = true;
      }
      if (closing !== undefined) controller.close();
    } catch {
      // The host cancelled the stream meanwhile: nobody is reading.
    }
    return out !== "" || closing !== undefined;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // A pull that enqueues nothing is not called again, so keep going until something is sent.
      while (!(await sendBatch(controller)));
    },
    cancel: leave,
  });
}

import type { Outcome } from "../../context";
import type { StreamEncoder } from "../../dialects/types";
import type { AssistantMessage, ChatCompletionChunk, Usage } from "../../schema";
import { createReplyAccumulator, type ReplyAccumulator } from "./accumulate";
import type { Deadline } from "./deadline";
import { sseBody, webSSEBody, type SSEBatch, type SSEBody, type SSEPump } from "./sse-body";

export interface SSEStreamOptions {
  /** The first chunk, already pulled (so failures before it were plain HTTP errors). */
  first: IteratorResult<ChatCompletionChunk>;
  iterator: AsyncIterator<ChatCompletionChunk>;
  /** The dialect's frames for this stream. */
  encoder: StreamEncoder;
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
 * Provider chunks → the dialect's SSE bytes, batched per turn of the event loop (the first
 * frame alone). A failure mid-way ends with the dialect's error event; a client that
 * leaves aborts the upstream call and is charged for what was generated.
 */
export function toSSEStream(options: SSEStreamOptions): ReadableStream<Uint8Array> {
  return webSSEBody(createSSEPump(options));
}

/**
 * The same stream as the answer's body in the host's cheapest form: written straight to
 * Node's response when `direct` (see `sseBody`), a web `ReadableStream` otherwise.
 */
export function toSSEBody(options: SSEStreamOptions, direct: boolean): SSEBody {
  return sseBody(createSSEPump(options), direct);
}

/** The frames of one stream, a batch per `pull`, for whichever body carries them. */
function createSSEPump(options: SSEStreamOptions): SSEPump {
  const { iterator, deadline, encoder } = options;
  const acc = createReplyAccumulator();
  let pending: IteratorResult<ChatCompletionChunk> | undefined = options.first;
  let finished = false;
  const estimate = (): Usage => {
    const completion = Math.ceil(acc.generatedChars() / 4);
    return { prompt_tokens: options.promptTokens, completion_tokens: completion, total_tokens: options.promptTokens + completion };
  };
  const clientLeft = () => finished || options.clientSignal?.aborted === true;

  /** The closing frames, made before settling (which may keep the whole answer) and sent after it. */
  const end = async (): Promise<string> => {
    finished = true;
    deadline.clear();
    const usage = acc.usage ?? estimate();
    const reply = acc.reply() ?? { role: "assistant" as const, content: "", refusal: null };
    const closing = encoder.end({ usage, reply, finishReason: acc.finishReason ?? "stop" });
    await options.onEnd({ usage, reply, answer: encoder.answer?.(), finishReason: acc.finishReason ?? "stop" });
    return closing;
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
    return encoder.fail(options.toError(error));
  };

  /** The client left: abort the upstream call, bill and keep what was generated so far. Once. */
  const leave = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    deadline.abort(new DOMException("The client closed the stream", "AbortError"));
    deadline.clear();
    iterator.return?.().catch(() => {});
    await options.onEnd({ error: "client_disconnected", usage: estimate(), reply: keptOnLeave(acc) });
  };

  /** One provider chunk as the dialect's frames. */
  const toFrame = (chunk: ChatCompletionChunk): string => {
    deadline.touch();
    acc.add(chunk);
    return encoder.chunk(chunk);
  };

  let sentFirstFrame = false;
  // The opening frames alone are not the first frame: the first chunk goes with them.
  let sentChunk = false;
  let yieldAfterFirst = false;
  // A chunk requested but not yet arrived when a batch was sent; awaited by the next pull.
  let inFlight: Promise<IteratorResult<ChatCompletionChunk>> | undefined;

  /** The next batch and whether the stream ends with it; "" and false when there was nothing to send yet (only usage-only chunks). */
  const nextBatch = async (): Promise<SSEBatch> => {
    // Chunks that arrive together (an upstream read holds several) go out as one write;
    // waiting for more never goes past the current turn of the event loop.
    let batch = sentFirstFrame ? "" : (encoder.open?.() ?? "");
    let closing: string | undefined;
    let turn: ReturnType<typeof nextTurn> | undefined;
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
        } else if (batch && !sentFirstFrame && sentChunk) {
          break; // the first frame goes out alone: time to first byte is what a client feels
        } else if (batch) {
          const next = iterator.next();
          // One timer per batch, not per chunk: every chunk of the batch races the same turn.
          turn ??= nextTurn();
          const ready = await Promise.race([next, turn.promise]);
          if (ready === NOT_YET) {
            inFlight = next;
            next.catch(() => {}); // observed by the next pull; never an unhandled rejection
            break;
          }
          result = ready;
        } else {
          result = await iterator.next();
        }
        if (finished) return { data: "", done: true };
        if (result.done) {
          closing = await end();
          break;
        }
        batch += toFrame(result.value);
        sentChunk = true;
      }
    } catch (error) {
      closing = await fail(error);
    } finally {
      turn?.cancel();
    }
    const text = closing === undefined ? batch : batch + closing;
    if (text) {
      yieldAfterFirst = !sentFirstFrame;
      sentFirstFrame = true;
    }
    return { data: text, done: closing !== undefined };
  };

  return {
    async pull() {
      // Keep going until there is something to send or the stream ended.
      for (;;) {
        const batch = await nextBatch();
        if (batch.data || batch.done) return batch;
      }
    },
    cancel: leave,
  };
}

/**
 * What a thread keeps of an answer its client left: everything once the upstream had
 * finished it; before that, its text only. A tool call cut mid-way has arguments that do
 * not parse and no result will ever follow it, and every vendor refuses a history with a
 * call left unanswered: kept, it would fail every later turn on the thread.
 */
function keptOnLeave(acc: ReplyAccumulator): AssistantMessage | undefined {
  const reply = acc.reply();
  if (!reply?.tool_calls || acc.finishReason) return reply;
  const { tool_calls: _cut, ...rest } = reply;
  return rest.content || rest.refusal ? { ...rest, content: rest.content ?? "" } : undefined;
}

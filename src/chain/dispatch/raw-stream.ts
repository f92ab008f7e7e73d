import type { Outcome } from "../../context";
import type { AnthropicUsageCounts } from "../../providers/anthropic/response";
import { createSSEDecoder } from "../../providers/_sse";
import { upstreamError } from "../../providers/_errors";
import type { Usage } from "../../schema";
import type { Deadline } from "./deadline";
import { sseBody, type SSEBatch, type SSEBody } from "./sse-body";
import { rawUsage } from "../../providers/anthropic/raw";

export interface RawSSEStreamOptions {
  /** The vendor's body, still to be read. */
  body: AsyncIterable<Uint8Array> & { destroy(): void };
  deadline: Deadline;
  /** Estimated prompt tokens, to bill a stream cut before the vendor's count. */
  promptTokens: number;
  /** The client's own signal: aborted means it left. */
  clientSignal?: AbortSignal;
  /** Settles the request; awaited before `message_stop` goes out. */
  onEnd(outcome: Outcome): Promise<void>;
  toError(error: unknown): unknown;
  /** The frames that end a stream whose upstream connection failed mid-way. */
  failFrames(error: unknown): string;
}

/**
 * An Anthropic SSE stream sent on byte for byte, as each read arrives, while its events are
 * read for the usage (`message_start`, the cumulative `message_delta`): the same settle,
 * leave and failure rules as the normalized stream (src/chain/dispatch/stream.ts). A
 * vendor `event: error` goes through as it came and charges nothing, as a failure. Written
 * straight to Node's response under srvx, a web stream elsewhere (see `sseBody`).
 */
export function toRawSSEStream(options: RawSSEStreamOptions, direct: boolean): SSEBody {
  const { body, deadline } = options;
  const iterator = body[Symbol.asyncIterator]();
  const decoder = createSSEDecoder();
  const counts: AnthropicUsageCounts = {};
  let generatedChars = 0;
  let stopped = false;
  let vendorError: unknown;
  let finished = false;

  const usage = (): Usage => rawUsage(counts);
  const estimate = (): Usage => {
    const known = counts.input_tokens === undefined ? undefined : usage();
    const completion = Math.max(counts.output_tokens ?? 0, Math.ceil(generatedChars / 4));
    const prompt = known?.prompt_tokens ?? options.promptTokens;
    return { ...known, prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };

  /** Reads one vendor read's events: usage, generated text, the end or an error. */
  const observe = (bytes: Uint8Array) => {
    for (const event of decoder.push(bytes)) {
      if (event.event === "ping") continue;
      let data: { type?: string; message?: { usage?: AnthropicUsageCounts }; usage?: AnthropicUsageCounts; delta?: Record<string, unknown> };
      try {
        data = JSON.parse(event.data);
      } catch {
        continue; // not ours to judge: the client reads the same bytes
      }
      if (event.event === "error" || data.type === "error") vendorError = data;
      else if (data.type === "message_start") Object.assign(counts, definedOnly(data.message?.usage));
      else if (data.type === "message_delta") Object.assign(counts, definedOnly(data.usage));
      else if (data.type === "message_stop") stopped = true;
      else if (data.type === "content_block_delta" && data.delta) {
        const delta = data.delta;
        generatedChars += String(delta.text ?? delta.partial_json ?? delta.thinking ?? "").length;
      }
    }
  };

  const leave = async () => {
    if (finished) return;
    finished = true;
    deadline.abort(new DOMException("The client closed the stream", "AbortError"));
    deadline.clear();
    body.destroy();
    await options.onEnd({ error: "client_disconnected", usage: estimate() });
  };

  const closed = (data: string | Uint8Array = ""): SSEBatch => ({ data, done: true });
  return sseBody(
    {
      async pull() {
        if (finished) return closed();
        if (options.clientSignal?.aborted) {
          await leave();
          return closed();
        }
        let result: IteratorResult<Uint8Array>;
        try {
          result = await iterator.next();
        } catch (error) {
          if (finished || options.clientSignal?.aborted) {
            await leave();
            return closed();
          }
          finished = true;
          deadline.clear();
          await options.onEnd({ error });
          return closed(options.failFrames(options.toError(error)));
        }
        if (finished) return closed();
        if (result.done) {
          finished = true;
          deadline.clear();
          // A connection closed before `message_stop` (and without the vendor's error) is a failure, never a silent cut.
          if (!stopped && vendorError === undefined) {
            const error = upstreamError({ provider: "anthropic", message: "The stream ended before the answer was complete." });
            await options.onEnd({ error });
            return closed(options.failFrames(error));
          }
          return closed();
        }
        deadline.touch();
        observe(result.value);
        if (vendorError !== undefined) {
          finished = true;
          deadline.clear();
          await options.onEnd({ error: vendorError });
        } else if (stopped) {
          // Settled before the last event goes out: a follow-up request finds the charge made.
          finished = true;
          deadline.clear();
          await options.onEnd({ usage: usage() });
        }
        return { data: result.value, done: finished };
      },
      cancel: leave,
    },
    direct,
  );
}

// --- internal ---

function definedOnly(usage: AnthropicUsageCounts | undefined): AnthropicUsageCounts {
  const out: AnthropicUsageCounts = {};
  for (const [name, value] of Object.entries(usage ?? {})) if (typeof value === "number") out[name as keyof AnthropicUsageCounts] = value;
  return out;
}

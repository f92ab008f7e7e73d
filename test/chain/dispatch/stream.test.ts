import { describe, expect, it } from "vitest";
import type { Outcome } from "../../../src/context";
import { createDeadline } from "../../../src/chain/dispatch/deadline";
import { toSSEStream } from "../../../src/chain/dispatch/stream";
import { chatStreamEncoder } from "../../../src/dialects/chat/stream";
import type { ChatCompletionChunk } from "../../../src/schema";

const chunk = (content: string): ChatCompletionChunk => ({ id: "", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });

describe("a stream whose client leaves", () => {
  it("settles as a disconnect (billing what was generated) even when the host never cancels the stream", async () => {
    const client = new AbortController();
    const deadline = createDeadline(10_000, client.signal);
    // A provider that streams until its signal aborts, then fails as SDKs do.
    async function* provider(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk("hello ");
      yield chunk("world ");
      await new Promise((_resolve, reject) => deadline.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
    }
    const iterator = provider();
    const outcomes: Outcome[] = [];
    const stream = toSSEStream({
      first: await iterator.next(),
      iterator,
      encoder: chatStreamEncoder({ id: "chatcmpl-1", created: 1, model: "m", threadId: "thread_1", request: { model: "m", messages: [] }, promptTokens: 10 }),
      promptTokens: 10,
      deadline,
      clientSignal: client.signal,
      onEnd: async (outcome) => void outcomes.push(outcome),
      toError: (error) => error,
    });
    const reader = stream.getReader();
    const seen: string[] = [];
    seen.push(new TextDecoder().decode((await reader.read()).value));
    seen.push(new TextDecoder().decode((await reader.read()).value));
    // The client goes away: only its signal says so (some hosts never cancel the body).
    client.abort();
    const last = await reader.read();
    expect(last.done).toBe(true);
    expect(seen.join("")).toContain("world");
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].error).toBe("client_disconnected");
    expect(outcomes[0].reply?.content).toBe("hello world ");
    expect(outcomes[0].usage).toEqual({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
  });
});

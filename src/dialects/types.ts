import type { H3Event } from "h3";
import type { AssistantMessage, ChatCompletionChunk, ChatRequest, FinishReason, Usage } from "../schema";

/**
 * One way in: the wire format a route speaks (chat completions, Responses, Messages). The
 * chain and the providers speak the normalized chat form; a dialect only turns the
 * normalized answer into its own JSON, its own stream events and its own error envelope.
 */
export interface Dialect {
  /** A fresh id for one answer (`chatcmpl-…`, `resp_…`, `msg_…`). */
  newId(): string;
  /** The JSON body of a whole answer. */
  answer(completion: NormalizedCompletion, meta: AnswerMeta): unknown;
  /** The encoder of one streamed answer. */
  stream(meta: AnswerMeta): StreamEncoder;
  /** The request field that holds the conversation, named by errors about its size (`messages` when absent). */
  inputParam?: string;
  /**
   * The id a client is shown for a tool call the vendor named `callId`, when this API shows
   * another (Messages: `toolu_…`); a thread then matches results under it to the stored call.
   */
  toolCallId?(callId: string): string;
  /** This API's error envelope; OpenAI's when absent. */
  renderError?(error: unknown, event: H3Event): Response;
}

/** What every encoder of one answer knows. */
export interface AnswerMeta {
  id: string;
  /** Unix seconds. */
  created: number;
  /** The model as the gateway names it (`provider/model`). */
  model: string;
  /** The thread the answer was saved in; null for a stateless request. */
  threadId: string | null;
  request: ChatRequest;
  /** Estimated prompt tokens (the thread, the instructions and the new input). */
  promptTokens: number;
}

/** Turns a normalized chunk stream into one dialect's SSE frames (strings, ready to write). */
export interface StreamEncoder {
  /** Frames sent before the first chunk's (Responses' `response.created`, Messages' `message_start`). */
  open?(): string;
  /** The frames of one chunk; "" when it says nothing this dialect sends. */
  chunk(chunk: ChatCompletionChunk): string;
  /** The closing frames of a stream that ended well. */
  end(final: StreamFinal): string;
  /** The frames that end a stream whose upstream failed after the first byte (`error` is the gateway's HTTPError). */
  fail(error: unknown): string;
  /** The whole answer once the stream ended, as `answer()` would have returned it (for stores that keep it). */
  answer?(): unknown;
}

export interface StreamFinal {
  usage: Usage;
  finishReason: FinishReason;
  reply: AssistantMessage;
}

/** The gateway's normalized `chat.completion`: ids, model and usage always set. */
export interface NormalizedCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: AssistantMessage;
    logprobs: unknown;
    finish_reason: FinishReason;
  }>;
  usage: Usage;
  thread_id: string | null;
}

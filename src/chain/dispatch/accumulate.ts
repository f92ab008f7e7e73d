import type { AssistantMessage, ChatCompletion, ChatCompletionChunk, FinishReason, ToolCall, Usage } from "../../schema";

/** Builds the assistant's message from stream chunks: text, tool calls by index, finish, usage. */
export interface ReplyAccumulator {
  add(chunk: ChatCompletionChunk): void;
  /** The message so far (partial while the stream runs); undefined when nothing was said. */
  reply(): AssistantMessage | undefined;
  /** Characters generated so far, for an estimate when the stream is cut. */
  generatedChars(): number;
  finishReason: FinishReason | null;
  usage: Usage | undefined;
}

export function createReplyAccumulator(): ReplyAccumulator {
  let content = "";
  let refusal: string | null = null;
  const calls: ToolCall[] = [];
  const acc: ReplyAccumulator = {
    finishReason: null,
    usage: undefined,
    add(chunk) {
      if (chunk.usage) acc.usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) return;
      if (choice.finish_reason) acc.finishReason = choice.finish_reason;
      const delta = choice.delta;
      if (typeof delta.content === "string") content += delta.content;
      if (typeof delta.refusal === "string") refusal = (refusal ?? "") + delta.refusal;
      for (const part of delta.tool_calls ?? []) {
        const call = (calls[part.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
        if (part.id) call.id = part.id;
        if (part.function?.name) call.function.name += part.function.name;
        if (part.function?.arguments) call.function.arguments += part.function.arguments;
      }
    },
    reply() {
      const toolCalls = calls.filter(Boolean);
      if (!content && !toolCalls.length && refusal === null) return undefined;
      return { role: "assistant", content: content || (toolCalls.length ? null : ""), refusal, ...(toolCalls.length && { tool_calls: toolCalls }) };
    },
    generatedChars() {
      let chars = content.length + (refusal?.length ?? 0);
      for (const call of calls) if (call) chars += call.function.name.length + call.function.arguments.length;
      return chars;
    },
  };
  return acc;
}

/** A whole completion from a provider that streamed when the client did not ask to. */
export async function collectCompletion(chunks: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletion> {
  const acc = createReplyAccumulator();
  for await (const chunk of chunks) acc.add(chunk);
  return {
    id: "",
    object: "chat.completion",
    created: 0,
    model: "",
    choices: [{ index: 0, message: acc.reply() ?? { role: "assistant", content: "", refusal: null }, finish_reason: acc.finishReason ?? "stop", logprobs: null }],
    usage: acc.usage,
  };
}

/** Chunks from a provider that answered in one piece when the client asked for a stream. */
export async function* completionToChunks(completion: ChatCompletion): AsyncGenerator<ChatCompletionChunk> {
  const choice = completion.choices[0];
  const message = choice?.message;
  const base = { id: completion.id, object: "chat.completion.chunk" as const, created: completion.created, model: completion.model };
  yield {
    ...base,
    choices: [
      {
        index: 0,
        delta: {
          role: "assistant",
          content: message?.content ?? null,
          ...(message?.tool_calls && { tool_calls: message.tool_calls.map((call, index) => ({ index, ...call })) }),
        },
        finish_reason: null,
      },
    ],
  };
  yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? "stop" }], usage: completion.usage };
}

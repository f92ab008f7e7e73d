// A custom provider: any OpenAI-compatible server (vLLM, Ollama, llama.cpp...) through plain fetch.
import { defineProvider, upstreamError } from "agentgate";
import type { ChatCompletion, ChatCompletionChunk, ModelInfo, Provider } from "agentgate";

export interface LocalLLMOptions {
  /** The server's OpenAI base URL, e.g. "http://127.0.0.1:11434/v1". */
  baseURL: string;
  apiKey?: string;
  /** The models it serves, named "local/<model>", with the price you bill for them. */
  models: Record<string, ModelInfo>;
}

export function localLLM(options: LocalLLMOptions): Provider {
  return defineProvider({
    id: "local",
    models: options.models,
    async chat(request, { signal }) {
      // `request` is OpenAI's shape with the thread's whole history; `model` has no "local/" prefix.
      const res = await fetch(`${options.baseURL}/chat/completions`, {
        method: "POST",
        signal, // aborted when the client leaves or the gateway's timeout passes
        headers: { "content-type": "application/json", ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) },
        // Ask for the final usage on streams: the gateway bills the server's own count.
        body: JSON.stringify({ ...request, ...(request.stream && { stream_options: { include_usage: true } }) }),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
        const retryAfter = Number(res.headers.get("retry-after"));
        // One mapping for every provider: 429 keeps retry-after, 400 keeps the message, 5xx is 502...
        throw upstreamError({ provider: "local", status: res.status, message: body.error?.message, retryAfterSeconds: retryAfter || undefined });
      }
      if (!request.stream) return (await res.json()) as ChatCompletion;
      return readChunks(res.body!);
    },
  });
}

/** OpenAI's SSE (`data: {json}` events, then `data: [DONE]`) as chunks; the gateway writes the SSE back. */
async function* readChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatCompletionChunk> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const data = buffer.slice(0, end).replace(/^data: /, "");
        buffer = buffer.slice(end + 2);
        if (data === "[DONE]") return;
        yield JSON.parse(data) as ChatCompletionChunk;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

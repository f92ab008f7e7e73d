// A mock vendor upstream on one port, in each vendor's wire format: OpenAI
// (/v1/chat/completions), Anthropic (/v1/messages) and Gemini (/v1beta/models/…). Fixed
// JSON, or SSE of 20 pieces with usage. Prints READY {port}.
import { createServer } from "node:http";

const TEXT = "Hello from the mock upstream.";
const WORDS = Array.from({ length: 18 }, (_, i) => `w${i} `);
const created = 1_700_000_000;
const sse = (event: string | undefined, data: object) => `${event ? `event: ${event}\n` : ""}data: ${JSON.stringify(data)}\n\n`;

// OpenAI (WIRE.md §1)
const openaiJSON = JSON.stringify({
  id: "chatcmpl-mock",
  object: "chat.completion",
  created,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: TEXT, refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});
const chunk = (delta: object, finish: string | null) => sse(undefined, { id: "chatcmpl-mock", object: "chat.completion.chunk", created, model: "gpt-4o-mini", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
const openaiSSE =
  chunk({ role: "assistant", content: "" }, null) +
  WORDS.map((word) => chunk({ content: word }, null)).join("") +
  chunk({}, "stop") +
  sse(undefined, { id: "chatcmpl-mock", object: "chat.completion.chunk", created, model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 } }) +
  "data: [DONE]\n\n";

// Anthropic (WIRE.md §3)
const anthropicJSON = JSON.stringify({
  id: "msg_mock",
  type: "message",
  role: "assistant",
  model: "claude-sonnet-4-6",
  content: [{ type: "text", text: TEXT }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 12, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
});
const anthropicSSE =
  sse("message_start", { type: "message_start", message: { id: "msg_mock", type: "message", role: "assistant", model: "claude-sonnet-4-6", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
  sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }) +
  sse("ping", { type: "ping" }) +
  WORDS.map((word) => sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: word } })).join("") +
  sse("content_block_stop", { type: "content_block_stop", index: 0 }) +
  sse("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 18 } }) +
  sse("message_stop", { type: "message_stop" });

// Gemini (WIRE.md §4)
const geminiPiece = (text: string, last: boolean) => ({
  candidates: [{ content: { parts: [{ text }], role: "model" }, ...(last && { finishReason: "STOP" }), index: 0 }],
  usageMetadata: last ? { promptTokenCount: 12, candidatesTokenCount: 18, totalTokenCount: 30 } : { promptTokenCount: 12, totalTokenCount: 12 },
  modelVersion: "gemini-2.5-flash",
  responseId: "mock",
});
const geminiJSON = JSON.stringify({ ...geminiPiece(TEXT, true), usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 } });
const geminiSSE = WORDS.map((word, i) => sse(undefined, geminiPiece(word, i === WORDS.length - 1))).join("");

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    const url = req.url ?? "";
    const gemini = url.startsWith("/v1beta/");
    const anthropic = url === "/v1/messages";
    const stream = gemini ? url.includes(":streamGenerateContent") : Buffer.concat(parts).includes('"stream":true');
    if (stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.end(gemini ? geminiSSE : anthropic ? anthropicSSE : openaiSSE);
    } else {
      const body = gemini ? geminiJSON : anthropic ? anthropicJSON : openaiJSON;
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${JSON.stringify({ port: (server.address() as { port: number }).port })}`));

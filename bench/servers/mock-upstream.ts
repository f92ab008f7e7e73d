// A mock OpenAI upstream: fixed JSON, or SSE of 20 chunks with usage. Prints READY {port}.
import { createServer } from "node:http";

const created = 1_700_000_000;
const completion = JSON.stringify({
  id: "chatcmpl-mock",
  object: "chat.completion",
  created,
  model: "gpt-4o-mini",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello from the mock upstream.", refusal: null }, logprobs: null, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
});
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", created, model: "gpt-4o-mini", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const sse =
  chunk({ role: "assistant", content: "" }, null) +
  Array.from({ length: 18 }, (_, i) => chunk({ content: `w${i} ` }, null)).join("") +
  chunk({}, "stop") +
  `data: ${JSON.stringify({ id: "chatcmpl-mock", object: "chat.completion.chunk", created, model: "gpt-4o-mini", choices: [], usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 } })}\n\n` +
  "data: [DONE]\n\n";

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () => {
    const stream = Buffer.concat(parts).includes('"stream":true');
    if (stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.end(sse);
    } else {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(completion) });
      res.end(completion);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`READY ${JSON.stringify({ port: (server.address() as { port: number }).port })}`));

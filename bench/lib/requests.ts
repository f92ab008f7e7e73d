/** The request bodies every configuration receives, and how each config names its model. */
export interface Target {
  name: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  model: string;
  /** What a correct plain answer contains. */
  expect: string;
  /** The API spoken: chat completions unless told (Messages: Anthropic's `/v1/messages`). */
  dialect?: "chat" | "messages";
}

const PROMPT = "Hello from the benchmark, please answer.";

export function body(target: Target, stream: boolean): string {
  if (target.dialect === "messages") return JSON.stringify({ model: target.model, max_tokens: 256, messages: [{ role: "user", content: PROMPT }], ...(stream && { stream: true }) });
  return JSON.stringify({
    model: target.model,
    messages: [{ role: "user", content: PROMPT }],
    ...(stream && { stream: true, stream_options: { include_usage: true } }),
  });
}

/** Sends one plain and one streamed request and checks the answers are right. */
export async function checkTarget(target: Target): Promise<void> {
  const post = (stream: boolean) => fetch(target.url + target.path, { method: "POST", headers: { "content-type": "application/json", ...target.headers }, body: body(target, stream) });
  const messages = target.dialect === "messages";
  const plain = await post(false);
  const json = await plain.json();
  const text = messages ? json.content?.[0]?.text : json.choices?.[0]?.message?.content;
  if (plain.status !== 200 || !String(text).includes(target.expect)) {
    throw new Error(`${target.name}: wrong plain answer (${plain.status}): ${JSON.stringify(json).slice(0, 300)}`);
  }
  const streamed = await (await post(true)).text();
  const complete = messages ? streamed.includes("event: message_stop") && streamed.includes('"output_tokens":') : streamed.trimEnd().endsWith("data: [DONE]") && streamed.includes('"usage":{');
  if (!complete) {
    throw new Error(`${target.name}: wrong stream: ${streamed.slice(0, 300)}`);
  }
}

/** The request bodies every configuration receives, and how each config names its model. */
export interface Target {
  name: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  model: string;
  /** What a correct plain answer contains. */
  expect: string;
}

export function body(target: Target, stream: boolean): string {
  return JSON.stringify({
    model: target.model,
    messages: [{ role: "user", content: "Hello from the benchmark, please answer." }],
    ...(stream && { stream: true, stream_options: { include_usage: true } }),
  });
}

/** Sends one plain and one streamed request and checks the answers are right. */
export async function checkTarget(target: Target): Promise<void> {
  const post = (stream: boolean) => fetch(target.url + target.path, { method: "POST", headers: { "content-type": "application/json", ...target.headers }, body: body(target, stream) });
  const plain = await post(false);
  const json = await plain.json();
  if (plain.status !== 200 || !String(json.choices?.[0]?.message?.content).includes(target.expect)) {
    throw new Error(`${target.name}: wrong plain answer (${plain.status}): ${JSON.stringify(json).slice(0, 300)}`);
  }
  const streamed = await (await post(true)).text();
  if (!streamed.trimEnd().endsWith("data: [DONE]") || !streamed.includes('"usage":{')) {
    throw new Error(`${target.name}: wrong stream: ${streamed.slice(0, 300)}`);
  }
}

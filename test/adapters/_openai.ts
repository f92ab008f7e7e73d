import OpenAI from "openai";
import { expect, it } from "vitest";

/** Where a host server serves the gateway, and a funded key of one of its agents. */
export interface AdapterTarget {
  baseURL: string;
  key: string;
}

/**
 * What every adapter must give the official openai SDK: a plain completion, a stream
 * whose chunks arrive as they are produced (the echo provider waits between words),
 * and the SDK's own error class for a bad key.
 */
export function testOpenAIClient(target: () => AdapterTarget): void {
  const client = () => new OpenAI({ apiKey: target().key, baseURL: target().baseURL, maxRetries: 0 });

  it("answers a plain completion with a thread_id", async () => {
    const reply = await client().chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "Hello through the host" }] });
    expect(reply.choices[0].message.content).toBe("Hello through the host");
    expect((reply as unknown as { thread_id: string }).thread_id).toMatch(/^thread_/);
  });

  it("streams chunks as they are produced, not buffered until the end", async () => {
    const words = "one two three four five six";
    const stream = await client().chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: words }], stream: true });
    const arrivals: { at: number; text: string }[] = [];
    for await (const chunk of stream) arrivals.push({ at: performance.now(), text: chunk.choices[0]?.delta.content ?? "" });
    expect(arrivals.map((a) => a.text).join("")).toBe(words);
    const firstWord = arrivals.find((a) => a.text.trim());
    // Six words 20 ms apart: a buffered stream would arrive all at once.
    expect(arrivals.at(-1)!.at - firstWord!.at).toBeGreaterThan(60);
  });

  it("raises the SDK's AuthenticationError for a bad key", async () => {
    const bad = new OpenAI({ apiKey: "a2a_notARealKeyButWellFormedEnough0000000000", baseURL: target().baseURL, maxRetries: 0 });
    const error = await bad.chat.completions.create({ model: "echo/echo", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe("invalid_api_key");
  });
}

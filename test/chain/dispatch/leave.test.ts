import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineProvider } from "../../../src/providers/_define";
import type { ChatCompletionChunk } from "../../../src/schema";
import { seedAgent, startGateway, type TestGateway } from "../../_setup";

const chunk = (delta: ChatCompletionChunk["choices"][number]["delta"], finish: ChatCompletionChunk["choices"][number]["finish_reason"] = null): ChatCompletionChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  created: 0,
  model: "tools",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

/** Streams some text, then a tool call in pieces; "finish" in the prompt ends the call (finish_reason) before it waits for the client to leave. */
const slowTools = defineProvider({
  id: "slow",
  models: { "slow/tools": { inputPerMTok: 1, outputPerMTok: 1 } },
  chat(request, context) {
    const finishes = JSON.stringify(request.messages).includes("finish");
    return (async function* () {
      yield chunk({ role: "assistant", content: "Let me check. " });
      yield chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Par' } }] });
      if (finishes) yield chunk({ tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }, "tool_calls");
      await new Promise((resolve) => context.signal.addEventListener("abort", resolve, { once: true }));
    })();
  },
});

describe("a stream its client leaves during a tool call", () => {
  let t: TestGateway;
  let key: string;

  beforeAll(async () => {
    t = await startGateway({ providers: [slowTools], logger: { warn() {}, error() {} } });
    ({ key } = await seedAgent(t.gateway));
  });
  afterAll(() => t.close());

  /** Streams a turn, leaves once the call's first arguments arrive, and returns the thread as saved. */
  const leaveDuringCall = async (content: string) => {
    const client = new AbortController();
    const res = await fetch(`${t.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "slow/tools", stream: true, messages: [{ role: "user", content }] }),
      signal: client.signal,
    });
    const threadId = res.headers.get("x-thread-id")!;
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes(content.includes("finish") ? '"finish_reason":"tool_calls"' : "get_weather")) seen += new TextDecoder().decode((await reader.read()).value);
    client.abort();
    const read = async () => (await fetch(`${t.baseURL}/threads/${threadId}`, { headers: { authorization: `Bearer ${key}` } })).json();
    await expect.poll(async () => (await read()).messages?.length ?? 0).toBe(2);
    return (await read()).messages;
  };

  it("keeps the text and drops the call cut mid-way, so the thread's next turn is not refused for an unanswered call", async () => {
    const [, reply] = await leaveDuringCall("weather?");
    expect(reply).toEqual({ role: "assistant", content: "Let me check. " });
  });

  it("keeps a call the upstream had finished, whose result the client may still send", async () => {
    const [, reply] = await leaveDuringCall("weather? finish");
    expect(reply).toEqual({ role: "assistant", content: "Let me check. ", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] });
  });
});

import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitContextWindow } from "../../src/chain/context-window";
import { defineProvider, echo, type ProviderRequest } from "../../src/index";
import type { ChatMessage } from "../../src/schema";
import { ledgerLines } from "../_billing";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "../_setup";

const words = (word: string) => `${word} `.repeat(19) + word; // 20 words: about 30 tokens as a message for 5-letter words

/** The echo model with a 100-token window, keeping what each request sent upstream. */
const seen: ProviderRequest["messages"][] = [];
const inner = echo();
const tiny = defineProvider({
  id: "tiny",
  models: { "tiny/echo": { inputPerMTok: 1, outputPerMTok: 1, contextWindow: 100 } },
  chat(request, context) {
    seen.push(request.messages);
    return inner.chat(request, context);
  },
});

describe("fitting a prompt into the model's context window", () => {
  it("drops whole turns from the oldest end, never the instructions, never a tool result without its call", () => {
    const messages: ChatMessage[] = [
      { role: "system", content: words("rules") },
      { role: "user", content: words("one") },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "c1", content: words("result") },
      { role: "assistant", content: words("answer") },
      { role: "user", content: words("two") },
    ];
    const { messages: kept, dropped } = fitContextWindow(messages, { contextWindow: 70, outputTokens: 0, truncation: "auto", param: "messages" });
    expect(dropped).toBe(4);
    expect(kept.map((m) => m.role)).toEqual(["system", "user"]);
    expect(kept[1].content).toBe(words("two"));
  });

  it("refuses with disabled, and with auto when even the last turn does not fit", () => {
    const messages: ChatMessage[] = [{ role: "user", content: words("alpha") }, { role: "user", content: words("bravo") }];
    expect(() => fitContextWindow(messages, { contextWindow: 50, outputTokens: 0, truncation: "disabled", param: "input" })).toThrow(expect.objectContaining({ status: 400, data: expect.objectContaining({ code: "context_length_exceeded", param: "input" }) }));
    expect(fitContextWindow(messages, { contextWindow: 50, outputTokens: 0, truncation: "auto", param: "input" }).messages).toEqual([messages[1]]);
    expect(() => fitContextWindow(messages, { contextWindow: 50, outputTokens: 30, truncation: "auto", param: "input" })).toThrow(expect.objectContaining({ status: 400 }));
    // No window known: everything fits.
    expect(fitContextWindow(messages, { outputTokens: 0, truncation: "disabled", param: "input" }).dropped).toBe(0);
  });
});

describe("a thread past a small model's window", () => {
  let t: TestGateway;
  let client: OpenAI;
  let key: string;
  let accountId: string;

  beforeAll(async () => {
    t = await startGateway({ providers: [echo(), tiny] });
    ({ key, accountId } = await seedAgent(t.gateway, { agent: { name: "Windowed" } }));
    client = openaiClient(t.baseURL, key);
  });
  afterAll(() => t.close());

  it("with truncation disabled (the Responses default) is a 400 context_length_exceeded that changes nothing", async () => {
    const first = await client.responses.create({ model: "tiny/echo", input: words("first") });
    const threadId = (first as unknown as { thread_id: string }).thread_id;
    const charges = (await ledgerLines(t.gateway, accountId)).length;
    const refused = await client.responses.create({ model: "tiny/echo", input: words("second"), previous_response_id: first.id }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ status: 400, code: "context_length_exceeded", param: "input" });
    expect((await t.gateway.admin.getThread(accountId, threadId)).messages).toHaveLength(2);
    expect(await ledgerLines(t.gateway, accountId)).toHaveLength(charges);
    // The lease went back: the thread answers the next request at once.
    const short = await client.responses.create({ model: "tiny/echo", input: "ok", previous_response_id: first.id });
    expect(short.output_text).toBe("ok");
  });

  it("with truncation auto is answered without the oldest turn, which the stored thread still keeps", async () => {
    const first = await client.responses.create({ model: "tiny/echo", input: words("first") });
    seen.length = 0;
    const second = await client.responses.create({ model: "tiny/echo", input: words("second"), previous_response_id: first.id, truncation: "auto" });
    expect(second.output_text).toBe(words("second"));
    expect(second.truncation).toBe("auto");
    expect(seen[0].map((m) => m.content)).toEqual([words("second")]);
    const thread = await t.gateway.admin.getThread(accountId, (second as unknown as { thread_id: string }).thread_id);
    expect(thread.messages.map((m) => m.content)).toEqual([words("first"), words("first"), words("second"), words("second")]);
  });

  it("on chat completions drops the oldest turns by default (the gateway's threads.truncation, auto)", async () => {
    const first = await client.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("first") }] });
    const threadId = (first as unknown as { thread_id: string }).thread_id;
    seen.length = 0;
    const second = await client.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("second") }], thread_id: threadId } as never);
    expect(second.choices[0].message.content).toBe(words("second"));
    expect(seen[0].map((m) => m.content)).toEqual([words("second")]);
  });

  it("on chat completions follows the agent's own truncation over the gateway's", async () => {
    const strictAgent = openaiClient(t.baseURL, (await seedAgent(t.gateway, { agent: { name: "Strict", truncation: "disabled" } })).key);
    const first = await strictAgent.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("first") }] });
    const refused = await strictAgent.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("second") }], thread_id: (first as unknown as { thread_id: string }).thread_id } as never).catch((e) => e);
    expect(refused).toMatchObject({ status: 400, code: "context_length_exceeded", param: "messages" });
  });

  it("on chat completions with threads.truncation disabled is a 400 naming messages", async () => {
    const strict = await startGateway({ providers: [tiny], threads: { truncation: "disabled" } });
    try {
      const strictClient = openaiClient(strict.baseURL, (await seedAgent(strict.gateway)).key);
      const first = await strictClient.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("first") }] });
      const refused = await strictClient.chat.completions.create({ model: "tiny/echo", messages: [{ role: "user", content: words("second") }], thread_id: (first as unknown as { thread_id: string }).thread_id } as never).catch((e) => e);
      expect(refused).toMatchObject({ status: 400, code: "context_length_exceeded", param: "messages" });
    } finally {
      await strict.close();
    }
  });
});

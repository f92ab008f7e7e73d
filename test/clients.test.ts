import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ChatOpenAI } from "@langchain/openai";
import { generateText, streamText } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedAgent, startGateway, type TestGateway } from "./_setup";

// The clients people put in front of an OpenAI-compatible API, unchanged, against a real gateway.
describe("other OpenAI clients against the gateway", () => {
  let t: TestGateway;
  let key: string;
  let accountId: string;

  beforeAll(async () => {
    t = await startGateway();
    ({ key, accountId } = await seedAgent(t.gateway, { agent: { name: "Clients", instructions: "Be brief." } }));
  });
  afterAll(() => t.close());

  it("the Vercel AI SDK (@ai-sdk/openai, chat completions) generates and streams text with usage", async () => {
    const model = createOpenAI({ baseURL: t.baseURL, apiKey: key }).chat("echo/echo");
    const generated = await generateText({ model, prompt: "Hello from the AI SDK" });
    expect(generated.text).toBe("Hello from the AI SDK");
    expect(generated.usage.outputTokens).toBe(Math.ceil("Hello from the AI SDK".length / 4));

    const streamed = streamText({ model, prompt: "one two three" });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe("one two three");
    expect((await streamed.usage).outputTokens).toBe(Math.ceil("one two three".length / 4));
    expect(await streamed.finishReason).toBe("stop");
  });

  it("the Vercel AI SDK's openai-compatible provider generates and streams text", async () => {
    const provider = createOpenAICompatible({ name: "agentgate", baseURL: t.baseURL, apiKey: key, includeUsage: true });
    const generated = await generateText({ model: provider("echo/echo"), prompt: "compatible" });
    expect(generated.text).toBe("compatible");
    const streamed = streamText({ model: provider("echo/echo"), prompt: "compatible stream" });
    let text = "";
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe("compatible stream");
    expect((await streamed.usage).totalTokens).toBeGreaterThan(0);
  });

  it("LangChain's ChatOpenAI invokes and streams, and can continue a thread through modelKwargs", async () => {
    const chat = new ChatOpenAI({ model: "echo/echo", apiKey: key, configuration: { baseURL: t.baseURL }, maxRetries: 0 });
    const reply = await chat.invoke("Hello from LangChain");
    expect(reply.content).toBe("Hello from LangChain");
    expect(reply.usage_metadata?.output_tokens).toBe(Math.ceil("Hello from LangChain".length / 4));

    let streamed = "";
    for await (const chunk of await chat.stream("streamed by LangChain")) streamed += chunk.content;
    expect(streamed).toBe("streamed by LangChain");

    const first = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, body: JSON.stringify({ model: "echo/echo", messages: [{ role: "user", content: "remember me" }] }) });
    const threadId = (await first.json()).thread_id as string;
    const continued = new ChatOpenAI({ model: "echo/echo", apiKey: key, configuration: { baseURL: t.baseURL }, modelKwargs: { thread_id: threadId } });
    await continued.invoke("and this");
    const thread = await t.gateway.admin.getThread(accountId, threadId);
    expect(thread.messages.map((m) => m.content)).toEqual(["remember me", "remember me", "and this", "and this"]);
  });

  it("LangChain reads the thread id from the raw response and continues the thread through modelKwargs", async () => {
    const chat = new ChatOpenAI({ model: "echo/echo", apiKey: key, configuration: { baseURL: t.baseURL }, maxRetries: 0, __includeRawResponse: true });
    const reply = await chat.invoke("first turn");
    const threadId = (reply.additional_kwargs.__raw_response as { thread_id: string }).thread_id;
    expect(threadId).toMatch(/^thread_/);
    await new ChatOpenAI({ model: "echo/echo", apiKey: key, configuration: { baseURL: t.baseURL }, modelKwargs: { thread_id: threadId } }).invoke("second turn");
    const thread = await t.gateway.admin.getThread(accountId, threadId);
    expect(thread.messages.map((m) => m.content)).toEqual(["first turn", "first turn", "second turn", "second turn"]);
  });

  it("the Vercel AI SDK reads the thread id from the x-thread-id response header and continues the thread with the same request header", async () => {
    const model = createOpenAI({ baseURL: t.baseURL, apiKey: key }).chat("echo/echo");
    const first = await generateText({ model, prompt: "first turn" });
    const threadId = first.response.headers?.["x-thread-id"];
    expect(threadId).toMatch(/^thread_/);
    const streamed = streamText({ model, prompt: "second turn", headers: { "x-thread-id": threadId! } });
    for await (const _ of streamed.textStream) void _;
    expect((await streamed.response).headers?.["x-thread-id"]).toBe(threadId);
    const thread = await t.gateway.admin.getThread(accountId, threadId!);
    expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["first turn", "second turn"]);
  });
});

import { createOpenAI } from "@ai-sdk/openai";
import { Agent, run, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled, tool as agentTool } from "@openai/agents";
import { generateText, stepCountIs, streamText, tool } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createAPIError, defineProvider, echo } from "../src/index";
import type { ChatCompletionChunk } from "../src/schema";
import { ledgerLines } from "./_billing";
import { assertResponsesEvent, validatingFetch } from "./_openai-responses-schemas";
import { openaiClient, seedAgent, startGateway, type TestGateway } from "./_setup";

/** Streams two words, then fails: a vendor that breaks after the 200. Counts its calls. */
let brokenCalls = 0;
const breaksMidStream = defineProvider({
  id: "flaky",
  models: { "flaky/model": { inputPerMTok: 1, outputPerMTok: 1 } },
  async *chat() {
    brokenCalls++;
    const chunk = (content: string): ChatCompletionChunk => ({ id: "", object: "chat.completion.chunk", created: 0, model: "model", choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }] });
    yield chunk("Hello ");
    yield chunk("wor");
    throw createAPIError({ code: "upstream_error", message: "The flaky provider broke mid-answer." });
  },
});

// The agent frameworks people build on, with their default Responses models, against a real gateway.
describe("Responses clients against the gateway", () => {
  let t: TestGateway;
  let key: string;
  let accountId: string;

  beforeAll(async () => {
    t = await startGateway({ providers: [echo(), breaksMidStream], upstream: { retries: 0 } });
    ({ key, accountId } = await seedAgent(t.gateway, { agent: { name: "Clients", instructions: "Be brief." } }));
  });
  afterAll(() => t.close());

  describe("the Vercel AI SDK's default OpenAI provider (Responses)", () => {
    it("generates and streams text with usage, the finish reason and the response id", async () => {
      const model = createOpenAI({ baseURL: t.baseURL, apiKey: key, fetch: validatingFetch })("echo/echo");
      const generated = await generateText({ model, prompt: "Hello from the AI SDK" });
      expect(generated.text).toBe("Hello from the AI SDK");
      expect(generated.finishReason).toBe("stop");
      expect(generated.usage.outputTokens).toBe(Math.ceil("Hello from the AI SDK".length / 4));
      expect(generated.providerMetadata?.openai?.responseId).toMatch(/^resp_/);
      expect(generated.response.headers?.["x-thread-id"]).toMatch(/^thread_/);

      const streamed = streamText({ model, prompt: "one two three" });
      let text = "";
      for await (const delta of streamed.textStream) text += delta;
      expect(text).toBe("one two three");
      expect(await streamed.finishReason).toBe("stop");
      expect((await streamed.usage).outputTokens).toBe(Math.ceil("one two three".length / 4));
    });

    it("calls a tool and answers after its result, in two steps", async () => {
      const model = createOpenAI({ baseURL: t.baseURL, apiKey: key, fetch: validatingFetch })("echo/echo");
      const seen: unknown[] = [];
      const result = await generateText({
        model,
        prompt: "Paris",
        tools: { weather: tool({ description: "The weather", inputSchema: z.object({ input: z.string() }), execute: async (input) => (seen.push(input), "sunny") }) },
        toolChoice: "required",
        prepareStep: ({ stepNumber }) => (stepNumber > 0 ? { toolChoice: "auto" } : {}),
        stopWhen: stepCountIs(3),
      });
      expect(seen).toEqual([{ input: "Paris" }]);
      expect(result.steps[0].finishReason).toBe("tool-calls");
      expect(result.finishReason).toBe("stop");
      expect(result.text).toBe("Paris");
    });

    it("resends a conversation with its earlier answers as item references, which the gateway resolves", async () => {
      const model = createOpenAI({ baseURL: t.baseURL, apiKey: key, fetch: validatingFetch })("echo/echo");
      const sent: unknown[] = [];
      const recording = createOpenAI({ baseURL: t.baseURL, apiKey: key, fetch: (async (input: RequestInfo | URL, init?: RequestInit) => (sent.push(JSON.parse(String(init?.body))), validatingFetch(input, init))) as typeof fetch })("echo/echo");
      const first = await generateText({ model, prompt: "first question" });
      const second = await generateText({ model: recording, messages: [{ role: "user", content: "first question" }, ...first.response.messages, { role: "user", content: "second question" }] });
      expect(second.text).toBe("second question");
      expect(JSON.stringify(sent[0])).toContain("item_reference");
      const thread = await t.gateway.admin.getThread(accountId, second.response.headers!["x-thread-id"]!);
      expect(thread.messages.map((m) => m.content)).toEqual(["first question", "first question", "second question", "second question"]);
    });

    it("continues a thread through providerOptions.openai.previousResponseId", async () => {
      const model = createOpenAI({ baseURL: t.baseURL, apiKey: key, fetch: validatingFetch })("echo/echo");
      const first = await generateText({ model, prompt: "first turn" });
      const second = await generateText({ model, prompt: "second turn", providerOptions: { openai: { previousResponseId: first.providerMetadata!.openai!.responseId as string } } });
      expect(second.text).toBe("second turn");
      const threadId = first.response.headers!["x-thread-id"]!;
      expect(second.response.headers?.["x-thread-id"]).toBe(threadId);
      const thread = await t.gateway.admin.getThread(accountId, threadId);
      expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["first turn", "second turn"]);
    });
  });

  describe("the OpenAI Agents SDK (OpenAIResponsesModel)", () => {
    beforeAll(() => {
      setDefaultOpenAIClient(new OpenAI({ baseURL: t.baseURL, apiKey: key, maxRetries: 0, fetch: validatingFetch }));
      setOpenAIAPI("responses");
      setTracingDisabled(true);
    });

    it("runs an agent, and a second run continues it with previousResponseId", async () => {
      const agent = new Agent({ name: "Echoer", instructions: "Repeat.", model: "echo/echo" });
      const first = await run(agent, "hello agents");
      expect(first.finalOutput).toBe("hello agents");
      expect(first.lastResponseId).toMatch(/^resp_/);
      const second = await run(agent, "again", { previousResponseId: first.lastResponseId });
      expect(second.finalOutput).toBe("again");
      const stored = await openaiClient(t.baseURL, key).responses.retrieve(second.lastResponseId!);
      const thread = await t.gateway.admin.getThread(accountId, (stored as unknown as { thread_id: string }).thread_id);
      expect(thread.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["hello agents", "again"]);
    });

    it("runs an agent with a function tool, chained by previousResponseId within the run", async () => {
      const calls: string[] = [];
      const lookup = agentTool({ name: "lookup", description: "Looks a word up", parameters: z.object({ input: z.string() }), execute: async ({ input }) => (calls.push(input), `found ${input}`) });
      const agent = new Agent({ name: "Tooler", instructions: "Use the tool.", model: "echo/echo", tools: [lookup], modelSettings: { toolChoice: "required" } });
      const result = await run(agent, "gateway");
      expect(calls).toEqual(["gateway"]);
      expect(result.finalOutput).toBe("gateway");

      const chained = await run(agent, "threads", { previousResponseId: result.lastResponseId });
      expect(calls).toEqual(["gateway", "threads"]);
      expect(chained.finalOutput).toBe("threads");
    });

    it("streams a run: text deltas as raw model events, the final output from response.completed", async () => {
      const agent = new Agent({ name: "Streamer", instructions: "Repeat.", model: "echo/echo" });
      const result = await run(agent, "streamed words here", { stream: true });
      let deltas = "";
      for await (const event of result) {
        if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta") deltas += event.data.delta;
      }
      await result.completed;
      expect(deltas).toBe("streamed words here");
      expect(result.finalOutput).toBe("streamed words here");
    });

    it("throws after one call when the stream fails mid-way, billed nothing for the failure", async () => {
      const { key: flakyKey, accountId: flakyAccount } = await seedAgent(t.gateway);
      setDefaultOpenAIClient(new OpenAI({ baseURL: t.baseURL, apiKey: flakyKey, maxRetries: 0, fetch: validatingFetch }));
      try {
        brokenCalls = 0;
        const agent = new Agent({ name: "Flaky", model: "flaky/model" });
        const result = await run(agent, "hi", { stream: true });
        const failure = await (async () => {
          for await (const _ of result) void _;
          await result.completed;
        })().then(
          () => null,
          (error: unknown) => error,
        );
        expect(failure).toBeInstanceOf(Error);
        expect(brokenCalls).toBe(1);
        expect((await ledgerLines(t.gateway, flakyAccount)).filter((line) => line.type === "charge")).toEqual([]);
      } finally {
        setDefaultOpenAIClient(new OpenAI({ baseURL: t.baseURL, apiKey: key, maxRetries: 0, fetch: validatingFetch }));
      }
    });
  });

  describe("the openai SDK on a stream that fails after the 200", () => {
    it("raises an APIError from responses.stream(), after events that all validate, ending with error and response.failed", async () => {
      const client = openaiClient(t.baseURL, key);
      const raw = await fetch(`${t.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "flaky/model", input: "hi", stream: true }) });
      const events = (await raw.text()).split("\n\n").filter(Boolean).map((frame) => JSON.parse(frame.split("\n").find((line) => line.startsWith("data: "))!.slice(6)));
      for (const event of events) assertResponsesEvent(event);
      expect(events.slice(-2).map((e) => e.type)).toEqual(["error", "response.failed"]);
      expect(events.at(-1).response.status).toBe("failed");

      const stream = client.responses.stream({ model: "flaky/model", input: "hi" });
      await expect(stream.finalResponse()).rejects.toBeInstanceOf(OpenAI.APIError);
    });
  });
});

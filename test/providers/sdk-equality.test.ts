import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropic, gemini, openai, type Provider, type ProviderRequest } from "../../src/index";
import { isChunkStream } from "../../src/providers/_define";
import { startAnthropicFake } from "../fakes/anthropic";
import type { FakeUpstream, RecordedRequest } from "../fakes/_server";
import { startGeminiFake } from "../fakes/gemini";
import { startOpenAIFake } from "../fakes/openai";

// The official SDKs stay the reference for what goes on the wire: for each request of the
// table, our provider and the vendor's SDK make the same call against the same fake
// upstream, which records both; bodies must be equal field by field, and so must headers.

/**
 * Headers that legitimately differ, and why:
 * - `user-agent`, `x-stainless-*` (openai, @anthropic-ai/sdk), `x-goog-api-client`
 *   (@google/genai): each SDK's own name, version, OS and runtime, for the vendor's telemetry;
 *   `x-stainless-retry-count` and `x-stainless-timeout` describe SDK retries and clocks we do not run.
 * - `accept-encoding`, `accept-language`, `sec-fetch-mode`: what the SDKs' `fetch` adds on
 *   its own; we ask for no compression (nothing to inflate on the hot path).
 * - `accept` for Gemini only: `*\/*` is that `fetch` default too, not something @google/genai sets.
 * - `host`: the same origin, spelled by each client.
 */
const DIFFERING = [/^user-agent$/, /^x-stainless-/, /^x-goog-api-client$/, /^accept-encoding$/, /^accept-language$/, /^sec-fetch-mode$/, /^host$/];
const GEMINI_DIFFERING = [...DIFFERING, /^accept$/];

const IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==";
const SCHEMA = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"], additionalProperties: false };
const PARAMETERS = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

/** One row: the gateway's request, and the same call written for each vendor's SDK. */
interface Case {
  name: string;
  request: Omit<ProviderRequest, "model">;
  openai: Record<string, unknown>;
  anthropic: Record<string, unknown>;
  gemini: { contents: unknown[]; config: Record<string, unknown> };
}

const TABLE: Case[] = [
  {
    name: "plain",
    request: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], max_tokens: 100, temperature: 0.5 },
    openai: { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello" }], max_completion_tokens: 100, temperature: 0.5 },
    anthropic: { max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Hello" }], temperature: 0.5 },
    gemini: { contents: [{ role: "user", parts: [{ text: "Hello" }] }], config: { systemInstruction: "Be brief.", maxOutputTokens: 100, temperature: 0.5 } },
  },
  {
    name: "tools",
    request: {
      messages: [{ role: "user", content: "Weather in Paris?" }],
      max_tokens: 100,
      tools: [{ type: "function", function: { name: "get_weather", description: "Current weather", parameters: PARAMETERS } }],
      tool_choice: "required",
    },
    openai: {
      messages: [{ role: "user", content: "Weather in Paris?" }],
      max_completion_tokens: 100,
      tools: [{ type: "function", function: { name: "get_weather", description: "Current weather", parameters: PARAMETERS } }],
      tool_choice: "required",
    },
    anthropic: { max_tokens: 100, messages: [{ role: "user", content: "Weather in Paris?" }], tools: [{ name: "get_weather", description: "Current weather", input_schema: PARAMETERS }], tool_choice: { type: "any" } },
    gemini: {
      contents: [{ role: "user", parts: [{ text: "Weather in Paris?" }] }],
      config: { maxOutputTokens: 100, tools: [{ functionDeclarations: [{ name: "get_weather", description: "Current weather", parametersJsonSchema: PARAMETERS }] }], toolConfig: { functionCallingConfig: { mode: "ANY" } } },
    },
  },
  {
    name: "images",
    request: { messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: IMAGE } }] }], max_tokens: 100 },
    openai: { messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image_url", image_url: { url: IMAGE } }] }], max_completion_tokens: 100 },
    anthropic: {
      max_tokens: 100,
      messages: [{ role: "user", content: [{ type: "text", text: "What is this?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: IMAGE.split(",")[1] } }] }],
    },
    gemini: { contents: [{ role: "user", parts: [{ text: "What is this?" }, { inlineData: { mimeType: "image/png", data: IMAGE.split(",")[1] } }] }], config: { maxOutputTokens: 100 } },
  },
  {
    name: "json_schema",
    request: { messages: [{ role: "user", content: "Answer in JSON" }], max_tokens: 100, response_format: { type: "json_schema", json_schema: { name: "answer", schema: SCHEMA, strict: true } } },
    openai: { messages: [{ role: "user", content: "Answer in JSON" }], max_completion_tokens: 100, response_format: { type: "json_schema", json_schema: { name: "answer", schema: SCHEMA, strict: true } } },
    anthropic: { max_tokens: 100, messages: [{ role: "user", content: "Answer in JSON" }], output_config: { format: { type: "json_schema", schema: SCHEMA } } },
    gemini: { contents: [{ role: "user", parts: [{ text: "Answer in JSON" }] }], config: { maxOutputTokens: 100, responseMimeType: "application/json", responseJsonSchema: SCHEMA } },
  },
  {
    name: "stream",
    request: { messages: [{ role: "user", content: "Stream this" }], max_tokens: 100, stream: true },
    openai: { messages: [{ role: "user", content: "Stream this" }], max_completion_tokens: 100, stream: true, stream_options: { include_usage: true } },
    anthropic: { max_tokens: 100, messages: [{ role: "user", content: "Stream this" }], stream: true },
    gemini: { contents: [{ role: "user", parts: [{ text: "Stream this" }] }], config: { maxOutputTokens: 100 } },
  },
];

/** Runs one request through our provider to its end (a stream read through). */
async function callProvider(provider: Provider, request: ProviderRequest): Promise<void> {
  const result = await provider.chat(request, { signal: new AbortController().signal, model: `${provider.id}/${request.model}`, keepAlive: () => {} });
  if (isChunkStream(result)) for await (const _ of result);
}

/** The headers both sent, without those listed as legitimately different. */
function comparable(request: RecordedRequest, differing: RegExp[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(request.headers).filter(([name]) => !differing.some((pattern) => pattern.test(name))));
}

/** Makes our call and the SDK's against `fake`; returns both recorded requests. */
async function both(fake: FakeUpstream, ours: () => Promise<void>, sdk: () => Promise<void>): Promise<[RecordedRequest, RecordedRequest]> {
  fake.reset();
  await ours();
  await sdk();
  expect(fake.requests).toHaveLength(2);
  // Never a vacuous comparison: the auth, the type and the length of the body are compared.
  for (const request of fake.requests) expect(Object.keys(request.headers)).toEqual(expect.arrayContaining(["content-type", "content-length"]));
  return [fake.requests[0], fake.requests[1]];
}

describe("the requests our providers send, against the official SDKs' for the same call", () => {
  const fakes: FakeUpstream[] = [];
  const providers: Provider[] = [];
  afterAll(async () => {
    await Promise.all(providers.map((provider) => provider.close?.()));
    await Promise.all(fakes.map((fake) => fake.close()));
  });

  describe("openai", () => {
    let fake: FakeUpstream;
    let ours: Provider;
    let sdk: OpenAI;
    beforeAll(async () => {
      fakes.push((fake = await startOpenAIFake()));
      providers.push((ours = openai({ apiKey: fake.apiKey, baseURL: fake.baseURL })));
      sdk = new OpenAI({ apiKey: fake.apiKey, baseURL: fake.baseURL, maxRetries: 0 });
    });

    it.each(TABLE)("sends the openai SDK's body and headers for a $name request", async (row) => {
      const [mine, theirs] = await both(
        fake,
        () => callProvider(ours, { model: "gpt-4o-mini", ...row.request }),
        async () => {
          const result = await sdk.chat.completions.create({ model: "gpt-4o-mini", ...row.openai } as never);
          if (row.request.stream) for await (const _ of result as unknown as AsyncIterable<unknown>);
        },
      );
      expect(mine.path).toBe(theirs.path);
      expect(mine.body).toEqual(theirs.body);
      expect(comparable(mine, DIFFERING)).toEqual(comparable(theirs, DIFFERING));
      expect(mine.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    });
  });

  describe("anthropic", () => {
    let fake: FakeUpstream;
    let ours: Provider;
    let sdk: Anthropic;
    beforeAll(async () => {
      fakes.push((fake = await startAnthropicFake()));
      providers.push((ours = anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL })));
      sdk = new Anthropic({ apiKey: fake.apiKey, baseURL: fake.baseURL, maxRetries: 0 });
    });

    it.each(TABLE)("sends the @anthropic-ai/sdk body and headers for a $name request", async (row) => {
      const [mine, theirs] = await both(
        fake,
        () => callProvider(ours, { model: "claude-sonnet-4-6", ...row.request }),
        async () => {
          const result = await sdk.messages.create({ model: "claude-sonnet-4-6", ...row.anthropic } as never);
          if (row.request.stream) for await (const _ of result as unknown as AsyncIterable<unknown>);
        },
      );
      expect(mine.path).toBe(theirs.path);
      expect(mine.body).toEqual(theirs.body);
      expect(comparable(mine, DIFFERING)).toEqual(comparable(theirs, DIFFERING));
      expect(mine.headers).toMatchObject({ authorization: `Bearer ${fake.apiKey}`, "anthropic-version": expect.any(String) });
    });
  });

  describe("gemini", () => {
    let fake: FakeUpstream;
    let ours: Provider;
    let sdk: GoogleGenAI;
    beforeAll(async () => {
      fakes.push((fake = await startGeminiFake()));
      providers.push((ours = gemini({ apiKey: fake.apiKey, baseURL: fake.baseURL })));
      sdk = new GoogleGenAI({ apiKey: fake.apiKey, vertexai: false, httpOptions: { baseUrl: fake.baseURL } });
    });

    it.each(TABLE)("sends the @google/genai body and headers for a $name request", async (row) => {
      const [mine, theirs] = await both(
        fake,
        () => callProvider(ours, { model: "gemini-2.5-flash", ...row.request }),
        async () => {
          const params = { model: "gemini-2.5-flash", ...row.gemini } as never;
          if (row.request.stream) for await (const _ of await sdk.models.generateContentStream(params));
          else await sdk.models.generateContent(params);
        },
      );
      expect(mine.path).toBe(theirs.path);
      expect(mine.body).toEqual(theirs.body);
      expect(comparable(mine, GEMINI_DIFFERING)).toEqual(comparable(theirs, GEMINI_DIFFERING));
      expect(mine.headers["x-goog-api-key"]).toBe(fake.apiKey);
    });
  });
});

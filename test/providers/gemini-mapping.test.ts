import { HTTPError } from "h3";
import { describe, expect, it } from "vitest";
import {
  createGeminiStreamState,
  fromGeminiError,
  fromGeminiResponse,
  fromGeminiStreamChunk,
  GEMINI_FINISH_REASONS,
  GEMINI_SIGNATURE_SEPARATOR,
  toGeminiRequest,
  type GeminiResponse,
} from "../../src/providers/gemini";
import type { ProviderRequest } from "../../src/providers/_define";
import { readWire, sample } from "../_wire";

const request = (extra: Partial<ProviderRequest> & Record<string, unknown> = {}): ProviderRequest => ({
  model: "gemini-2.5-flash",
  messages: [{ role: "user", content: "Hi" }],
  ...extra,
});

function thrown(fn: () => unknown): { status: number; data: { code: string; param: string | null } } {
  try {
    fn();
  } catch (error) {
    if (HTTPError.isError(error)) return error as never;
    throw error;
  }
  throw new Error("expected a throw");
}

const toolTurns = (model: string, id = "call_1") =>
  toGeminiRequest(
    request({
      model,
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", tool_call_id: id, content: '{"temp_c":18}' },
      ],
    }),
  ).contents;

describe("the Gemini request mapping", () => {
  it("joins every system and developer message, the agent's instructions first, into systemInstruction", () => {
    const params = toGeminiRequest(
      request({
        messages: [
          { role: "system", content: "Agent instructions." },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello!" },
          { role: "developer", content: "Now in French." },
          { role: "user", content: "Bye" },
        ],
      }),
    );
    expect(params.config?.systemInstruction).toBe("Agent instructions.\n\nNow in French.");
    expect(params.contents).toEqual([
      { role: "user", parts: [{ text: "Hi" }] },
      { role: "model", parts: [{ text: "Hello!" }] },
      { role: "user", parts: [{ text: "Bye" }] },
    ]);
  });

  it("names each tool result after the assistant call it answers, and keeps consecutive results in one turn", () => {
    const params = toGeminiRequest(
      request({
        messages: [
          { role: "user", content: "Weather and time in Paris?" },
          {
            role: "assistant",
            content: "Checking.",
            tool_calls: [
              { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
              { id: "call_b", type: "function", function: { name: "get_time", arguments: "{}" } },
            ],
          },
          { role: "tool", tool_call_id: "call_b", content: "12:00" },
          { role: "tool", tool_call_id: "call_a", content: '{"temp_c":18}' },
        ],
      }),
    );
    expect(params.contents.slice(1)).toEqual([
      { role: "model", parts: [{ text: "Checking." }, { functionCall: { name: "get_weather", args: { city: "Paris" } } }, { functionCall: { name: "get_time", args: {} } }] },
      {
        role: "user",
        parts: [{ functionResponse: { name: "get_time", response: { output: "12:00" } } }, { functionResponse: { name: "get_weather", response: { temp_c: 18 } } }],
      },
    ]);
    const error = thrown(() => toGeminiRequest(request({ messages: [{ role: "tool", tool_call_id: "call_unknown", content: "x" }] })));
    expect(error.status).toBe(400);
    expect(error.data.param).toBe("messages[0].tool_call_id");
  });

  it("replays a function call's thought signature from its id, and Google's placeholder on Gemini 3 when it has none", () => {
    const signed = toolTurns("gemini-3-pro-preview", `call_1${GEMINI_SIGNATURE_SEPARATOR}c2lnbmF0dXJl`);
    expect(signed[1].parts![0]).toMatchObject({ thoughtSignature: "c2lnbmF0dXJl" });
    expect(toolTurns("gemini-3-flash-preview")[1].parts![0]).toMatchObject({ thoughtSignature: "skip_thought_signature_validator" });
    expect(toolTurns("gemini-2.5-flash")[1].parts![0]).not.toHaveProperty("thoughtSignature");
  });

  it("sends data: images inline, known image URLs as fileData, and refuses the rest", () => {
    const params = toGeminiRequest(
      request({
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What is this?" },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "image_url", image_url: { url: "https://example.com/cat.JPG?size=large" } },
            ],
          },
        ],
      }),
    );
    expect(params.contents[0].parts).toEqual([
      { text: "What is this?" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
      { fileData: { fileUri: "https://example.com/cat.JPG?size=large", mimeType: "image/jpeg" } },
    ]);
    expect(thrown(() => toGeminiRequest(request({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "", format: "wav" } }] }] }))).data).toMatchObject({
      code: "unsupported_parameter",
      param: "messages[0].content[0]",
    });
  });

  it("maps limits, sampling, stops, JSON output, tools and tool choice into the config", () => {
    const schema = { type: "object", properties: { city: { type: "string" } } };
    const params = toGeminiRequest(
      request({
        max_tokens: 256,
        temperature: 0.2,
        top_p: 0.9,
        stop: ["END"],
        seed: 42,
        response_format: { type: "json_schema", json_schema: { name: "answer", schema } },
        tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: schema } }],
        tool_choice: { type: "function", function: { name: "get_weather" } },
      }),
    );
    expect(params.config).toMatchObject({
      maxOutputTokens: 256,
      temperature: 0.2,
      topP: 0.9,
      stopSequences: ["END"],
      seed: 42,
      responseMimeType: "application/json",
      responseJsonSchema: schema,
      tools: [{ functionDeclarations: [{ name: "get_weather", description: "Weather", parametersJsonSchema: schema }] }],
      toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get_weather"] } },
    });
    expect(toGeminiRequest(request({ tool_choice: "none" })).config?.toolConfig).toEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(toGeminiRequest(request({ response_format: { type: "json_object" } })).config?.responseMimeType).toBe("application/json");
  });

  it("answers a field it cannot honour with a 400 naming it", () => {
    expect(thrown(() => toGeminiRequest(request({ logit_bias: { "50256": -100 } }))).data).toMatchObject({ code: "unsupported_parameter", param: "logit_bias" });
    expect(() => toGeminiRequest(request({ parallel_tool_calls: true, user: "u1", stream_options: { include_usage: true } }))).not.toThrow();
    // Gemini has no switch for it: the provider passes on one call (see the stream state below).
    expect(() => toGeminiRequest(request({ parallel_tool_calls: false }))).not.toThrow();
  });

  it("takes reasoning_effort as a thinking budget, as Google's OpenAI-compatible endpoint maps it", () => {
    expect(toGeminiRequest(request({ reasoning_effort: "low" })).config.thinkingConfig).toEqual({ thinkingBudget: 1024 });
    expect(toGeminiRequest(request({ reasoning_effort: "high" })).config.thinkingConfig).toEqual({ thinkingBudget: 24576 });
    expect(toGeminiRequest(request({ reasoning_effort: "none" })).config.thinkingConfig).toEqual({ thinkingBudget: 0 });
    expect(thrown(() => toGeminiRequest(request({ reasoning_effort: "extreme" }))).data).toMatchObject({ code: "unsupported_parameter", param: "reasoning_effort" });
  });
});

describe("the Gemini response mapping", () => {
  it("turns a text answer into a chat.completion, counting thinking tokens as completion", () => {
    const completion = fromGeminiResponse(sample<GeminiResponse>("gemini", "response.max_tokens.json"));
    expect(completion.choices[0].finish_reason).toBe("length");
    expect(completion.choices[0].message.content).toMatch(/Rayleigh scattering/);
    expect(completion.usage).toEqual({
      prompt_tokens: 7,
      completion_tokens: 198,
      total_tokens: 205,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 41 },
    });
  });

  it("finishes with tool_calls when the model called a function (Gemini says STOP)", () => {
    const completion = fromGeminiResponse(sample<GeminiResponse>("gemini", "response.functionCall.json"));
    expect(completion.choices[0].finish_reason).toBe("tool_calls");
    expect(completion.choices[0].message.content).toBeNull();
    expect(completion.choices[0].message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_\w+$/), type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }]);
  });

  it("reports blocked prompts and blocked answers as content_filter", () => {
    expect(fromGeminiResponse(sample<GeminiResponse>("gemini", "response.prompt_blocked.json")).choices[0]).toMatchObject({ finish_reason: "content_filter", message: { content: "" } });
    expect(fromGeminiResponse(sample<GeminiResponse>("gemini", "response.candidate_safety.json")).choices[0].finish_reason).toBe("content_filter");
  });

  it("carries a thought signature in the tool call id and reports cached tokens", () => {
    const completion = fromGeminiResponse({
      candidates: [{ content: { role: "model", parts: [{ functionCall: { name: "f", args: {} }, thoughtSignature: "c2ln" }] }, finishReason: "STOP" as never }],
      usageMetadata: { promptTokenCount: 100, cachedContentTokenCount: 60, candidatesTokenCount: 5, totalTokenCount: 105 },
    });
    expect(completion.choices[0].message.tool_calls![0].id).toMatch(new RegExp(`^call_\\w+${GEMINI_SIGNATURE_SEPARATOR}c2ln$`));
    expect(completion.usage).toMatchObject({ prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, prompt_tokens_details: { cached_tokens: 60 } });
  });

  it("maps every finish reason through one table", () => {
    expect(Object.keys(GEMINI_FINISH_REASONS).length).toBe(17);
    expect(GEMINI_FINISH_REASONS).toMatchObject({ STOP: "stop", MAX_TOKENS: "length", SAFETY: "content_filter", RECITATION: "content_filter", MALFORMED_FUNCTION_CALL: "stop" });
  });

  it("streams the turn's first function call only for a request with parallel_tool_calls: false", () => {
    const twoCalls = { candidates: [{ content: { role: "model", parts: [{ functionCall: { name: "a", args: {} } }, { functionCall: { name: "b", args: {} } }] } }] } as GeminiResponse;
    const [one] = fromGeminiStreamChunk(twoCalls, createGeminiStreamState({ parallel_tool_calls: false }));
    expect(one.choices[0].delta.tool_calls!.map((call) => call.function?.name)).toEqual(["a"]);
    const [both] = fromGeminiStreamChunk(twoCalls, createGeminiStreamState());
    expect(both.choices[0].delta.tool_calls!.map((call) => call.function?.name)).toEqual(["a", "b"]);
  });

  it("streams text chunks, then a finish chunk with the last response's usage (Gemini's final count)", () => {
    const responses = readWire("samples", "gemini", "stream.streamGenerateContent.sse")
      .split("\r\n\r\n")
      .filter(Boolean)
      .map((event) => JSON.parse(event.slice(6)) as GeminiResponse);
    const state = createGeminiStreamState();
    const chunks = responses.flatMap((response) => fromGeminiStreamChunk(response, state));
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe("The sky is blue due to Rayleigh scattering.");
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
    expect(chunks.at(-1)).toMatchObject({ choices: [{ finish_reason: "stop" }], usage: { prompt_tokens: 7, completion_tokens: 16, total_tokens: 23 } });
  });
});

describe("the Gemini error mapping", () => {
  it("reads the retry delay from RetryInfo in a 429 body", () => {
    expect(fromGeminiError(429, sample("gemini", "error.429.json"))).toMatchObject({ provider: "gemini", status: 429, retryAfterSeconds: 19 });
  });

  it("recognises a bad key in a 400 API_KEY_INVALID", () => {
    expect(fromGeminiError(400, sample("gemini", "error.400.api_key_invalid.json"))).toMatchObject({ status: 400, authFailed: true });
    expect(fromGeminiError(400, sample("gemini", "error.400.invalid_argument.json"))).toMatchObject({ status: 400, authFailed: false, message: expect.stringMatching(/^Invalid JSON payload/) });
  });

  it("reads an error that arrives mid-stream, its status inside the body", () => {
    const failure = fromGeminiError(undefined, sample("gemini", "error.503.json"));
    expect(failure).toMatchObject({ status: 503, message: "The model is overloaded. Please try again later." });
  });
});

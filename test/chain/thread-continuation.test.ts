import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { continueThread } from "../../src/chain/thread-continuation";
import { toolUseId } from "../../src/dialects/messages/answer";
import type { ChatMessage } from "../../src/schema";
import { startMessagesGateway, type MessagesGateway } from "../routes/_messages-gateway";

const call = (id: string, name = "lookup") => ({ id, type: "function" as const, function: { name, arguments: "{}" } });
const asked: ChatMessage = { role: "user", content: "What is the weather?" };
const calling: ChatMessage = { role: "assistant", content: null, tool_calls: [call("call_A")] };
const answered: ChatMessage = { role: "tool", tool_call_id: "call_A", content: "sunny" };
const earlier: ChatMessage[] = [
  { role: "user", content: "hi" },
  { role: "assistant", content: "Hello!" },
];

describe("continueThread", () => {
  it("returns the new messages as sent when the thread is new or nothing repeats", () => {
    const sent: ChatMessage[] = [{ role: "user", content: "hi" }];
    expect(continueThread([], sent)).toBe(sent);
    // A text turn sent again is the client's to send: only a repeated call marks a repeat.
    const again: ChatMessage[] = [...earlier, { role: "user", content: "more" }];
    expect(continueThread(earlier, again)).toBe(again);
  });

  it("drops the thread's tail when the new messages begin with it and it holds a call the thread has", () => {
    const history = [...earlier, asked, calling];
    // The AI SDK's second step: the step's prompt and call again, then the result (the call's text left out).
    const sent: ChatMessage[] = [asked, { role: "assistant", content: "", tool_calls: [call("call_A")] }, answered];
    expect(continueThread(history, sent)).toEqual([answered]);
  });

  it("keeps a repeat that does not run to the thread's end, or differs from it", () => {
    const history = [...earlier, asked, calling, answered, { role: "assistant", content: "It is sunny." } as ChatMessage];
    const sent: ChatMessage[] = [asked, calling, answered, { role: "user", content: "thanks" }];
    expect(continueThread(history, sent)).toBe(sent);
    const changed: ChatMessage[] = [{ role: "user", content: "Another question" }, calling, answered];
    expect(continueThread([...earlier, asked, calling], changed)).toBe(changed);
  });

  it("renames a tool result under the dialect's id to the stored call it answers, and leaves the new messages' own calls alone", () => {
    const history = [...earlier, asked, calling];
    const sent: ChatMessage[] = [{ role: "tool", tool_call_id: "toolu_call_A", content: "sunny" }];
    expect(continueThread(history, sent, toolUseId)).toEqual([answered]);
    // A call the thread does not have and its result, both sent under the client's id, pair up as sent.
    const own: ChatMessage[] = [
      { role: "assistant", content: null, tool_calls: [call("toolu_call_B")] },
      { role: "tool", tool_call_id: "toolu_call_B", content: "sunny" },
    ];
    expect(continueThread(history, own, toolUseId)).toBe(own);
    // An id the dialect shows as is (Anthropic's own) needs no renaming.
    const anthropicHistory: ChatMessage[] = [asked, { role: "assistant", content: null, tool_calls: [call("toolu_01XyZ")] }];
    const result: ChatMessage[] = [{ role: "tool", tool_call_id: "toolu_01XyZ", content: "sunny" }];
    expect(continueThread(anthropicHistory, result, toolUseId)).toBe(result);
  });

  it("drops a tail resent under the dialect's ids, and pairs the result that follows with the stored call", () => {
    const history = [...earlier, asked, calling];
    // A Messages client resending the thread's last turn: the call shown as toolu_call_A, then its result.
    const sent: ChatMessage[] = [asked, { role: "assistant", content: null, tool_calls: [call("toolu_call_A")] }, { role: "tool", tool_call_id: "toolu_call_A", content: "sunny" }];
    expect(continueThread(history, sent, toolUseId)).toEqual([answered]);
  });
});

// Over a real gateway and a fake OpenAI upstream: what the vendor gets on the thread's next turn.
describe("a thread continued the way clients continue it", () => {
  let gateway: MessagesGateway;
  const upstreamMessages = () => gateway.fakes.openai.requests.at(-1)!.body.messages as Array<{ role: string; tool_call_id?: string; tool_calls?: Array<{ id: string }> }>;

  beforeAll(async () => {
    gateway = await startMessagesGateway();
  });
  afterAll(() => gateway?.close());
  beforeEach(() => gateway.fakes.openai.reset());

  it("pairs a Messages tool_result sent under its toolu_ id with the call the thread keeps (x-thread-id, an OpenAI model)", async () => {
    const { t, key, fakes } = gateway;
    const post = (body: object, threadId?: string) =>
      fetch(`${t.origin}/api/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01", ...(threadId && { "x-thread-id": threadId }) },
        body: JSON.stringify(body),
      });
    const tools = [{ name: "lookup", input_schema: { type: "object" } }];
    const first = await fetch(`${t.baseURL}/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }) });
    const threadId = first.headers.get("x-thread-id")!;
    fakes.openai.script({ reply: { toolCalls: [{ name: "lookup", arguments: {} }] } });
    const asking = await post({ model: "openai/gpt-4o-mini", max_tokens: 100, tools, messages: [{ role: "user", content: "weather?" }] }, threadId);
    const use = ((await asking.json()) as { content: Array<{ type: string; id: string }> }).content.find((block) => block.type === "tool_use")!;
    expect(use.id).toBe("toolu_call_fake0");

    const result = await post({ model: "openai/gpt-4o-mini", max_tokens: 100, tools, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "sunny" }] }] }, threadId);
    expect(result.status).toBe(200);
    const sent = upstreamMessages();
    expect(sent.at(-2)!.tool_calls![0].id).toBe("call_fake0");
    expect(sent.at(-1)).toMatchObject({ role: "tool", tool_call_id: "call_fake0" });
  });

  it("sends a Responses tool step that repeats previous_response_id and resends the step's turns once (the AI SDK's tool loop)", async () => {
    const { t, key, fakes } = gateway;
    const create = async (body: object) => {
      const response = await fetch(`${t.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(response.status).toBe(200);
      return (await response.json()) as { id: string; thread_id: string; output: Array<{ type: string; call_id?: string; name?: string; arguments?: string }> };
    };
    const tools = [{ type: "function", name: "lookup", parameters: { type: "object" } }];
    const start = await create({ model: "openai/gpt-4o-mini", input: "hi" });
    fakes.openai.script({ reply: { toolCalls: [{ name: "lookup", arguments: {} }] } });
    const prompt = { role: "user", content: [{ type: "input_text", text: "weather?" }] };
    const step1 = await create({ model: "openai/gpt-4o-mini", tools, previous_response_id: start.id, input: [prompt] });
    const fc = step1.output.find((item) => item.type === "function_call")!;

    await create({
      model: "openai/gpt-4o-mini",
      tools,
      previous_response_id: start.id,
      input: [prompt, { type: "function_call", call_id: fc.call_id, name: fc.name, arguments: fc.arguments }, { type: "function_call_output", call_id: fc.call_id, output: "sunny" }],
    });
    const sent = upstreamMessages().filter((message) => message.role !== "system");
    expect(sent.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant", "tool"]);
    const thread = await t.gateway.admin.getThread(gateway.accountId, start.thread_id);
    expect(thread.messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant", "tool", "assistant"]);
  });
});

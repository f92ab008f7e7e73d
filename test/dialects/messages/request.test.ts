import { HTTPError } from "h3";
import { describe, expect, it } from "vitest";
import { toChatRequest } from "../../../src/dialects/messages/request";
import { messagesRequestSchema, type MessagesRequest } from "../../../src/dialects/messages/schema";

const body = (extra: Record<string, unknown> = {}): MessagesRequest => messagesRequestSchema.parse({ model: "m", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra });

describe("the Messages request as the gateway's normalized chat request", () => {
  it("passes thinking on as a reasoning effort to the models that take one, and to no other", () => {
    const adaptive = body({ thinking: { type: "adaptive" }, output_config: { effort: "high" } });
    expect(toChatRequest(adaptive, "openai/o4-mini")).toMatchObject({ reasoning_effort: "high" });
    expect(toChatRequest(adaptive, "gemini/gemini-2.5-flash")).toMatchObject({ reasoning_effort: "high" });
    expect(toChatRequest(adaptive, "openai/gpt-4o-mini")).not.toHaveProperty("reasoning_effort");
    expect(toChatRequest(body({ thinking: { type: "enabled", budget_tokens: 2000 } }), "openai/gpt-5")).toMatchObject({ reasoning_effort: "low" });
    expect(toChatRequest(body({ thinking: { type: "enabled", budget_tokens: 32000 } }), "openai/gpt-5")).toMatchObject({ reasoning_effort: "high" });
    expect(toChatRequest(body({ thinking: { type: "disabled" } }), "openai/gpt-5")).not.toHaveProperty("reasoning_effort");
  });

  it("turns the system blocks into one system message and metadata.user_id into user", () => {
    const request = toChatRequest(body({ system: [{ type: "text", text: "a" }, { type: "text", text: "b", cache_control: { type: "ephemeral" } }], metadata: { user_id: "u-1" } }), "openai/gpt-4o-mini");
    expect(request.messages[0]).toEqual({ role: "system", content: "a\n\nb" });
    expect(request.user).toBe("u-1");
  });

  it("drops earlier thinking blocks, keeps text and tool calls of an assistant turn", () => {
    const request = toChatRequest(
      body({
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "s" }, { type: "redacted_thinking", data: "x" }, { type: "text", text: "a" }, { type: "tool_use", id: "toolu_9", name: "f", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_9", content: [{ type: "text", text: "r1" }, { type: "text", text: "r2" }] }] },
        ],
      }),
      "openai/gpt-4o-mini",
    );
    expect(request.messages.slice(1)).toEqual([
      { role: "assistant", content: "a", tool_calls: [{ id: "toolu_9", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", tool_call_id: "toolu_9", content: "r1\n\nr2" },
    ]);
  });

  it("sends the images of tool results in the user message after them, before what the user said", () => {
    const request = toChatRequest(
      body({
        messages: [
          { role: "user", content: "Look at the screenshot." },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "Read", input: { file_path: "shot.png" } }] },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "iVBOR" } }] },
              { type: "tool_result", tool_use_id: "toolu_2", content: [{ type: "text", text: "here" }, { type: "image", source: { type: "url", url: "https://example.com/b.png" } }] },
              { type: "tool_result", tool_use_id: "toolu_3", is_error: true, content: [{ type: "image", source: { type: "url", url: "https://example.com/c.png" } }] },
              { type: "text", text: "What does it show?" },
            ],
          },
        ],
      }),
      "openai/gpt-4o-mini",
    );
    expect(request.messages.slice(2)).toEqual([
      { role: "tool", tool_call_id: "toolu_1", content: "The result is an image, in the next message." },
      // The text alone: the image beside it adds no empty paragraph.
      { role: "tool", tool_call_id: "toolu_2", content: "here" },
      { role: "tool", tool_call_id: "toolu_3", content: "Error: The result is an image, in the next message." },
      {
        role: "user",
        content: [
          { type: "text", text: "The result of tool call toolu_1:" },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBOR" } },
          { type: "text", text: "The result of tool call toolu_2:" },
          { type: "image_url", image_url: { url: "https://example.com/b.png" } },
          { type: "text", text: "The result of tool call toolu_3:" },
          { type: "image_url", image_url: { url: "https://example.com/c.png" } },
          { type: "text", text: "What does it show?" },
        ],
      },
    ]);
  });

  it("refuses a server tool for another vendor but lets it through, unread, for a pass-through", () => {
    const withServerTool = body({ tools: [{ type: "code_execution_20250825", name: "code_execution" }, { name: "mine", input_schema: { type: "object" } }] });
    let refused: unknown;
    try {
      toChatRequest(withServerTool, "openai/gpt-4o-mini");
    } catch (error) {
      refused = error;
    }
    expect(HTTPError.isError(refused) && refused.status).toBe(400);
    expect((refused as Error).message).toContain("code_execution");
    expect(toChatRequest(withServerTool, "anthropic/claude-sonnet-4-6", { lenient: true }).tools).toEqual([{ type: "function", function: { name: "mine", parameters: { type: "object" } } }]);
  });

  it("takes a text document as text and a PDF as a data URL for the vendor to read", () => {
    const request = toChatRequest(
      body({ messages: [{ role: "user", content: [{ type: "document", source: { type: "text", media_type: "text/plain", data: "doc" } }, { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBER" } }] }] }),
      "gemini/gemini-2.5-flash",
    );
    expect(request.messages[0]).toEqual({ role: "user", content: [{ type: "text", text: "doc" }, { type: "image_url", image_url: { url: "data:application/pdf;base64,JVBER" } }] });
  });
});

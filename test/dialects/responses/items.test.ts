import { describe, expect, it } from "vitest";
import { toChatMessages, toStoredItem, type StoredItem } from "../../../src/dialects/responses/items";
import { inputItemSchema } from "../../../src/dialects/responses/request";

const stored = (item: unknown, index = 0) => toStoredItem(inputItemSchema.parse(item), "", `input[${index}]`) as StoredItem;

describe("Responses items as chat messages", () => {
  it("joins an assistant message and the calls that follow it (parallel ones too) into one assistant turn, each output a tool message", () => {
    const items = [
      { role: "user", content: "Weather in Paris and Rome?" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
      { type: "function_call", call_id: "call_1", name: "weather", arguments: '{"city":"Paris"}', id: "fc_x", status: "completed" },
      { type: "function_call", call_id: "call_2", name: "weather", arguments: '{"city":"Rome"}' },
      { type: "function_call_output", call_id: "call_1", output: "sunny" },
      { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "rain" }] },
    ].map((item, index) => stored(item, index));
    expect(toChatMessages(items)).toEqual([
      { role: "user", content: "Weather in Paris and Rome?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_2", type: "function", function: { name: "weather", arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: "sunny" },
      { role: "tool", tool_call_id: "call_2", content: "rain" },
    ]);
  });

  it("maps images to image_url parts, developer to system, and leaves references and reasoning to the caller", () => {
    const image = stored({ role: "user", content: [{ type: "input_text", text: "What is it?" }, { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" }] });
    expect(toChatMessages([image, stored({ role: "developer", content: "Be brief." })])).toEqual([
      { role: "user", content: [{ type: "text", text: "What is it?" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } }] },
      { role: "system", content: "Be brief." },
    ]);
    expect(toStoredItem(inputItemSchema.parse({ type: "item_reference", id: "msg_1" }), "", "input[0]")).toEqual({ reference: "msg_1", param: "input[0].id" });
    expect(toStoredItem(inputItemSchema.parse({ type: "reasoning", id: "rs_1", summary: [] }), "", "input[0]")).toBeNull();
  });

  it("sends images a function call returned in a user message after the run of outputs, the tool message keeping the text", () => {
    const items = [
      { type: "function_call", call_id: "call_1", name: "view_image", arguments: '{"path":"a.png"}' },
      { type: "function_call", call_id: "call_2", name: "view_image", arguments: '{"path":"b.png"}' },
      { type: "function_call_output", call_id: "call_1", output: [{ type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "high" }] },
      { type: "function_call_output", call_id: "call_2", output: [{ type: "input_text", text: "here:" }, { type: "input_image", image_url: "https://example.com/b.png" }] },
      { role: "user", content: "Compare them." },
    ].map((item, index) => stored(item, index));
    expect(toChatMessages(items).slice(1)).toEqual([
      { role: "tool", tool_call_id: "call_1", content: "The result is an image, in the next message." },
      { role: "tool", tool_call_id: "call_2", content: "here:" },
      {
        role: "user",
        content: [
          { type: "text", text: "The result of tool call call_1:" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "high" } },
          { type: "text", text: "The result of tool call call_2:" },
          { type: "image_url", image_url: { url: "https://example.com/b.png", detail: "auto" } },
        ],
      },
      { role: "user", content: "Compare them." },
    ]);
    // The last item being an output: its images still go.
    expect(toChatMessages(items.slice(0, 3)).at(-1)).toEqual({ role: "user", content: [{ type: "text", text: "The result of tool call call_1:" }, { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "high" } }] });
  });

  it("refuses files and images by file_id, naming the part", () => {
    expect(() => stored({ role: "user", content: [{ type: "input_file", file_id: "file_1" }] }, 2)).toThrow(expect.objectContaining({ data: expect.objectContaining({ code: "unsupported_parameter", param: "input[2].content[0].type" }) }));
    expect(() => stored({ role: "user", content: [{ type: "input_image", file_id: "file_1" }] })).toThrow(expect.objectContaining({ data: expect.objectContaining({ param: "input[0].content[0].file_id" }) }));
  });
});

import { describe, expect, it } from "vitest";
import { createSSEDecoder, type SSEEvent } from "../../src/providers/_sse";
import { readWire } from "../_wire";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` to a fresh decoder in pieces of `size` bytes. */
function decodeInPieces(text: string, size: number): SSEEvent[] {
  const decoder = createSSEDecoder();
  const all = bytes(text);
  const events: SSEEvent[] = [];
  for (let i = 0; i < all.length; i += size) events.push(...decoder.push(all.subarray(i, i + size)));
  return events;
}

describe("the SSE decoder", () => {
  it("decodes events with LF, CRLF or CR line ends alike, names and comments included", () => {
    const lf = "event: message_start\ndata: {\"a\":1}\n\n: a comment\ndata: two\ndata: lines\n\n";
    const expected = [
      { event: "message_start", data: '{"a":1}' },
      { event: "message", data: "two\nlines" },
    ];
    expect(decodeInPieces(lf, 1_000)).toEqual(expected);
    expect(decodeInPieces(lf.replace(/\n/g, "\r\n"), 1_000)).toEqual(expected);
    expect(decodeInPieces(lf.replace(/\n/g, "\r"), 1_000)).toEqual(expected);
  });

  it("gives the same events whichever way the bytes are split, a CRLF or a multi-byte character across reads included", () => {
    const text = "data: héllo wörld ✓ 🚀\r\n\r\nevent: ping\r\ndata: {}\r\n\r\ndata:no space\n\n";
    const whole = decodeInPieces(text, 10_000);
    expect(whole).toEqual([
      { event: "message", data: "héllo wörld ✓ 🚀" },
      { event: "ping", data: "{}" },
      { event: "message", data: "no space" },
    ]);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(decodeInPieces(text, size)).toEqual(whole);
  });

  it("holds back an event until its blank line arrives", () => {
    const decoder = createSSEDecoder();
    expect(decoder.push(bytes("data: part"))).toEqual([]);
    expect(decoder.push(bytes("ial\n"))).toEqual([]);
    expect(decoder.push(bytes("\n"))).toEqual([{ event: "message", data: "partial" }]);
  });

  it("reads the vendors' recorded streams: OpenAI's, Anthropic's named events and Gemini's CRLF frames", () => {
    const openai = decodeInPieces(readWire("samples", "openai", "stream.chat.include_usage.sse"), 17);
    expect(openai.at(-1)).toEqual({ event: "message", data: "[DONE]" });
    expect(openai.slice(0, -1).every((e) => JSON.parse(e.data).object === "chat.completion.chunk")).toBe(true);
    const anthropic = decodeInPieces(readWire("samples", "anthropic", "stream.message.sse"), 17);
    expect(anthropic.every((e) => JSON.parse(e.data).type === e.event)).toBe(true);
    const gemini = decodeInPieces(readWire("samples", "gemini", "stream.streamGenerateContent.sse"), 17);
    expect(gemini.length).toBeGreaterThan(1);
    expect(gemini.every((e) => Array.isArray(JSON.parse(e.data).candidates))).toBe(true);
  });
});

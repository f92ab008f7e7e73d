import { HTTPError } from "h3";
import { describe, expect, it } from "vitest";
import { parseDataUrl, rejectUnhandled, retryAfterSeconds, toolNamesById } from "../../src/providers/_mapping";
import { redact } from "../../src/providers/_errors";

describe("the shared provider helpers", () => {
  it("read retry-after in milliseconds, seconds or as an HTTP date", () => {
    expect(retryAfterSeconds(new Headers({ "retry-after-ms": "250" }))).toBe(0.25);
    expect(retryAfterSeconds(new Headers({ "retry-after": "12" }))).toBe(12);
    expect(retryAfterSeconds(new Headers({ "retry-after": new Date(Date.now() + 30_000).toUTCString() }))).toBeGreaterThan(28);
    expect(retryAfterSeconds(new Headers())).toBeUndefined();
  });

  it("split data URLs and leave other URLs alone", () => {
    expect(parseDataUrl("data:image/webp;base64,UklGRg==")).toEqual({ mimeType: "image/webp", data: "UklGRg==" });
    expect(parseDataUrl("https://example.com/a.png")).toBeUndefined();
  });

  it("find a tool's name from the assistant call that made it", () => {
    const names = toolNamesById([{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "lookup", arguments: "{}" } }] }]);
    expect(names.get("c1")).toBe("lookup");
  });

  it("refuse an unknown field unless it is unset or at OpenAI's default", () => {
    const request = { model: "m", messages: [], n: 1, store: true, ...{ frequency_penalty: 0.5 } };
    let error: unknown;
    try {
      rejectUnhandled("acme", request, new Set());
    } catch (e) {
      error = e;
    }
    expect(HTTPError.isError(error) && error.status).toBe(400);
    expect((error as HTTPError).data).toMatchObject({ code: "unsupported_parameter", param: "frequency_penalty" });
  });

  it("redact a secret from vendor text", () => {
    expect(redact("key sk-123456 is wrong", "sk-123456")).toBe("key [redacted] is wrong");
  });

});

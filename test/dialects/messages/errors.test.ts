import { HTTPError } from "h3";
import { describe, expect, it } from "vitest";
import { toMessagesError } from "../../../src/dialects/messages/errors";
import { createAPIError, type ErrorCode } from "../../../src/errors";

describe("the gateway's errors in Anthropic's envelope", () => {
  const cases: Array<[ErrorCode, number, string]> = [
    ["invalid_request", 400, "invalid_request_error"],
    ["invalid_api_key", 401, "authentication_error"],
    ["insufficient_balance", 402, "billing_error"],
    ["insufficient_scope", 403, "permission_error"],
    ["model_not_found", 404, "not_found_error"],
    ["request_too_large", 413, "request_too_large"],
    ["rate_limit_exceeded", 429, "rate_limit_error"],
    ["server_error", 500, "api_error"],
    ["upstream_error", 502, "api_error"],
    ["upstream_overloaded", 529, "overloaded_error"],
    ["upstream_timeout", 504, "timeout_error"],
  ];
  for (const [code, status, type] of cases) {
    it(`answers ${code} as ${status} ${type}`, () => {
      expect(toMessagesError(createAPIError({ code, message: "why" }), "req_1")).toEqual({ status, body: { type: "error", error: { type, message: "why" }, request_id: "req_1" } });
    });
  }

  it("hides an unexpected error's message behind a 500 api_error", () => {
    expect(toMessagesError(new Error("secret detail"))).toEqual({ status: 500, body: { type: "error", error: { type: "api_error", message: expect.not.stringContaining("secret") }, request_id: null } });
  });

  it("keeps an Anthropic upstream's own status, type and message", () => {
    const error = new HTTPError({ status: 400, message: "m", data: { message: "m", type: "upstream_error", anthropicError: { type: "invalid_request_error", message: "messages.0: bad" } } });
    expect(toMessagesError(error).body.error).toEqual({ type: "invalid_request_error", message: "messages.0: bad" });
  });
});

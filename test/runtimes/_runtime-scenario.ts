import { expect } from "vitest";

/** What `test/fixtures/runtimes/scenario.mjs` must answer in any runtime. */
export function expectScenarioServed(result: Record<string, unknown>): void {
  expect(result.error, "the scenario threw").toBeUndefined();
  expect(result).toMatchObject({
    echo: { status: 200, statusText: "OK", content: "hello echo" },
    echoStream: { status: 200, content: "hello echo stream" },
    openai: { status: 200, content: "hello openai" },
    openaiStream: { status: 200, content: "hello openai stream" },
    balanceCharged: true,
  });
}

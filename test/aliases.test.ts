import { describe, expect, it } from "vitest";
import { agentAliasTable, aliasProblems, compileAliases } from "../src/aliases";

const models = new Set(["gemini/gemini-2.5-flash", "anthropic/claude-sonnet-4-5", "openai/gpt-4.1", "echo/echo"]);
const isModel = (name: string) => models.has(name);

describe("model aliases", () => {
  it("routes an exact name before any pattern, and the pattern with the most literal characters first", () => {
    const table = compileAliases(
      {
        "claude-*": "anthropic/claude-sonnet-4-5",
        "claude-haiku-*": "gemini/gemini-2.5-flash",
        "claude-haiku-4-5-20251001": "echo/echo",
        "*-mini": "openai/gpt-4.1",
      },
      isModel,
    );
    expect(table.resolve("claude-haiku-4-5-20251001")).toBe("echo/echo");
    expect(table.resolve("claude-haiku-4-5")).toBe("gemini/gemini-2.5-flash");
    expect(table.resolve("claude-sonnet-4-5-20250929")).toBe("anthropic/claude-sonnet-4-5");
    expect(table.resolve("gpt-4.1-mini")).toBe("openai/gpt-4.1");
    expect(table.resolve("gpt-4.1")).toBeUndefined();
    expect(table.names()).toEqual([["claude-haiku-4-5-20251001", "echo/echo"]]);
  });

  it("breaks a tie between equally specific patterns by the order they were listed in", () => {
    expect(compileAliases({ "a*": "echo/echo", "*b": "openai/gpt-4.1" }, isModel).resolve("ab")).toBe("echo/echo");
    expect(compileAliases({ "*b": "openai/gpt-4.1", "a*": "echo/echo" }, isModel).resolve("ab")).toBe("openai/gpt-4.1");
  });

  it("takes every other character of a pattern literally", () => {
    const table = compileAliases({ "gpt-4.1*": "openai/gpt-4.1", "(x)+*": "echo/echo" }, isModel);
    expect(table.resolve("gpt-4.1-nano")).toBe("openai/gpt-4.1");
    expect(table.resolve("gpt-401")).toBeUndefined();
    expect(table.resolve("(x)+y")).toBe("echo/echo");
    expect(table.resolve("xx+y")).toBeUndefined();
  });

  it("refuses an alias to a model the catalog does not have, naming it", () => {
    expect(() => compileAliases({ fast: "gemini/gemini-9" }, isModel)).toThrow(/`fast` routes to "gemini\/gemini-9"/);
    expect(aliasProblems({ fast: "echo/echo", slow: "nope/nope", "": "echo/echo" }, isModel)).toHaveLength(2);
    expect(aliasProblems(null, isModel)).toEqual([]);
  });
});

describe("an agent's alias table", () => {
  it("skips an alias whose model has left the catalog since it was saved, instead of failing the request", () => {
    const table = agentAliasTable({ gone: "old/model", kept: "echo/echo" }, isModel);
    expect(table.resolve("gone")).toBeUndefined();
    expect(table.resolve("kept")).toBe("echo/echo");
  });
});

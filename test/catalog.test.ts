import { describe, expect, it } from "vitest";
import { agentAllowsModel, costMicros, createCatalog, DEFAULT_MODELS, worstCaseMicros } from "../src/catalog";
import { echo } from "../src/providers/echo";

describe("the catalog", () => {
  it("rounds a cost up to a whole micro-USD, so a priced model never costs 0", () => {
    expect(costMicros({ inputPerMTok: 0.1, outputPerMTok: 0.4 }, 1, 0)).toBe(1);
    expect(costMicros({ inputPerMTok: 0.1, outputPerMTok: 0.4 }, 10, 10)).toBe(5);
    expect(costMicros({ inputPerMTok: 3, outputPerMTok: 15 }, 1000, 500)).toBe(10_500);
    expect(costMicros({}, 1000, 1000)).toBe(0);
  });

  it("prices identical requests identically, without float drift", () => {
    const info = { inputPerMTok: 0.3, outputPerMTok: 2.5 };
    expect(costMicros(info, 3, 3)).toBe(9); // 0.9 + 7.5 = 8.4 → 9
    expect(costMicros(info, 1_000_000, 0)).toBe(300_000);
    expect(new Set(Array.from({ length: 100 }, () => costMicros(info, 777, 333))).size).toBe(1);
  });

  it("prices cache reads and cache writes apart from the rest of the prompt, in whole pico-USD", () => {
    const sonnet = DEFAULT_MODELS["anthropic/claude-sonnet-4-6"];
    // 1000 uncached at $3, 8000 read at $0.30, 1000 written at $3.75, 100 out at $15: 3000 + 2400 + 3750 + 1500.
    expect(costMicros(sonnet, 10_000, 100, { read: 8000, write: 1000 })).toBe(10_650);
    expect(costMicros(sonnet, 10_000, 100)).toBe(31_500);
    // A model without cache prices charges cached tokens as input.
    expect(costMicros({ inputPerMTok: 1, outputPerMTok: 2 }, 100, 0, { read: 60, write: 20 })).toBe(100);
    // Cache counts never exceed the prompt they are part of.
    expect(costMicros(sonnet, 10, 0, { read: 50 })).toBe(3);
    expect(costMicros(DEFAULT_MODELS["openai/gpt-4o-mini"], 2000, 0, { read: 1000 })).toBe(225);
  });

  it("holds for the dearest way a prompt can be billed: written to Anthropic's cache at 1.25x input", () => {
    const haiku = DEFAULT_MODELS["anthropic/claude-haiku-4-5-20251001"];
    expect(worstCaseMicros(haiku, 1000, 100)).toBe(1250 + 500);
    expect(worstCaseMicros(haiku, 1000, 100)).toBeGreaterThanOrEqual(costMicros(haiku, 1000, 100, { write: 1000 }));
    expect(worstCaseMicros(DEFAULT_MODELS["openai/gpt-4.1"], 1000, 100)).toBe(costMicros(DEFAULT_MODELS["openai/gpt-4.1"], 1000, 100));
  });

  it("has the vendors' published cache prices for the built-in models", () => {
    const cache = Object.fromEntries(Object.entries(DEFAULT_MODELS).map(([name, info]) => [name, [info.cachedInputPerMTok, info.cacheWritePerMTok]]));
    expect(cache).toEqual({
      "gemini/gemini-2.0-flash": [0.025, undefined],
      "gemini/gemini-2.5-flash": [0.03, undefined],
      "gemini/gemini-2.5-pro": [0.125, undefined],
      "gemini/gemini-3-flash-preview": [0.05, undefined],
      "gemini/gemini-3-pro-preview": [0.2, undefined],
      "anthropic/claude-sonnet-4-6": [0.3, 3.75],
      "anthropic/claude-sonnet-4-5": [0.3, 3.75],
      "anthropic/claude-haiku-4-5-20251001": [0.1, 1.25],
      "openai/gpt-4o-mini": [0.075, undefined],
      "openai/gpt-4.1-mini": [0.1, undefined],
      "openai/gpt-4.1": [0.5, undefined],
    });
  });

  it("knows every default model with a price, and marks those without a provider", () => {
    const catalog = createCatalog([echo()]);
    for (const name of Object.keys(DEFAULT_MODELS)) {
      const entry = catalog.get(name)!;
      expect(entry.info.inputPerMTok).toBeGreaterThan(0);
      expect(entry.info.outputPerMTok).toBeGreaterThan(0);
      expect(entry.provider).toBeUndefined();
    }
    expect(catalog.get("echo/echo")?.provider?.id).toBe("echo");
  });

  it("lets the user add models and change prices", () => {
    const catalog = createCatalog([echo()], { "echo/echo": { inputPerMTok: 9 }, "echo/new": { inputPerMTok: 1, outputPerMTok: 2 } });
    expect(catalog.get("echo/echo")?.info).toMatchObject({ inputPerMTok: 9, outputPerMTok: 0.4 });
    expect(catalog.get("echo/new")?.provider?.id).toBe("echo");
  });

  it("refuses two providers with one id and badly named models at startup", () => {
    expect(() => createCatalog([echo(), echo()])).toThrow(/two providers/);
    expect(() => createCatalog([], { plain: {} })).toThrow(/provider\/model/);
  });

  it("matches agent model lists by exact name or prefix/*", () => {
    expect(agentAllowsModel(null, "a/b")).toBe(true);
    expect(agentAllowsModel(["a/b"], "a/b")).toBe(true);
    expect(agentAllowsModel(["a/*"], "a/c")).toBe(true);
    expect(agentAllowsModel(["a/*"], "ab/c")).toBe(false);
    expect(agentAllowsModel([], "a/b")).toBe(false);
  });
});

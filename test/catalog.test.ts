import { describe, expect, it } from "vitest";
import { agentAllowsModel, costMicros, createCatalog, DEFAULT_MODELS } from "../src/catalog";
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

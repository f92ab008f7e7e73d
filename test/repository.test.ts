import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const skipped = new Set(["node_modules", "dist", ".git", ".data", "test-results", "wire", "results", ".output", ".nitro"]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (skipped.has(name)) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs|js|sh|json)$/.test(name) ? [path] : [];
  });
}

describe("the repository", () => {
  it("reads nothing outside itself: only the fixtures check names the reference beside the clone", () => {
    const outside = sourceFiles(root)
      .filter((path) => relative(root, path) !== join("scripts", "fixtures-check.mjs"))
      .filter((path) => /\.\.\/shared\b|\.\.\/\.\.\/shared\b/.test(readFileSync(path, "utf8")))
      .map((path) => relative(root, path));
    expect(outside).toEqual([]);
  });
});

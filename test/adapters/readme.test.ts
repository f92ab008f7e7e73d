import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("the README's Mounting section", () => {
  const readme = read("README.md");
  const mounting = readme.slice(readme.indexOf("## Mounting"), readme.indexOf("\n## ", readme.indexOf("## Mounting") + 1));

  it.each(["examples/mount-node.ts", "examples/mount-express.ts", "examples/nitro/nitro.config.ts"])("shows %s verbatim, the file the adapter tests run", (path) => {
    expect(mounting).toContain("```ts\n" + read(path).trimEnd() + "\n```");
  });
});
